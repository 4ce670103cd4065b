"""Reading the agenda: one item, a person's or the team's items in a window, overdue tasks, a customer's next action.

Whose item is it: the people it is assigned to; an item assigned to nobody (a logged call) is its
owner's. A member sees their own items, and the items on customers they may see; the team's agenda
(other people's items) needs ``agenda.read_all``.
"""
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g
from sqlalchemy import and_, exists, false, func, or_, select

from app.agenda import recurrence
from app.extensions import db
from app.models import (
    LOGGED_KINDS,
    PLANNED_KINDS,
    Activity,
    ActivityAssignee,
    Contact,
    ThirdParty,
    TimelineEvent,
    utcnow,
)
from app.permissions import Viewer, only_mine
from app.timeline.services import visible_to

MAX_ITEMS = 500  # one view never lists more; the page says so when it is cut


def belongs_to(user_ids):
    """The SQL condition "the item is one of these people's" (assigned to them, or theirs if assigned to nobody)."""
    assigned = exists().where(ActivityAssignee.tenant_id == Activity.tenant_id, ActivityAssignee.activity_id == Activity.id)
    return or_(exists().where(ActivityAssignee.tenant_id == Activity.tenant_id, ActivityAssignee.activity_id == Activity.id,
                              ActivityAssignee.user_id.in_(user_ids)),
               and_(Activity.owner_id.in_(user_ids), ~assigned))


def readable(viewer: Viewer):
    """The items ``viewer`` may open: their own, and those on customers they may see (None: every item)."""
    customer = only_mine(viewer, Activity.tenant_id, Activity.thirdparty_id)
    if customer is None:
        return None
    return or_(belongs_to([viewer.user_id]), Activity.owner_id == viewer.user_id, customer)


def get_item(viewer: Viewer, activity_id: uuid.UUID | None) -> Activity | None:
    """The agenda item if it exists in this tenant and ``viewer`` may see it."""
    if activity_id is None or not viewer.can("agenda.read"):
        return None
    stmt = select(Activity).where(Activity.id == activity_id)
    condition = readable(viewer)
    return db.session.scalar(stmt if condition is None else stmt.where(condition))


@dataclass(frozen=True)
class AgendaQuery:
    people: tuple[uuid.UUID, ...] | None  # None: the whole team
    kinds: tuple[str, ...] = ()
    thirdparty_id: uuid.UUID | None = None
    state: str = ""  # "todo", "done" or both


@dataclass(frozen=True)
class Occurrence:
    """One appearance of an item in the agenda (a repeating appointment appears once per date)."""

    item: Activity
    starts_at: datetime
    ends_at: datetime | None

    is_event = False

    @property
    def thirdparty_id(self) -> uuid.UUID:
        return self.item.thirdparty_id

    @property
    def overdue(self) -> bool:
        return self.item.kind == "task" and self.item.done_at is None and self.starts_at < utcnow()


@dataclass(frozen=True)
class EventEntry:
    """A business event from the timeline shown in the agenda (the organisation chose its kind): it happened."""

    event: TimelineEvent
    is_event = True

    @property
    def starts_at(self) -> datetime:
        return self.event.occurred_at

    @property
    def thirdparty_id(self) -> uuid.UUID:
        return self.event.thirdparty_id


def events_between(viewer: Viewer, query: AgendaQuery, kinds, start: datetime, end: datetime) -> list[EventEntry]:
    """The timeline events of ``kinds`` in ``[start, end)`` the viewer may see, done by the people asked for."""
    if not kinds or query.kinds or query.state == "todo":
        return []
    stmt = select(TimelineEvent).where(TimelineEvent.kind.in_(kinds), TimelineEvent.occurred_at >= start,
                                       TimelineEvent.occurred_at < end, visible_to(viewer))
    if query.people is not None:
        stmt = stmt.where(TimelineEvent.actor_id.in_(query.people))
    if query.thirdparty_id:
        stmt = stmt.where(TimelineEvent.thirdparty_id == query.thirdparty_id)
    customer = only_mine(viewer, TimelineEvent.tenant_id, TimelineEvent.thirdparty_id)
    if customer is not None:
        stmt = stmt.where(customer)
    events = db.session.scalars(stmt.order_by(TimelineEvent.occurred_at, TimelineEvent.id).limit(MAX_ITEMS)).all()
    return [EventEntry(event) for event in events]


