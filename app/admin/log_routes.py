"""The security log of the organisation, filterable, newest first, loaded page by page."""
import uuid
from datetime import datetime

from flask import request

from app.admin import bp, security_details
from app.admin.forms import SecurityLogFilterForm
from app.audit.services import SECURITY_EVENT_KINDS, SecurityLogFilter, list_security_events
from app.forms import as_choices, day_start, parse_uuid
from app.htmx import render_page
from app.permissions import require
from app.team import list_members


def _cursor(value: str | None):
    """Decode a ``<iso timestamp>_<uuid>`` cursor; None when absent or malformed."""
    stamp, _, ident = (value or "").partition("_")
    try:
        return datetime.fromisoformat(stamp), uuid.UUID(ident)
    except ValueError:
        return None


@bp.get("/security-log")
@require("admin.security_log")
def security_log():
    """Show the security log; htmx asks for the next page with ``before``."""
    form = SecurityLogFilterForm(request.args)
    members = list_members()
    form.kind.choices = as_choices([("", "—"), *SECURITY_EVENT_KINDS.items()])
    form.user.choices = as_choices([("", "—"), *((m.user_id, m.user.name) for m in members)])
    filters = SecurityLogFilter(
        kind=form.kind.data if form.kind.data in SECURITY_EVENT_KINDS else None,
        user_id=parse_uuid(form.user.data),
        since=day_start(form.since.data),
        until=day_start(form.until.data, plus_days=1),
    )
    events, next_cursor = list_security_events(filters, before=_cursor(request.args.get("before")))
    next_args = {**request.args.to_dict(), "before": f"{next_cursor[0].isoformat()}_{next_cursor[1]}"} if next_cursor else None
    block = "event_rows" if request.args.get("before") else "event_table"
    return render_page("admin/security_log.html", block, form=form, events=events, next_args=next_args,
                       kinds=SECURITY_EVENT_KINDS, describe=security_details.describe)
