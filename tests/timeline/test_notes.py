"""Notes on a customer card: writing (T20 idempotent retries), privacy, editing with versions (T21), pinning."""
import html
import json
import re
import threading
import uuid

import pytest

from tests.customers import make_contact, make_thirdparty
from tests.factories import add_member, make_user
from tests.helpers import text_of
from tests.timeline.support import (
    event_ids,
    events_about,
    grant_by_group,
    hidden_value,
    notes_of,
    notes_url,
    post_note,
    signed_in,
    textarea_text,
    versions_of,
)


def card(tenant, customer):
    return f"/{tenant.slug}/thirdparties/{customer.id}"


def only_note(app, tenant):
    [note] = notes_of(app, tenant)
    return note


# --- writing ---

def test_a_note_is_saved_with_its_event_titled_by_its_first_line(app, owner, tenant, customer):
    response = post_note(owner, tenant, customer.id, "Called Mrs Martin\nShe wants a quote before Friday.")

    assert response.status_code == 200
    note = only_note(app, tenant)
    assert note.body == "Called Mrs Martin\nShe wants a quote before Friday."
    assert note.author_id == tenant.owner.id
    [event] = events_about(app, tenant, note.id)
    assert (event.kind, event.title, event.body) == ("note_added", "Called Mrs Martin", note.body)


def test_the_htmx_answer_is_a_fresh_composer_and_the_new_event_out_of_band(app, owner, tenant, customer):
    response = post_note(owner, tenant, customer.id, "Prefers calls after 5 pm", key="key-1")

    page = response.get_data(as_text=True)
    [event] = events_about(app, tenant, only_note(app, tenant).id)
    assert "<html" not in page
    assert 'id="note-composer"' in page
    assert textarea_text(page) == ""
    assert hidden_value(page, "idempotency_key") not in ("", "key-1")
    assert 'hx-swap-oob="afterbegin:#timeline-live"' in page
    assert event_ids(page) == [event.id]


def test_a_plain_form_post_returns_to_the_card_of_the_contact_it_names(app, owner, tenant, customer):
    contact = make_contact(app, tenant, customer.id, "Martin")

    response = post_note(owner, tenant, customer.id, "Met at the fair", contact_id=contact.id, htmx=False)

    assert response.status_code == 303
    assert response.location.endswith(f"/{tenant.slug}/contacts/{contact.id}")
    assert only_note(app, tenant).contact_id == contact.id


def test_a_double_tap_with_one_key_makes_one_note_and_one_event(app, owner, tenant, customer):
    answers = [post_note(owner, tenant, customer.id, "Sent the brochure", key="tap-tap") for _ in range(2)]

    assert [a.status_code for a in answers] == [200, 200]
    note = only_note(app, tenant)
    assert len(events_about(app, tenant, note.id)) == 1
    assert event_ids(answers[1].get_data(as_text=True)) == event_ids(answers[0].get_data(as_text=True))


def test_ten_retries_after_lost_answers_still_make_one_note(app, owner, tenant, customer):
    for _ in range(10):
        assert post_note(owner, tenant, customer.id, "Quote 2026-114 accepted", key="retry-key").status_code == 200

    note = only_note(app, tenant)
    assert len(events_about(app, tenant, note.id)) == 1


def test_different_keys_make_different_notes(app, owner, tenant, customer):
    post_note(owner, tenant, customer.id, "Same words")
    post_note(owner, tenant, customer.id, "Same words")

    assert len(notes_of(app, tenant)) == 2


def test_the_same_key_with_another_text_is_refused_and_the_text_kept(app, owner, tenant, customer):
    post_note(owner, tenant, customer.id, "First text", key="reused-key")

    response = post_note(owner, tenant, customer.id, "A different text", key="reused-key")

    assert response.status_code in (409, 422)
    page = response.get_data(as_text=True)
    assert textarea_text(page) == "A different text"
    assert hidden_value(page, "idempotency_key") != "reused-key"  # sending again adds it as a new note
    assert [n.body for n in notes_of(app, tenant)] == ["First text"]


