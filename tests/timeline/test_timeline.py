"""The customer timeline: keyset pages, day headers, filters kept in URLs, rights, the htmx fragment contract."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import TimelineEvent
from app.tenancy import tenant_context
from app.timeline.services import TimelineFilter, events_after, list_events
from tests.customers import links_to, make_contact, make_thirdparty, viewer_for
from tests.factories import add_member
from tests.timeline.support import add_events, day_headers, event_ids, events_about, notes_of, older_link, post_note, signed_in

BASE = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)  # a Monday, long ago: every day header is a full date


def card(tenant, customer, query: str = "") -> str:
    return f"/{tenant.slug}/thirdparties/{customer.id}" + (f"?{query}" if query else "")


def htmx_get(browser, url):
    response = browser.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def newest_first(app, tenant, customer) -> list:
    with app.app_context(), tenant_context(tenant.id):
        return list(db.session.scalars(select(TimelineEvent.id).where(TimelineEvent.thirdparty_id == customer.id)
                                       .order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())))


@pytest.fixture
def long_history(app, tenant, customer):
    """231 events over 7 days, in runs of 4 sharing one timestamp (page boundaries fall inside runs and days)."""
    moments = [BASE + timedelta(days=i // 33, minutes=(i % 33) // 4 * 10) for i in range(231)]
    add_events(app, tenant, customer.id, moments)
    return newest_first(app, tenant, customer)


def walk_pages(browser, first_url):
    """Follow the "older events" rows from the card as htmx does; return the pages' HTML."""
    pages = [browser.get(first_url).get_data(as_text=True)]
    while (url := older_link(pages[-1])) is not None:
        pages.append(htmx_get(browser, url))
        assert len(pages) < 50, "the older-events links never end"
    return pages


# --- keyset pages ---

def test_service_pages_return_every_event_once_in_order(app, tenant, customer, long_history):
    viewer = viewer_for(app, tenant, tenant.owner)
    seen, cursor, boundaries_in_runs, previous_last = [], None, 0, None
    with app.app_context(), tenant_context(tenant.id):
        while True:
            page, cursor = list_events(viewer, customer.id, TimelineFilter(), before=cursor)
            if page and page[0].occurred_at == previous_last:
                boundaries_in_runs += 1
            seen += [e.id for e in page]
            if cursor is None:
                break
            previous_last = page[-1].occurred_at

    assert seen == long_history
    assert boundaries_in_runs >= 2, "the data must put page boundaries inside runs of equal timestamps"


def test_older_event_links_walk_the_whole_timeline_without_gaps_or_repeats(owner, tenant, customer, long_history):
    pages = walk_pages(owner, card(tenant, customer))

    assert [i for page in pages for i in event_ids(page)] == long_history
    assert len(pages) == 8


def test_day_headers_are_not_repeated_across_pages(owner, tenant, customer, long_history):
    pages = walk_pages(owner, card(tenant, customer))

    headers = [h for page in pages for h in day_headers(page)]
    assert len(headers) == len(set(headers)) == 8  # today (the creation) and the 7 days of history
    assert "Monday, June 2, 2025" in headers


def test_older_rows_are_a_bare_fragment(owner, tenant, customer, long_history):
    first = owner.get(card(tenant, customer)).get_data(as_text=True)

    rows = htmx_get(owner, older_link(first))

    assert "<html" not in rows and 'id="timeline-section"' not in rows
    assert rows.lstrip().startswith("<li")


def test_events_after_a_cursor_come_oldest_first_including_equal_times(app, tenant, customer):
    moment = BASE + timedelta(days=3)
    ids = add_events(app, tenant, customer.id, [moment] * 3 + [moment + timedelta(seconds=1)])
    viewer = viewer_for(app, tenant, tenant.owner)
    first = sorted(ids[:3])[0]

    with app.app_context(), tenant_context(tenant.id):
        after = [e.id for e in events_after(viewer, customer.id, (moment, first))]

    assert after[:3] == sorted(ids[:3])[1:] + [ids[3]]


# --- the fragment contract ---

def test_the_card_as_htmx_answers_the_timeline_section_only(owner, tenant, customer):
    section = htmx_get(owner, card(tenant, customer))

    assert "<html" not in section
    assert section.lstrip().startswith('<section id="timeline-section"')


