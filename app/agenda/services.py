"""Logging interactions and planning tasks and appointments on a customer's timeline, each in one transaction;
and the customer facts they give ("last contact")."""
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, select

from app import idempotency
from app.agenda import recurrence
from app.agenda.labels import OUTCOMES, event_kind
from app.editing import commit_or_conflict, lock, merge_edit
from app.extensions import db
from app.models import LOGGED_KINDS, Activity, ActivityAssignee, ActivityContact, Reminder, utcnow
from app.permissions import Viewer
from app.timeline.services import record_event

# Who sees interactions on the timeline: whoever may read the agenda.
EVENT_RIGHT = "agenda.read"
OUTCOME_MAX, MAX_OUTCOMES = 80, 30  # an organisation's own list of call outcomes


def outcomes(tenant) -> list[str]:
    """The call outcomes offered: the organisation's own list, else the usual ones in the viewer's language."""
    return list(tenant.call_outcomes) if tenant.call_outcomes else [str(outcome) for outcome in OUTCOMES]


def _summary(values: dict) -> str:
    """The line the timeline shows: the subject, else the first line of the summary."""
    if values["title"]:
        return values["title"]
    return values["body"].splitlines()[0][:200] if values["body"] else ""


def _derive(activity: Activity) -> None:
    """What follows from when an item is: a task is due when it starts; a repeating one ends with its last date."""
    activity.due_at = activity.starts_at if activity.kind == "task" else None
    activity.repeats_until = recurrence.last_end(activity.starts_at, activity.ends_at, activity.recurrence, activity.zone)


def _people(activity: Activity, assignee_ids, contact_ids) -> None:
    """Who an item is for and who of the customer attends: rows kept, added or removed (a kept row is not re-inserted)."""
    users = list(dict.fromkeys(assignee_ids))
    had = {a.user_id for a in activity.assignees}
    activity.assignees = [a for a in activity.assignees if a.user_id in users] + [
        ActivityAssignee(user_id=u) for u in users if u not in had]
    contacts = [c for c in dict.fromkeys(contact_ids) if c != activity.contact_id]
    had = {a.contact_id for a in activity.attendees}
    activity.attendees = [a for a in activity.attendees if a.contact_id in contacts] + [
        ActivityContact(contact_id=c) for c in contacts if c not in had]


def record_interaction(owner_id: uuid.UUID | None, *, thirdparty_id: uuid.UUID, contact_id: uuid.UUID | None, values: dict,
                       idempotency_key: str | None = None, contact_ids=(), team_ids=()) -> Activity:
    """Add an interaction and its timeline event to the session; the caller commits (one transaction).

    ``team_ids``: colleagues who took part besides whoever logs it (it shows in their agendas too);
    ``contact_ids``: the customer's other people who took part.
    """
    activity = Activity(thirdparty_id=thirdparty_id, contact_id=contact_id, owner_id=owner_id,
                        idempotency_key=idempotency_key, **values)
    _people(activity, [owner_id, *team_ids] if team_ids and owner_id else team_ids, contact_ids)
    db.session.add(activity)
    db.session.flush()  # raises IntegrityError on a repeated idempotency key
    payload = {k: v for k, v in (("direction", activity.direction), ("outcome", activity.outcome),
                                 ("duration", activity.duration_minutes), ("mode", activity.meeting_mode),
                                 ("location", activity.location)) if v not in (None, "")}
    record_event(thirdparty_id=thirdparty_id, contact_id=contact_id, kind=event_kind(activity.kind), subject_type="activity",
                 subject_id=activity.id, actor_id=owner_id, title=_summary(values), body=activity.body,
                 payload=payload, required_right=EVENT_RIGHT, occurred_at=activity.starts_at)
    return activity


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def record_plan(owner_id: uuid.UUID | None, *, thirdparty_id: uuid.UUID, contact_id: uuid.UUID | None, values: dict,
                assignee_ids: list[uuid.UUID], idempotency_key: str | None = None, contact_ids=()) -> Activity:
    """Add a task or an appointment, who it is for (and who of the customer attends), and its timeline event
    to the session; the caller commits."""
    activity = Activity(thirdparty_id=thirdparty_id, contact_id=contact_id, owner_id=owner_id,
                        idempotency_key=idempotency_key, **values)
    _derive(activity)
    _people(activity, assignee_ids, contact_ids)
    db.session.add(activity)
    db.session.flush()
    payload = {"starts": _moment(activity.starts_at), "ends": _moment(activity.ends_at), "all_day": activity.all_day,
               "priority": activity.priority, "repeat": activity.recurrence, "location": activity.location,
               "assignees": [str(user_id) for user_id in activity.assignee_ids]}
    record_event(thirdparty_id=thirdparty_id, contact_id=contact_id, kind=event_kind(activity.kind, "planned"),
                 subject_type="activity", subject_id=activity.id, actor_id=owner_id, title=activity.title,
                 body=activity.body, payload={k: v for k, v in payload.items() if v not in (None, "", [], False)},
                 required_right=EVENT_RIGHT)
    return activity


