"""The audit log: field-level changes, hash-chained per tenant (tamper-evident)."""
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow


class AuditEntry(TenantScoped, Base):
    """One change: who (a pseudonymous user id), what (entity and field old → new), when, from where.

    ``entry_hash`` = HMAC(key, previous hash + the entry's canonical form: every column, the changes by
    their digest rather than themselves, so erasing personal data keeps the chain whole). ``hash_version``
    says which canonical form sealed the entry (1: before ``id`` and ``ip`` were sealed; 2: all columns).
    The app's database role may insert and read these rows, never update or delete them.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq"),
        Index("ix_audit_entry_entity", "tenant_id", "entity_type", "entity_id"),
        Index("ix_audit_entry_time", "tenant_id", "occurred_at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(20))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID]
    changes: Mapped[dict] = mapped_column(default=dict)
    changes_digest: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    hash_version: Mapped[int] = mapped_column(SmallInteger, default=2, server_default="1")


class AuditHead(TenantScoped, Base):
    """The last sequence number and hash of a tenant's chain; locked while an entry is appended."""

    __tablename__ = "audit_head"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    # HMAC of (tenant, last_seq, last_hash): rewinding the head after removing the newest entries
    # needs the key, not only write access to the database.
    head_mac: Mapped[str] = mapped_column(String(64), default="")
