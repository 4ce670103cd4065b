"""Single sign-on: an organisation's OpenID provider, the e-mail domains it publishes, and people's linked identities."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, new_id, utcnow


class SsoProvider(TenantScoped, Base):
    """An organisation's own OpenID Connect provider (one per organisation).

    The discovery document is read when the issuer is saved and the endpoints it names are kept in
    ``endpoints``; the client secret is stored encrypted (``app/sso/crypto.py``). ``default_role_id`` is the
    role people joining through it get: no foreign key, so that deleting that role stays possible (auto-join
    then stops until an admin picks another, and the page says so).
    """

    __tablename__ = "sso_provider"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    __shown_on_cached_pages__ = False  # no customer card or timeline shows it

    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str] = mapped_column(String(1000))  # Fernet token
    endpoints: Mapped[dict] = mapped_column(default=dict)
    allowed_domains: Mapped[list] = mapped_column(default=list)
    auto_join: Mapped[bool] = mapped_column(default=False)
    default_role_id: Mapped[uuid.UUID | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SsoDomain(Base):
    """A domain an organisation's enabled provider signs in: the global index the sign-in page looks up by e-mail
    (provider rows are tenant rows, invisible before an organisation is known). Kept in step with the provider."""

    __tablename__ = "sso_domain"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True,
                                                       index=True)


class SsoIdentity(Base):
    """A person's account at an OpenID provider, ``(issuer, subject)``, linked to one Storia account."""

    __tablename__ = "sso_identity"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        Index("ix_sso_identity_user", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    provider_key: Mapped[str] = mapped_column(String(60))  # google, microsoft, org-<slug>: where it was linked from
    label: Mapped[str] = mapped_column(String(160))  # what the account page calls it
    email: Mapped[str] = mapped_column(String(254))  # the address it was linked with
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
