"""Record timeline events (the one function every module uses) and read them with rights applied."""
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select, tuple_

from app.extensions import db
from app.models import Contact, TimelineEvent, new_id, utcnow
from app.permissions import Viewer, only_mine
from app.tenancy import current_tenant_id
from app.timeline import live

PAGE_SIZE = 30


def record_event(
    *, thirdparty_id: uuid.UUID, kind: str, subject_type: str, subject_id: uuid.UUID | None, actor_id: uuid.UUID | None,
    title: str = "", body: str = "", contact_id: uuid.UUID | None = None, payload: dict | None = None,
    required_right: str | None = None, private_to_id: uuid.UUID | None = None, occurred_at: datetime | None = None,
) -> TimelineEvent:
    """Add an event to a third party's timeline, in the caller's transaction (committed with its change).

    Open timelines of that third party receive it once the transaction commits (``live``).
    """
    event = TimelineEvent(
        tenant_id=current_tenant_id(), id=new_id(), thirdparty_id=thirdparty_id, contact_id=contact_id, occurred_at=occurred_at or utcnow(),
        kind=kind, subject_type=subject_type, subject_id=subject_id, actor_id=actor_id, title=title[:300],
        body=body, payload=payload or {}, required_right=required_right, private_to_id=private_to_id,
    )
    db.session.add(event)
    live.announce(db.session, event)
    return event


def visible_to(viewer: Viewer):
    """The SQL condition of the events ``viewer`` may see (rights and private notes)."""
    rights = sorted(viewer.rights)
    right_ok = or_(TimelineEvent.required_right.is_(None), TimelineEvent.required_right.in_(rights))
    if viewer.can("note.read_private"):
        return right_ok
    return right_ok & or_(TimelineEvent.private_to_id.is_(None), TimelineEvent.private_to_id == viewer.user_id)


@dataclass(frozen=True)
class TimelineFilter:
    kinds: tuple[str, ...] = ()
    contact_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    extra: dict = field(default_factory=dict)


def list_events(viewer: Viewer, thirdparty_id: uuid.UUID, filters: TimelineFilter, *,
                before: tuple[datetime, uuid.UUID] | None = None, contact_id: uuid.UUID | None = None,
                limit: int = PAGE_SIZE, names: dict | None = None):
    """One page of a third party's (or one contact's) timeline, newest first; and the next cursor.

    Keyset pagination on ``(occurred_at, id)``: a page costs the same at the 100th and the 100,000th event.
    Only events of a customer ``viewer`` may see ("only mine") are read. With ``names`` (a third party's timeline),
    the names of the customer's current contacts that the events are about are read in the same statement, into it.
    """
    stmt = select(TimelineEvent).where(visible_to(viewer))
    if contact_id is not None:
        stmt = stmt.where(TimelineEvent.contact_id == contact_id)
    else:
        stmt = stmt.where(TimelineEvent.thirdparty_id == thirdparty_id)
        mine = only_mine(viewer, TimelineEvent.tenant_id, TimelineEvent.thirdparty_id)
        if mine is not None:
            stmt = stmt.where(mine)
    if names is not None and contact_id is None:
        stmt = stmt.add_columns(Contact.id, Contact.first_name, Contact.last_name).outerjoin(Contact, and_(
            Contact.tenant_id == TimelineEvent.tenant_id, Contact.id == TimelineEvent.contact_id,
            Contact.thirdparty_id == thirdparty_id, Contact.archived_at.is_(None)))
    if filters.kinds:
        stmt = stmt.where(TimelineEvent.kind.in_(filters.kinds))
    if filters.contact_id:
        stmt = stmt.where(TimelineEvent.contact_id == filters.contact_id)
    if filters.actor_id:
        stmt = stmt.where(TimelineEvent.actor_id == filters.actor_id)
    if filters.since:
        stmt = stmt.where(TimelineEvent.occurred_at >= filters.since)
    if filters.until:
        stmt = stmt.where(TimelineEvent.occurred_at < filters.until)
    if filters.text:
        pattern = f"%{escape_like(filters.text)}%"
        stmt = stmt.where(or_(TimelineEvent.title.ilike(pattern, escape="\\"), TimelineEvent.body.ilike(pattern, escape="\\")))
    if before:
        stmt = stmt.where(tuple_(TimelineEvent.occurred_at, TimelineEvent.id) < tuple_(*before))
    stmt = stmt.order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc()).limit(limit + 1)
    if names is not None and contact_id is None:
        found = db.session.execute(stmt).all()
        names.update({str(c_id): f"{first} {last}".strip() for _e, c_id, first, last in found if c_id is not None})
        rows = [row[0] for row in found]
    else:
        rows = db.session.scalars(stmt).all()
    cursor = (rows[limit - 1].occurred_at, rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], cursor


def events_after(viewer: Viewer, thirdparty_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None,
                 *, limit: int = 200) -> list[TimelineEvent]:
    """Events newer than ``after``, oldest first (a reconnecting live stream catches up with these)."""
    stmt = select(TimelineEvent).where(TimelineEvent.thirdparty_id == thirdparty_id, visible_to(viewer))
    if after:
        stmt = stmt.where(tuple_(TimelineEvent.occurred_at, TimelineEvent.id) > tuple_(*after))
    return db.session.scalars(stmt.order_by(TimelineEvent.occurred_at, TimelineEvent.id).limit(limit)).all()


def get_event(viewer: Viewer, event_id: uuid.UUID) -> TimelineEvent | None:
    return db.session.scalar(select(TimelineEvent).where(TimelineEvent.id == event_id, visible_to(viewer)))


def escape_like(text: str) -> str:
    """Make ``%`` and ``_`` typed by a user match themselves in a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def note_event(note_id: uuid.UUID) -> TimelineEvent | None:
    """The latest timeline event about a note (what a fresh note looks like on the timeline)."""
    return db.session.scalar(select(TimelineEvent).where(TimelineEvent.subject_type == "note", TimelineEvent.subject_id == note_id)
                             .order_by(TimelineEvent.occurred_at.desc()).limit(1))


def recent_events(viewer: Viewer, limit: int = 10) -> list[tuple[TimelineEvent, str]]:
    """The latest events of the customers ``viewer`` may see, with each customer's name (dashboard)."""
    from app.customers import visible
    from app.models import ThirdParty

    stmt = (select(TimelineEvent, ThirdParty.name)
            .join(ThirdParty, (ThirdParty.tenant_id == TimelineEvent.tenant_id) & (ThirdParty.id == TimelineEvent.thirdparty_id))
            .where(visible_to(viewer)).order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc()).limit(limit))
    return [(event, name) for event, name in db.session.execute(visible(stmt, viewer)).all()]
