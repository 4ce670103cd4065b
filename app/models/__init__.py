"""Every model, imported here so that Alembic autogenerate and the schema tests see them."""
from app.models.activity import (
    DIRECTIONS,
    LOGGED_KINDS,
    MEETING_MODES,
    PLANNED_KINDS,
    PRIORITIES,
    Activity,
    ActivityAssignee,
    ActivityContact,
    CalendarFeed,
    Reminder,
)
from app.models.audit import AuditEntry, AuditHead
from app.models.base import Base, TenantScoped, new_id, utcnow
from app.models.contact import PREFERRED_CHANNELS, Contact
from app.models.counter import Counter
from app.models.document import Document, DocumentAccess, DocumentTag, DocumentVersion
from app.models.note import Note, NoteVersion
from app.models.opportunity import OPPORTUNITY_STATUSES, Opportunity, PipelineStage
from app.models.sales import (
    CONTRACT_PERIODS,
    PAYMENT_METHODS,
    SALES_KINDS,
    Payment,
    PaymentReminder,
    PaymentShare,
    Product,
    SalesDocument,
    SalesLine,
    Shipment,
    ShipmentLine,
)
from app.models.saved_view import SavedView
from app.models.search import SearchTerm
from app.models.security_event import SecurityEvent
from app.models.sso import SsoDomain, SsoIdentity, SsoProvider
from app.models.tagging import FIELD_ENTITIES, FIELD_TYPES, TAG_COLOURS, ContactTag, CustomField, Tag, ThirdPartyTag
from app.models.team import Group, GroupMember, Invitation, Membership, Role
from app.models.tenant import Tenant
from app.models.thirdparty import Address, Channel, SalesRep, ThirdParty
from app.models.timeline import TimelineEvent
from app.models.twofactor import RecoveryCode, RememberedDevice, TwoFactor
from app.models.user import AuthSession, LoginAttempt, PendingSignup, RateLimitHit, User

__all__ = [
    "DIRECTIONS", "LOGGED_KINDS", "MEETING_MODES", "PLANNED_KINDS", "PRIORITIES", "Activity", "ActivityAssignee", "ActivityContact",
    "CalendarFeed", "Reminder",
    "CONTRACT_PERIODS", "PAYMENT_METHODS", "SALES_KINDS", "Payment", "PaymentReminder",
    "PaymentShare", "Product", "SalesDocument", "SalesLine", "Shipment", "ShipmentLine",
    "FIELD_ENTITIES", "FIELD_TYPES", "PREFERRED_CHANNELS", "TAG_COLOURS",
    "Address", "AuditEntry", "AuditHead", "AuthSession", "Base", "Channel", "Contact", "ContactTag", "Counter",
    "CustomField", "Document", "DocumentAccess", "DocumentTag", "DocumentVersion", "Group", "GroupMember",
    "Invitation", "LoginAttempt", "Membership", "Note", "NoteVersion",
    "PendingSignup", "RateLimitHit", "Role", "SalesRep", "SavedView", "SearchTerm", "SecurityEvent", "Tag", "Tenant", "TenantScoped",
    "ThirdParty", "ThirdPartyTag", "TimelineEvent", "User", "new_id", "utcnow",
    "OPPORTUNITY_STATUSES", "Opportunity", "PipelineStage",
    "SsoDomain", "SsoIdentity", "SsoProvider",
    "RecoveryCode", "RememberedDevice", "TwoFactor",
]
