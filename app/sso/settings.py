"""An organisation's own OpenID provider, as its admins set it (right ``admin.settings``); the tenant is in scope."""
import uuid
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit.services import ClientInfo, record_security_event
from app.extensions import db
from app.grants import holds_all
from app.models import Role, SsoProvider, Tenant, utcnow
from app.permissions import Viewer
from app.sso import crypto
from app.sso.services import publish_domains


@dataclass(frozen=True)
class ProviderSettings:
    issuer: str
    client_id: str
    client_secret: str | None  # None: keep the stored one
    allowed_domains: list
    auto_join: bool
    default_role_id: uuid.UUID | None
    enabled: bool


def get_settings() -> SsoProvider | None:
    return db.session.scalar(select(SsoProvider))


def joinable_roles() -> list[Role]:
    """The roles people may join with: every role but the owner's, by name."""
    return [r for r in db.session.scalars(select(Role).order_by(Role.name)) if not r.is_owner]


def default_role_problem(viewer: Viewer, role: Role | None) -> str | None:
    """Why ``viewer`` may not make ``role`` the role people join with — None when they may. Never the owner role,
    never one giving a right ``viewer`` lacks (the role's rights must be a subset of theirs)."""
    if role is None:
        return str(_l("Choose the role of the people who join."))
    if role.is_owner:
        return str(_l("Nobody joins as an owner."))
    if not holds_all(viewer, role.rights):
        return str(_l("You can only give rights you hold yourself."))
    return None


def save_settings(viewer: Viewer, tenant: Tenant, values: ProviderSettings, endpoints: dict | None,
                  client: ClientInfo) -> None:
    """Save the provider (``endpoints``: its discovery read again, when the issuer changed); publish its domains
    for the sign-in page while it is enabled; log which settings changed (never a value of the secret)."""
    row = get_settings()
    if row is None:
        row = SsoProvider(client_secret="", endpoints={})
        db.session.add(row)
    changed = {"issuer"} if endpoints is not None and row.endpoints != endpoints else set()
    if endpoints is not None:
        row.issuer, row.endpoints = values.issuer, endpoints
    for name in ("client_id", "allowed_domains", "auto_join", "default_role_id", "enabled"):
        if getattr(row, name) != getattr(values, name):
            setattr(row, name, getattr(values, name))
            changed.add(name)
    if values.client_secret:
        row.client_secret = crypto.encrypt(values.client_secret)
        changed.add("client_secret")
    if changed:
        row.updated_at = utcnow()
        publish_domains(tenant.id, row.allowed_domains if row.enabled else [])
        record_security_event(tenant.id, "sso_settings_changed", user_id=viewer.user_id, client=client,
                              fields=" ".join(sorted(changed)))
    db.session.commit()
