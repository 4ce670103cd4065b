"""Agenda items: interactions logged by hand (calls, meetings, e-mails, letters) and planned ones
(tasks and appointments), who they are assigned to, and each person's calendar feed."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.user import User

# What an activity is. Logged interactions happened; tasks and appointments are planned: a task has a
# due date and a done state, an appointment a start and an end and may repeat.
LOGGED_KINDS = ("call", "meeting", "email", "letter")
PLANNED_KINDS = ("task", "appointment")
PRIORITIES = ("low", "normal", "high")
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
        # The agenda views: what starts in a window (a repeating item by the end of its last occurrence).
        Index("ix_activity_agenda", "tenant_id", "starts_at"),
    )
    __audited__ = ("kind", "direction", "outcome", "title", "body", "starts_at", "ends_at", "duration_minutes",
                   "meeting_mode", "location", "contact_id", "due_at", "done_at", "priority", "recurrence",
                   "zone", "all_day", "reminder_minutes")

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
    # An appointment that repeats: an RFC 5545 rule (``FREQ=WEEKLY;COUNT=10``) unfolded in ``zone``, so that
    # 09:00 stays 09:00 across a daylight-saving change; ``repeats_until`` is the end of its last occurrence.
    recurrence: Mapped[str] = mapped_column(String(120), default="", server_default="")
    zone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    repeats_until: Mapped[datetime | None]
    # How long before it starts (or is due) its people are reminded: None for their default, -1 for never.
    reminder_minutes: Mapped[int | None]
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    done_at: Mapped[datetime | None]
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    owner: Mapped[User | None] = relationship(lazy="joined")
    assignees: Mapped[list["ActivityAssignee"]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                               overlaps="activity")
    # The customer's other people who took part (the main one is ``contact_id``).
    attendees: Mapped[list["ActivityContact"]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                              overlaps="activity")

    __mapper_args__ = {"version_id_col": version}

    @property
    def planned(self) -> bool:
        return self.kind in PLANNED_KINDS

    @property
    def assignee_ids(self) -> list[uuid.UUID]:
        return [a.user_id for a in self.assignees]


class ActivityAssignee(TenantScoped, Base):
    """A member of the team a task is assigned to, or who attends an appointment."""

    __tablename__ = "activity_assignee"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "activity_id"], ["activity.tenant_id", "activity.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "activity_id", "user_id"),
        Index("ix_activity_assignee_user", "tenant_id", "user_id"),  # "my agenda"
    )

    activity_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship(lazy="joined")


class ActivityContact(TenantScoped, Base):
    """One of the customer's people who took part in a meeting or attends an appointment, besides the main one."""

    __tablename__ = "activity_contact"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "activity_id"], ["activity.tenant_id", "activity.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "activity_id", "contact_id"),
    )

    activity_id: Mapped[uuid.UUID]
    contact_id: Mapped[uuid.UUID]


class Reminder(TenantScoped, Base):
    """A reminder of one occurrence of an item, for one person: made once (the unique key), shown in the app
    until dismissed, e-mailed at most once."""

    __tablename__ = "reminder"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "activity_id"], ["activity.tenant_id", "activity.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "activity_id", "occurrence_at", "user_id"),  # each reminder sent once (T20)
        Index("ix_reminder_user", "tenant_id", "user_id", "dismissed_at"),
    )

    activity_id: Mapped[uuid.UUID]
    occurrence_at: Mapped[datetime]  # the start (or due time) of the occurrence it is about, UTC
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    remind_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    emailed_at: Mapped[datetime | None]
    dismissed_at: Mapped[datetime | None]

    activity: Mapped[Activity] = relationship(lazy="joined", overlaps="assignees")


class CalendarFeed(TenantScoped, Base):
    """A person's private calendar feed in one organisation: only the token's SHA-256 is kept."""

    __tablename__ = "calendar_feed"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"), UniqueConstraint("token_hash"))

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_read_at: Mapped[datetime | None]
