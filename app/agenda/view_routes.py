"""The agenda: a person's or the team's items by day, week, month or as a list, overdue tasks, and the calendar feed."""
from datetime import date, datetime, time, timedelta

from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _

from app import saved_views
from app.agenda import bp, feeds, queries, reminders
from app.agenda.forms import ReminderSettingsForm
from app.agenda.labels import KIND_LABELS, PLAN_LABELS, STATE_LABELS, VIEW_LABELS
from app.customers import get_thirdparty
from app.extensions import db
from app.forms import SavedViewForm, local_to_utc, parse_uuid, viewer_zone
from app.htmx import redirect_to, render_page
from app.models import Membership
from app.permissions import require
from app.team import list_members
from app.thirdparties.services import ListQuery, list_thirdparties

LIST_DAYS = 30
# What a saved view of the agenda keeps: how it is shown and filtered, never the date (it opens on today).
VIEW_PARAMS = {"view", "who", "kind", "customer", "state"}


def _default_view() -> str:
    """A day list on phones (the browser says so), the week elsewhere."""
    mobile = request.headers.get("Sec-CH-UA-Mobile") == "?1" or "Mobi" in request.headers.get("User-Agent", "")
    return "day" if mobile else "week"


def _window(view: str, day: date) -> tuple[date, date]:
    """The first day shown and the day after the last."""
    if view == "day":
        return day, day + timedelta(days=1)
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=7)
    if view == "month":
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        start = first - timedelta(days=first.weekday())  # the grid starts on a Monday...
        return start, after + timedelta(days=(7 - after.weekday()) % 7)  # ...and ends on a Sunday
    return day, day + timedelta(days=LIST_DAYS)


def _period(view: str, day: date):
    """The days shown (first, the day after the last) and the UTC instants they begin and end."""
    first, after = _window(view, day)
    return first, after, local_to_utc(datetime.combine(first, time())), local_to_utc(datetime.combine(after, time()))


def _step(view: str, day: date, forward: bool) -> date:
    sign = 1 if forward else -1
    if view == "month":
        first = day.replace(day=1)
        return (first + timedelta(days=32)).replace(day=1) if forward else (first - timedelta(days=1)).replace(day=1)
    return day + timedelta(days=sign * {"day": 1, "week": 7}.get(view, LIST_DAYS))


def _people(who: str, members) -> tuple[str, tuple | None]:
    """Whose agenda: the viewer's, the team's, or one member's (those two need ``agenda.read_all``)."""
    if who == "team" and g.viewer.can("agenda.read_all"):
        return who, None
    member = parse_uuid(who)
    if member and member != g.viewer.user_id and g.viewer.can("agenda.read_all") and any(m.user_id == member for m in members):
        return who, (member,)
    return "me", (g.viewer.user_id,)


@bp.get("/")
@require("agenda.read")
def index():
    """My agenda (or the team's): what is planned and what happened, with overdue tasks on top."""
    return _agenda_page()


def _agenda_page(view_form=None, status=200, block="agenda_body"):
    args = request.args
    view = args.get("view") if args.get("view") in VIEW_LABELS else _default_view()
    zone = viewer_zone()
    today = datetime.now(zone).date()
    try:
        day = date.fromisoformat(args.get("date", "")) if args.get("date") else today
        first, after, start, end = _period(view, day)
    except (ValueError, OverflowError):  # a malformed date, or one at the edge of the calendar
        day = today
        first, after, start, end = _period(view, day)
    members = list_members()
    who, people = _people(args.get("who", "me"), members)
    kind = args.get("kind", "")
    customer = get_thirdparty(g.viewer, parse_uuid(args.get("customer"))) if args.get("customer") else None
    query = queries.AgendaQuery(people=people, kinds=(kind,) if kind in {**KIND_LABELS, **PLAN_LABELS} else (),
                                thirdparty_id=customer.id if customer else None,
                                state=args.get("state") if args.get("state") in STATE_LABELS else "")
    found, cut = queries.occurrences_between(g.viewer, query, start, end)
    found = sorted(found + queries.events_between(g.viewer, query, g.tenant.agenda_kinds, start, end),
                   key=lambda entry: entry.starts_at)
    overdue = queries.overdue(g.viewer, query) if query.state != "done" and query.kinds in ((), ("task",)) else []
    by_day = {}
    for occurrence in found:
        by_day.setdefault(occurrence.starts_at.astimezone(zone).date(), []).append(occurrence)
    days = [first + timedelta(days=n) for n in range((after - first).days)]
    filters = {"view": view, "date": day.isoformat(), "who": who, "kind": kind if query.kinds else "",
               "customer": str(customer.id) if customer else "", "state": query.state}
    current = saved_views.clean_query(request.args, VIEW_PARAMS.__contains__)
    return render_page(
        "agenda/index.html", block, status=status, saved=saved_views.list_views(g.viewer.user_id, "agenda"),
        current_view=current, view_form=view_form or SavedViewForm(formdata=None, query=current),
        reminders=reminders.pending(g.viewer.user_id), view=view, day=day, today=today,
        days=days, by_day=by_day, found=found, cut=cut,
        overdue=overdue, customers=queries.customer_names({entry.thirdparty_id for entry in found + overdue}),
        customer=customer, members=[m for m in members if m.active], filters=filters,
        previous_day=_step(view, day, False), next_day=_step(view, day, True), first=first, last=after - timedelta(days=1),
        kind_choices={**PLAN_LABELS, **KIND_LABELS}, state_choices=STATE_LABELS, view_choices=VIEW_LABELS)


