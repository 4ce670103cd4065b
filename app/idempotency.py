"""Forms that create something are saved once (QUALITY T20): a double tap, a retried post or the same form sent
twice at once makes one record, and every submission answers with it.

Each such form carries an ``idempotency_key`` (a random value put in the form when it is shown), stored in a column
unique per tenant. ``save_once`` looks the key up first; a concurrent twin that got past that check fails on the
unique constraint at commit, and then reads what the other request saved.
"""
import uuid
from collections.abc import Callable
from typing import TypeVar

from flask import g, has_request_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db

Model = TypeVar("Model")
FRESH_KEYS = "storia_fresh_keys"  # the keys a page being cached handed out (app.pagecache fills new ones)


def new_key() -> str:
    """A random key for a form being shown; a cached page gets a new one each time it is served."""
    key = uuid.uuid4().hex
    keys = g.get(FRESH_KEYS) if has_request_context() else None
    if keys is not None:
        keys.append(key)
    return key


def saved_with(model: type[Model], idempotency_key: str | None) -> Model | None:
    """The ``model`` row a submission with this key already made, if any."""
    if not idempotency_key:
        return None
    return db.session.scalar(select(model).where(model.idempotency_key == idempotency_key))


def save_once(model: type[Model], idempotency_key: str | None, build: Callable[[], Model]) -> tuple[Model, bool]:
    """Run ``build`` (which adds the record and whatever goes with it: lines, timeline event) and commit, once per
    key; returns the record and whether this call made it (False: the first submission's record)."""
    existing = saved_with(model, idempotency_key)
    if existing is not None:
        return existing, False
    try:
        made = build()
        db.session.commit()
    except IntegrityError:  # the same form sent twice at once: the other request saved it first
        db.session.rollback()
        existing = saved_with(model, idempotency_key)
        if existing is None:
            raise
        return existing, False
    return made, True
