"""The team of a tenant: creating an organisation, members, invitations."""
import uuid
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import grants
from app.audit.chain import new_head
from app.audit.services import ClientInfo, record_security_event
from app.extensions import db
from app.models import Invitation, Membership, Role, Tenant, User, utcnow
from app.permissions import BUILTIN_ROLES, Viewer
from app.tenancy import current_tenant_id, slug_problem, tenant_context, user_context
from app.tokens import make_token, read_token


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


def _active_owner_count() -> int:
    return len(db.session.scalars(
        select(Membership.id).join(Membership.role).where(Role.key == "owner", Membership.active.is_(True))
    ).all())


def _check_owner_rules(viewer: Viewer, member: Membership, new_role: Role | None) -> None:
    touches_owner = member.role.is_owner or (new_role is not None and new_role.is_owner)
    if touches_owner and not viewer.is_owner:
        raise TeamError(_l("Only an owner can give or take the owner role."))
    if member.role.is_owner and member.active and (new_role is None or not new_role.is_owner):
        if _active_owner_count() <= 1:
            raise TeamError(_l("An organisation needs at least one active owner."))


def change_member_role(viewer: Viewer, member: Membership, role: Role, client: ClientInfo) -> None:
    """Give ``member`` another role."""
    if role.id == member.role_id:
        return
    _check_owner_rules(viewer, member, role)
    grants.check(grants.member_problem(viewer, member, role))
    old = member.role.key or member.role.name
    member.role_id = role.id
    record_security_event(member.tenant_id, "member_role_changed", user_id=viewer.user_id, client=client,
                          member=member.user.email, old=old, new=role.key or role.name)
    db.session.commit()
    db.session.refresh(member)


def set_member_active(viewer: Viewer, member: Membership, active: bool, client: ClientInfo) -> None:
    """Deactivate (their access ends at once) or reactivate ``member``."""
    if member.active == active:
        return
    if member.user_id == viewer.user_id:
        raise TeamError(_l("You cannot deactivate yourself."))
    if not active:
        _check_owner_rules(viewer, member, None)
    elif member.role.is_owner and not viewer.is_owner:
        raise TeamError(_l("Only an owner can give or take the owner role."))
    grants.check(grants.member_problem(viewer, member))
    member.active = active
    member.deactivated_at = None if active else utcnow()
    kind = "member_reactivated" if active else "member_deactivated"
    record_security_event(member.tenant_id, kind, user_id=viewer.user_id, client=client, member=member.user.email)
    db.session.commit()


def invite_member(viewer: Viewer, email: str, role: Role, expires_at: datetime, client: ClientInfo) -> str:
    """Invite ``email`` with ``role``; return the token of the e-mailed link (replaces an open one)."""
    email = email.strip().lower()
    if role.is_owner and not viewer.is_owner:
        raise TeamError(_l("Only an owner can give or take the owner role."))
    grants.check(grants.invitation_problem(viewer, role))
    existing = db.session.scalar(select(Membership).join(Membership.user).where(User.email == email))
    if existing is not None and existing.active:
        raise TeamError(_l("%(email)s is already a member.", email=email))
    now = utcnow()
    for old in db.session.scalars(select(Invitation).where(
            Invitation.email == email, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))):
        old.revoked_at = now
    invitation = Invitation(email=email, role_id=role.id, invited_by_id=viewer.user_id, expires_at=expires_at)
    db.session.add(invitation)
    db.session.flush()
    record_security_event(viewer.tenant_id, "invitation_sent", user_id=viewer.user_id, client=client,
                          email=email, role=role.key or role.name)
    db.session.commit()
    return make_token("invitation", {"t": str(viewer.tenant_id), "i": str(invitation.id)})


def list_open_invitations() -> list[Invitation]:
    now = utcnow()
    return db.session.scalars(
        select(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.created_at.desc())
    ).all()


def get_invitation(invitation_id: uuid.UUID) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(Invitation.id == invitation_id))


def revoke_invitation(viewer: Viewer, invitation: Invitation, client: ClientInfo) -> None:
    invitation.revoked_at = utcnow()
    record_security_event(viewer.tenant_id, "invitation_revoked", user_id=viewer.user_id, client=client,
                          email=invitation.email)
    db.session.commit()


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


SETTINGS = {"document_folders", "call_outcomes", "reminder_minutes", "agenda_kinds", "currency", "payment_days", "dunning_days",
            "legal_details", "logo", "require_two_factor"}


def has_logo() -> bool:
    """Whether the organisation in scope has a logo (without loading it)."""
    return db.session.scalar(select(Tenant.logo.isnot(None)).where(Tenant.id == current_tenant_id())) or False


def update_settings(viewer: Viewer, tenant: Tenant, name: str, locale: str, timezone: str, client: ClientInfo,
                    **more) -> None:
    """Save the organisation's settings; ``more`` holds the other settings' columns as the form read them
    (``document_folders``, ``call_outcomes``: None for the defaults in its language; ``reminder_minutes``)."""
    assert set(more) <= SETTINGS, f"not a setting: {set(more) - SETTINGS}"
    changed = {k: v for k, v in (("name", name.strip()), ("locale", locale), ("timezone", timezone), *more.items())
               if getattr(tenant, k) != v}
    for key, value in changed.items():
        setattr(tenant, key, value)
    if changed:
        record_security_event(tenant.id, "settings_changed", user_id=viewer.user_id, client=client,
                              fields=" ".join(sorted(changed)))
    db.session.commit()
