"""Every model, imported here so that Alembic autogenerate and the schema tests see them."""
from app.models.base import Base, TenantScoped, new_id, utcnow
from app.models.security_event import SecurityEvent
from app.models.team import Group, GroupMember, Invitation, Membership, Role
from app.models.tenant import Tenant
from app.models.user import AuthSession, LoginAttempt, PendingSignup, RateLimitHit, User

__all__ = [
    "AuthSession", "Base", "Group", "GroupMember", "Invitation", "LoginAttempt", "Membership", "PendingSignup", "RateLimitHit",
    "Role", "SecurityEvent", "Tenant", "TenantScoped", "User", "new_id", "utcnow",
]
