"""Agenda items: interactions logged by hand (calls, meetings, e-mails, letters), and later planned ones."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.user import User

# What an activity is. Logged interactions happened; appointments and tasks (next steps of the
# agenda issue) are planned, with a due date and a done state.
LOGGED_KINDS = ("call", "meeting", "email", "letter")
DIRECTIONS = ("outbound", "inbound")
MEETING_MODES = ("in_person", "online", "phone")


class Activity(TenantScoped, Base):
    __tablename__ = "activity"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"]),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"]),
        UniqueConstraint("tenant_id", "idempotency_key"),  # a double tap logs one call, not two (T20)
        # "Last contact" per direction, and a customer's agenda by date.
        Index("ix_activity_thirdparty_time", "tenant_id", "thirdparty_id", "starts_at"),
    )
    __audited__ = ("kind", "direction", "outcome", "title", "body", "starts_at", "ends_at", "duration_minutes",
                   "meeting_mode", "location", "contact_id", "due_at", "done_at")

    thirdparty_id: Mapped[uuid.UUID]
    contact_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str | None] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(80), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime]  # when it happened (logged) or begins (planned), UTC
    ends_at: Mapped[datetime | None]
    all_day: Mapped[bool] = mapped_column(default=False)
    duration_minutes: Mapped[int | None]
    meeting_mode: Mapped[str | None] = mapped_column(String(12))
    location: Mapped[str] = mapped_column(String(200), default="")
    due_at: Mapped[datetime | None]
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    done_at: Mapped[datetime | None]
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    owner: Mapped[User | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