def test_the_full_card_contains_the_timeline_section(owner, tenant, customer):
    page = owner.get(card(tenant, customer)).get_data(as_text=True)

    assert "<html" in page and 'id="timeline-section"' in page and 'id="note-composer"' in page


# --- filters ---

@pytest.fixture
def varied(app, owner, tenant, customer):
    """A call note with a contact, a note without, changes on three days, and texts with LIKE wildcards."""
    contact = make_contact(app, tenant, customer.id, "Martin")
    post_note(owner, tenant, customer.id, "Call with Mrs Martin", contact_id=contact.id)
    post_note(owner, tenant, customer.id, "General remark")
    days = add_events(app, tenant, customer.id, [BASE + timedelta(days=d, hours=6) for d in (0, 1, 2)],
                      titles=["Monday change", "Tuesday change", "Wednesday change"])
    wild = add_events(app, tenant, customer.id, [BASE + timedelta(days=5)] * 4,
                      titles=["100% sure", "100 percent", "code a_b", "code axb"])
    return {"contact": contact, "days": days, "wild": wild}


def notes_events(app, tenant):
    return {n.body: events_about(app, tenant, n.id)[0].id for n in notes_of(app, tenant)}


def test_the_kind_filter_shows_only_notes(app, owner, tenant, customer, varied):
    shown = event_ids(htmx_get(owner, card(tenant, customer, "kind=notes")))

    assert sorted(shown) == sorted(notes_events(app, tenant).values())


def test_the_person_filter_shows_only_that_contacts_events(app, owner, tenant, customer, varied):
    contact = varied["contact"]

    shown = event_ids(htmx_get(owner, card(tenant, customer, f"person={contact.id}")))

    added = [e.id for e in events_about(app, tenant, contact.id)]  # "contact added"
    assert sorted(shown) == sorted(added + [notes_events(app, tenant)["Call with Mrs Martin"]])


def test_the_period_filter_keeps_whole_days_from_since_to_until(owner, tenant, customer, varied):
    shown = event_ids(htmx_get(owner, card(tenant, customer, "since=2025-06-03&until=2025-06-03")))

    assert shown == [varied["days"][1]]


def test_the_text_filter_takes_percent_literally(owner, tenant, customer, varied):
    shown = event_ids(htmx_get(owner, card(tenant, customer, "text=%25")))

    assert shown == [varied["wild"][0]]


def test_the_text_filter_takes_underscore_literally(owner, tenant, customer, varied):
    shown = event_ids(htmx_get(owner, card(tenant, customer, "text=a_b")))

    assert shown == [varied["wild"][2]]


def test_the_text_filter_ignores_case(owner, tenant, customer, varied):
    shown = event_ids(htmx_get(owner, card(tenant, customer, "text=GENERAL")))

    assert len(shown) == 1


def test_filters_in_the_url_fill_the_filter_form(app, owner, tenant, customer, varied):
    contact = varied["contact"]

    page = owner.get(card(tenant, customer, f"kind=notes&person={contact.id}&since=2025-06-01&until=2030-01-01&text=call"))

    body = page.get_data(as_text=True)
    assert '<option value="notes" selected>' in body
    assert f'<option value="{contact.id}" selected>' in body
    assert 'name="since" value="2025-06-01"' in body and 'name="until" value="2030-01-01"' in body
    assert 'name="text" value="call"' in body
    assert 'hx-push-url="true"' in body  # a filter change puts the filters in the address bar
    assert event_ids(body) == [notes_events(app, tenant)["Call with Mrs Martin"]]


