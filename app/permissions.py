"""Rights (``area.action``), built-in roles, the viewer of a request, one decorator, one ``can()``."""
import uuid
from dataclasses import dataclass
from functools import wraps

from flask import abort, g
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import exists, select

from app.audit.web import log_denied
from app.extensions import db, login_manager
from app.models import Group, GroupMember, Membership, SalesRep

AREAS = {
    "thirdparty": _l("Customers and suppliers"),
    "contact": _l("Contacts"),
    "note": _l("Notes"),
    "quote": _l("Quotes"),
    "order": _l("Orders"),
    "invoice": _l("Invoices"),
    "payment": _l("Payments"),
    "contract": _l("Contracts"),
    "document": _l("Documents"),
    "agenda": _l("Agenda"),
    "ticket": _l("Tickets"),
    "project": _l("Projects"),
    "mail": _l("E-mail"),
    "report": _l("Reports"),
    "automation": _l("Automation"),
    "export": _l("Exports"),
    "gdpr": _l("Personal data (GDPR)"),
    "audit": _l("Audit log"),
    "admin": _l("Administration"),
}

RIGHTS = {
    "thirdparty.read": _l("See the customers assigned to them"),
    "thirdparty.read_all": _l("See all customers, not only those assigned to them"),
    "thirdparty.create": _l("Create customers"),
    "thirdparty.update": _l("Edit customers"),
    "thirdparty.delete": _l("Archive and delete customers"),
    "contact.create": _l("Create contacts"),
    "contact.update": _l("Edit and move contacts"),
    "contact.delete": _l("Delete contacts"),
    "note.create": _l("Write notes"),
    "note.read_private": _l("Read other people's private notes"),
    "quote.read": _l("See quotes"),
    "quote.create": _l("Create and edit quotes"),
    "quote.validate": _l("Validate and send quotes"),
    "order.read": _l("See orders"),
    "order.create": _l("Create orders and shipments"),
    "invoice.read": _l("See invoices"),
    "invoice.create": _l("Create draft invoices"),
    "invoice.validate": _l("Validate invoices and credit notes"),
    "payment.read": _l("See payments"),
    "payment.create": _l("Record payments"),
    "contract.read": _l("See contracts"),
    "contract.create": _l("Create and renew contracts"),
    "document.read": _l("See the document lists"),
    "document.upload": _l("Upload and organise documents"),
    "document.download": _l("Preview and download documents"),
    "document.delete": _l("Delete documents"),
    "agenda.read": _l("See the agenda"),
    "agenda.create": _l("Log interactions and plan events"),
    "agenda.read_all": _l("See the whole team's agenda"),
    "ticket.read": _l("See tickets"),
    "ticket.create": _l("Open and answer tickets"),
    "project.read": _l("See projects"),
    "project.create": _l("Create and run projects"),
    "mail.read": _l("Read customer e-mail"),
    "mail.send": _l("Send e-mail to customers"),
    "report.read": _l("See reports and dashboards"),
    "automation.manage": _l("Set up workflows and automations"),
    "export.run": _l("Export data"),
    "gdpr.export": _l("Export a person's data (GDPR)"),
    "gdpr.erase": _l("Erase a person's data (GDPR)"),
    "audit.read": _l("Read the audit log"),
    "admin.users": _l("Invite members, change their roles, deactivate them"),
    "admin.roles": _l("Edit roles and groups"),
    "admin.security_log": _l("Read the security log"),
    "admin.settings": _l("Change the organisation's settings"),
}

ALL_RIGHTS = tuple(RIGHTS)
_READS = [r for r in RIGHTS if r.split(".")[1] in ("read", "read_all")]

# Built-in roles, seeded for every new tenant and editable there (except the owner's).
BUILTIN_ROLES = {
    "owner": (_l("Owner"), _l("Everything, including managing owners."), ALL_RIGHTS),
    "admin": (_l("Administrator"), _l("Everything except managing owners."), ALL_RIGHTS),
    "sales": (_l("Sales"), _l("Their own customers, quotes, orders and agenda."), (
        "thirdparty.read", "thirdparty.create", "thirdparty.update", "contact.create",
        "contact.update", "note.create", "quote.read", "quote.create", "quote.validate",
        "order.read", "order.create", "invoice.read", "payment.read", "contract.read",
        "contract.create", "document.read", "document.upload", "document.download",
        "agenda.read", "agenda.create", "ticket.read", "project.read", "mail.read", "mail.send",
        "report.read",
    )),
    "support": (_l("Support"), _l("All customers, tickets, agenda and e-mail."), (
        "thirdparty.read", "thirdparty.read_all", "contact.create", "contact.update",
        "note.create", "document.read", "document.upload", "document.download", "agenda.read",
        "agenda.create", "ticket.read", "ticket.create", "project.read", "mail.read", "mail.send",
        "order.read", "contract.read",
    )),
    "accounting": (_l("Accounting"), _l("Invoices, payments, contracts and exports."), (
        "thirdparty.read", "thirdparty.read_all", "thirdparty.update", "note.create",
        "quote.read", "order.read", "invoice.read", "invoice.create", "invoice.validate",
        "payment.read", "payment.create", "contract.read", "contract.create", "document.read",
        "document.download", "report.read", "export.run",
    )),
    "readonly": (_l("Read-only"), _l("Sees everything, changes nothing."), tuple(_READS)),
}