def plan(viewer: Viewer, *, thirdparty_id: uuid.UUID, contact_id: uuid.UUID | None, values: dict,
         assignee_ids: list[uuid.UUID], idempotency_key: str | None, contact_ids=()) -> tuple[Activity, bool]:
    """Save a task or an appointment and its timeline event in one transaction, once per form."""
    return save_once(idempotency_key, lambda: record_plan(
        viewer.user_id, thirdparty_id=thirdparty_id, contact_id=contact_id, values=values, assignee_ids=assignee_ids,
        idempotency_key=idempotency_key, contact_ids=contact_ids))


def plan_snapshot(item: Activity) -> dict:
    """A planned item's editable values, comparable with what the edit form sends (``plan_submitted``)."""
    return {"kind": item.kind, "title": item.title, "body": item.body, "starts_at": _moment(item.starts_at),
            "ends_at": _moment(item.ends_at), "all_day": item.all_day, "priority": item.priority, "location": item.location,
            "recurrence": item.recurrence, "reminder_minutes": item.reminder_minutes,
            "contact_id": str(item.contact_id) if item.contact_id else None,
            "assignees": sorted(str(i) for i in item.assignee_ids),
            "attendees": sorted(str(a.contact_id) for a in item.attendees)}


def plan_submitted(values: dict, *, contact_id, assignee_ids, contact_ids) -> dict:
    return {**{k: v for k, v in values.items() if k != "zone"},
            "starts_at": _moment(values["starts_at"]), "ends_at": _moment(values["ends_at"]),
            "contact_id": str(contact_id) if contact_id else None, "assignees": sorted(str(i) for i in dict.fromkeys(assignee_ids)),
            "attendees": sorted(str(i) for i in dict.fromkeys(contact_ids) if i != contact_id)}


def update_plan(viewer: Viewer, item: Activity, submitted: dict, *, version: int, base: dict | None, names: dict) -> dict:
    """Change (reschedule, reassign…) a task or an appointment; the timeline says what changed, with people by name.

    :raise EditConflict: when someone else changed the same fields meanwhile.
    """
    current = plan_snapshot(lock(item))
    values = merge_edit(current, submitted, stale=version != item.version, base=base)
    changes = {f: [current[f], values[f]] for f in values if current[f] != values[f]}
    if not changes:
        return changes
    for field in ("kind", "title", "body", "all_day", "priority", "location", "recurrence", "reminder_minutes"):
        setattr(item, field, values[field])
    item.starts_at = datetime.fromisoformat(values["starts_at"])
    item.ends_at = datetime.fromisoformat(values["ends_at"]) if values["ends_at"] else None
    item.contact_id = uuid.UUID(values["contact_id"]) if values["contact_id"] else None
    _derive(item)
    _people(item, [uuid.UUID(i) for i in values["assignees"]], [uuid.UUID(i) for i in values["attendees"]])
    item.updated_at = utcnow()
    shown = {f: [[names.get(i, i) for i in old], [names.get(i, i) for i in new]] if f in ("assignees", "attendees")
             else [names.get(old, old), names.get(new, new)] if f == "contact_id" else [old, new]
             for f, (old, new) in changes.items()}
    record_event(thirdparty_id=item.thirdparty_id, contact_id=item.contact_id, kind="activity_updated",
                 subject_type="activity", subject_id=item.id, actor_id=viewer.user_id, title=item.title,
                 payload={"changes": shown}, required_right=EVENT_RIGHT)
    commit_or_conflict(db.session, item, plan_snapshot, submitted)
    return changes


