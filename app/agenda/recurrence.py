"""Repeating appointments: the rule a form describes, and its occurrences, unfolded in the item's zone.

A rule is kept as RFC 5545 text (``FREQ=WEEKLY;COUNT=10`` or ``FREQ=MONTHLY;UNTIL=20270630T215959Z``) so
that the calendar feed can hand it on unchanged. Occurrences are computed on wall-clock time in the
zone the appointment was planned in: a weekly 09:00 in Paris stays 09:00 when the clocks change,
which moves it by an hour in UTC.
"""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

FREQUENCIES = ("daily", "weekly", "monthly")
MAX_COUNT = 500
MAX_YEARS = 5  # an "until" further than this is refused: nobody plans a weekly meeting for a decade


def make_rule(repeat: str, *, count: int | None, until: date | None, zone: ZoneInfo) -> str:
    """The rule for "every day/week/month, N times or until a day (included)"; empty when it does not repeat."""
    if repeat not in FREQUENCIES:
        return ""
    rule = f"FREQ={repeat.upper()}"
    if count:
        return f"{rule};COUNT={count}"
    if until:  # the last second of that day in the planner's zone, in UTC as RFC 5545 asks beside a zoned start
        last = datetime.combine(until, time(23, 59, 59), tzinfo=zone).astimezone(UTC)
        return f"{rule};UNTIL={last:%Y%m%dT%H%M%SZ}"
    return rule


def parse(rule: str) -> tuple[str, int | None, datetime | None]:
    """A rule made by ``make_rule`` as (frequency, times, last instant in UTC); ("", None, None) for none."""
    parts = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    until = datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if "UNTIL" in parts else None
    return parts.get("FREQ", "").lower(), int(parts["COUNT"]) if "COUNT" in parts else None, until


def describe(rule: str, zone: ZoneInfo) -> tuple[str, int | None, date | None]:
    """A rule back as the form shows it: (frequency, times, last day in ``zone``)."""
    frequency, count, until = parse(rule)
    return frequency, count, until.astimezone(zone).date() if until else None


def _rule(starts_at: datetime, recurrence: str, zone: str):
    return rrulestr(recurrence, dtstart=starts_at.astimezone(ZoneInfo(zone or "UTC")))


def occurrences(starts_at: datetime, ends_at: datetime | None, recurrence: str, zone: str,
                window_start: datetime, window_end: datetime) -> list[tuple[datetime, datetime | None]]:
    """(start, end) in UTC of every occurrence that overlaps ``[window_start, window_end)``."""
    length = ends_at - starts_at if ends_at else None
    if not recurrence:
        return [(starts_at, ends_at)] if starts_at < window_end and (ends_at or starts_at) >= window_start else []
    rule = _rule(starts_at, recurrence, zone)
    found = []
    for local in rule.between(window_start - (length or timedelta()), window_end, inc=True):
        start = local.astimezone(UTC)
        end = start + length if length is not None else None
        if start < window_end and (end or start) >= window_start:
            found.append((start, end))
    return found


def last_end(starts_at: datetime, ends_at: datetime | None, recurrence: str, zone: str) -> datetime | None:
    """When the last occurrence ends (UTC); None when the item does not repeat."""
    if not recurrence:
        return None
    *_, last = _rule(starts_at, recurrence, zone)  # finite: COUNT or UNTIL is always set, and bounded
    start = last.astimezone(UTC)
    return start + (ends_at - starts_at) if ends_at else start


def next_occurrence(starts_at: datetime, ends_at: datetime | None, recurrence: str, zone: str,
                    after: datetime) -> datetime | None:
    """The start (UTC) of the first occurrence still running or to come at ``after``."""
    if not recurrence:
        return starts_at if (ends_at or starts_at) >= after else None
    length = ends_at - starts_at if ends_at else timedelta()
    found = _rule(starts_at, recurrence, zone).after(after - length, inc=True)
    return found.astimezone(UTC) if found else None
