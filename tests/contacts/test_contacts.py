"""Contacts: creating, searching, editing, moving to another third party, archiving; their history."""
import re

import pytest

from tests.customers import audit_of, events_of, form_fields, fragment, make_contact, make_thirdparty, move_contact, read_contact
from tests.helpers import path_of, text_of


@pytest.fixture
def company(app, tenant):
    return make_thirdparty(app, tenant, "Dupont SARL")


def _new_form(browser, tenant, thirdparty_id, **typed):
    response = browser.get(f"/{tenant.slug}/contacts/new?thirdparty={thirdparty_id}")
    assert response.status_code == 200
    data = form_fields(response.get_data(as_text=True), "contact-form")
    data.update({k: v if isinstance(v, list) else [v] for k, v in typed.items()})
    return data


def _edit_form(browser, tenant, contact_id):
    return form_fields(browser.get(f"/{tenant.slug}/contacts/{contact_id}/edit").get_data(as_text=True), "contact-form")


def _ids(page):
    return re.findall(r'href="/[^/]+/contacts/([0-9a-f-]{36})"', page)


# --- creating ---

def test_creating_a_contact_saves_every_field_and_opens_their_card(app, owner, tenant, company):
    data = _new_form(owner, tenant, company.id, **{
        "first_name": "Marie", "last_name": "Curie", "job_title": "Head of purchasing", "phones-0-label": "Mobile",
        "phones-0-value": "+33 6 12 34 56 78", "emails-0-label": "Work", "emails-0-value": "Marie.Curie@Dupont.example",
        "preferred_language": "fr", "preferred_channel": "email", "consent_email": "y", "description": "Prefers mornings"})
    assert data["thirdparty_id"] == [str(company.id)]
    response = owner.post(f"/{tenant.slug}/contacts/", data)
    assert response.status_code == 303
    [event] = events_of(app, tenant, kind="contact_added")
    assert path_of(response.location) == f"/{tenant.slug}/contacts/{event.contact_id}"
    stored = read_contact(app, tenant, event.contact_id)
    assert {k: stored[k] for k in ("first_name", "last_name", "job_title", "phones", "emails", "preferred_language",
                                    "preferred_channel", "consent_email", "consent_phone", "description", "thirdparty_id")} == {
        "first_name": "Marie", "last_name": "Curie", "job_title": "Head of purchasing", "phones": [["Mobile", "+33 6 12 34 56 78"]],
        "emails": [["Work", "marie.curie@dupont.example"]], "preferred_language": "fr", "preferred_channel": "email",
        "consent_email": True, "consent_phone": False, "description": "Prefers mornings", "thirdparty_id": company.id}
    assert stored["consent_updated_at"] is not None
    card = " ".join(text_of(owner.get(response.location).get_data(as_text=True)).split())
    assert "Marie Curie" in card and "Prefers: E-mail" in card and "E-mails: yes · Calls: no" in card


def test_creating_a_contact_records_it_on_the_company_timeline_and_in_the_audit_log(app, owner, tenant, company):
    owner.post(f"/{tenant.slug}/contacts/", _new_form(owner, tenant, company.id, last_name="Curie", job_title="CEO"))
    [event] = events_of(app, tenant, kind="contact_added")
    assert (event.thirdparty_id, event.title, event.payload, event.actor_id) == (company.id, "Curie", {"job_title": "CEO"},
                                                                                 tenant.owner.id)
    [entry] = audit_of(app, tenant, entity_type="contact")
    assert entry.action == "create" and entry.entity_id == event.contact_id and entry.changes["last_name"] == [None, "Curie"]
    assert "Curie" in text_of(owner.get(f"/{tenant.slug}/thirdparties/{company.id}").get_data(as_text=True))


