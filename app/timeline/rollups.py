"""Roll-up lines: one row of the timeline that sums up many happenings of one thing (the views of a document), put
back on top as they happen instead of one row each.

The timeline is append-only for the app (its role may not UPDATE or DELETE ``timeline_event``). A roll-up is the one
exception, and a narrow one: each new state is a new event (so keyset pages and the live stream treat it like any
other) carrying ``payload["rollup"]``, and the previous one is deleted. On PostgreSQL the app role may DELETE only a
row marked as a roll-up (a RESTRICTIVE policy, migration 0026), of the tenant in scope like any statement: an ordinary
event cannot go, whoever asks. See docs/architecture.md, "Roll-up lines and threads".
"""
import uuid

from sqlalchemy import delete, select

from app.extensions import db
from app.models import TimelineEvent
from app.timeline.services import record_event


def replace_rollup(*, key: str, kind: str, subject_type: str, subject_id: uuid.UUID, payload: dict,
                   **event) -> TimelineEvent:
    """Record the roll-up line ``key`` of a subject as it stands now, dropping its previous line, in the caller's
    transaction. The caller serialises the writers of one subject (a lock on its row): two at once leave one line.

    Found through the subject (``ix_timeline_subject``), whatever the size of the customer's timeline.
    """
    previous = db.session.execute(select(TimelineEvent.id, TimelineEvent.payload).where(
        TimelineEvent.subject_id == subject_id, TimelineEvent.subject_type == subject_type,
        TimelineEvent.kind == kind)).all()
    for event_id, old_payload in previous:
        if (old_payload or {}).get("rollup") == key:
            drop(event_id)
    return record_event(kind=kind, subject_type=subject_type, subject_id=subject_id,
                        payload={**payload, "rollup": key}, **event)


def drop(event_id: uuid.UUID) -> None:
    """Delete a roll-up line (only a roll-up line: on PostgreSQL the policy leaves every other event where it is)."""
    db.session.execute(delete(TimelineEvent).where(TimelineEvent.id == event_id))  # scoped to the tenant like any query
