"""How agenda items read, in one place for the form, the timeline and the card."""
from flask_babel import lazy_gettext as _l

KIND_LABELS = {"call": _l("Call"), "meeting": _l("Meeting"), "email": _l("E-mail"), "letter": _l("Letter")}
DIRECTION_LABELS = {"outbound": _l("We reached out"), "inbound": _l("They reached us")}
MODE_LABELS = {"in_person": _l("In person"), "online": _l("Online"), "phone": _l("By phone")}
LAST_CONTACT_LABELS = {"outbound": _l("Last reached"), "inbound": _l("Last heard from them")}
# Offered until an administrator defines the organisation's own list (next step of the agenda issue).
OUTCOMES = (_l("Reached"), _l("Left a message"), _l("No answer"), _l("Call back"), _l("Interested"), _l("Not interested"))


def event_kind(kind: str) -> str:
    """The timeline kind of a logged interaction: ``call`` → ``call_logged``."""
    return f"{kind}_logged"


# The timeline's labels of those kinds.
EVENT_LABELS = {event_kind(kind): label for kind, label in KIND_LABELS.items()}


def interaction_facts(payload: dict) -> str:
    """"We reached out · Reached · 12 min · In person · Via Roma 3" from an interaction event's payload."""
    parts = [str(DIRECTION_LABELS.get(payload.get("direction"), "")), payload.get("outcome", ""),
             str(_l("%(n)d min", n=payload["duration"])) if payload.get("duration") else "",
             str(MODE_LABELS.get(payload.get("mode"), "")), payload.get("location", "")]
    return " · ".join(p for p in parts if p)