def test_malformed_filters_are_ignored(owner, tenant, customer, varied):
    response = owner.get(card(tenant, customer, "kind=nope&person=not-a-uuid&since=yesterday&until=2025-13-45&before=x_y"),
                         headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert len(event_ids(response.get_data(as_text=True))) == 11  # everything


def test_the_older_events_link_keeps_the_filters(app, owner, tenant, customer):
    contact = make_contact(app, tenant, customer.id, "Martin")
    moments = [BASE + timedelta(hours=i) for i in range(45)]
    wanted = add_events(app, tenant, customer.id, moments, kind="note_added", subject_type="note",
                        contact_id=contact.id, titles=[f"kept {i}" for i in range(45)])
    add_events(app, tenant, customer.id, moments, kind="note_added", subject_type="note", contact_id=contact.id,
               titles=[f"other {i}" for i in range(45)])
    add_events(app, tenant, customer.id, moments, titles=[f"kept change {i}" for i in range(45)])
    query = f"kind=notes&person={contact.id}&since=2025-06-01&until=2025-06-30&text=kept"

    first = htmx_get(owner, card(tenant, customer, query))
    link = older_link(first)
    rest = htmx_get(owner, link)

    for part in ("kind=notes", f"person={contact.id}", "since=2025-06-01", "until=2025-06-30", "text=kept"):
        assert part in link
    assert sorted(event_ids(first) + event_ids(rest)) == sorted(wanted)
    assert older_link(rest) is None


# --- rights ---

def test_events_needing_a_right_are_hidden_from_viewers_without_it(app, tenant, customer, colleague):
    [invoice] = add_events(app, tenant, customer.id, [BASE], kind="invoice_paid", titles=["INVOICE-CANARY paid"],
                           required_right="invoice.read")
    [public] = add_events(app, tenant, customer.id, [BASE], titles=["Public change"])

    page = htmx_get(signed_in(app, colleague), card(tenant, customer))  # support: no invoice.read

    assert public in event_ids(page)
    assert invoice not in event_ids(page) and "INVOICE-CANARY" not in page


def test_events_needing_a_right_are_shown_to_viewers_with_it(app, owner, tenant, customer):
    [invoice] = add_events(app, tenant, customer.id, [BASE], kind="invoice_paid", titles=["INVOICE-CANARY paid"],
                           required_right="invoice.read")

    assert invoice in event_ids(htmx_get(owner, card(tenant, customer)))


def test_a_hidden_event_is_not_found_by_the_text_filter(app, tenant, customer, colleague):
    add_events(app, tenant, customer.id, [BASE], kind="invoice_paid", titles=["INVOICE-CANARY paid"],
               required_right="invoice.read")

    page = htmx_get(signed_in(app, colleague), card(tenant, customer, "text=paid"))

    assert event_ids(page) == []


def test_a_customer_the_viewer_may_not_see_has_no_timeline(app, tenant, customer):
    seller = signed_in(app, add_member(app, tenant, role="sales"))  # sees only the customers assigned to them

    assert seller.get(card(tenant, customer), headers={"HX-Request": "true"}).status_code == 404


# --- the contact card and links ---

def test_the_contact_card_shows_only_that_persons_events(app, owner, tenant, customer):
    martin = make_contact(app, tenant, customer.id, "Martin")
    durand = make_contact(app, tenant, customer.id, "Durand")
    post_note(owner, tenant, customer.id, "About Martin", contact_id=martin.id)
    post_note(owner, tenant, customer.id, "About Durand", contact_id=durand.id)

    page = htmx_get(owner, f"/{tenant.slug}/contacts/{martin.id}")

    assert 'id="timeline-section"' in page
    assert "About Martin" in page and "About Durand" not in page
    assert len(event_ids(page)) == 2  # added, and the note


def test_a_note_event_links_to_the_notes_history(app, owner, tenant, customer):
    post_note(owner, tenant, customer.id, "Linked note")
    [note] = notes_of(app, tenant)

    page = htmx_get(owner, card(tenant, customer))

    assert f"/{tenant.slug}/timeline/notes/{note.id}/versions" in links_to(page, f"/{tenant.slug}/timeline/notes/")


def test_a_contact_event_links_to_the_contacts_card(app, owner, tenant, customer):
    contact = make_contact(app, tenant, customer.id, "Martin")

    page = htmx_get(owner, card(tenant, customer))

    assert f"/{tenant.slug}/contacts/{contact.id}" in links_to(page, f"/{tenant.slug}/contacts/")


def test_another_customers_events_are_not_on_the_card(app, owner, tenant, customer):
    other = make_thirdparty(app, tenant, "Durand SA")
    [foreign] = add_events(app, tenant, other.id, [BASE], titles=["OTHER-CANARY"])

    page = htmx_get(owner, card(tenant, customer))

    assert foreign not in event_ids(page) and "OTHER-CANARY" not in page
