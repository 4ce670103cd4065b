"""Live timelines over a real HTTP server and a raw SSE reader.

The stream is served by the session app. Changes are made through ``writer``: on SQLite the same
app (the in-process transport), on PostgreSQL a second app instance with its own hub, as another
gunicorn worker would be, so every delivery here crosses workers through NOTIFY/LISTEN.
"""
import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from jinja2 import StrictUndefined

from app import create_app
from app.extensions import db
from app.permissions import BUILTIN_ROLES
from app.tenancy import tenant_context
from app.timeline.services import record_event
from tests.conftest import make_config
from tests.customers import make_thirdparty
from tests.factories import add_member, make_tenant, make_user, membership_id
from tests.timeline.sse import EventStream, LiveServer
from tests.timeline.support import add_events, events_about, grant_by_group, notes_of, post_note, signed_in


def _other_app(database_urls, mail_server, **overrides):
    other = create_app(make_config(database_urls, mail_server, **overrides))
    other.jinja_env.undefined = StrictUndefined
    return other


def _dispose(other):
    other.extensions["storia_live"].stop()
    with other.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def server(app):
    live = LiveServer(app)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def writer(app, database_urls, mail_server):
    """The app changes are made through (another instance on PostgreSQL: another worker's hub)."""
    if not database_urls["app"].startswith("postgresql"):
        yield app
        return
    other = _other_app(database_urls, mail_server)
    yield other
    _dispose(other)


@pytest.fixture
def streams(app, server):
    """Open event streams as a signed-in user; all are closed after the test."""
    opened = []

    def open_stream(tenant, customer, user, *, port=None, last_event_id=None, path=None):
        browser = signed_in(app, user)
        cookie = browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        stream = EventStream(port or server.port, path or f"/{tenant.slug}/timeline/thirdparties/{customer.id}/stream",
                             f"{cookie.key}={cookie.value}", last_event_id=last_event_id)
        stream.browser = browser
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()


@pytest.fixture
def author(writer, tenant, colleague):
    """The colleague, writing through the writer app."""
    return signed_in(writer, colleague)


def note_event(app, tenant, body):
    [note] = [n for n in notes_of(app, tenant) if n.body == body]
    [event] = events_about(app, tenant, note.id)
    return event


def posted(writer, browser, tenant, customer, body, **fields):
    """Post a note through the writer app; return its timeline event."""
    assert post_note(browser, tenant, customer.id, body, **fields).status_code == 200
    return note_event(writer, tenant, body)


def marker(writer, tenant, customer):
    """Commit one more event (a stream that received it has read everything committed before)."""
    [event_id] = add_events(writer, tenant, customer.id, [datetime.now(UTC)], titles=["marker"])
    return event_id


# --- arrival ---

def test_an_event_committed_by_another_session_arrives(app, writer, streams, tenant, customer, author):
    stream = streams(tenant, customer, tenant.owner)

    event = posted(writer, author, tenant, customer, "LIVE-CANARY called back")

    message = stream.wait_for_event(event.id)
    assert message.event == "timeline"
    assert f'id="ev-{event.id}"' in message.data and "LIVE-CANARY called back" in message.data


def test_the_stream_address_on_the_card_delivers_new_events(app, writer, streams, owner, tenant, customer, author):
    page = owner.get(f"/{tenant.slug}/thirdparties/{customer.id}").get_data(as_text=True)
    address = html.unescape(re.search(r'sse-connect="([^"]+)"', page).group(1))
    assert "after=" in address  # resumes after the newest event the page shows
    stream = streams(tenant, customer, tenant.owner, path=address)

    event = posted(writer, author, tenant, customer, "seen through the card's stream")

    stream.wait_for_event(event.id)


@pytest.mark.postgres
def test_on_postgresql_delivery_crosses_app_instances(app, writer, streams, tenant, customer, author):
    stream = streams(tenant, customer, tenant.owner)

    event = posted(writer, author, tenant, customer, "across workers")

    stream.wait_for_event(event.id)
    listening, writing = app.extensions["storia_live"], writer.extensions["storia_live"]
    assert writing is not listening and writing.hub is not listening.hub
    assert writing.hub.open_streams == 0 and listening.hub.open_streams >= 1


def test_an_event_of_a_rolled_back_transaction_never_arrives(app, writer, streams, tenant, customer):
    stream = streams(tenant, customer, tenant.owner)
    with writer.app_context(), tenant_context(tenant.id):
        ghost = record_event(thirdparty_id=customer.id, kind="thirdparty_updated", subject_type="thirdparty",
                             subject_id=customer.id, actor_id=None, title="GHOST")
        db.session.flush()
        ghost_id = ghost.id
        db.session.rollback()

    stream.wait_for_event(marker(writer, tenant, customer))

    assert ghost_id not in stream.event_ids()
    assert all("GHOST" not in m.data for m in stream.received)