@pytest.mark.postgres
def test_five_concurrent_posts_with_one_key_make_one_note(app, tenant, customer):
    browsers = [signed_in(app, tenant.owner) for _ in range(5)]
    tokens = [b.csrf() for b in browsers]
    start = threading.Barrier(5)
    answers, errors = [], []

    def send(browser, token):
        try:
            start.wait()
            answers.append(browser.client.post(
                notes_url(tenant, customer.id), data={"body": "Signed the contract", "idempotency_key": "race-key"},
                headers={"HX-Request": "true", "X-CSRFToken": token}).status_code)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=send, args=pair) for pair in zip(browsers, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert answers == [200] * 5
    note = only_note(app, tenant)
    assert len(events_about(app, tenant, note.id)) == 1


def test_an_empty_note_is_refused_with_422_and_nothing_saved(app, owner, tenant, customer):
    response = post_note(owner, tenant, customer.id, "  \n ")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="note-composer"' in page and "Write something first." in page
    assert notes_of(app, tenant) == []


def test_a_read_only_member_cannot_write_a_note(app, tenant, customer):
    reader = signed_in(app, add_member(app, tenant, role="readonly"))

    assert post_note(reader, tenant, customer.id, "Sneaky").status_code == 403
    assert notes_of(app, tenant) == []


def test_a_note_on_a_customer_the_member_may_not_see_is_not_found(app, tenant, customer):
    seller = signed_in(app, add_member(app, tenant, role="sales"))  # sees only the customers assigned to them

    assert post_note(seller, tenant, customer.id, "Not my customer").status_code == 404
    assert notes_of(app, tenant) == []


def test_a_note_cannot_name_a_contact_of_another_customer(app, owner, tenant, customer):
    other = make_thirdparty(app, tenant, "Durand SA")
    stranger = make_contact(app, tenant, other.id, "Durand")

    assert post_note(owner, tenant, customer.id, "Wrong person", contact_id=stranger.id).status_code == 404
    assert notes_of(app, tenant) == []


def test_error_answers_go_to_the_flash_region_and_leave_the_typed_text_alone(owner, tenant, customer):
    """T19 client side: htmx swaps a failed save (5xx) into #flash, never over the composer; a 422 re-renders it."""
    page = owner.get(card(tenant, customer)).get_data(as_text=True)
    config = json.loads(html.unescape(re.search(r"<meta name=\"htmx-config\" content='([^']+)'", page).group(1)))

    def rule(code: int) -> dict:
        return next(r for r in config["responseHandling"] if re.fullmatch(r["code"], str(code)))

    for failure in (500, 502, 503, 504):
        assert rule(failure) == {"code": "[45]..", "swap": True, "error": True, "target": "#flash",
                                 "swapOverride": "innerHTML"}
    assert rule(422) == {"code": "422", "swap": True}
    assert rule(409) == {"code": "409", "swap": True}  # a conflict re-renders the form in place, input kept
    assert 'hx-target="this"' in page[page.find('<form id="note-composer"'):][:400]


# --- private notes ---

@pytest.fixture
def private_note(app, tenant, customer, colleague):
    """A private, pinned note written by the colleague."""
    post_note(signed_in(app, colleague), tenant, customer.id, "PRIVATE-CANARY salary talk", private=True, pinned=True)
    return only_note(app, tenant)


@pytest.fixture
def other_colleague(app, tenant):
    return add_member(app, tenant, make_user(app, name="Otto Support"), role="support")


def test_a_private_note_is_shown_to_its_author(app, tenant, customer, colleague, private_note):
    page = signed_in(app, colleague).get(card(tenant, customer)).get_data(as_text=True)

    assert page.count("PRIVATE-CANARY") == 2  # pinned on top and on the timeline


def test_a_private_note_is_hidden_from_a_colleague_everywhere_on_the_card(app, tenant, customer, private_note,
                                                                          other_colleague):
    browser = signed_in(app, other_colleague)
    base = card(tenant, customer)

    pages = [
        browser.get(base),
        browser.get(base, headers={"HX-Request": "true"}),
        browser.get(f"{base}?kind=notes", headers={"HX-Request": "true"}),
        browser.get(f"{base}?text=salary", headers={"HX-Request": "true"}),
    ]

    assert [p.status_code for p in pages] == [200] * 4
    [private_event] = events_about(app, tenant, private_note.id)
    for page in pages:
        assert "PRIVATE-CANARY" not in page.get_data(as_text=True)
        assert private_event.id not in event_ids(page.get_data(as_text=True))


def test_a_private_note_history_and_editor_are_not_found_for_a_colleague(app, tenant, private_note, other_colleague):
    browser = signed_in(app, other_colleague)
    notes = f"/{tenant.slug}/timeline/notes/{private_note.id}"

    assert browser.get(f"{notes}/versions").status_code == 404
    assert browser.get(f"{notes}/edit").status_code == 404
    assert browser.post(f"{notes}/edit", {"body": "overwritten", "version": "1"}).status_code == 404
    assert only_note(app, tenant).body == "PRIVATE-CANARY salary talk"


def test_a_private_note_is_visible_with_the_right_to_read_private_notes(app, tenant, customer, private_note,
                                                                         other_colleague):
    grant_by_group(app, tenant, other_colleague, "note.read_private")
    browser = signed_in(app, other_colleague)

    page = browser.get(card(tenant, customer)).get_data(as_text=True)

    assert page.count("PRIVATE-CANARY") == 2
    assert browser.get(f"/{tenant.slug}/timeline/notes/{private_note.id}/versions").status_code == 200


# --- editing ---

def edit_form(browser, tenant, note_id) -> dict:
    response = browser.get(f"/{tenant.slug}/timeline/notes/{note_id}/edit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return {"body": textarea_text(page).replace("\r\n", "\n"), "version": hidden_value(page, "version"),
            "base_body": hidden_value(page, "base_body")}


def save_edit(browser, tenant, note_id, form: dict, body: str):
    return browser.post(f"/{tenant.slug}/timeline/notes/{note_id}/edit", {**form, "body": body}, htmx=True)


def test_an_edit_keeps_the_previous_text_as_a_version(app, owner, tenant, customer):
    post_note(owner, tenant, customer.id, "Budget 10k")
    note = only_note(app, tenant)

    response = save_edit(owner, tenant, note.id, edit_form(owner, tenant, note.id), "Budget 12k\nconfirmed by e-mail")

    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(card(tenant, customer))
    assert only_note(app, tenant).body == "Budget 12k\nconfirmed by e-mail"
    assert versions_of(app, tenant, note.id) == ["Budget 10k"]
    assert [(e.kind, e.title) for e in events_about(app, tenant, note.id)] == [
        ("note_added", "Budget 10k"), ("note_edited", "Budget 12k")]
    history = text_of(owner.get(f"/{tenant.slug}/timeline/notes/{note.id}/versions").get_data(as_text=True))
    assert "Budget 12k" in history and "Budget 10k" in history


def test_a_stale_edit_is_refused_with_409_showing_their_text_and_keeping_yours(app, owner, tenant, customer, colleague):
    post_note(owner, tenant, customer.id, "Delivery on Monday")
    note = only_note(app, tenant)
    grant_by_group(app, tenant, colleague, "thirdparty.update")
    other = signed_in(app, colleague)
    mine, theirs = edit_form(owner, tenant, note.id), edit_form(other, tenant, note.id)
    assert save_edit(other, tenant, note.id, theirs, "Delivery on Tuesday").status_code == 200

    response = save_edit(owner, tenant, note.id, mine, "Delivery on Wednesday")

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Delivery on Tuesday" in text_of(page)
    assert textarea_text(page).strip() == "Delivery on Wednesday"
    assert only_note(app, tenant).body == "Delivery on Tuesday"
    assert versions_of(app, tenant, note.id) == ["Delivery on Monday"]


def test_after_a_conflict_saving_again_replaces_their_text(app, owner, tenant, customer, colleague):
    post_note(owner, tenant, customer.id, "Delivery on Monday")
    note = only_note(app, tenant)
    grant_by_group(app, tenant, colleague, "thirdparty.update")
    other = signed_in(app, colleague)
    mine, theirs = edit_form(owner, tenant, note.id), edit_form(other, tenant, note.id)
    save_edit(other, tenant, note.id, theirs, "Delivery on Tuesday")
    page = save_edit(owner, tenant, note.id, mine, "Delivery on Wednesday").get_data(as_text=True)
    refreshed = {"version": hidden_value(page, "version"), "base_body": hidden_value(page, "base_body")}

    assert save_edit(owner, tenant, note.id, refreshed, "Delivery on Wednesday").status_code == 200
    assert only_note(app, tenant).body == "Delivery on Wednesday"
    assert versions_of(app, tenant, note.id) == ["Delivery on Monday", "Delivery on Tuesday"]


def test_a_colleague_without_the_right_to_edit_customers_cannot_edit_my_note(app, owner, tenant, customer, colleague):
    post_note(owner, tenant, customer.id, "Mine")
    note = only_note(app, tenant)
    other = signed_in(app, colleague)

    assert other.get(f"/{tenant.slug}/timeline/notes/{note.id}/edit").status_code == 403
    assert other.post(f"/{tenant.slug}/timeline/notes/{note.id}/edit", {"body": "Theirs", "version": "1"}).status_code == 403
    assert only_note(app, tenant).body == "Mine"


# --- pinning ---

def pinned_section(page: str) -> str:
    start = page.find('<section class="pinned"')
    return page[start:page.find("</section>", start)] if start >= 0 else ""


def test_a_pinned_note_shows_on_top_of_the_card(app, owner, tenant, customer):
    post_note(owner, tenant, customer.id, "Always call before visiting")
    note = only_note(app, tenant)

    response = owner.post(f"/{tenant.slug}/timeline/notes/{note.id}/pin", htmx=True)

    assert response.status_code == 200
    assert only_note(app, tenant).pinned
    assert "Always call before visiting" in pinned_section(owner.get(card(tenant, customer)).get_data(as_text=True))


def test_an_unpinned_note_leaves_the_top_of_the_card(app, owner, tenant, customer):
    post_note(owner, tenant, customer.id, "Always call before visiting", pinned=True)
    note = only_note(app, tenant)
    assert "Always call before visiting" in pinned_section(owner.get(card(tenant, customer)).get_data(as_text=True))

    owner.post(f"/{tenant.slug}/timeline/notes/{note.id}/unpin", htmx=True)

    assert not only_note(app, tenant).pinned
    assert pinned_section(owner.get(card(tenant, customer)).get_data(as_text=True)) == ""


def test_notes_of_one_customer_do_not_appear_on_another(app, owner, tenant, customer):
    other = make_thirdparty(app, tenant, "Durand SA")
    post_note(owner, tenant, customer.id, "CANARY-" + uuid.uuid4().hex, pinned=True)

    assert "CANARY-" not in owner.get(card(tenant, other)).get_data(as_text=True)