def _membership() -> Membership:
    return db.session.get(Membership, (g.tenant.id, g.viewer.membership_id))


def _settings_form(formdata=None) -> ReminderSettingsForm:
    membership = _membership()
    lead = "" if membership.reminder_minutes is None else str(membership.reminder_minutes)
    form = ReminderSettingsForm(formdata=formdata, lead=lead, by_email=membership.reminder_email)
    return form.offer(g.tenant.reminder_minutes)


@bp.post("/views")
@require("agenda.read")
def save_view():
    """Save how the agenda is shown and filtered under a name (the same name updates that view)."""
    form = SavedViewForm()
    if not form.validate_on_submit():
        return _agenda_page(view_form=form, status=422, block="save_view")
    query = saved_views.submitted_query(request.form, form.query.data or "", VIEW_PARAMS.__contains__, marker="view")
    view = saved_views.save_view(g.viewer.user_id, "agenda", form.name.data.strip(), query)
    flash(_("The view %(name)s is saved.", name=view.name), "success")
    return redirect_to(url_for(".index") + (f"?{query}" if query else ""))


@bp.post("/views/delete")
@require("agenda.read")
def delete_view():
    """Delete the viewer's saved agenda view of that name."""
    if saved_views.delete_view(g.viewer.user_id, "agenda", request.form.get("name", "")[:60]):
        flash(_("The view was deleted."), "success")
    return redirect_to(url_for(".index"))


@bp.get("/feed")
@require("agenda.read")
def feed():
    """Calendar and reminders: the feed to subscribe to from Google Calendar, Outlook or Apple Calendar, and
    how long before an item the person is reminded."""
    return render_page("agenda/feed.html", has_feed=feeds.has_feed(g.viewer.user_id), feed_url=None,
                       settings_form=_settings_form())


@bp.post("/reminders/settings")
@require("agenda.read")
def save_reminder_settings():
    form = _settings_form(request.form)
    if not form.validate_on_submit():
        return render_page("agenda/feed.html", "reminder_settings", has_feed=feeds.has_feed(g.viewer.user_id),
                           feed_url=None, settings_form=form, status=422)
    membership = _membership()
    membership.reminder_minutes = int(form.lead.data) if form.lead.data else None
    membership.reminder_email = bool(form.by_email.data)
    db.session.commit()
    flash(_("Your reminder settings are saved."), "success")
    return redirect_to(url_for(".feed"))


@bp.post("/items/<uuid:activity_id>/reminders/dismiss")
@require("agenda.read")
def dismiss_reminder(activity_id):
    """Dismiss the viewer's reminders of one item (an item they may not see is not found)."""
    item = queries.get_item(g.viewer, activity_id) or abort(404)
    reminders.dismiss(g.viewer.user_id, activity_id=item.id)
    return redirect_to(url_for(".index"))


@bp.post("/reminders/dismiss")
@require("agenda.read")
def dismiss_reminders():
    reminders.dismiss(g.viewer.user_id)
    return redirect_to(url_for(".index"))


@bp.post("/feed")
@require("agenda.read")
def new_feed():
    """Make a new private address (the previous one stops working) and show it, once."""
    token = feeds.new_token(g.viewer.user_id)
    url = url_for("calendar.feed", tenant_slug=g.tenant.slug, token=token, _external=True)
    return render_page("agenda/feed.html", "feed_box", has_feed=True, feed_url=url, settings_form=_settings_form())


@bp.post("/feed/revoke")
@require("agenda.read")
def revoke_feed():
    feeds.revoke(g.viewer.user_id)  # already stopped: the same answer
    flash(_("Your calendar address no longer works. Calendars subscribed to it stop updating."), "success")
    return redirect_to(url_for(".feed"))


@bp.get("/new/<any(log, plan):what>")
@require("agenda.create")
def choose_customer(what):
    """From the agenda: which customer is the call, the meeting, the task or the appointment about?"""
    text = request.args.get("q", "").strip()[:100]
    rows, has_more = list_thirdparties(g.viewer, ListQuery(text=text))
    return render_page("agenda/choose.html", "choices", what=what, text=text, rows=rows, has_more=has_more)
