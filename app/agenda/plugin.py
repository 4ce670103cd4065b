"""What the agenda adds: its rights, its timeline events and how they read, the card's "last contact / next action"
facts, its menu entry with the reminders badge, its template helpers, its pages and the private calendar feed."""
from flask import g, url_for
from flask_babel import lazy_gettext as _l

from app import domains
from app.agenda import bp, plan_routes, routes, view_routes  # noqa: F401 (the pages attach to the blueprint)
from app.agenda.calendar_routes import bp as calendar_bp
from app.agenda.labels import (
    EVENT_LABELS,
    LAST_CONTACT_LABELS,
    PLAN_EVENT_LABELS,
    agenda_kind_label,
    describe_rule,
    interaction_facts,
)
from app.agenda.queries import (
    ACTION_FILTERS,
    CONTACT_FILTERS,
    action_condition,
    agenda_item,
    contact_condition,
    get_item,
    last_contacted,
    next_action,
    next_actions,
    preload_items,
)
from app.agenda.reminders import pending_count, pending_query
from app.agenda.services import last_contact_facts

ICONS = {"call_logged": "phone", "meeting_logged": "users", "email_logged": "mail", "letter_logged": "mail",
         "task_planned": "square", "appointment_planned": "calendar", "activity_done": "square-check",
         "activity_reopened": "square", "activity_updated": "pencil", "activity_cancelled": "ban"}


def reminder_count() -> int:
    """The signed-in member's reminders waiting in the app (the menu's badge)."""
    viewer = g.get("viewer")
    return pending_count(viewer.user_id) if viewer is not None and viewer.can("agenda.read") else 0


def _fact_queries(viewer, tp) -> dict | None:
    """The last contact either way, read with the card's other facts (``Panel.facts``)."""
    return last_contact_facts(tp.id, LAST_CONTACT_LABELS) if viewer.can("agenda.read") else None


def _facts(viewer, tp, last: dict) -> dict | None:
    return {"last_contacts": {direction: moment for direction, moment in last.items() if moment is not None},
            "next_action": next_action(tp.id), "labels": LAST_CONTACT_LABELS}


def _document_subject(viewer, about_type: str, about_id):
    """An agenda item a document is attached to (a meeting's minutes), if the viewer may see it."""
    if about_type != "activity" or about_id is None:
        return None
    item = get_item(viewer, about_id)
    return None if item is None else domains.Subject(item.id, item.thirdparty_id, item.title or agenda_kind_label(item.kind),
                                                     url_for("tenant.agenda.show_item", activity_id=item.id))


def _list_conditions(viewer, args) -> list:
    """The customer list's "not contacted for N days" and "nothing planned / overdue" filters."""
    if not viewer.can("agenda.read"):
        return []
    contacted, planned = args.get("contacted", ""), args.get("planned", "")
    return [*([contact_condition(contacted)] if contacted in CONTACT_FILTERS else []),
            *([action_condition(planned)] if planned in ACTION_FILTERS else [])]


def _list_facts(viewer, ids) -> dict:
    """The customer list's "last contact" and "next action" columns for a page of customers."""
    if not viewer.can("agenda.read"):
        return {}
    return {"last_contacted": last_contacted(ids), "next_actions": next_actions(ids)}


DOMAIN = domains.register(domains.Domain(
    name="agenda",
    areas={"agenda": _l("Agenda")},
    rights={
        "agenda.read": _l("See the agenda"),
        "agenda.create": _l("Log interactions and plan events"),
        "agenda.read_all": _l("See the whole team's agenda"),
    },
    role_rights={"sales": ("agenda.read", "agenda.create"), "support": ("agenda.read", "agenda.create")},
    kinds=(*(domains.EventKind(key, label, ICONS.get(key, "dot"), "interactions") for key, label in EVENT_LABELS.items()),
           *(domains.EventKind(key, label, ICONS.get(key, "dot"), "plans") for key, label in PLAN_EVENT_LABELS.items())),
    kind_groups=(domains.KindGroup("interactions", _l("Calls, meetings and e-mails"), 20),
                 domains.KindGroup("plans", _l("Tasks and appointments"), 30)),
    field_labels={
        "title": _l("Subject"), "starts_at": _l("When"), "ends_at": _l("Ends"), "all_day": _l("All day"),
        "priority": _l("Priority"), "location": _l("Place or link"), "recurrence": _l("Repeats"),
        "reminder_minutes": _l("Reminder"), "assignees": _l("For"), "attendees": _l("Also with"),
    },
    value_formats=((lambda value: isinstance(value, str) and value.startswith("FREQ="), describe_rule),),
    panels=(domains.Panel("agenda_facts", _l("Agenda"), "agenda/_card_facts.html", _facts, order=0, place="facts",
                          facts=_fact_queries),),
    nav=(domains.NavLink("tenant.agenda.index", _l("Agenda"), "agenda.read", order=30, badge=reminder_count,
                             badge_label=_l("reminders"), badge_count=pending_query),),
    macros={"agenda": "agenda/_macros.html"},
    template_globals={"agenda_kind_label": agenda_kind_label, "interaction_facts": interaction_facts,
                      "agenda_item": agenda_item, "reminder_count": reminder_count},
    hooks={"timeline_page": preload_items, "document_subject": _document_subject, "customer_list_params": lambda: ("contacted", "planned"),
           "customer_list_conditions": _list_conditions, "customer_list_facts": _list_facts},
    slots={"card_actions": ("agenda/_card_actions.html",),
           **{f"customer_list_{part}": (f"agenda/_customer_list_{part}.html",) for part in ("quick", "filters", "head", "cells")}},
    blueprints=((bp, True), (calendar_bp, False)),
))
