"""What a page needs to show a timeline: filters from the URL, one page of events, the live stream."""
import uuid
from datetime import UTC, datetime, timedelta

from flask import request, url_for
from flask_babel import get_timezone

from app import domains
from app.forms import day_start, parse_uuid
from app.permissions import Viewer
from app.timeline.display import kind_filters
from app.timeline.services import TimelineFilter, list_events


def encode_cursor(cursor) -> str | None:
    return f"{cursor[0].isoformat()}_{cursor[1]}" if cursor else None


def decode_cursor(value: str | None):
    """``<iso time>_<uuid>`` to a cursor (in UTC); None when absent, malformed or at the calendar's edge.

    A cursor a day away from year 1 or 9999 is refused: the live stream re-reads seconds behind it
    and would step off the calendar (OverflowError, a broken stream).
    """
    stamp, _, ident = (value or "").partition("_")
    try:
        moment = datetime.fromisoformat(stamp)
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        moment - timedelta(days=1), moment + timedelta(days=1)  # noqa: B018 (raises at the edges)
        return moment, uuid.UUID(ident)
    except (ValueError, OverflowError):
        return None






def parse_filters(args) -> tuple[TimelineFilter, dict]:
    """The timeline filters in a URL, and the cleaned arguments to keep them in links."""
    kind, groups = args.get("kind", ""), kind_filters()
    kinds = groups[kind][1] if kind in groups else ()
    filters = TimelineFilter(
        kinds=kinds, contact_id=parse_uuid(args.get("person")), since=day_start(args.get("since")),
        until=day_start(args.get("until"), plus_days=1), text=args.get("text", "").strip()[:100],
    )
    kept = {k: args[k] for k in ("kind", "person", "since", "until", "text") if args.get(k)}
    if "kind" in kept and not kinds:
        del kept["kind"]
    return filters, kept


def timeline_context(viewer: Viewer, tp, *, contact=None, endpoint: str, **endpoint_args) -> dict:
    """Everything the timeline blocks of a card need, for the page or for an htmx request."""
    filters, kept = parse_filters(request.args)
    before = decode_cursor(request.args.get("before"))
    events, cursor = list_events(viewer, tp.id, filters, before=before, contact_id=contact.id if contact else None)
    domains.call("timeline_page", events)  # what the domains show on rows (a task's done state), in one query each
    next_url = None
    if cursor:
        next_url = url_for(endpoint, **endpoint_args, **kept, before=encode_cursor(cursor),
                           day=_local_day(events[-1].occurred_at))
    newest = encode_cursor((events[0].occurred_at, events[0].id)) if events and not before else None
    # The stream re-reads a few seconds behind ``after``; events older than the page's last one are
    # reached by scrolling, not pushed on top as new ones (a burst of events fills more than a page).
    floor = encode_cursor(cursor) if cursor else None
    live = not before and not kept and contact is None
    return {
        "events": events, "next_url": next_url, "filter_args": kept, "kind_filters": kind_filters(),
        "previous_day": request.args.get("day") if before else None,
        "stream_url": url_for("tenant.timeline.stream", thirdparty_id=tp.id, after=newest, floor=floor) if live else None,
        "timeline_block": "timeline_rows" if before else "timeline_section",
    }


def _local_day(moment: datetime) -> str:
    return moment.astimezone(get_timezone()).date().isoformat()
