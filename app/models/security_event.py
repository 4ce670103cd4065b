"""The security log: logins, failures, resets, invitations, role changes, denied access."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.user import User


class SecurityEvent(TenantScoped, Base):
    """One security-relevant event, in the log of the tenant it concerns."""

    __tablename__ = "security_event"
    __shown_on_cached_pages__ = False  # a sign-in or a refused probe leaves every cached page as it is (app.freshness)
    __table_args__ = (Index("ix_security_event_tenant_occurred", "tenant_id", "occurred_at", "id"),)

    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict] = mapped_column(default=dict)

    user: Mapped[User | None] = relationship(lazy="joined")