def _filtered(viewer: Viewer, query: AgendaQuery):
    stmt = select(Activity)  # its assignees come with it (selectin)
    if query.people is not None:
        stmt = stmt.where(belongs_to(query.people) if query.people else false())
    condition = readable(viewer)
    if condition is not None:
        stmt = stmt.where(condition)
    if query.kinds:
        stmt = stmt.where(Activity.kind.in_(query.kinds))
    if query.thirdparty_id:
        stmt = stmt.where(Activity.thirdparty_id == query.thirdparty_id)
    if query.state == "todo":
        stmt = stmt.where(Activity.kind.in_(PLANNED_KINDS), Activity.done_at.is_(None))
    elif query.state == "done":
        stmt = stmt.where(or_(Activity.kind.in_(LOGGED_KINDS), Activity.done_at.is_not(None)))
    return stmt


def occurrences_between(viewer: Viewer, query: AgendaQuery, start: datetime, end: datetime) -> tuple[list[Occurrence], bool]:
    """Every occurrence in ``[start, end)`` in time order, and whether the list was cut at MAX_ITEMS."""
    one_off = and_(Activity.recurrence == "", func.coalesce(Activity.ends_at, Activity.starts_at) >= start)
    repeating = and_(Activity.recurrence != "", Activity.repeats_until >= start)
    stmt = _filtered(viewer, query).where(Activity.starts_at < end, or_(one_off, repeating))
    items = db.session.scalars(stmt.order_by(Activity.starts_at, Activity.id).limit(MAX_ITEMS + 1)).unique().all()
    found = [Occurrence(item, s, e) for item in items[:MAX_ITEMS]
             for s, e in recurrence.occurrences(item.starts_at, item.ends_at, item.recurrence, item.zone, start, end)]
    found.sort(key=lambda o: (o.starts_at, str(o.item.id)))
    return found[:MAX_ITEMS], len(items) > MAX_ITEMS or len(found) > MAX_ITEMS


def overdue(viewer: Viewer, query: AgendaQuery) -> list[Occurrence]:
    """Tasks still to do whose due date has passed, oldest first."""
    stmt = _filtered(viewer, query).where(Activity.kind == "task", Activity.done_at.is_(None), Activity.starts_at < utcnow())
    items = db.session.scalars(stmt.order_by(Activity.starts_at, Activity.id).limit(MAX_ITEMS)).unique().all()
    return [Occurrence(item, item.starts_at, item.ends_at) for item in items]


def _still_open(now: datetime):
    """Planned items still to do: tasks (overdue ones too), and appointments not over yet."""
    return and_(Activity.kind.in_(PLANNED_KINDS), Activity.done_at.is_(None),
                or_(Activity.kind == "task", func.coalesce(Activity.repeats_until, Activity.ends_at, Activity.starts_at) >= now))


def next_actions(thirdparty_ids) -> dict[uuid.UUID, Occurrence]:
    """Each customer's next planned action: the earliest of its open tasks (overdue first) and coming appointments."""
    ids, now = list(thirdparty_ids), utcnow()
    if not ids:
        return {}
    rank = func.row_number().over(partition_by=Activity.thirdparty_id, order_by=Activity.starts_at).label("rank")
    ranked = select(Activity.id, rank).where(Activity.thirdparty_id.in_(ids), _still_open(now)).subquery()
    items = db.session.scalars(select(Activity).join(ranked, Activity.id == ranked.c.id).where(ranked.c.rank <= 5)).unique()
    found: dict[uuid.UUID, Occurrence] = {}
    for item in items:
        start = item.starts_at if item.kind == "task" else recurrence.next_occurrence(
            item.starts_at, item.ends_at, item.recurrence, item.zone, now)
        current = found.get(item.thirdparty_id)
        if start is not None and (current is None or start < current.starts_at):
            found[item.thirdparty_id] = Occurrence(item, start, start + (item.ends_at - item.starts_at) if item.ends_at else None)
    return found


