"""How agenda items read, in one place for the form, the timeline and the card."""
from datetime import datetime

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from app.agenda import recurrence
from app.i18n import moment

KIND_LABELS = {"call": _l("Call"), "meeting": _l("Meeting"), "email": _l("E-mail"), "letter": _l("Letter")}
DIRECTION_LABELS = {"outbound": _l("We reached out"), "inbound": _l("They reached us")}
MODE_LABELS = {"in_person": _l("In person"), "online": _l("Online"), "phone": _l("By phone")}
LAST_CONTACT_LABELS = {"outbound": _l("Last reached"), "inbound": _l("Last heard from them")}
# Offered until an administrator defines the organisation's own list (Settings).
OUTCOMES = (_l("Reached"), _l("Left a message"), _l("No answer"), _l("Call back"), _l("Interested"), _l("Not interested"))


PLAN_LABELS = {"task": _l("Task"), "appointment": _l("Appointment")}
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High")}
REPEAT_LABELS = {"": _l("Does not repeat"), "daily": _l("Every day"), "weekly": _l("Every week"),
                 "monthly": _l("Every month")}
STATE_LABELS = {"": _l("Done and to do"), "todo": _l("To do"), "done": _l("Done")}
# Business events other modules record on the timeline that an administrator may also show in the agenda,
# as Dolibarr's per-trigger switches do (quotes, invoices and payments join when they exist).
AUTOMATIC_KINDS = ("thirdparty_created", "contact_added", "note_added", "document_uploaded", "document_version_added",
                   "quote_sent", "quote_signed", "invoice_validated", "payment_received", "contract_renewed")
VIEW_LABELS = {"day": _l("Day"), "week": _l("Week"), "month": _l("Month"), "list": _l("List")}


def agenda_kind_label(kind: str) -> str:
    return str({**KIND_LABELS, **PLAN_LABELS}.get(kind, kind))


def event_kind(kind: str, what: str = "logged") -> str:
    """The timeline kind of an agenda item: ``call`` → ``call_logged``, ``task`` → ``task_planned``."""
    return f"{kind}_{what}"


# The timeline's labels of those kinds.
EVENT_LABELS = {event_kind(kind): label for kind, label in KIND_LABELS.items()}
PLAN_EVENT_LABELS = {event_kind("task", "planned"): _l("Task planned"),
                     event_kind("appointment", "planned"): _l("Appointment planned"),
                     "activity_done": _l("Marked done"), "activity_reopened": _l("Marked to do again"),
                     "activity_updated": _l("Plan changed"), "activity_cancelled": _l("Cancelled")}


def repeat_label(rule: str) -> str:
    """"Every week" for ``FREQ=WEEKLY;COUNT=4``; empty when it does not repeat."""
    frequency = recurrence.parse(rule)[0] if rule else ""
    return str(REPEAT_LABELS.get(frequency, "")) if frequency else ""


def describe_rule(rule: str) -> str:
    """"Every week, 4 times" or "Every month, until 30 Jun 2027" for a stored rule."""
    label = repeat_label(rule)
    if not label:
        return ""
    _frequency, count, until = recurrence.parse(rule)
    if count:
        return str(_l("%(repeat)s, %(n)s times", repeat=label, n=count))
    if until:
        return str(_l("%(repeat)s, until %(date)s", repeat=label, date=format_date(until, "medium")))
    return label


def _when(payload: dict) -> str:
    return moment(datetime.fromisoformat(payload["starts"]), payload.get("all_day", False)) if payload.get("starts") else ""


def interaction_facts(payload: dict) -> str:
    """"We reached out · Reached · 12 min · In person · Via Roma 3" from an agenda event's payload;
    "Tue 25 Nov 2026, 10:00 · High · Every week" for a planned one."""
    parts = [_when(payload), str(PRIORITY_LABELS[payload["priority"]]) if payload.get("priority") in ("low", "high") else "",
             repeat_label(payload.get("repeat", "")),
             str(DIRECTION_LABELS.get(payload.get("direction"), "")), payload.get("outcome", ""),
             str(_l("%(n)d min", n=payload["duration"])) if payload.get("duration") else "",
             str(MODE_LABELS.get(payload.get("mode"), "")), payload.get("location", "")]
    return " · ".join(p for p in parts if p)
