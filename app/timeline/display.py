"""How timeline events read: a label per kind, field names, and the filters offered."""
import re
from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.agenda.labels import EVENT_LABELS, PLAN_EVENT_LABELS, describe_rule, moment
from app.pipeline.labels import EVENT_ICONS as PIPELINE_ICONS
from app.pipeline.labels import EVENT_LABELS as PIPELINE_LABELS
from app.sales.labels import EVENT_ICONS as SALES_ICONS
from app.sales.labels import EVENT_LABELS as SALES_LABELS

KIND_LABELS = {
    "thirdparty_created": _l("Created"),
    "thirdparty_updated": _l("Details changed"),
    "thirdparty_archived": _l("Archived"),
    "thirdparty_restored": _l("Restored"),
    "contact_added": _l("Contact added"),
    "contact_updated": _l("Contact changed"),
    "contact_moved_in": _l("Contact moved here"),
    "contact_moved_out": _l("Contact moved away"),
    "contact_archived": _l("Contact archived"),
    "contact_restored": _l("Contact restored"),
    "note_added": _l("Note"),
    "note_edited": _l("Note edited"),
    "document_uploaded": _l("Document added"),
    "document_version_added": _l("New version of a document"),
    "document_updated": _l("Document changed"),
    "document_deleted": _l("Document moved to the trash"),
    "document_restored": _l("Document restored"),
    "document_purged": _l("Document deleted for good"),
    "document_downloaded": _l("Document downloaded"),
    "document_previewed": _l("Document viewed"),
    **EVENT_LABELS,
    **PLAN_EVENT_LABELS,
    **SALES_LABELS,
    **PIPELINE_LABELS,
}

# Filter groups shown to users: one choice may cover several kinds.
KIND_FILTERS = {
    "notes": (_l("Notes"), ("note_added", "note_edited")),
    "interactions": (_l("Calls, meetings and e-mails"), tuple(EVENT_LABELS)),
    "plans": (_l("Tasks and appointments"), tuple(PLAN_EVENT_LABELS)),
    "changes": (_l("Changes"), ("thirdparty_created", "thirdparty_updated", "thirdparty_archived", "thirdparty_restored")),
    "contacts": (_l("Contacts"), ("contact_added", "contact_updated", "contact_moved_in", "contact_moved_out",
                                  "contact_archived", "contact_restored")),
    "documents": (_l("Documents"), ("document_uploaded", "document_version_added", "document_updated", "document_deleted",
                                    "document_restored", "document_purged", "document_downloaded", "document_previewed")),
    "sales": (_l("Quotes, invoices and payments"), tuple(SALES_LABELS)),
    "pipeline": (_l("Opportunities"), tuple(PIPELINE_LABELS)),
}

FIELD_LABELS = {
    "name": _l("Name"), "is_customer": _l("Customer"), "is_prospect": _l("Prospect"), "is_supplier": _l("Supplier"),
    "vat_number": _l("VAT number"), "website": _l("Website"), "description": _l("Notes"), "custom": _l("Custom fields"),
    "addresses": _l("Addresses"), "phones": _l("Phones"), "emails": _l("E-mails"), "tags": _l("Tags"),
    "reps": _l("Sales representatives"), "first_name": _l("First name"), "last_name": _l("Last name"),
    "job_title": _l("Job title"), "preferred_language": _l("Preferred language"),
    "preferred_channel": _l("Preferred channel"), "consent_email": _l("Agrees to e-mails"),
    "consent_phone": _l("Agrees to calls"),
    # Edit conflicts name the form's fields; the audit log names the stored columns of every record.
    "tag_ids": _l("Tags"), "rep_ids": _l("Sales representatives"), "code": _l("Code"), "archived_at": _l("Archived on"),
    "street": _l("Street"), "postcode": _l("Postcode"), "city": _l("City"), "country": _l("Country"), "label": _l("Label"),
    "kind": _l("Type"), "value": _l("Value"), "body": _l("Text"), "private": _l("Private"), "pinned": _l("Pinned"),
    "thirdparty_id": _l("Customer or supplier"), "contact_id": _l("Contact"), "tag_id": _l("Tag"),
    "membership_id": _l("Sales representative"), "colour": _l("Colour"), "entity": _l("For"), "key": _l("Key"),
    "field_type": _l("Type"), "choices": _l("Choices"), "required": _l("Required"), "show_in_list": _l("Shown in the list"),
    "folder": _l("Folder"), "number": _l("Version"), "size": _l("Size"), "sha256": _l("Checksum"), "mime": _l("File type"),
    "current_version_id": _l("Current version"), "deleted_at": _l("Moved to the trash on"), "document_id": _l("Document"),
    "version_id": _l("Version"), "action": _l("Action"),
    "title": _l("Subject"), "starts_at": _l("When"), "ends_at": _l("Ends"), "all_day": _l("All day"),
    "priority": _l("Priority"), "location": _l("Place or link"), "recurrence": _l("Repeats"),
    "reminder_minutes": _l("Reminder"), "assignees": _l("For"), "attendees": _l("Also with"),
}

KIND_ICONS = {
    "note_added": "✎", "note_edited": "✎", "thirdparty_created": "★", "thirdparty_updated": "↻",
    "thirdparty_archived": "⊘", "thirdparty_restored": "↺", "contact_added": "☺", "contact_updated": "☺",
    "contact_moved_in": "→", "contact_moved_out": "←", "contact_archived": "⊘", "contact_restored": "↺",
    "document_uploaded": "📄", "document_version_added": "📄", "document_updated": "📄", "document_deleted": "🗑",
    "document_restored": "↺", "document_purged": "🗑", "document_downloaded": "⤓", "document_previewed": "👁",
    "call_logged": "☎", "meeting_logged": "👥", "email_logged": "✉", "letter_logged": "✉",
    "task_planned": "☐", "appointment_planned": "📅", "activity_done": "☑", "activity_reopened": "☐",
    "activity_updated": "↻", "activity_cancelled": "⊘", **SALES_ICONS, **PIPELINE_ICONS,
}



MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?[+-]\d{2}:\d{2}$")


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind.replace("_", " ")))


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name.replace("_", " ")))


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
    if isinstance(value, str) and value.startswith("FREQ="):
        return describe_rule(value)
    return str(value)
