"""Notes on a third party or a contact, with every previous version kept."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.user import User


class Note(TenantScoped, Base):
    __tablename__ = "note"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"]),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"]),
        # A retried post (double tap, lost response) carries the same key: one note, not two.
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_note_thirdparty", "tenant_id", "thirdparty_id", "pinned"),
    )
    __audited__ = ("body", "private", "pinned", "contact_id")

    thirdparty_id: Mapped[uuid.UUID]
    contact_id: Mapped[uuid.UUID | None]
    body: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(default=False)
    pinned: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    author: Mapped[User | None] = relationship(lazy="joined")
    versions: Mapped[list["NoteVersion"]] = relationship(
        primaryjoin="and_(NoteVersion.tenant_id == Note.tenant_id, foreign(NoteVersion.note_id) == Note.id)",
        order_by="NoteVersion.edited_at.desc()", cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}


class NoteVersion(TenantScoped, Base):
    """The text a note had before an edit."""

    __tablename__ = "note_version"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "note_id"], ["note.tenant_id", "note.id"], ondelete="CASCADE"),
        Index("ix_note_version_note", "tenant_id", "note_id"),
    )

    note_id: Mapped[uuid.UUID]
    body: Mapped[str] = mapped_column(Text)
    edited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)

    edited_by: Mapped[User | None] = relationship(lazy="joined")
