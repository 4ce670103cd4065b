"""The private calendar feed that calendar apps read, without a session: the token in the address is the key."""
from datetime import timedelta

from flask import Blueprint, abort, make_response, url_for

from app.agenda import feeds, ical, queries
from app.models import utcnow
from app.permissions import load_viewer
from app.tenancy import get_tenant_by_slug, set_scope

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

PAST_DAYS = 60  # how far back the feed goes: calendar apps keep what they already read


@bp.get("/<tenant_slug>/<token>.ics")
def feed(tenant_slug, token):
    """The person's tasks and appointments as iCalendar; 404 for an unknown or revoked token, or a person who
    left or may no longer read the agenda (the address gives nothing away about which)."""
    tenant = get_tenant_by_slug(tenant_slug)
    if tenant is None:
        abort(404)
    set_scope(tenant_id=tenant.id)
    found = feeds.find(token)
    viewer = load_viewer(found.user_id) if found else None
    if viewer is None or not viewer.can("agenda.read"):
        abort(404)
    set_scope(user_id=viewer.user_id)
    items = queries.feed_items(viewer.user_id, utcnow() - timedelta(days=PAST_DAYS))
    links = {item.id: url_for("tenant.agenda.show_item", tenant_slug=tenant.slug, activity_id=item.id, _external=True)
             for item in items}
    body = ical.calendar(items, name=f"Storia · {tenant.name}", links=links,
                         customers=queries.customer_names({item.thirdparty_id for item in items}))
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
