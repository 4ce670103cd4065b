"""A small rate limiter on the database (works on the embedded default; no Redis needed)."""
import hashlib
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import LoginAttempt, RateLimitHit, utcnow


def bucket(kind: str, value: str) -> str:
    """A bucket name that does not store the value itself (e-mails, addresses)."""
    key = current_app.config["SECRET_KEY"].encode()
    return f"{kind}:{hashlib.blake2b(value.encode(), key=key[:64], digest_size=16).hexdigest()}"


def allow(name: str, limit: int, window: timedelta) -> bool:
    """Count one use of ``name``; False (and nothing counted) once ``limit`` uses fall in ``window``."""
    since = utcnow() - window
    used = db.session.scalar(
        select(func.count()).select_from(RateLimitHit).where(RateLimitHit.bucket == name, RateLimitHit.hit_at >= since)
    )
    if used >= limit:
        return False
    db.session.add(RateLimitHit(bucket=name))
    db.session.commit()
    return True


def purge_expired(older_than: timedelta = timedelta(days=1)) -> int:
    """Delete counts and login attempts older than any window (run daily)."""
    cutoff = utcnow() - older_than
    removed = db.session.execute(delete(RateLimitHit).where(RateLimitHit.hit_at < cutoff)).rowcount
    removed += db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff)).rowcount
    db.session.commit()
    return removed
