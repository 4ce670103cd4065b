"""Tenant-defined coloured tags and custom fields of third parties and contacts."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow

TAG_COLOURS = ("grey", "red", "orange", "yellow", "green", "teal", "blue", "indigo", "purple", "pink")
FIELD_TYPES = ("text", "long_text", "number", "money", "date", "choice", "multi_choice", "checkbox", "url")
FIELD_ENTITIES = ("thirdparty", "contact")


class Tag(TenantScoped, Base):
    __tablename__ = "tag"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    __audited__ = ("name", "colour")

    name: Mapped[str] = mapped_column(String(60))
    colour: Mapped[str] = mapped_column(String(10), default="grey")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThirdPartyTag(TenantScoped, Base):
    __tablename__ = "thirdparty_tag"
    __table_args__ = (
        UniqueConstraint("tenant_id", "thirdparty_id", "tag_id"),
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "tag_id"], ["tag.tenant_id", "tag.id"], ondelete="CASCADE"),
        Index("ix_thirdparty_tag_tag", "tenant_id", "tag_id"),
    )

    __audited__ = ("thirdparty_id", "tag_id")

    thirdparty_id: Mapped[uuid.UUID]
    tag_id: Mapped[uuid.UUID]


class ContactTag(TenantScoped, Base):
    __tablename__ = "contact_tag"
    __table_args__ = (
        UniqueConstraint("tenant_id", "contact_id", "tag_id"),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "tag_id"], ["tag.tenant_id", "tag.id"], ondelete="CASCADE"),
        Index("ix_contact_tag_tag", "tenant_id", "tag_id"),
    )

    __audited__ = ("contact_id", "tag_id")

    contact_id: Mapped[uuid.UUID]
    tag_id: Mapped[uuid.UUID]


class CustomField(TenantScoped, Base):
    """A field an administrator adds to third parties or contacts; values live in their ``custom`` JSON."""

    __tablename__ = "custom_field"
    __table_args__ = (UniqueConstraint("tenant_id", "entity", "key"),)

    __audited__ = ("entity", "key", "label", "field_type", "choices", "required", "show_in_list")

    entity: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(80))
    field_type: Mapped[str] = mapped_column(String(20))
    choices: Mapped[list] = mapped_column(default=list)
    required: Mapped[bool] = mapped_column(default=False)
    show_in_list: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
