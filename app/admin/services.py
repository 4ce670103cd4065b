"""The team of a tenant: creating an organisation, members, invitations."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import grants
from app.audit.services import ClientInfo, record_security_event
from app.extensions import db
from app.models import Invitation, Membership, Role, Tenant, User, utcnow
from app.permissions import Viewer
from app.team import TeamError
from app.tenancy import current_tenant_id
from app.tokens import make_token


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


def revoke_invitation(viewer: Viewer, invitation: Invitation, client: ClientInfo) -> None:
    invitation.revoked_at = utcnow()
    record_security_event(viewer.tenant_id, "invitation_revoked", user_id=viewer.user_id, client=client,
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
