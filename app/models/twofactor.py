"""Two-factor sign-in (global tables, per account): the authenticator, recovery codes, remembered devices.

No secret is stored as it is: the authenticator's secret is encrypted (``app/auth/twofactor.py``), recovery codes
and device tokens are kept only as keyed hashes.
"""
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, new_id, utcnow


class TwoFactor(Base):
    """A person's confirmed authenticator app (TOTP); the row exists only once a code confirmed it."""

    __tablename__ = "two_factor"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(255))  # a Fernet token: a database dump alone makes no codes
    enabled_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The 30-second step of the last code accepted: a code of that step or an earlier one is refused (no replay).
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Base):
    """One of a person's one-time recovery codes, as a keyed hash; ``used_at`` once spent."""

    __tablename__ = "recovery_code"
    __table_args__ = (Index("ix_recovery_code_user_hash", "user_id", "code_hash", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class RememberedDevice(Base):
    """A browser where the second factor was passed with "remember this device": its cookie's token, hashed."""

    __tablename__ = "remembered_device"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
