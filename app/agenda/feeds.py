"""Each person's private calendar feed: a random token shown once, kept only as its SHA-256, revocable."""
import hashlib
import secrets
import uuid

from sqlalchemy import delete, select

from app.extensions import db
from app.models import CalendarFeed


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def has_feed(user_id: uuid.UUID) -> bool:
    return db.session.scalar(select(CalendarFeed.id).where(CalendarFeed.user_id == user_id)) is not None


def new_token(user_id: uuid.UUID) -> str:
    """Make (or replace) the person's feed; the old address stops working. Returns the new token."""
    token = secrets.token_urlsafe(32)  # 256 random bits
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user_id))
    db.session.add(CalendarFeed(user_id=user_id, token_hash=_digest(token)))
    db.session.commit()
    return token


def revoke(user_id: uuid.UUID) -> None:
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user_id))
    db.session.commit()


def find(token: str) -> CalendarFeed | None:
    """The feed of ``token`` in the tenant in scope."""
    if not 20 <= len(token) <= 100:
        return None
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _digest(token)))
