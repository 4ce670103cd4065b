"""The customer timeline: one append-only table of everything that happened around a third party."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.user import User


class TimelineEvent(TenantScoped, Base):
    """One event: kind, what it is about (subject), who did it, a title, a body and a small payload.

    ``required_right`` hides the event from viewers without that right; ``private_to_id`` hides it
    from everyone but that user and holders of ``note.read_private``.
    """

    __tablename__ = "timeline_event"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"]),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"]),
        Index("ix_timeline_thirdparty_time", "tenant_id", "thirdparty_id", "occurred_at", "id"),
        Index("ix_timeline_contact_time", "tenant_id", "contact_id", "occurred_at", "id"),
        Index("ix_timeline_tenant_time", "tenant_id", "occurred_at", "id"),
        Index("ix_timeline_subject", "tenant_id", "subject_id"),  # a subject's events (a roll-up line, a note's)
    )

    thirdparty_id: Mapped[uuid.UUID]
    contact_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID | None]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict] = mapped_column(default=dict)
    required_right: Mapped[str | None] = mapped_column(String(40))
    private_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
