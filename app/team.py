"""The team of an organisation, as the core needs it: making an organisation with its built-in roles, a person's
organisations, the members, and joining by invitation. (Administering the team — roles, invitations sent, settings —
is the admin domain's; it builds on this.)"""
import uuid
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit.chain import new_head
from app.audit.services import ClientInfo, record_security_event
from app.database import json_rows
from app.extensions import db
from app.models import Invitation, Membership, Role, Tenant, User, utcnow
from app.permissions import BUILTIN_ROLES
from app.tenancy import slug_problem, tenant_context, user_context
from app.tokens import read_token


class TeamError(Exception):
    """A team change that the rules refuse; the message is shown to the user."""


def add_organisation(owner: User, name: str, slug: str, client: ClientInfo, *, locale: str = "en") -> Tenant:
    """Add a tenant with the built-in roles and ``owner`` as its owner (caller commits)."""
    if slug_problem(slug):
        raise TeamError(_l("This address is not available."))
    tenant = Tenant(name=name.strip(), slug=slug, locale=locale)
    db.session.add(tenant)
    db.session.flush()
    with tenant_context(tenant.id):
        roles = {key: Role(key=key, name=key, rights=list(rights)) for key, (_, _, rights) in BUILTIN_ROLES.items()}
        db.session.add_all(roles.values())
        db.session.flush()
        db.session.add(Membership(user_id=owner.id, role_id=roles["owner"].id))
        db.session.add(new_head(tenant.id))
    record_security_event(tenant.id, "organisation_created", user_id=owner.id, client=client, slug=slug)
    return tenant


def create_organisation(owner: User, name: str, slug: str, client: ClientInfo) -> Tenant:
    """Create another organisation for a signed-in user."""
    tenant = add_organisation(owner, name, slug, client, locale=owner.locale or "en")
    db.session.commit()
    return tenant


def organisations_column(user_id):
    """``list_user_organisations`` as one JSON column of [id, slug, name] by name, for a statement that reads more (the
    session's, auth.sessions): ``user_id`` an expression (not correlated). Read back with ``organisations_of``. The
    tables are named, not the mapped classes, so that the tenant in scope does not narrow memberships to itself."""
    member, tenant = Membership.__table__, Tenant.__table__
    return json_rows(select(tenant.c.id, tenant.c.slug, tenant.c.name)
                     .join(member, member.c.tenant_id == tenant.c.id)
                     .where(member.c.user_id == user_id, member.c.active.is_(True)), tenant.c.name)


def organisations_of(rows) -> list[SimpleNamespace]:
    """The organisations (``id``, ``slug``, ``name``) read by ``organisations_column``."""
    return [SimpleNamespace(id=uuid.UUID(str(id_)), slug=slug, name=name) for id_, slug, name in rows or []]


def list_user_organisations(user_id: uuid.UUID) -> list[Tenant]:
    """Return the organisations ``user_id`` is an active member of, by name (crosses tenants)."""
    with user_context(user_id):
        return db.session.scalars(
            select(Tenant)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == user_id, Membership.active.is_(True))
            .order_by(Tenant.name)
            .execution_options(all_tenants=True)
        ).all()


def list_members() -> list[Membership]:
    """Return the tenant's members, active first, then by name."""
    return db.session.scalars(
        select(Membership).join(Membership.user).order_by(Membership.active.desc(), User.name)
    ).all()


def get_member(membership_id: uuid.UUID) -> Membership | None:
    return db.session.scalar(select(Membership).where(Membership.id == membership_id))


def get_role(role_id: uuid.UUID) -> Role | None:
    return db.session.scalar(select(Role).where(Role.id == role_id))


def get_invitation(invitation_id: uuid.UUID) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(Invitation.id == invitation_id))


def invitation_from_token(token: str, max_age) -> tuple[Tenant, Invitation] | None:
    """Return the tenant and the open invitation a link names, or None (forged, expired, used, revoked)."""
    payload = read_token("invitation", token, max_age)
    try:
        tenant_id, invitation_id = uuid.UUID(payload["t"]), uuid.UUID(payload["i"])
    except (TypeError, KeyError, ValueError):
        return None
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    with tenant_context(tenant.id):
        invitation = get_invitation(invitation_id)
    if invitation is None or not invitation.is_open(utcnow()):
        return None
    return tenant, invitation


def accept_invitation(tenant: Tenant, invitation: Invitation, user: User, client: ClientInfo) -> None:
    """Make ``user`` a member of ``tenant`` with the invited role (or reactivate them)."""
    with tenant_context(tenant.id, user_id=user.id):
        member = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        if member is None:
            db.session.add(Membership(user_id=user.id, role_id=invitation.role_id))
        else:
            member.role_id, member.active, member.deactivated_at = invitation.role_id, True, None
        invitation.accepted_at = utcnow()
        record_security_event(tenant.id, "invitation_accepted", user_id=user.id, client=client,
                              email=invitation.email)
    db.session.commit()
