"""Contacts: the people of a third party."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.thirdparty import Channel, ThirdParty

PREFERRED_CHANNELS = ("any", "email", "phone", "sms", "post")


class Contact(TenantScoped, Base):
    __tablename__ = "contact"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"]),
        Index("ix_contact_thirdparty", "tenant_id", "thirdparty_id"),
    )
    __audited__ = ("thirdparty_id", "first_name", "last_name", "job_title", "preferred_language",
                   "preferred_channel", "consent_email", "consent_phone", "custom", "archived_at")

    thirdparty_id: Mapped[uuid.UUID]
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100))
    job_title: Mapped[str] = mapped_column(String(120), default="")
    preferred_language: Mapped[str] = mapped_column(String(5), default="")
    preferred_channel: Mapped[str] = mapped_column(String(10), default="any")
    consent_email: Mapped[bool] = mapped_column(default=False)
    consent_phone: Mapped[bool] = mapped_column(default=False)
    consent_updated_at: Mapped[datetime | None]
    description: Mapped[str] = mapped_column(Text, default="")
    custom: Mapped[dict] = mapped_column(default=dict)
    search_text: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    thirdparty: Mapped[ThirdParty] = relationship(
        primaryjoin="and_(ThirdParty.tenant_id == Contact.tenant_id, foreign(Contact.thirdparty_id) == ThirdParty.id)",
    )
    channels: Mapped[list[Channel]] = relationship(
        primaryjoin="and_(Channel.tenant_id == Contact.tenant_id, foreign(Channel.contact_id) == Contact.id)",
        order_by="Channel.position", cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def emails(self) -> list[Channel]:
        return [c for c in self.channels if c.kind == "email"]

    @property
    def phones(self) -> list[Channel]:
        return [c for c in self.channels if c.kind == "phone"]