def next_action(thirdparty_id: uuid.UUID) -> Occurrence | None:
    return next_actions([thirdparty_id]).get(thirdparty_id)


def last_contacted(thirdparty_ids) -> dict[uuid.UUID, datetime]:
    """When each customer was last in touch with us, either way (logged interactions)."""
    ids = list(thirdparty_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Activity.thirdparty_id, func.max(Activity.starts_at)).where(
        Activity.thirdparty_id.in_(ids), Activity.kind.in_(LOGGED_KINDS)).group_by(Activity.thirdparty_id)).all())


# Filters of the customer list on these facts (conditions on ThirdParty).
CONTACT_FILTERS = ("30", "60", "90", "180", "never")
ACTION_FILTERS = ("none", "overdue")


def contact_condition(value: str):
    """Customers not contacted for N days (``"90"``), or never contacted (``"never"``)."""
    logged = [Activity.tenant_id == ThirdParty.tenant_id, Activity.thirdparty_id == ThirdParty.id, Activity.kind.in_(LOGGED_KINDS)]
    if value == "never":
        return ~exists().where(*logged)
    return ~exists().where(*logged, Activity.starts_at >= utcnow() - timedelta(days=int(value)))


def action_condition(value: str):
    """Customers with nothing planned (``"none"``), or with an overdue task (``"overdue"``)."""
    now = utcnow()
    same = [Activity.tenant_id == ThirdParty.tenant_id, Activity.thirdparty_id == ThirdParty.id]
    if value == "overdue":
        return exists().where(*same, Activity.kind == "task", Activity.done_at.is_(None), Activity.starts_at < now)
    return ~exists().where(*same, _still_open(now))


def agenda_item(event) -> Activity | None:
    """The agenda item a timeline event is about, as it is now (a task's done state), or None once cancelled.

    Read once per request: ``preload_items`` fills the cache with one query for a page of events; an
    event alone (the live stream) costs one lookup.
    """
    cache = g.setdefault("agenda_items", {})
    if event.subject_id not in cache:
        cache[event.subject_id] = db.session.scalar(select(Activity).where(Activity.id == event.subject_id))
    return cache[event.subject_id]


def preload_items(events) -> None:
    ids = {e.subject_id for e in events if e.subject_type == "activity" and e.subject_id}
    cache = g.setdefault("agenda_items", {})
    missing = ids - set(cache)
    if missing:
        found = {a.id: a for a in db.session.scalars(select(Activity).where(Activity.id.in_(missing))).unique()}
        cache.update({i: found.get(i) for i in missing})


def feed_items(user_id: uuid.UUID, since: datetime) -> list[Activity]:
    """A person's planned items still running or to come after ``since``, for their calendar feed."""
    stmt = select(Activity).where(belongs_to([user_id]), Activity.kind.in_(PLANNED_KINDS),
                                  func.coalesce(Activity.repeats_until, Activity.ends_at, Activity.starts_at) >= since)
    return db.session.scalars(stmt.order_by(Activity.starts_at).limit(MAX_ITEMS)).unique().all()


def people_of(item: Activity) -> list[Contact]:
    """The customer's people an item is with: the main one first, then the others who took part."""
    ids = [i for i in [item.contact_id, *(a.contact_id for a in item.attendees)] if i]
    found = {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def customer_names(ids) -> dict[uuid.UUID, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(ThirdParty.id, ThirdParty.name).where(ThirdParty.id.in_(ids))).all())
