"""How timeline events read: a label and an icon per kind, the field names of a change, and the filters offered.

The core knows its own kinds (notes) and the fields of the core's records; every other kind, its group and the fields
of a domain's records come from the domains (app/domains.py)."""
import re
from datetime import datetime

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app import domains
from app.i18n import moment
from app.icons import icon
from app.models import utcnow
from app.timeline import search as notes_search
from app.timeline.threads import threaded

# The core's own kinds and filter group; the domains register theirs.
CORE = domains.register(domains.Domain(
    name="timeline",
    kinds=(domains.EventKind("note_added", _l("Note"), "sticky-note", "notes"),
           domains.EventKind("note_edited", _l("Note edited"), "square-pen", "notes")),
    kind_groups=(domains.KindGroup("notes", _l("Notes"), 10),),
    search=(notes_search.PROVIDER,),
    field_labels={
        # The core's records (customers, contacts, notes, tags and fields, the team) as the audit log names them.
        "name": _l("Name"), "is_customer": _l("Customer"), "is_prospect": _l("Prospect"), "is_supplier": _l("Supplier"),
        "vat_number": _l("VAT number"), "website": _l("Website"), "description": _l("Notes"),
        "custom": _l("Custom fields"), "addresses": _l("Addresses"), "phones": _l("Phones"), "emails": _l("E-mails"),
        "tags": _l("Tags"), "reps": _l("Sales representatives"), "first_name": _l("First name"),
        "last_name": _l("Last name"), "job_title": _l("Job title"), "preferred_language": _l("Preferred language"),
        "preferred_channel": _l("Preferred channel"), "consent_email": _l("Agrees to e-mails"),
        "consent_phone": _l("Agrees to calls"),
        # Edit conflicts name the form's fields; the audit log names the stored columns of every record.
        "tag_ids": _l("Tags"), "rep_ids": _l("Sales representatives"), "code": _l("Code"),
        "archived_at": _l("Archived on"), "street": _l("Street"), "postcode": _l("Postcode"), "city": _l("City"),
        "country": _l("Country"), "label": _l("Label"), "kind": _l("Type"), "value": _l("Value"), "body": _l("Text"),
        "private": _l("Private"), "pinned": _l("Pinned"), "thirdparty_id": _l("Customer or supplier"),
        "contact_id": _l("Contact"), "tag_id": _l("Tag"), "membership_id": _l("Sales representative"),
        "colour": _l("Colour"), "entity": _l("For"), "key": _l("Key"), "field_type": _l("Type"),
        "choices": _l("Choices"), "required": _l("Required"), "show_in_list": _l("Shown in the list"),
    },
    template_globals={"today": lambda: today(), "threaded": threaded},
))


def today() -> str:
    """The viewer's calendar day (ISO), where the timeline's "Today" group is."""
    return utcnow().astimezone(get_timezone()).date().isoformat()


def kind_filters() -> dict:
    """The "What" filter's choices: group key → (label, the kinds it covers), in the groups' order."""
    kinds = domains.kinds().values()
    return {group.key: (group.label, tuple(k.key for k in kinds if k.group == group.key))
            for group in domains.kind_groups()}


MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?[+-]\d{2}:\d{2}$")


def thread_name(head: dict) -> str:
    """How a thread's first record reads ("Quote PR2612-0001"): its domain names it (hook ``thread_name``), in the
    reader's language; else the label stored with the thread."""
    return domains.first("thread_name", head) or head.get("label") or "—"


def kind_label(kind: str) -> str:
    known = domains.kinds().get(kind)
    return str(known.label) if known else kind.replace("_", " ")


def kind_icon(kind: str) -> Markup:
    """The kind's icon (app/icons.py), drawn from the one sprite."""
    known = domains.kinds().get(kind)
    return icon(known.icon if known else "dot")


def field_label(name: str) -> str:
    return str(domains.field_labels().get(name, name.replace("_", " ")))


def show_value(value, lookup: dict | None = None) -> str:
    """One old or new value in a change list (rows of phones, ids of tags or reps, booleans)."""
    lookup = lookup or {}
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return str(_l("yes")) if value else str(_l("no"))
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, list):
                parts.append(" ".join(str(p) for p in item if p))
            else:
                parts.append(lookup.get(str(item), str(item)))
        return "; ".join(parts) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, str) and MOMENT.match(value):  # a stored instant: in the viewer's zone and language
        return moment(datetime.fromisoformat(value))
    for applies, show in domains.value_formats():  # a domain's own values (a repeat rule, say)
        if applies(value):
            return show(value)
    return str(value)
