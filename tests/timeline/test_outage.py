"""QUALITY T19: a note typed while PostgreSQL is unavailable is never lost silently, nor saved twice.

A second app reaches PostgreSQL through a TCP fault proxy written for the test. With the proxy cut
(the database is down) or a connection reset around COMMIT, a save must answer a clear error (htmx
leaves the composer and its text as they are on an error), and sending the same form again once the
database is back must save the note exactly once, without restarting the app (``pool_pre_ping``).
"""
import pytest
from jinja2 import StrictUndefined
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import make_config
from tests.timeline.faultproxy import FaultProxy
from tests.timeline.support import count_events, events_about, notes_of, notes_url, post_note, signed_in, versions_of

pytestmark = pytest.mark.postgres

DOWN_MESSAGE = "The database is not answering; nothing was saved and your text is still in the form."


@pytest.fixture
def proxy(database_urls):
    url = make_url(database_urls["app"])
    fault = FaultProxy((url.host, url.port or 5432))
    yield fault
    fault.stop()


@pytest.fixture
def proxied(database_urls, mail_server, proxy):
    """An app instance whose every database connection goes through the proxy."""
    url = make_url(database_urls["app"]).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    other = create_app(make_config(database_urls, mail_server, SQLALCHEMY_DATABASE_URI=url))
    other.jinja_env.undefined = StrictUndefined
    yield other
    proxy.restore()
    other.extensions["storia_live"].stop()
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def writer(proxied, tenant, customer):
    """The owner, signed in on the proxied app, the card already loaded (pooled connections exist)."""
    browser = signed_in(proxied, tenant.owner)
    assert browser.get(f"/{tenant.slug}/thirdparties/{customer.id}").status_code == 200
    browser.token = browser.csrf()  # taken while the database answers; a page carries it in real life
    return browser


def send(writer, tenant, customer, body, key, *, htmx=True):
    """Post the composer with the token the page already had (no page load while the database is away)."""
    headers = {"HX-Request": "true", "X-CSRFToken": writer.token} if htmx else {}
    data = {"body": body, "idempotency_key": key, "contact_id": ""} | ({} if htmx else {"csrf_token": writer.token})
    return writer.client.post(notes_url(tenant, customer.id), data=data, headers=headers)


def test_a_note_sent_while_the_database_is_down_gets_a_clear_error_and_nothing_is_saved(app, proxy, writer, tenant,
                                                                                       customer):
    proxy.cut()

    response = send(writer, tenant, customer, "Typed during the outage", "outage-1")

    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert DOWN_MESSAGE in page
    assert "<html" not in page and "hx-swap-oob" not in page  # an error for #flash, not a success to swap
    assert notes_of(app, tenant) == []


def test_a_plain_form_sent_while_the_database_is_down_gets_the_error_page(app, proxy, writer, tenant, customer):
    proxy.cut()

    response = send(writer, tenant, customer, "Typed without JavaScript", "outage-2", htmx=False)

    assert response.status_code == 503
    assert DOWN_MESSAGE in response.get_data(as_text=True)
    assert notes_of(app, tenant) == []


def test_the_same_note_sent_again_after_the_database_returns_is_saved_once(app, proxy, writer, tenant, customer):
    proxy.cut()
    assert send(writer, tenant, customer, "Call back on Monday", "outage-3").status_code == 503
    proxy.restore()

    answers = [send(writer, tenant, customer, "Call back on Monday", "outage-3").status_code for _ in range(2)]

    assert answers == [200, 200]
    [note] = notes_of(app, tenant)
    assert note.body == "Call back on Monday"
    assert len(events_about(app, tenant, note.id)) == 1


def test_pages_answer_503_while_down_and_the_first_request_after_works(app, proxy, writer, tenant, customer):
    card = f"/{tenant.slug}/thirdparties/{customer.id}"
    proxy.cut()
    during = writer.get(card)
    proxy.restore()

    after = writer.get(card)

    assert during.status_code == 503
    assert after.status_code == 200 and "Dupont SARL" in after.get_data(as_text=True)


def test_a_reset_before_commit_reaches_the_database_saves_nothing_and_says_so(app, proxy, writer, tenant, customer):
    proxy.reset_at_commit(after_reply=False)

    response = send(writer, tenant, customer, "Lost on the wire", "commit-1")

    assert response.status_code == 503 and DOWN_MESSAGE in response.get_data(as_text=True)
    assert notes_of(app, tenant) == []
    assert count_events(app, tenant, kind="note_added") == 0  # neither the note nor its event
    assert send(writer, tenant, customer, "Lost on the wire", "commit-1").status_code == 200
    assert len(notes_of(app, tenant)) == 1
    assert count_events(app, tenant, kind="note_added") == 1


def test_a_commit_whose_answer_is_lost_is_not_duplicated_by_the_retry(app, proxy, writer, tenant, customer):
    proxy.reset_at_commit(after_reply=True)

    first = send(writer, tenant, customer, "Committed, answer lost", "commit-2")
    retry = send(writer, tenant, customer, "Committed, answer lost", "commit-2")

    assert first.status_code == 503  # the app cannot know; the user sees a failure and sends again
    assert retry.status_code == 200
    [note] = notes_of(app, tenant)
    assert len(events_about(app, tenant, note.id)) == 1


def test_an_edit_sent_while_the_database_is_down_changes_nothing_and_can_be_sent_again(app, proxy, writer, tenant,
                                                                                        customer):
    assert post_note(writer, tenant, customer.id, "Budget 10k").status_code == 200
    [note] = notes_of(app, tenant)
    edit = f"/{tenant.slug}/timeline/notes/{note.id}/edit"
    form = {"body": "Budget 12k", "version": "1", "base_body": "Budget 10k"}
    headers = {"HX-Request": "true", "X-CSRFToken": writer.token}
    proxy.cut()

    during = writer.client.post(edit, data=form, headers=headers)
    proxy.restore()
    assert notes_of(app, tenant)[0].body == "Budget 10k"
    after = writer.client.post(edit, data=form, headers=headers)

    assert during.status_code == 503 and DOWN_MESSAGE in during.get_data(as_text=True)
    assert after.status_code == 200
    assert notes_of(app, tenant)[0].body == "Budget 12k"
    assert versions_of(app, tenant, note.id) == ["Budget 10k"]
