"""The live stream of a third party's timeline (server-sent events)."""
import time
import uuid
from datetime import timedelta

from flask import Response, abort, current_app, g, render_template, request, stream_with_context
from flask_login import current_user

from app.auth.sessions import load_session
from app.customers import get_thirdparty
from app.extensions import db
from app.models import utcnow
from app.permissions import load_viewer, require
from app.tenancy import set_scope
from app.timeline import bp, live
from app.timeline.services import events_after
from app.timeline.views import decode_cursor, encode_cursor

KEEPALIVE_SECONDS = 15
# Events that commit out of time order (a long transaction, clock skew between hosts) are
# still found: each wake-up re-reads this far behind the cursor, and skips what it already sent.
REREAD = timedelta(seconds=10)
READ_BATCH = 200


@bp.get("/thirdparties/<uuid:thirdparty_id>/stream")
@require("thirdparty.read")
def stream(thirdparty_id):
    """Send the third party's new events as they happen; resume after ``Last-Event-ID``."""
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    transport = live.transport()
    subscription = transport.hub.subscribe((g.tenant.id, tp.id))
    if subscription is None:
        return Response("busy\n", status=503, headers={"Retry-After": "5"}, mimetype="text/plain")
    transport.ensure_listening()
    cursor = decode_cursor(request.headers.get("Last-Event-ID") or request.args.get("after"))
    floor = decode_cursor(request.args.get("floor"))  # the oldest event the page shows, if it has more below
    token, tenant_id = current_user.get_id(), g.tenant.id
    deadline = time.monotonic() + current_app.config["LIVE_STREAM_SECONDS"]

    def generate():
        nonlocal cursor
        sent: dict = {}
        # Flask runs this after the request's teardown cleared the scope: scope it again.
        set_scope(tenant_id=tenant_id, user_id=None)
        try:
            yield "retry: 2000\n\n"
            woken = True
            while time.monotonic() < deadline:
                if woken:
                    viewer = _still_allowed(token)
                    if viewer is None:
                        yield "event: close\ndata: \n\n"
                        return
                    for event in _new_events(viewer, tp.id, cursor, sent, floor):
                        cursor = (event.occurred_at, event.id)
                        yield _sse(event)
                    db.session.remove()  # hold no connection while waiting
                # Never wait past the deadline: LIVE_STREAM_SECONDS bounds how long a stream holds its thread.
                woken = bool(subscription.wait(min(KEEPALIVE_SECONDS, max(0.0, deadline - time.monotonic()))))
                if not woken and time.monotonic() < deadline:
                    yield ": keep-alive\n\n"
        finally:
            subscription.close()
            db.session.remove()

    return Response(stream_with_context(generate()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _still_allowed(token: str):
    """The viewer, re-read at every wake-up: a signed-out or deactivated user stops receiving."""
    user = load_session(token)
    if user is None:
        return None
    viewer = load_viewer(user.id)
    return viewer if viewer is not None and viewer.can("thirdparty.read") else None


def _new_events(viewer, thirdparty_id, cursor, sent: dict, floor=None):
    """Events after the cursor, re-reading a short window behind it (never below ``floor``); each
    sent once per stream.

    What the page itself showed may come again once: the browser drops an event it already has.
    Events at or below ``floor`` are older than the page's last one: the reader reaches them by
    scrolling, they must not arrive on top as new ones.
    """
    # A planned event (an appointment next week) may be the newest on the page: what happens now is older than it.
    start = min(cursor[0], utcnow()) if cursor else utcnow()
    after = (start - REREAD, uuid.UUID(int=0))
    if floor is not None and floor > after:
        after = floor
    while True:  # page through: a burst may hold more events than one read returns
        batch = events_after(viewer, thirdparty_id, after, limit=READ_BATCH)
        for event in batch:
            if event.id not in sent:
                sent[event.id] = event.occurred_at
                yield event
        if len(batch) < READ_BATCH:
            break
        after = (batch[-1].occurred_at, batch[-1].id)
    if len(sent) > 500:
        horizon = max(sent.values()) - 2 * REREAD
        for key in [k for k, v in sent.items() if v < horizon]:
            del sent[key]


def _sse(event) -> str:
    html = render_template("timeline/_event.html", event=event)
    data = "\n".join(f"data: {line}" for line in html.splitlines() if line.strip())
    return f"id: {encode_cursor((event.occurred_at, event.id))}\nevent: timeline\n{data}\n\n"
