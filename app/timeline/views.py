"""What a page needs to show a timeline: filters from the URL, one page of events, the live stream."""
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from flask import request, url_for
from flask_babel import get_timezone

from app import domains
from app.customers import customer_or_404, is_visible, list_contacts_of
from app.forms import day_start, parse_uuid
from app.permissions import Viewer
from app.tags import list_tags
from app.team import list_members
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


class Names(Mapping):
    """What an id in a timeline row names (a member, one of the customer's contacts, a tag), for "With …" links and
    changed fields. The contacts the page's events are about come with the events (``list_events(names=…)``); the
    rest is read in one go only when a row asks for a name not given (a changed list of tags or reps), so a page of
    notes costs no statement for names."""

    def __init__(self, thirdparty_id, known: dict | None = None):
        self._thirdparty_id, self._known, self._loaded = thirdparty_id, dict(known or {}), False

    def given(self) -> dict:
        return self._known

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            self._known = {**_all_names(self._thirdparty_id), **self._known}

    def __getitem__(self, key):
        if key not in self._known:
            self._load()
        return self._known[key]

    def __contains__(self, key) -> bool:
        if key not in self._known:
            self._load()
        return key in self._known

    def __iter__(self):
        self._load()
        return iter(self._known)

    def __len__(self) -> int:
        self._load()
        return len(self._known)

    def __bool__(self) -> bool:  # ``names or {}`` must not read them all
        return True


def _all_names(thirdparty_id) -> dict:
    return {str(m.id): m.user.name for m in list_members()} | {str(c.id): c.full_name for c in list_contacts_of(thirdparty_id)} \
        | {str(t.id): t.name for t in list_tags()}


def timeline_context(viewer: Viewer, thirdparty_id, /, *, contact=None, seen: bool = False, endpoint: str,
                     **endpoint_args) -> dict:
    """Everything the timeline blocks of a card need, for the page or for an htmx request: one statement (the page of
    events, with the names of the contacts they are about), plus one for the items of the agenda the rows show.

    ``seen``: the caller has already checked that ``viewer`` may see the customer (the whole card).

    :raise 404: when a third party's timeline is empty because the viewer may not see the customer (or there is
        none): the events are read only for a customer the viewer may see ("only mine" is in the query), and an empty
        page is checked again (``customer_or_404``: saying so when the customer is outside the viewer's assignment).
    """
    filters, kept = parse_filters(request.args)
    before = decode_cursor(request.args.get("before"))
    names = Names(thirdparty_id) if contact is None else None
    events, cursor = list_events(viewer, thirdparty_id, filters, before=before, contact_id=contact.id if contact else None,
                                 names=names.given() if names is not None else None)
    if not events and contact is None and not seen and not is_visible(viewer, thirdparty_id):
        customer_or_404(viewer, thirdparty_id)  # raises, with the reason when it is someone else's customer
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
        "previous_day": request.args.get("day") if before else None, "names": names if names is not None else {},
        "stream_url": url_for("tenant.timeline.stream", thirdparty_id=thirdparty_id, after=newest, floor=floor) if live else None,
        "timeline_block": "timeline_rows" if before else "timeline_section",
    }


def _local_day(moment: datetime) -> str:
    return moment.astimezone(get_timezone()).date().isoformat()
