"""Reminders before a task is due or an appointment starts: in the app (a badge and a list) and by e-mail.

How long before: the item's own setting, else the person's default, else the organisation's (-1: never).
``send_due`` (run every few minutes by ``flask agenda remind``) makes each reminder by inserting its row
under a unique key (item, occurrence, person): a second run, or a second worker at the same moment,
finds the row there and sends nothing; only the run whose insert went in sends the e-mail.
"""
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.agenda import recurrence
from app.agenda.queries import customer_names
from app.extensions import db
from app.mail import send_mail
from app.models import PLANNED_KINDS, Activity, Reminder, Tenant, new_id, utcnow
from app.permissions import load_viewers
from app.tenancy import current_tenant_id

log = logging.getLogger("storia.agenda")

NEVER = -1
LEAD_LABELS = {
    NEVER: _l("No reminder"), 0: _l("When it starts"), 5: _l("5 minutes before"), 15: _l("15 minutes before"),
    30: _l("30 minutes before"), 60: _l("1 hour before"), 120: _l("2 hours before"), 1440: _l("1 day before"),
    2880: _l("2 days before"), 10080: _l("1 week before"),
}
MAX_LEAD = timedelta(minutes=max(LEAD_LABELS))
# A reminder found late (the scheduler was stopped) is still made this long after its time, not later:
# nobody wants a pile of stale reminders when it restarts.
GRACE = timedelta(hours=2)
LIST_SIZE = 20


@dataclass(frozen=True)
class Person:
    user_id: uuid.UUID
    email: str
    name: str
    locale: str
    zone: str
    lead: int
    by_email: bool


def _people(tenant: Tenant) -> dict[uuid.UUID, Person]:
    """Active members who may read the agenda, with their reminder settings."""
    people = {}
    for membership, viewer in load_viewers():
        if not viewer.can("agenda.read"):  # false too for a deactivated member
            continue
        user = membership.user
        lead = membership.reminder_minutes if membership.reminder_minutes is not None else tenant.reminder_minutes
        people[user.id] = Person(user.id, user.email, user.name, user.locale or tenant.locale, user.timezone, lead,
                                 membership.reminder_email)
    return people


def _claim(item: Activity, occurrence_at: datetime, person: Person, remind_at: datetime) -> bool:
    """Insert the reminder's row unless it exists; True when this call made it."""
    values = {"tenant_id": current_tenant_id(), "id": new_id(), "activity_id": item.id, "occurrence_at": occurrence_at,
              "user_id": person.user_id, "remind_at": remind_at, "created_at": utcnow()}
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Reminder).values(**values).on_conflict_do_nothing(
        index_elements=["tenant_id", "activity_id", "occurrence_at", "user_id"]).returning(Reminder.id)
    made = db.session.execute(stmt).scalar() is not None
    db.session.commit()  # claimed (or not) for good before anything is sent
    return made


def _mail(tenant: Tenant, item: Activity, occurrence_at: datetime, person: Person, customer: str) -> None:
    zone = ZoneInfo(person.zone)
    with force_locale(person.locale):
        local = occurrence_at.astimezone(zone)
        when = format_date(local, "full", locale=person.locale) if item.all_day else (
            f"{format_date(local, 'full', locale=person.locale)} {format_time(local, 'short', locale=person.locale)}")
        link = url_for("tenant.agenda.show_item", tenant_slug=tenant.slug, activity_id=item.id, _external=True)
        subject = _("Reminder: %(title)s", title=item.title)
        lines = [_("Hello %(name)s,", name=person.name), "",
                 _("%(what)s: %(title)s", what=_("Task due") if item.kind == "task" else _("Appointment"), title=item.title),
                 _("When: %(when)s", when=when), _("Customer: %(name)s", name=customer)]
        if item.location:
            lines.append(_("Where: %(place)s", place=item.location))
        lines += ["", link, "", _("You receive this because it is in your agenda at %(org)s.", org=tenant.name)]
    send_mail(person.email, subject, "\n".join(lines))


def send_due(now: datetime | None = None) -> int:
    """Make (and e-mail) every reminder of the tenant in scope whose time has come; returns how many."""
    now = now or utcnow()
    # Items starting (or due) within the longest lead, and still to do.
    items = db.session.scalars(select(Activity).where(
        Activity.kind.in_(PLANNED_KINDS), Activity.done_at.is_(None), Activity.starts_at <= now + MAX_LEAD,
        func.coalesce(Activity.repeats_until, Activity.starts_at) >= now - GRACE)).unique().all()
    if not items:  # most organisations, most minutes: one query and done
        return 0
    tenant = db.session.get(Tenant, current_tenant_id())
    people = _people(tenant)
    customers = customer_names(i.thirdparty_id for i in items)
    made = 0
    for item in items:
        for user_id in item.assignee_ids or ([item.owner_id] if item.owner_id else []):
            person = people.get(user_id)
            if person is None:
                continue
            lead = item.reminder_minutes if item.reminder_minutes is not None else person.lead
            if lead < 0:
                continue
            lead_time = timedelta(minutes=lead)
            # Occurrences whose reminder time fell in (now - GRACE, now].
            window_start, window_end = now - GRACE + lead_time, now + lead_time
            for start, _end in recurrence.occurrences(item.starts_at, None, item.recurrence, item.zone, window_start,
                                                      window_end + timedelta(microseconds=1)):
                if not window_start < start <= window_end or not _claim(item, start, person, start - lead_time):
                    continue
                made += 1
                if person.by_email:
                    _send_safely(tenant, item, start, person, customers.get(item.thirdparty_id, ""))
    return made


def _send_safely(tenant, item, start, person, customer) -> None:
    """E-mail a claimed reminder; a mail failure leaves it in the app (never sent twice, never lost)."""
    try:
        _mail(tenant, item, start, person, customer)
    except Exception:  # noqa: BLE001 - the mail server's failure must not stop the other reminders
        log.exception("could not e-mail a reminder to a recipient at %s", person.email.rpartition("@")[2])
        db.session.rollback()
        return
    db.session.execute(update(Reminder).where(Reminder.activity_id == item.id, Reminder.occurrence_at == start,
                                              Reminder.user_id == person.user_id).values(emailed_at=utcnow()))
    db.session.commit()


def pending(user_id: uuid.UUID) -> list[Reminder]:
    """The person's reminders not dismissed yet, newest first."""
    stmt = select(Reminder).where(Reminder.user_id == user_id, Reminder.dismissed_at.is_(None))
    return db.session.scalars(stmt.order_by(Reminder.remind_at.desc()).limit(LIST_SIZE)).unique().all()


def pending_query(user_id):
    """How many reminders wait for ``user_id`` (a value or an expression) in the app, as a scalar expression."""
    return select(func.count()).select_from(Reminder).where(
        Reminder.user_id == user_id, Reminder.dismissed_at.is_(None)).scalar_subquery()


def pending_count(user_id: uuid.UUID) -> int:
    return db.session.scalar(select(pending_query(user_id))) or 0


def dismiss(user_id: uuid.UUID, activity_id: uuid.UUID | None = None) -> int:
    """Dismiss the person's reminders of one item (or all of them); returns how many."""
    stmt = update(Reminder).where(Reminder.user_id == user_id, Reminder.dismissed_at.is_(None))
    if activity_id is not None:
        stmt = stmt.where(Reminder.activity_id == activity_id)
    count = db.session.execute(stmt.values(dismissed_at=utcnow())).rowcount
    db.session.commit()
    return count