# --- reconnecting and duplicates ---

def test_reconnecting_with_last_event_id_catches_up_on_what_was_missed(app, writer, streams, tenant, customer, author):
    first = streams(tenant, customer, tenant.owner)
    seen = first.wait_for_event(posted(writer, author, tenant, customer, "before the cut").id)
    first.close()
    missed = [posted(writer, author, tenant, customer, f"while away {i}").id for i in range(3)]

    second = streams(tenant, customer, tenant.owner, last_event_id=seen.id)

    for event_id in missed:
        second.wait_for_event(event_id)


def test_reconnecting_finds_an_event_committed_late_with_an_earlier_time(app, writer, streams, tenant, customer, author):
    first = streams(tenant, customer, tenant.owner)
    seen_event = posted(writer, author, tenant, customer, "seen")
    seen = first.wait_for_event(seen_event.id)
    first.close()
    # A long transaction: its event's time is before what the browser already has, its commit after.
    [late] = add_events(writer, tenant, customer.id, [seen_event.occurred_at - timedelta(seconds=5)], titles=["late"])

    second = streams(tenant, customer, tenant.owner, last_event_id=seen.id)

    second.wait_for_event(late)


def test_one_connection_never_sends_an_event_twice(app, writer, streams, tenant, customer, author):
    stream = streams(tenant, customer, tenant.owner)
    sent = []
    for i in range(5):  # each one wakes the stream, which re-reads the recent past every time
        sent.append(posted(writer, author, tenant, customer, f"note {i}").id)
        stream.wait_for_event(sent[-1])

    stream.wait_for_event(marker(writer, tenant, customer))

    ids = stream.event_ids()
    assert len(ids) == len(set(ids)), "an event was sent twice on one connection"
    assert set(sent) <= set(ids)


def test_a_burst_of_events_larger_than_one_read_all_arrive(app, writer, streams, tenant, customer):
    stream = streams(tenant, customer, tenant.owner)
    now = datetime.now(UTC)

    burst = add_events(writer, tenant, customer.id, [now + timedelta(milliseconds=i) for i in range(250)])

    for event_id in (burst[0], burst[199], burst[200], burst[-1]):
        stream.wait_for_event(event_id)
    stream.wait_for_event(marker(writer, tenant, customer))
    assert set(burst) <= set(stream.event_ids())


# --- who receives what ---

def test_a_stream_of_another_customer_receives_nothing(app, writer, streams, tenant, customer, author):
    other = make_thirdparty(app, tenant, "Durand SA")
    stream = streams(tenant, other, tenant.owner)

    foreign = posted(writer, author, tenant, customer, "FOREIGN-CANARY")
    stream.wait_for_event(marker(writer, tenant, other))

    assert foreign.id not in stream.event_ids()
    assert all("FOREIGN-CANARY" not in m.data for m in stream.received)


def test_a_private_note_is_not_streamed_to_a_colleague(app, writer, streams, tenant, customer, author):
    bystander = add_member(app, tenant, make_user(app, name="Otto Support"), role="support")
    stream = streams(tenant, customer, bystander)

    secret = posted(writer, author, tenant, customer, "PRIVATE-CANARY", private=True)
    stream.wait_for_event(marker(writer, tenant, customer))

    assert secret.id not in stream.event_ids()
    assert all("PRIVATE-CANARY" not in m.data for m in stream.received)


def test_a_private_note_is_streamed_to_a_holder_of_the_right_to_read_it(app, writer, streams, tenant, customer, author):
    reader = add_member(app, tenant, make_user(app, name="Rita Reader"), role="support")
    grant_by_group(app, tenant, reader, "note.read_private")
    stream = streams(tenant, customer, reader)

    secret = posted(writer, author, tenant, customer, "PRIVATE-CANARY", private=True)

    assert "PRIVATE-CANARY" in stream.wait_for_event(secret.id).data


READERS = [*BUILTIN_ROLES, "custom: thirdparty.read", "custom: thirdparty.read + note.read_private"]


@pytest.mark.parametrize("role", READERS)
def test_whoever_reads_the_timeline_follows_it_live(app, writer, streams, tenant, customer, author, role):
    """Issue 13, finding 8: every member who may open a customer's timeline (every built-in role, the read-only one
    included, and custom roles) may follow it live; a colleague's private note reaches only those allowed to read it."""
    reader = add_member(app, tenant, make_user(app, name="Rhea Reader"), role="readonly")
    rights = _set_role(app, tenant, reader, role)
    if "thirdparty.read_all" not in rights and "thirdparty.read" in rights:
        _make_rep(app, tenant, customer, reader)  # "only mine": their own customer
    card = signed_in(app, reader).get(f"/{tenant.slug}/thirdparties/{customer.id}")
    stream = streams(tenant, customer, reader)
    if "thirdparty.read" not in rights:
        assert card.status_code == 403 and stream.status == 403
        return
    assert card.status_code == 200 and stream.status == 200, (card.status_code, stream.status)

    secret = posted(writer, author, tenant, customer, f"PRIVATE-{role}", private=True)
    public = posted(writer, author, tenant, customer, f"PUBLIC-{role}")
    assert f"PUBLIC-{role}" in stream.wait_for_event(public.id).data
    assert (secret.id in stream.event_ids()) == ("note.read_private" in rights)