def cancel_plan(viewer: Viewer, item: Activity) -> None:
    """Delete a planned item (its reminders go with it); the timeline keeps that it was planned and cancelled.

    :raise RecordGone: when someone else cancelled it meanwhile.
    """
    lock(item)
    record_event(thirdparty_id=item.thirdparty_id, contact_id=item.contact_id, kind="activity_cancelled",
                 subject_type="activity", subject_id=None, actor_id=viewer.user_id, title=item.title,
                 payload={"starts": _moment(item.starts_at), "all_day": item.all_day}, required_right=EVENT_RIGHT)
    db.session.execute(delete(Reminder).where(Reminder.activity_id == item.id))
    db.session.delete(item)
    db.session.commit()


def set_done(viewer: Viewer, activity: Activity, done: bool) -> bool:
    """Mark a planned item done (or to do again), on the timeline too; False when it already was."""
    if (lock(activity).done_at is not None) == done:
        return False
    activity.done_at = utcnow() if done else None
    activity.updated_at = utcnow()
    record_event(thirdparty_id=activity.thirdparty_id, contact_id=activity.contact_id,
                 kind="activity_done" if done else "activity_reopened", subject_type="activity", subject_id=activity.id,
                 actor_id=viewer.user_id, title=activity.title, required_right=EVENT_RIGHT)
    db.session.commit()
    return True


def save_once(idempotency_key: str | None, build: Callable[[], Activity]) -> tuple[Activity, bool]:
    """Run ``build`` (which adds an activity and its event) and commit, once per ``idempotency_key``."""
    return idempotency.save_once(Activity, idempotency_key, build)


def log_interaction(viewer: Viewer, *, thirdparty_id: uuid.UUID, contact_id: uuid.UUID | None, values: dict,
                    idempotency_key: str | None, follow_up: dict | None = None, contact_ids=(),
                    team_ids=()) -> tuple[Activity, bool]:
    """Save a call, meeting, e-mail or letter that happened, and its timeline event, in one transaction;
    with ``follow_up`` (a task's values), the follow-up task too, assigned to whoever logged it."""
    def build():
        activity = record_interaction(viewer.user_id, thirdparty_id=thirdparty_id, contact_id=contact_id, values=values,
                                      idempotency_key=idempotency_key, contact_ids=contact_ids, team_ids=team_ids)
        if follow_up:
            record_plan(viewer.user_id, thirdparty_id=thirdparty_id, contact_id=contact_id, values=follow_up,
                        assignee_ids=[viewer.user_id])
        return activity

    return save_once(idempotency_key, build)


def last_contact_facts(thirdparty_id: uuid.UUID, directions) -> dict:
    """When we last reached the customer and when they last reached us (logged interactions), as scalar expressions by
    direction: the card reads them with its other facts, in one statement."""
    return {direction: select(func.max(Activity.starts_at)).where(
        Activity.thirdparty_id == thirdparty_id, Activity.kind.in_(LOGGED_KINDS), Activity.direction == direction,
    ).scalar_subquery() for direction in directions}