@pytest.mark.parametrize(("typed", "message"), [
    ({"last_name": ""}, "This field is required."),
    ({"emails-0-value": "marie@"}, "Enter a valid e-mail address."),
    ({"phones-0-value": "no digits"}, "Enter a phone number."),
    ({"preferred_channel": "pigeon"}, "Not a valid choice."),
], ids=["no-last-name", "bad-email", "bad-phone", "bad-channel"])
def test_invalid_contact_input_answers_422_with_the_input_kept(app, owner, tenant, company, typed, message):
    data = _new_form(owner, tenant, company.id, **{"first_name": "Marie", "last_name": "Curie", "job_title": "CEO", **typed})
    response = owner.post(f"/{tenant.slug}/contacts/", data, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in text_of(body) and "<html" not in body
    kept = form_fields(body, "contact-form")
    assert kept["first_name"] == ["Marie"] and kept["job_title"] == ["CEO"] and kept["thirdparty_id"] == [str(company.id)]
    if "value" in next(iter(typed)):
        assert kept[next(iter(typed))] == list(typed.values())
    assert events_of(app, tenant, kind="contact_added") == []


def test_a_contact_needs_an_existing_company(app, owner, tenant):
    assert owner.get(f"/{tenant.slug}/contacts/new").status_code == 404
    assert owner.get(f"/{tenant.slug}/contacts/new?thirdparty=not-a-uuid").status_code == 404
    assert owner.post(f"/{tenant.slug}/contacts/", {"last_name": "Orphan"}).status_code == 404


# --- search ---

@pytest.mark.parametrize("text", ["curie", "MARIE", "head of", "marie.curie@", "612 34"],
                         ids=["last-name", "first-name", "job", "email", "phone"])
def test_the_contact_search_finds_by_name_job_email_and_phone(app, owner, tenant, company, text):
    marie = make_contact(app, tenant, company.id, "Curie", first_name="Marie", job_title="Head of purchasing",
                         emails=[["", "marie.curie@dupont.example"]], phones=[["", "+33 612 34 56"]])
    make_contact(app, tenant, company.id, "Pasteur", first_name="Louis", job_title="Chemist")
    page = fragment(owner, f"/{tenant.slug}/contacts/?q={text}").get_data(as_text=True)
    assert page.lstrip().startswith('<div id="results">') and _ids(page) == [str(marie.id)]


def test_the_contact_search_matches_percent_literally(app, owner, tenant, company):
    make_contact(app, tenant, company.id, "100% Sales")
    make_contact(app, tenant, company.id, "1000 Sales")
    page = owner.get(f"/{tenant.slug}/contacts/", query_string={"q": "100%"}).get_data(as_text=True)
    assert len(_ids(page)) == 1 and "100% Sales" in text_of(page)


# --- editing ---

def test_an_edit_records_the_changed_fields_old_and_new(app, owner, tenant, company):
    contact = make_contact(app, tenant, company.id, "Curie", job_title="CEO", phones=[["", "0600000000"]])
    data = _edit_form(owner, tenant, contact.id)
    data.update({"job_title": ["Chair"], "phones-0-value": ["0700000000"], "consent_phone": ["y"], "preferred_channel": ["phone"]})
    assert owner.post(f"/{tenant.slug}/contacts/{contact.id}/edit", data).status_code == 303
    [event] = events_of(app, tenant, kind="contact_updated")
    assert event.contact_id == contact.id and event.thirdparty_id == company.id
    assert event.payload["changes"] == {"job_title": ["CEO", "Chair"], "consent_phone": [False, True],
                                        "preferred_channel": ["any", "phone"],
                                        "phones": [[["", "0600000000"]], [["", "0700000000"]]]}
    assert read_contact(app, tenant, contact.id)["consent_updated_at"] is not None
    entries = [e for e in audit_of(app, tenant, entity_id=contact.id) if e.action == "update"]
    assert entries[0].changes == {"job_title": ["CEO", "Chair"], "consent_phone": [False, True],
                                  "preferred_channel": ["any", "phone"]}


def test_saving_a_contact_unchanged_records_nothing(app, owner, tenant, company):
    contact = make_contact(app, tenant, company.id, "Curie", first_name="Marie", job_title="CEO", consent_email=True,
                           preferred_language="fr", preferred_channel="sms", description="Line one\nLine two",
                           phones=[["Mobile", "0600000000"]], emails=[["Work", "m@dupont.example"]])
    before, events, audit = read_contact(app, tenant, contact.id), events_of(app, tenant), audit_of(app, tenant)
    assert owner.post(f"/{tenant.slug}/contacts/{contact.id}/edit", _edit_form(owner, tenant, contact.id)).status_code == 303
    assert read_contact(app, tenant, contact.id) == before
    assert events_of(app, tenant) == events and audit_of(app, tenant) == audit


def test_an_invalid_edit_answers_422_and_changes_nothing(app, owner, tenant, company):
    contact = make_contact(app, tenant, company.id, "Curie")
    before = read_contact(app, tenant, contact.id)
    data = {**_edit_form(owner, tenant, contact.id), "last_name": [""], "job_title": ["Typed"]}
    response = owner.post(f"/{tenant.slug}/contacts/{contact.id}/edit", data, htmx=True)
    assert response.status_code == 422
    assert form_fields(response.get_data(as_text=True), "contact-form")["job_title"] == ["Typed"]
    assert read_contact(app, tenant, contact.id) == before


# --- moving to another company ---

@pytest.fixture
def moved(app, owner, tenant, company):
    """Marie, added at Dupont, moved to Martin through the move page."""
    target = make_thirdparty(app, tenant, "Martin & Fils")
    contact = make_contact(app, tenant, company.id, "Curie", first_name="Marie")
    response = owner.post(f"/{tenant.slug}/contacts/{contact.id}/move", {"thirdparty_id": str(target.id)})
    assert response.status_code == 303 and path_of(response.location) == f"/{tenant.slug}/contacts/{contact.id}"
    return contact, target


def test_moving_a_contact_changes_their_company(app, tenant, company, moved):
    contact, target = moved
    assert read_contact(app, tenant, contact.id)["thirdparty_id"] == target.id


def test_a_move_is_recorded_on_both_timelines(app, tenant, company, moved):
    contact, target = moved
    out = events_of(app, tenant, thirdparty_id=company.id, kind="contact_moved_out")
    into = events_of(app, tenant, thirdparty_id=target.id, kind="contact_moved_in")
    assert len(out) == len(into) == 1
    assert out[0].payload == into[0].payload == {"from": "Dupont SARL", "to": "Martin & Fils", "from_id": str(company.id),
                                                 "to_id": str(target.id)}
    assert out[0].contact_id == into[0].contact_id == contact.id


def test_earlier_events_stay_on_the_old_company(app, owner, tenant, company, moved):
    contact, target = moved
    assert [e.kind for e in events_of(app, tenant, thirdparty_id=company.id, contact_id=contact.id)] == [
        "contact_added", "contact_moved_out"]
    assert [e.kind for e in events_of(app, tenant, thirdparty_id=target.id, contact_id=contact.id)] == ["contact_moved_in"]
    old_card = text_of(owner.get(f"/{tenant.slug}/thirdparties/{company.id}").get_data(as_text=True))
    assert "Contact added" in old_card and "Contact moved away" in old_card


def test_later_changes_land_on_the_new_company_only(app, owner, tenant, company, moved):
    contact, target = moved
    data = {**_edit_form(owner, tenant, contact.id), "job_title": ["New job"]}
    owner.post(f"/{tenant.slug}/contacts/{contact.id}/edit", data)
    [event] = events_of(app, tenant, kind="contact_updated")
    assert event.thirdparty_id == target.id


def test_the_contact_card_shows_their_whole_history(app, owner, tenant, company, moved):
    contact, _target = moved
    card = owner.get(f"/{tenant.slug}/contacts/{contact.id}").get_data(as_text=True)
    shown = set(re.findall(r'class="event event-([a-z_]+)"', card))
    assert shown == {"contact_added", "contact_moved_out", "contact_moved_in"}
    assert "Martin &amp; Fils" in card


def test_the_move_page_searches_other_companies(app, owner, tenant, company):
    make_thirdparty(app, tenant, "Dupont Industries")
    contact = make_contact(app, tenant, company.id, "Curie")
    body = fragment(owner, f"/{tenant.slug}/contacts/{contact.id}/move?q=dupont").get_data(as_text=True)
    assert body.lstrip().startswith('<div id="candidates">')
    assert "Dupont Industries" in body and "Dupont SARL" not in body  # not to where they already are


def test_moving_to_the_same_company_records_nothing(app, owner, tenant, company):
    contact = make_contact(app, tenant, company.id, "Curie")
    owner.post(f"/{tenant.slug}/contacts/{contact.id}/move", {"thirdparty_id": str(company.id)})
    assert [e.kind for e in events_of(app, tenant, contact_id=contact.id)] == ["contact_added"]


def test_moving_to_an_unknown_company_is_not_found(app, owner, tenant, company):
    contact = make_contact(app, tenant, company.id, "Curie")
    for target in ("", "not-a-uuid", "01a20000-0000-7000-8000-000000000000"):
        assert owner.post(f"/{tenant.slug}/contacts/{contact.id}/move", {"thirdparty_id": target}).status_code == 404
    assert read_contact(app, tenant, contact.id)["thirdparty_id"] == company.id


# --- archiving ---

def test_archiving_a_contact_records_it_and_hides_them_from_the_search(app, owner, tenant, company):
    contact = make_contact(app, tenant, company.id, "Curie")
    assert owner.post(f"/{tenant.slug}/contacts/{contact.id}/archive", htmx=True).headers["HX-Redirect"] == \
        f"/{tenant.slug}/contacts/{contact.id}"
    assert read_contact(app, tenant, contact.id)["archived"]
    assert events_of(app, tenant, contact_id=contact.id)[-1].kind == "contact_archived"
    assert _ids(owner.get(f"/{tenant.slug}/contacts/?q=curie").get_data(as_text=True)) == []
    card = owner.get(f"/{tenant.slug}/thirdparties/{company.id}").get_data(as_text=True)
    people = card[card.index('<ul class="contact-list">'):card.index("</ul>", card.index('<ul class="contact-list">'))]
    assert str(contact.id) not in people
    assert "Archived" in text_of(owner.get(f"/{tenant.slug}/contacts/{contact.id}").get_data(as_text=True))


def test_restoring_a_contact_brings_them_back(app, owner, tenant, company):
    contact = make_contact(app, tenant, company.id, "Curie")
    owner.post(f"/{tenant.slug}/contacts/{contact.id}/archive")
    assert owner.post(f"/{tenant.slug}/contacts/{contact.id}/restore").status_code == 303
    assert not read_contact(app, tenant, contact.id)["archived"]
    assert [e.kind for e in events_of(app, tenant, contact_id=contact.id)][-2:] == ["contact_archived", "contact_restored"]
    assert _ids(owner.get(f"/{tenant.slug}/contacts/?q=curie").get_data(as_text=True)) == [str(contact.id)]


def test_a_moved_contact_can_be_moved_back(app, owner, tenant, company):
    target = make_thirdparty(app, tenant, "Martin")
    contact = make_contact(app, tenant, company.id, "Curie")
    move_contact(app, tenant, contact.id, target.id)
    owner.post(f"/{tenant.slug}/contacts/{contact.id}/move", {"thirdparty_id": str(company.id)})
    assert read_contact(app, tenant, contact.id)["thirdparty_id"] == company.id
    assert [e.kind for e in events_of(app, tenant, thirdparty_id=company.id, contact_id=contact.id)] == [
        "contact_added", "contact_moved_out", "contact_moved_in"]
