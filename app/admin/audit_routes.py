"""The audit log: every change, field by field, and whether the chain is intact."""
from flask import g, request
from flask_babel import lazy_gettext as _l

from app.admin import bp
from app.audit.chain import verify_chain
from app.audit.services import AuditFilter, audited_entity_types, list_audit_entries, private_notes_hidden
from app.forms import day_start, parse_uuid
from app.htmx import render_page, wants_fragment
from app.pagination import BIGINT_MAX, url_int
from app.permissions import require
from app.team import list_members
from app.timeline.display import field_label, show_value

ACTION_LABELS = {"create": _l("Creation"), "update": _l("Update"), "delete": _l("Deletion")}


@bp.get("/audit")
@require("audit.read")
def audit_log():
    """Browse the audit log; filters in the URL; htmx asks for the next page with ``before``."""
    return render_page("admin/audit.html", "audit_rows" if request.args.get("before") else "audit_table", **_log_context())


def _log_context() -> dict:
    """One page of entries as the URL's filters select them, and what the page's filters offer."""
    args = request.args
    filters = AuditFilter(
        entity_type=args.get("entity") or None, entity_id=parse_uuid(args.get("record")),
        actor_id=parse_uuid(args.get("user")), since=day_start(args.get("since")),
        until=day_start(args.get("until"), plus_days=1),
    )
    entries, next_seq = list_audit_entries(filters, before_seq=url_int(args, "before", low=1, high=BIGINT_MAX))
    entries = private_notes_hidden(entries, g.viewer)
    members = list_members()
    next_args = {**args.to_dict(), "before": next_seq} if next_seq else None
    return dict(
        entries=entries, next_args=next_args, entity_types=audited_entity_types(),
        names={m.user_id: m.user.name for m in members}, members=members, args=args, field_label=field_label,
        show_value=show_value, actions=ACTION_LABELS,
    )


@bp.get("/audit/verify")
@require("audit.read")
def verify_audit():
    """Check the whole chain now and say whether it is intact."""
    problems = verify_chain()
    if wants_fragment():
        return render_page("admin/audit.html", "verify_result", problems=problems)
    return render_page("admin/audit.html", problems=problems, **_log_context())  # opened without htmx: the whole page
