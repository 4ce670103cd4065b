"""Logging interactions on a customer's timeline, and the customer facts they give ("last contact")."""
import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.agenda.labels import event_kind
from app.extensions import db
from app.models import LOGGED_KINDS, Activity
from app.permissions import Viewer
from app.timeline.services import record_event

# Who sees interactions on the timeline: whoever may read the agenda.
EVENT_RIGHT = "agenda.read"


def _replayed(idempotency_key: str | None) -> Activity | None:
    if not idempotency_key:
        return None
    return db.session.scalar(select(Activity).where(Activity.idempotency_key == idempotency_key))


def _summary(values: dict) -> str:
    """The line the timeline shows: the subject, else the first line of the summary."""
    if values["title"]:
        return values["title"]
    return values["body"].splitlines()[0][:200] if values["body"] else ""


def record_interaction(owner_id: uuid.UUID | None, *, thirdparty_id: uuid.UUID, contact_id: uuid.UUID | None, values: dict,
                       idempotency_key: str | None = None) -> Activity:
    """Add an interaction and its timeline event to the session; the caller commits (one transaction)."""
    activity = Activity(thirdparty_id=thirdparty_id, contact_id=contact_id, owner_id=owner_id,
                        idempotency_key=idempotency_key, **values)
    db.session.add(activity)
    db.session.flush()  # raises IntegrityError on a repeated idempotency key
    payload = {k: v for k, v in (("direction", activity.direction), ("outcome", activity.outcome),
                                 ("duration", activity.duration_minutes), ("mode", activity.meeting_mode),
                                 ("location", activity.location)) if v not in (None, "")}
    record_event(thirdparty_id=thirdparty_id, contact_id=contact_id, kind=event_kind(activity.kind), subject_type="activity",
                 subject_id=activity.id, actor_id=owner_id, title=_summary(values), body=activity.body,
                 payload=payload, required_right=EVENT_RIGHT, occurred_at=activity.starts_at)
    return activity


def log_interaction(viewer: Viewer, *, thirdparty_id: uuid.UUID, contact_id: uuid.UUID | None, values: dict,
                    idempotency_key: str | None) -> tuple[Activity, bool]:
    """Save a call, meeting, e-mail or letter that happened, and its timeline event, in one transaction.

    A repeated ``idempotency_key`` (double tap, retried post) returns the first one; returns it and
    whether it was created now.
    """
    existing = _replayed(idempotency_key)
    if existing is not None:
        return existing, False
    try:
        activity = record_interaction(viewer.user_id, thirdparty_id=thirdparty_id, contact_id=contact_id, values=values,
                                      idempotency_key=idempotency_key)
    except IntegrityError:  # the same form sent twice at once: the other request saved it first
        db.session.rollback()
        existing = _replayed(idempotency_key)
        if existing is None:
            raise
        return existing, False
    db.session.commit()
    return activity, True


def last_contacts(thirdparty_id: uuid.UUID) -> dict[str, object]:
    """When we last reached the customer and when they last reached us (logged interactions)."""
    rows = db.session.execute(select(Activity.direction, func.max(Activity.starts_at))
                              .where(Activity.thirdparty_id == thirdparty_id, Activity.kind.in_(LOGGED_KINDS))
                              .group_by(Activity.direction)).all()
    return {direction: moment for direction, moment in rows if direction}

