"""Documents (GED): a file on a customer, its versions, its tags and who opened which version when."""
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.user import User


class Document(TenantScoped, Base):
    """A named file in a customer's folder; its content is the latest of its versions.

    ``name_key`` (the name folded to lower case) makes "the same name in the same place" one
    document among those not in the trash: an upload under that name adds a version.
    """

    __tablename__ = "document"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"]),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"]),
        Index("ix_document_place", "tenant_id", "thirdparty_id", "folder", "name_key", unique=True,
              postgresql_where=text("deleted_at IS NULL"), sqlite_where=text("deleted_at IS NULL")),
        Index("ix_document_thirdparty_time", "tenant_id", "thirdparty_id", "updated_at", "id"),
        Index("ix_document_tenant_time", "tenant_id", "updated_at", "id"),
        Index("ix_document_deleted", "tenant_id", "deleted_at"),
    )
    __audited__ = ("name", "folder", "description", "contact_id", "deleted_at", "current_version_id")

    thirdparty_id: Mapped[uuid.UUID]
    contact_id: Mapped[uuid.UUID | None]
    # The business object it belongs to, when not the customer itself (a quote, an invoice…).
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[uuid.UUID | None]
    folder: Mapped[str] = mapped_column(String(80), default="")
    name: Mapped[str] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    current_version_id: Mapped[uuid.UUID | None]
    version_count: Mapped[int] = mapped_column(default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # of the current version
    mime: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class DocumentVersion(TenantScoped, Base):
    """One uploaded content of a document. Its object key is made of ids only, never of the file's name."""

    __tablename__ = "document_version"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "document_id"], ["document.tenant_id", "document.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "document_id", "number"),
        # A retried upload (lost response, double tap) carries the same key: one version, not two.
        UniqueConstraint("tenant_id", "idempotency_key"),
    )
    __audited__ = ("document_id", "number", "size", "sha256", "mime")

    document_id: Mapped[uuid.UUID]
    number: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    mime: Mapped[str] = mapped_column(String(100))  # what the bytes are
    served_type: Mapped[str] = mapped_column(String(100))  # the Content-Type we send
    label: Mapped[str] = mapped_column(String(60), default="")
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded, sanitised
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))

    uploaded_by: Mapped[User | None] = relationship(lazy="joined")


class DocumentTag(TenantScoped, Base):
    __tablename__ = "document_tag"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document_id", "tag_id"),
        ForeignKeyConstraint(["tenant_id", "document_id"], ["document.tenant_id", "document.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "tag_id"], ["tag.tenant_id", "tag.id"], ondelete="CASCADE"),
        Index("ix_document_tag_tag", "tenant_id", "tag_id"),
    )
    __audited__ = ("document_id", "tag_id")

    document_id: Mapped[uuid.UUID]
    tag_id: Mapped[uuid.UUID]


class DocumentAccess(TenantScoped, Base):
    """Who previewed or downloaded which version, and when.

    Rows go when their document is purged from the trash; each one is also an audit entry, and
    those stay (hash-chained, append-only).
    """

    __tablename__ = "document_access"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "document_id"], ["document.tenant_id", "document.id"], ondelete="CASCADE"),
        Index("ix_document_access_document", "tenant_id", "document_id", "occurred_at"),
    )
    __audited__ = ("document_id", "version_id", "action")

    document_id: Mapped[uuid.UUID]
    version_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(20))  # "preview" or "download"
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User | None] = relationship(lazy="joined")
