"""The audit log: every change, field by field, and whether the chain is intact."""
from flask import request

from app.admin import bp
from app.admin.log_routes import _day_start, _uuid_or_none
from app.admin.services import list_members
from app.audit.chain import verify_chain
from app.audit.services import AuditFilter, audited_entity_types, list_audit_entries
from app.htmx import render_page
from app.permissions import require
from app.timeline.display import field_label, show_value


@bp.get("/audit")
@require("audit.read")
def audit_log():
    """Browse the audit log; filters in the URL; htmx asks for the next page with ``before``."""
    args = request.args
    filters = AuditFilter(
        entity_type=args.get("entity") or None, entity_id=_uuid_or_none(args.get("record")),
        actor_id=_uuid_or_none(args.get("user")), since=_day_start(args.get("since")),
        until=_day_start(args.get("until"), plus_days=1),
    )
    entries, next_seq = list_audit_entries(filters, before_seq=args.get("before", type=int))
    members = list_members()
    next_args = {**args.to_dict(), "before": next_seq} if next_seq else None
    return render_page(
        "admin/audit.html", "audit_rows" if args.get("before") else "audit_table", entries=entries, next_args=next_args,
        entity_types=audited_entity_types(), names={m.user_id: m.user.name for m in members}, members=members,
        args=args, field_label=field_label, show_value=show_value,
    )


@bp.get("/audit/verify")
@require("audit.read")
def verify_audit():
    """Check the whole chain now and say whether it is intact."""
    problems = verify_chain()
    return render_page("admin/audit.html", "verify_result", problems=problems)
