"""iCalendar (RFC 5545) in and out: a person's feed, one appointment as a file, an invitation read back."""
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from app.agenda import recurrence
from app.models import Activity

PRODID = "-//Storia//Agenda//EN"
MAX_INVITATION_BYTES = 512 * 1024
MAX_EVENTS = 50  # an invitation holds one event, a small export a few: more is not an invitation


def _event(item: Activity, customer: str, link: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"{item.id}@storia")
    event.add("dtstamp", item.updated_at.astimezone(UTC))
    event.add("sequence", item.version - 1)
    task = item.kind == "task"
    done = item.done_at is not None
    summary = f"{'✓ ' if done else ''}{item.title}" if task else item.title
    event.add("summary", f"{summary} · {customer}" if customer else summary)
    zone = ZoneInfo(item.zone or "UTC")
    if item.all_day:
        first = item.starts_at.astimezone(zone).date()
        event.add("dtstart", first)
        event.add("dtend", item.ends_at.astimezone(zone).date() if item.ends_at else first + timedelta(days=1))
    else:
        event.add("dtstart", item.starts_at.astimezone(zone))
        event.add("dtend", (item.ends_at or item.starts_at + timedelta(minutes=30)).astimezone(zone))
    if item.recurrence:
        event.add("rrule", icalendar.vRecur.from_ical(item.recurrence))
    if item.location:
        event.add("location", item.location)
    event.add("description", "\n\n".join(part for part in (item.body, link) if part))
    event.add("url", link)
    event.add("transp", "TRANSPARENT" if task else "OPAQUE")
    if task:
        event.add("categories", ["TASK"])
    return event


def calendar(items: list[Activity], *, name: str, customers: dict, links: dict) -> bytes:
    """A VCALENDAR of ``items`` (tasks appear as short events at their due time, marked ✓ once done)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for item in items:
        cal.add_component(_event(item, customers.get(item.thirdparty_id, ""), links[item.id]))
    cal.add_missing_timezones()
    return cal.to_ical()


@dataclass(frozen=True)
class Invitation:
    """An event read from an ``.ics`` file, as values of an appointment."""

    uid_key: str  # the idempotency key of its import: the same invitation imported twice makes one appointment
    values: dict


class InvitationError(ValueError):
    pass


def _as_utc(value, zone: ZoneInfo) -> tuple[datetime, bool]:
    """A DTSTART/DTEND value as a UTC instant, and whether it was a whole day."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC), False
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone).astimezone(UTC), True
    raise InvitationError("no start")


def _zone_of(value, fallback: ZoneInfo) -> ZoneInfo:
    tzinfo = getattr(value, "tzinfo", None)
    key = getattr(tzinfo, "key", None) or getattr(tzinfo, "zone", None)
    try:
        return ZoneInfo(key) if key else fallback
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def _rule(component, zone: ZoneInfo) -> str:
    """The invitation's repeat rule if it is one Storia can show (daily, weekly or monthly, bounded); else none."""
    rule = component.get("rrule")
    if rule is None:
        return ""
    frequency = str((rule.get("FREQ") or [""])[0]).lower()
    count, until = (rule.get("COUNT") or [None])[0], (rule.get("UNTIL") or [None])[0]
    if frequency not in recurrence.FREQUENCIES or (count is None and until is None) or len(rule) > 2:
        return ""
    if count is not None:  # bounded as the form bounds it: once is no repeat, and at most MAX_COUNT times
        count = int(count)
        return recurrence.make_rule(frequency, count=min(count, recurrence.MAX_COUNT), until=None, zone=zone) if count > 1 else ""
    last = until.astimezone(zone).date() if isinstance(until, datetime) and until.tzinfo else (
        until.date() if isinstance(until, datetime) else until)
    return recurrence.make_rule(frequency, count=None, until=last, zone=zone)


def read_invitations(data: bytes, fallback_zone: ZoneInfo) -> list[Invitation]:
    """The events of an ``.ics`` file; InvitationError when it is not one or holds none."""
    try:
        cal = icalendar.Calendar.from_ical(data)
        events = [c for c in cal.walk("VEVENT")]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:  # what a malformed file raises
        raise InvitationError(str(error)) from error
    if not events or len(events) > MAX_EVENTS:
        raise InvitationError("no events")
    found = []
    for component in events:
        try:
            start_value = component.decoded("dtstart")
            zone = _zone_of(start_value, fallback_zone)
            starts, all_day = _as_utc(start_value, zone)
            ends = _as_utc(component.decoded("dtend"), zone)[0] if component.get("dtend") else (
                starts + timedelta(days=1) if all_day else starts + timedelta(hours=1))
            rule = _rule(component, zone)
        except (KeyError, ValueError, TypeError, AttributeError, OverflowError) as error:
            raise InvitationError(str(error)) from error
        uid = str(component.get("uid") or "") or hashlib.sha256(component.to_ical()).hexdigest()
        found.append(Invitation(
            uid_key="ics-" + hashlib.sha256(uid.encode()).hexdigest()[:56],
            values={"kind": "appointment", "title": str(component.get("summary") or "")[:200].strip(),
                    "body": str(component.get("description") or "")[:20000].strip(),
                    "location": str(component.get("location") or "")[:200].strip(),
                    "starts_at": starts, "ends_at": max(ends, starts), "all_day": all_day,
                    "priority": "normal", "zone": zone.key, "recurrence": rule}))
    return found