@dataclass(frozen=True)
class Viewer:
    """Who is acting in a tenant, and with which rights (role plus groups)."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID
    membership_id: uuid.UUID
    role_key: str | None
    active: bool
    rights: frozenset[str]
    role_id: uuid.UUID | None = None

    def can(self, right: str) -> bool:
        return self.active and right in self.rights

    @property
    def is_owner(self) -> bool:
        return self.role_key == "owner"

    def sees_all(self, area: str) -> bool:
        """True when the viewer may see every record of ``area``, not only those assigned to them."""
        return self.can(f"{area}.read_all")


def only_mine(viewer: Viewer, tenant_id, thirdparty_id):
    """The SQL condition "the customer in ``thirdparty_id`` is one ``viewer`` represents", for a member who may
    see only their own customers; None when they may see all of them. The one place "only mine" is written."""
    if viewer.sees_all("thirdparty"):
        return None
    return exists().where(SalesRep.tenant_id == tenant_id, SalesRep.thirdparty_id == thirdparty_id,
                          SalesRep.membership_id == viewer.membership_id)


def _viewer_of(membership: Membership, group_rights) -> Viewer:
    rights = set(ALL_RIGHTS if membership.role.is_owner else membership.role.rights)
    for extra in group_rights:
        rights.update(extra)
    return Viewer(
        tenant_id=membership.tenant_id,
        user_id=membership.user_id,
        membership_id=membership.id,
        role_key=membership.role.key,
        active=membership.active,
        rights=frozenset(rights & set(ALL_RIGHTS)),
        role_id=membership.role_id,
    )


def _group_rights():
    return select(GroupMember.membership_id, Group.rights).join(
        Group, (GroupMember.tenant_id == Group.tenant_id) & (GroupMember.group_id == Group.id))


def load_viewer(user_id: uuid.UUID) -> Viewer | None:
    """Return the viewer for ``user_id`` in the tenant in scope, or None when not a member."""
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user_id))
    if membership is None:
        return None
    rows = db.session.execute(_group_rights().where(GroupMember.membership_id == membership.id)).all()
    return _viewer_of(membership, [group for _id, group in rows])


def load_viewers() -> list[tuple[Membership, Viewer]]:
    """Every member of the tenant in scope with their viewer, in two queries (for jobs that act for each person)."""
    memberships = db.session.scalars(select(Membership)).all()
    groups: dict = {}
    for membership_id, rights in db.session.execute(_group_rights()).all():
        groups.setdefault(membership_id, []).append(rights)
    return [(m, _viewer_of(m, groups.get(m.id, []))) for m in memberships]


def can(right: str) -> bool:
    """True when the current request's viewer holds ``right`` (for templates and views)."""
    viewer = g.get("viewer")
    return viewer is not None and viewer.can(right)


def require(right: str):
    """Decorate a tenant view: 403 (and a security event) unless the viewer holds ``right``."""
    if right not in RIGHTS:
        raise ValueError(f"unknown right {right!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not can(right):
                log_denied(403, right=right)
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_right = right
        return wrapped

    return decorator


# What else a member must have done before any page of their organisation opens (a check returns a response to
# send instead, or None): two-factor sign-in adds "set it up first" where the organisation requires it.
MEMBER_CHECKS: list = []


def require_membership():
    """Every tenant page needs a signed-in, active member: 404 for outsiders, 403 if deactivated."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    viewer = load_viewer(current_user.id)
    if viewer is None:
        log_denied(404)
        abort(404)
    if not viewer.active:
        log_denied(403, reason="deactivated")
        abort(403)
    g.viewer = viewer
    for check in MEMBER_CHECKS:
        if (answer := check()) is not None:
            return answer
    return None
