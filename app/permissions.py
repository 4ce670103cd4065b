"""Rights (``area.action``), built-in roles, the viewer of a request, one decorator, one ``can()``."""
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import wraps

from flask import abort, g
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload, lazyload

from app import domains
from app.audit.web import log_denied
from app.extensions import db, login_manager
from app.models import Group, GroupMember, Membership, SalesRep, Tenant

# The core's own rights: customers and their people, notes, the audit log, administration. Each domain adds its
# own (app/domains.py): the role editor offers exactly the rights of the domains this installation has.
CORE_AREAS = {
    "thirdparty": _l("Customers and suppliers"),
    "contact": _l("Contacts"),
    "note": _l("Notes"),
    "audit": _l("Audit log"),
    "admin": _l("Administration"),
}

CORE_RIGHTS = {
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
    "audit.read": _l("Read the audit log"),
    "admin.users": _l("Invite members, change their roles, deactivate them"),
    "admin.roles": _l("Edit roles and groups"),
    "admin.security_log": _l("Read the security log"),
    "admin.settings": _l("Change the organisation's settings"),
}

# The core's part of each built-in role; the domains add theirs (``Domain.role_rights``). The owner and the
# administrator hold every right there is; read-only holds every right to read.
CORE_ROLE_RIGHTS = {
    "sales": ("thirdparty.read", "thirdparty.create", "thirdparty.update", "contact.create", "contact.update",
              "note.create"),
    "support": ("thirdparty.read", "thirdparty.read_all", "contact.create", "contact.update", "note.create"),
    "accounting": ("thirdparty.read", "thirdparty.read_all", "thirdparty.update", "note.create"),
}
ROLE_LABELS = {
    "owner": (_l("Owner"), _l("Everything, including managing owners.")),
    "admin": (_l("Administrator"), _l("Everything except managing owners.")),
    "sales": (_l("Sales"), _l("Only the customers they represent: their quotes, orders and agenda.")),
    "support": (_l("Support"), _l("All customers, their contacts, documents and agenda.")),
    "accounting": (_l("Accounting"), _l("All customers, invoices, payments and contracts.")),
    "readonly": (_l("Read-only"), _l("Sees everything, changes nothing.")),
}


class _Rights(Mapping):
    """Every right of this installation (the core's and its domains'), read when used: ``"area.action"`` → label."""

    def _all(self) -> dict:
        return _all_rights()

    def __getitem__(self, key):
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self):
        return len(self._all())


class _Areas(_Rights):
    def _all(self) -> dict:
        return _all_areas()


@domains.cached
def _all_rights() -> dict:
    return {**CORE_RIGHTS, **domains.rights()}


@domains.cached
def _all_areas() -> dict:
    return {**CORE_AREAS, **domains.areas()}


@domains.cached
def right_set() -> frozenset:
    """Every right there is, as a set (what a viewer's rights are cut to)."""
    return frozenset(_all_rights())


class _Roles(Mapping):
    """The built-in roles: key → (label, description, rights), their rights gathered from the core and the domains."""

    def __getitem__(self, key):
        label, description = ROLE_LABELS[key]
        if key in ("owner", "admin"):
            rights = tuple(RIGHTS)
        elif key == "readonly":
            rights = tuple(r for r in RIGHTS if r.split(".")[1] in ("read", "read_all"))
        else:
            rights = tuple(dict.fromkeys([*CORE_ROLE_RIGHTS[key], *domains.role_rights(key)]))
        return label, description, rights

    def __iter__(self):
        return iter(ROLE_LABELS)

    def __len__(self):
        return len(ROLE_LABELS)


RIGHTS = _Rights()
AREAS = _Areas()
ALL_RIGHTS = RIGHTS.keys()  # a live view: every right there is
BUILTIN_ROLES = _Roles()


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
        rights=frozenset(rights) & right_set(),
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


def with_viewer(stmt, user_id_column, tenant_id: uuid.UUID):
    """``stmt`` with the organisation ``tenant_id`` and the membership of the person in ``user_id_column``, its role
    and the rights of each of its groups as further columns, all in the same statement (outer joins: a row per group,
    or one row with None for what is missing). Read back with ``viewer_of_rows``."""
    return (stmt.add_columns(Tenant, Membership, Group.rights)
            .outerjoin(Tenant, Tenant.id == tenant_id)
            .outerjoin(Membership, (Membership.tenant_id == Tenant.id) & (Membership.user_id == user_id_column))
            .outerjoin(GroupMember, (GroupMember.tenant_id == Membership.tenant_id)
                       & (GroupMember.membership_id == Membership.id))
            .outerjoin(Group, (Group.tenant_id == GroupMember.tenant_id) & (Group.id == GroupMember.group_id))
            # Outer joins all the way: an inner join to the role would drop the row of a person who is not a member.
            .options(joinedload(Membership.role, innerjoin=False), lazyload(Membership.user)))


def viewer_of_rows(rows) -> tuple:
    """(the organisation, the viewer or None when not a member) from the rows of a ``with_viewer`` statement."""
    _first, tenant, membership, _rights = rows[0]
    if membership is None:
        return tenant, None
    return tenant, _viewer_of(membership, [rights for *_rest, rights in rows if rights is not None])


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
    """Decorate a tenant view: 403 (and a security event) unless the viewer holds ``right`` (a right of the core or
    of a registered domain: ``check_required_rights`` refuses to start an app whose views name another)."""

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


def check_required_rights(app) -> None:
    """:raise ValueError: when a view requires a right no registered domain (nor the core) has — a typo, or a domain
    left out of ``app.DOMAINS``."""
    unknown = {f"{endpoint}: {view.required_right}" for endpoint, view in app.view_functions.items()
               if getattr(view, "required_right", None) and view.required_right not in right_set()}
    if unknown:
        raise ValueError(f"views require unknown rights: {sorted(unknown)}")


# What else a member must have done before any page of their organisation opens (a check returns a response to
# send instead, or None): two-factor sign-in adds "set it up first" where the organisation requires it.
MEMBER_CHECKS: list = []
_UNREAD = object()


def require_membership():
    """Every tenant page needs a signed-in, active member: 404 for outsiders, 403 if deactivated."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    viewer = g.pop("loaded_viewer", _UNREAD)  # read with the session, in the same statement (auth.sessions)
    if viewer is _UNREAD or (viewer is not None and viewer.tenant_id != g.tenant.id):
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


def role_label(role) -> str:
    """The name to show for a role: the translated label of a built-in one, or its own name."""
    if role.key in BUILTIN_ROLES:
        return str(BUILTIN_ROLES[role.key][0])
    return role.name