def _set_role(app, tenant, user, role: str) -> frozenset:
    """Give ``user`` the built-in ``role`` or a custom role of the rights after ``custom:``; return their rights."""
    from sqlalchemy import select

    from app.models import Membership, Role
    from app.permissions import load_viewer

    with app.app_context(), tenant_context(tenant.id):
        member = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        if role.startswith("custom: "):
            custom = Role(name=role, rights=role.removeprefix("custom: ").split(" + "))
            db.session.add(custom)
            db.session.flush()
            member.role_id = custom.id
        else:
            member.role_id = db.session.scalar(select(Role.id).where(Role.key == role))
        db.session.commit()
        return load_viewer(user.id).rights


def _make_rep(app, tenant, customer, user) -> None:
    from app.models import SalesRep

    with app.app_context(), tenant_context(tenant.id):
        db.session.add(SalesRep(thirdparty_id=customer.id, membership_id=membership_id(app, tenant, user)))
        db.session.commit()


def test_an_event_needing_a_right_is_not_streamed_to_a_viewer_without_it(app, writer, streams, tenant, customer,
                                                                         colleague):
    stream = streams(tenant, customer, colleague)  # support: no invoice.read

    [paid] = add_events(writer, tenant, customer.id, [datetime.now(UTC)], kind="invoice_paid",
                        titles=["INVOICE-CANARY"], required_right="invoice.read")
    stream.wait_for_event(marker(writer, tenant, customer))

    assert paid not in stream.event_ids()


def test_the_stream_of_a_customer_of_another_organisation_is_not_found(app, tenant, customer):
    outsider = make_tenant(app, name="Beta")
    browser = signed_in(app, outsider.owner)

    assert browser.get(f"/{tenant.slug}/timeline/thirdparties/{customer.id}/stream").status_code == 404
    assert browser.get(f"/{outsider.slug}/timeline/thirdparties/{customer.id}/stream").status_code == 404


# --- ending streams ---

def test_a_deactivated_members_stream_gets_close_and_nothing_more(app, writer, streams, owner, tenant, customer,
                                                                   colleague):
    stream = streams(tenant, customer, colleague)
    stream.wait_for_event(marker(writer, tenant, customer))
    assert owner.post(f"/{tenant.slug}/admin/members/{membership_id(app, tenant, colleague)}/deactivate").status_code == 303

    after = marker(writer, tenant, customer)  # wakes the stream

    stream.wait_for(lambda m: m.event == "close", "event: close")
    stream.wait_for_end()
    assert after not in stream.event_ids()


def test_a_signed_out_users_stream_gets_close(app, writer, streams, tenant, customer, colleague):
    stream = streams(tenant, customer, colleague)
    stream.wait_for_event(marker(writer, tenant, customer))
    assert stream.browser.logout().status_code in (302, 303)

    after = marker(writer, tenant, customer)

    stream.wait_for(lambda m: m.event == "close", "event: close")
    stream.wait_for_end()
    assert after not in stream.event_ids()


@pytest.fixture
def limited(database_urls, mail_server):
    """A worker that serves at most two streams."""
    other = _other_app(database_urls, mail_server, LIVE_MAX_STREAMS=2)
    live = LiveServer(other)
    yield live
    live.stop()
    _dispose(other)


def test_a_stream_beyond_the_limit_gets_503(app, limited, streams, tenant, customer):
    opened = [streams(tenant, customer, tenant.owner, port=limited.port) for _ in range(2)]

    refused = streams(tenant, customer, tenant.owner, port=limited.port)

    assert [s.status for s in opened] == [200, 200]
    assert refused.status == 503
    assert refused.response.getheader("Retry-After")


@pytest.fixture
def short_lived(database_urls, mail_server):
    """A worker whose streams last one second (the browser then reconnects)."""
    other = _other_app(database_urls, mail_server, LIVE_STREAM_SECONDS=1)
    live = LiveServer(other)
    yield live
    live.stop()
    _dispose(other)


def test_a_stream_ends_when_its_lifetime_is_over(app, short_lived, streams, tenant, customer):
    stream = streams(tenant, customer, tenant.owner, port=short_lived.port)

    assert stream.status == 200
    stream.wait_for_end()
