"""Record and read security events: one tenant's log, fanned out for account-wide events."""
import uuid
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, tuple_

from app.extensions import db
from app.models import AuditEntry, Membership, Note, SecurityEvent, User
from app.tenancy import tenant_context, user_context

SECURITY_EVENT_KINDS = {
    "login": _l("Signed in"),
    "login_failed": _l("Failed sign-in"),
    "login_throttled": _l("Sign-in refused (too many attempts)"),
    "logout": _l("Signed out"),
    "password_reset_requested": _l("Password reset requested"),
    "password_reset": _l("Password reset"),
    "password_changed": _l("Password changed"),
    "organisation_created": _l("Organisation created"),
    "settings_changed": _l("Settings changed"),
    "invitation_sent": _l("Invitation sent"),
    "invitation_revoked": _l("Invitation revoked"),
    "invitation_accepted": _l("Invitation accepted"),
    "member_role_changed": _l("Member's role changed"),
    "member_deactivated": _l("Member deactivated"),
    "member_reactivated": _l("Member reactivated"),
    "role_created": _l("Role created"),
    "role_updated": _l("Role changed"),
    "role_deleted": _l("Role deleted"),
    "group_created": _l("Group created"),
    "group_updated": _l("Group changed"),
    "group_deleted": _l("Group deleted"),
    "access_denied": _l("Access denied"),
    "access_not_found": _l("Access to another organisation refused"),
    "sso_refused": _l("Single sign-on refused"),
    "sso_confirmation_sent": _l("Single sign-on confirmation e-mailed"),
    "sso_linked": _l("Single sign-on linked to the account"),
    "sso_unlinked": _l("Single sign-on removed from the account"),
    "sso_joined": _l("Joined through single sign-on"),
    "sso_settings_changed": _l("Single sign-on settings changed"),
    "two_factor_enabled": _l("Two-factor sign-in turned on"),
    "two_factor_disabled": _l("Two-factor sign-in turned off"),
    "two_factor_failed": _l("Wrong two-factor code"),
    "two_factor_throttled": _l("Two-factor code refused (too many attempts)"),
    "recovery_code_used": _l("Recovery code used"),
    "recovery_codes_regenerated": _l("New recovery codes made"),
    "two_factor_reset": _l("Two-factor sign-in reset by an administrator"),
}

PAGE_SIZE = 50


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from, as recorded in the security log."""

    ip: str | None = None
    user_agent: str | None = None


def record_security_event(
    tenant_id: uuid.UUID, kind: str, *, user_id: uuid.UUID | None, client: ClientInfo, **detail
) -> None:
    """Add a security event to ``tenant_id``'s log (committed by the caller)."""
    if kind not in SECURITY_EVENT_KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    with tenant_context(tenant_id):
        db.session.add(SecurityEvent(
            kind=kind,
            user_id=user_id,
            ip=client.ip,
            user_agent=(client.user_agent or "")[:255] or None,
            detail={k: str(v) for k, v in detail.items()},
        ))


def record_account_event(user: User, kind: str, client: ClientInfo, **detail) -> None:
    """Record an account-wide event (sign-in, reset) in the log of every tenant the user is in."""
    with user_context(user.id):
        tenant_ids = db.session.scalars(
            select(Membership.tenant_id)
            .where(Membership.user_id == user.id)
            .execution_options(all_tenants=True)
        ).all()
    for tenant_id in tenant_ids:
        record_security_event(tenant_id, kind, user_id=user.id, client=client, **detail)


@dataclass(frozen=True)
class SecurityLogFilter:
    kind: str | None = None
    user_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


def list_security_events(filters: SecurityLogFilter, *, before: tuple[datetime, uuid.UUID] | None = None):
    """Return one page of the tenant's security log, newest first, and the cursor of the next."""
    stmt = select(SecurityEvent).order_by(SecurityEvent.occurred_at.desc(), SecurityEvent.id.desc())
    if filters.kind:
        stmt = stmt.where(SecurityEvent.kind == filters.kind)
    if filters.user_id:
        stmt = stmt.where(SecurityEvent.user_id == filters.user_id)
    if filters.since:
        stmt = stmt.where(SecurityEvent.occurred_at >= filters.since)
    if filters.until:
        stmt = stmt.where(SecurityEvent.occurred_at < filters.until)
    if filters.text:
        pattern = f"%{filters.text}%"
        stmt = stmt.where(or_(SecurityEvent.ip.ilike(pattern), SecurityEvent.user_agent.ilike(pattern)))
    if before:
        stmt = stmt.where(tuple_(SecurityEvent.occurred_at, SecurityEvent.id) < tuple_(*before))
    rows = db.session.scalars(stmt.limit(PAGE_SIZE + 1)).all()
    next_cursor = (rows[PAGE_SIZE - 1].occurred_at, rows[PAGE_SIZE - 1].id) if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], next_cursor


AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_audit_entries(filters: AuditFilter, *, before_seq: int | None = None):
    """One page of the tenant's audit log, newest first, and the sequence number to continue from."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc())
    if filters.entity_type:
        stmt = stmt.where(AuditEntry.entity_type == filters.entity_type)
    if filters.entity_id:
        stmt = stmt.where(AuditEntry.entity_id == filters.entity_id)
    if filters.actor_id:
        stmt = stmt.where(AuditEntry.actor_id == filters.actor_id)
    if filters.since:
        stmt = stmt.where(AuditEntry.occurred_at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditEntry.occurred_at < filters.until)
    if before_seq:
        stmt = stmt.where(AuditEntry.seq < before_seq)
    rows = db.session.scalars(stmt.limit(AUDIT_PAGE_SIZE + 1)).all()
    return rows[:AUDIT_PAGE_SIZE], (rows[AUDIT_PAGE_SIZE - 1].seq if len(rows) > AUDIT_PAGE_SIZE else None)


def audited_entity_types() -> list[str]:
    return db.session.scalars(select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)).all()


def private_notes_hidden(entries, viewer) -> list:
    """The entries as the viewer may read them: the text of someone else's private note is left out
    (shown as empty) unless they hold ``note.read_private``; who changed what, and when, stays."""
    if viewer.can("note.read_private"):
        return entries
    note_ids = {e.entity_id for e in entries if e.entity_type == "note"}
    readable = set(db.session.scalars(select(Note.id).where(
        Note.id.in_(note_ids), or_(Note.private.is_(False), Note.author_id == viewer.user_id)))) if note_ids else set()
    shown = []
    for entry in entries:
        if entry.entity_type == "note" and entry.entity_id not in readable:
            changes = {f: ([None, None] if f == "body" else v) for f, v in entry.changes.items()}
            entry = SimpleNamespace(**{c.key: getattr(entry, c.key) for c in AuditEntry.__table__.columns}
                                    | {"changes": changes})  # a copy: the stored entry is never touched
        shown.append(entry)
    return shown
