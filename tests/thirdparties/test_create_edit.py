"""Creating, editing, archiving and restoring third parties through their pages: codes, history, validation."""
import re
from datetime import UTC, datetime

import pytest

from tests.customers import (
    add_event,
    all_codes,
    archive_thirdparty,
    audit_of,
    events_of,
    form_fields,
    listed_ids,
    make_field,
    make_tag,
    make_thirdparty,
    membership_of,
    read_thirdparty,
    set_code_pattern,
)
from tests.factories import add_member, make_tenant, make_user
from tests.helpers import path_of, text_of


def _base(tenant):
    return f"/{tenant.slug}/thirdparties"


def new_form(browser, tenant, **fields) -> dict:
    """The creation form as the browser shows it, with ``fields`` typed in (lists for repeated names)."""
    data = form_fields(browser.get(f"{_base(tenant)}/new").get_data(as_text=True), "thirdparty-form")
    data.update({k: v if isinstance(v, list) else [v] for k, v in fields.items()})
    return data


def edit_form(browser, tenant, thirdparty_id) -> dict:
    response = browser.get(f"{_base(tenant)}/{thirdparty_id}/edit")
    assert response.status_code == 200
    return form_fields(response.get_data(as_text=True), "thirdparty-form")


def _single_created(app, tenant):
    [event] = events_of(app, tenant, kind="thirdparty_created")
    return event


# --- creating ---

def test_creating_from_the_form_saves_every_section_and_opens_the_card(app, owner, tenant):
    vip = make_tag(app, tenant, "VIP")
    rep = add_member(app, tenant, make_user(app, name="Rita Rep"), role="sales")
    data = new_form(owner, tenant, **{
        "name": "  Dupont Frères  ", "is_prospect": "y", "vat_number": "fr 12 345", "website": "https://dupont.example",
        "description": "Met at the fair", "phones-0-label": "Office", "phones-0-value": "+33 1 23 45 67 89",
        "emails-0-label": "Accounts", "emails-0-value": "Compta@Dupont.example", "addresses-0-label": "HQ",
        "addresses-0-street": "1 rue de la Paix", "addresses-0-postcode": "75002", "addresses-0-city": "Paris",
        "addresses-0-country": "FR", "tag_ids": str(vip), "rep_ids": str(membership_of(app, tenant, rep)),
    })
    response = owner.post(f"{_base(tenant)}/", data)
    assert response.status_code == 303
    event = _single_created(app, tenant)
    assert path_of(response.location) == f"{_base(tenant)}/{event.thirdparty_id}"
    stored = read_thirdparty(app, tenant, event.thirdparty_id)
    assert {k: stored[k] for k in ("name", "is_customer", "is_prospect", "is_supplier", "vat_number", "website",
                                    "description", "addresses", "phones", "emails", "tag_ids", "rep_ids")} == {
        "name": "Dupont Frères", "is_customer": True, "is_prospect": True, "is_supplier": False, "vat_number": "FR12345",
        "website": "https://dupont.example", "description": "Met at the fair",
        "addresses": [["HQ", "1 rue de la Paix", "75002", "Paris", "FR"]], "phones": [["Office", "+33 1 23 45 67 89"]],
        "emails": [["Accounts", "compta@dupont.example"]], "tag_ids": [str(vip)],
        "rep_ids": [str(membership_of(app, tenant, rep))],
    }
    card = text_of(owner.get(response.location).get_data(as_text=True))
    assert f"Dupont Frères was created with the code {stored['code']}." in card
    assert "+33 1 23 45 67 89" in card and "compta@dupont.example" in card and "VIP" in card and "Rita Rep" in card


def test_an_htmx_creation_answers_a_redirect_header(app, owner, tenant):
    response = owner.post(f"{_base(tenant)}/", new_form(owner, tenant, name="Htmx SA"), htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"{_base(tenant)}/{_single_created(app, tenant).thirdparty_id}"


def test_codes_follow_the_default_pattern_and_count_up(app, owner, tenant):
    for name in ("First", "Second"):
        assert owner.post(f"{_base(tenant)}/", new_form(owner, tenant, name=name)).status_code == 303
    month = datetime.now(UTC).strftime("%y%m")
    assert all_codes(app, tenant) == [f"CU{month}-0001", f"CU{month}-0002"]


def test_codes_follow_the_pattern_set_in_the_catalog(app, owner, tenant):
    owner.post(f"{_base(tenant)}/", new_form(owner, tenant, name="Before"))
    response = owner.post(f"/{tenant.slug}/admin/numbering", {"pattern": "C-{yyyy}/{n:05}"})
    assert response.status_code == 303
    owner.post(f"{_base(tenant)}/", new_form(owner, tenant, name="After"))
    year = datetime.now(UTC).year
    assert all_codes(app, tenant)[0] == f"C-{year}/00002"  # the count goes on under the new pattern


def test_two_tenants_both_get_their_first_code(app, tenant):
    other = make_tenant(app, name="Bottega Beta")
    first_a = make_thirdparty(app, tenant, "Alpha customer")
    first_b = make_thirdparty(app, other, "Beta customer")
    assert first_a.code == first_b.code and first_a.code.endswith("-0001")


def test_a_pattern_change_never_reissues_a_code_already_taken(app, owner, tenant):
    set_code_pattern(app, tenant, "A{n}2")
    assert make_thirdparty(app, tenant, "Old").code == "A12"
    set_code_pattern(app, tenant, "A1{n}")  # its next code (n=2) would be A12 again
    response = owner.post(f"{_base(tenant)}/", new_form(owner, tenant, name="New"))
    assert response.status_code == 303
    codes = all_codes(app, tenant)
    assert len(codes) == len(set(codes)) == 2 and all(re.fullmatch(r"A1\d+", c) for c in codes)


def test_fields_the_form_does_not_have_are_ignored(app, owner, tenant):
    other = make_tenant(app)
    data = new_form(owner, tenant, name="Tamper", code="HACKED", tenant_id=str(other.id), version="99", archived_at="2020-01-01")
    assert owner.post(f"{_base(tenant)}/", data).status_code == 303
    stored = read_thirdparty(app, tenant, _single_created(app, tenant).thirdparty_id)
    assert stored["code"] != "HACKED" and stored["version"] == 1 and not stored["archived"]


def test_creating_records_the_event_and_the_audit_entries(app, owner, tenant):
    owner.post(f"{_base(tenant)}/", new_form(owner, tenant, **{"name": "Audited", "phones-0-value": "0102030405"}))
    event = _single_created(app, tenant)
    assert event.actor_id == tenant.owner.id and event.title == "Audited"
    assert event.payload == {"code": read_thirdparty(app, tenant, event.thirdparty_id)["code"], "kinds": ["customer"]}
    entries = audit_of(app, tenant)
    [created] = [e for e in entries if e.entity_type == "thirdparty"]
    assert created.action == "create" and created.entity_id == event.thirdparty_id and created.actor_id == tenant.owner.id
    assert created.changes["name"] == [None, "Audited"] and created.changes["code"][1] == event.payload["code"]
    [phone] = [e for e in entries if e.entity_type == "channel"]
    assert phone.action == "create" and phone.changes["value"] == [None, "0102030405"]


# --- invalid input: 422 and the user's input kept ---

@pytest.mark.parametrize(("fields", "message"), [
    ({"name": "   "}, "This field is required."),
    ({"is_customer": []}, "Choose at least one: customer, prospect or supplier."),
    ({"emails-0-value": "not-an-address"}, "Enter a valid e-mail address."),
    ({"website": "dupont dot com"}, "Enter a web address like https://example.com"),
    ({"website": "javascript:alert(document.domain)"}, "Enter a web address like https://example.com"),
    ({"phones-0-value": "call me"}, "Enter a phone number."),
    ({"phones-0-label": "L" * 41}, "Field cannot be longer than 40 characters."),
    ({"emails-0-label": "L" * 41}, "Field cannot be longer than 40 characters."),
    ({"addresses-0-street": "S" * 501}, "Field cannot be longer than 500 characters."),
    ({"addresses-0-city": "C" * 101}, "Field cannot be longer than 100 characters."),
], ids=["no-name", "no-type", "bad-email", "bad-website", "javascript-website", "bad-phone", "long-phone-label",
        "long-email-label", "long-street", "long-city"])
def test_invalid_input_answers_422_with_the_input_kept(app, owner, tenant, fields, message):
    typed = {"name": "Keep Me SARL", "vat_number": "FR999", "phones-0-value": "0611223344", "emails-0-value": "keep@me.example",
             "addresses-0-city": "Lyon", "description": "typed by hand"}
    response = owner.post(f"{_base(tenant)}/", new_form(owner, tenant, **{**typed, **fields}), htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and body.lstrip().startswith('<form id="thirdparty-form"')
    assert message in text_of(body)
    kept = form_fields(body, "thirdparty-form")
    for name, value in {**typed, **fields}.items():
        if value == []:
            assert name not in kept
        else:
            assert kept[name] == [value.strip()], name
    assert events_of(app, tenant) == [] and all_codes(app, tenant) == []


@pytest.mark.parametrize("website", ["javascript://example.com/%0Aalert(1)", "JAVASCRIPT://x.example.com/a",
                                     "data://text.example/html,x", "vbscript://example.com/x"])
def test_a_script_website_never_becomes_a_link(app, owner, tenant, website):
    response = owner.post(f"{_base(tenant)}/", new_form(owner, tenant, name="Linky", website=website))
    if response.status_code == 422:
        return  # refused: fine
    assert response.status_code == 303
    card = owner.get(response.location).get_data(as_text=True)
    hrefs = re.findall(r'href="([^"]*)"', card)
    assert not [h for h in hrefs if h.lower().startswith(("javascript", "data", "vbscript"))]


def test_a_stored_script_website_is_shown_as_text_only(app, owner, tenant):
    tp = make_thirdparty(app, tenant, "Imported", website="javascript:alert(1)")  # e.g. from an import
    card = owner.get(f"{_base(tenant)}/{tp.id}").get_data(as_text=True)
    assert "javascript:alert(1)" in text_of(card)
    assert 'href="javascript' not in card.lower()


def test_an_invalid_edit_answers_422_and_changes_nothing(app, owner, tenant):
    tp = make_thirdparty(app, tenant, "Stable", emails=[["", "ok@stable.example"]])
    before = read_thirdparty(app, tenant, tp.id)
    data = edit_form(owner, tenant, tp.id)
    data.update({"name": ["Renamed"], "emails-0-value": ["broken@"]})
    response = owner.post(f"{_base(tenant)}/{tp.id}/edit", data, htmx=True)
    assert response.status_code == 422
    assert form_fields(response.get_data(as_text=True), "thirdparty-form")["name"] == ["Renamed"]
    assert read_thirdparty(app, tenant, tp.id) == before
    assert [e.kind for e in events_of(app, tenant)] == ["thirdparty_created"]


# --- editing: what changed lands on the timeline and in the audit log ---

def test_an_edit_records_old_and_new_values_of_every_changed_field(app, owner, tenant):
    vip, key = make_tag(app, tenant, "VIP"), make_tag(app, tenant, "Key account")
    rep = add_member(app, tenant, make_user(app, name="Rita Rep"), role="sales")
    tp = make_thirdparty(app, tenant, "Before SARL", vat_number="FR1", tag_ids=[vip], reps=[tenant.owner],
                         phones=[["Office", "0100000000"]], emails=[["", "old@before.example"]],
                         addresses=[["HQ", "1 old street", "75001", "Paris", "FR"]])
    owner_rep, new_rep = str(membership_of(app, tenant, tenant.owner)), str(membership_of(app, tenant, rep))
    data = edit_form(owner, tenant, tp.id)
    data.update({"name": ["After SARL"], "is_supplier": ["y"], "vat_number": ["FR2"], "website": ["https://after.example"],
                 "phones-0-value": ["0200000000"], "emails-0-value": ["new@after.example"], "addresses-0-city": ["Lyon"],
                 "tag_ids": [str(key)], "rep_ids": [new_rep]})
    assert owner.post(f"{_base(tenant)}/{tp.id}/edit", data).status_code == 303
    [event] = events_of(app, tenant, kind="thirdparty_updated")
    assert event.actor_id == tenant.owner.id
    assert event.payload["changes"] == {
        "name": ["Before SARL", "After SARL"], "is_supplier": [False, True], "vat_number": ["FR1", "FR2"],
        "website": ["", "https://after.example"],
        "phones": [[["Office", "0100000000"]], [["Office", "0200000000"]]],
        "emails": [[["", "old@before.example"]], [["", "new@after.example"]]],
        "addresses": [[["HQ", "1 old street", "75001", "Paris", "FR"]], [["HQ", "1 old street", "75001", "Lyon", "FR"]]],
        "tags": [[str(vip)], [str(key)]], "reps": [[owner_rep], [new_rep]],
    }


def test_the_card_timeline_shows_a_change_with_readable_names(app, owner, tenant):
    vip = make_tag(app, tenant, "VIP")
    tp = make_thirdparty(app, tenant, "Before SARL")
    data = edit_form(owner, tenant, tp.id)
    data.update({"name": ["After SARL"], "tag_ids": [str(vip)]})
    owner.post(f"{_base(tenant)}/{tp.id}/edit", data)
    card = text_of(owner.get(f"{_base(tenant)}/{tp.id}").get_data(as_text=True))
    assert re.search(r"Name\s*:\s*Before SARL\s*→\s*After SARL", card)
    assert re.search(r"Tags\s*:\s*—\s*→\s*VIP", card)


def test_an_edit_writes_field_level_audit_entries(app, owner, tenant):
    tp = make_thirdparty(app, tenant, "Before", phones=[["", "0100000000"]])
    seen = len(audit_of(app, tenant))
    data = edit_form(owner, tenant, tp.id)
    data.update({"name": ["After"], "phones-0-value": ["0200000000"]})
    owner.post(f"{_base(tenant)}/{tp.id}/edit", data)
    new = audit_of(app, tenant)[seen:]
    [update] = [e for e in new if e.entity_type == "thirdparty"]
    assert update.action == "update" and update.entity_id == tp.id and update.actor_id == tenant.owner.id
    assert update.changes == {"name": ["Before", "After"]}
    channels = sorted((e.action, e.changes["value"]) for e in new if e.entity_type == "channel")
    assert channels == [("create", [None, "0200000000"]), ("delete", ["0100000000", None])]


def test_saving_the_form_unchanged_records_nothing(app, owner, tenant):
    vip = make_tag(app, tenant, "VIP")
    tier = make_field(app, tenant, "Tier", "choice", choices=["Gold", "Silver"])
    since = make_field(app, tenant, "Since", "date")
    tp = make_thirdparty(app, tenant, "Quiet SARL", is_prospect=True, vat_number="FR1", website="https://quiet.example",
                         description="Two lines\nof notes", tag_ids=[vip], reps=[tenant.owner],
                         custom={tier: "Gold", since: "2020-02-29"}, phones=[["Office", "0100000000"]],
                         emails=[["Accounts", "a@quiet.example"]],
                         addresses=[["HQ", "1 rue Haute\nBâtiment B", "75001", "Paris", "FR"]])
    before, events_before, audit_before = read_thirdparty(app, tenant, tp.id), events_of(app, tenant), audit_of(app, tenant)
    response = owner.post(f"{_base(tenant)}/{tp.id}/edit", edit_form(owner, tenant, tp.id))
    assert response.status_code == 303
    assert read_thirdparty(app, tenant, tp.id) == before
    assert events_of(app, tenant) == events_before and audit_of(app, tenant) == audit_before


# --- archiving and restoring ---

def test_archiving_records_an_event_and_hides_it_from_the_active_list(app, owner, tenant):
    tp = make_thirdparty(app, tenant, "Sleepy SARL")
    response = owner.post(f"{_base(tenant)}/{tp.id}/archive", htmx=True)
    assert response.headers["HX-Redirect"] == f"{_base(tenant)}/{tp.id}"
    assert read_thirdparty(app, tenant, tp.id)["archived"]
    assert [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id)] == ["thirdparty_created", "thirdparty_archived"]
    [entry] = [e for e in audit_of(app, tenant, entity_id=tp.id) if e.action == "update"]
    assert entry.changes["archived_at"][0] is None and entry.changes["archived_at"][1]
    assert str(tp.id) not in listed_ids(owner.get(f"{_base(tenant)}/").get_data(as_text=True))
    assert listed_ids(owner.get(f"{_base(tenant)}/?status=archived").get_data(as_text=True)) == [str(tp.id)]
    assert "Archived" in text_of(owner.get(f"{_base(tenant)}/{tp.id}").get_data(as_text=True))


def test_restoring_records_an_event_and_brings_it_back(app, owner, tenant):
    tp = make_thirdparty(app, tenant, "Back SARL")
    archive_thirdparty(app, tenant, tp.id)
    assert owner.post(f"{_base(tenant)}/{tp.id}/restore").status_code == 303
    assert not read_thirdparty(app, tenant, tp.id)["archived"]
    assert events_of(app, tenant, thirdparty_id=tp.id)[-1].kind == "thirdparty_restored"
    assert listed_ids(owner.get(f"{_base(tenant)}/").get_data(as_text=True)) == [str(tp.id)]


def test_archiving_twice_records_one_event(app, owner, tenant):
    tp = make_thirdparty(app, tenant, "Twice")
    owner.post(f"{_base(tenant)}/{tp.id}/archive")
    owner.post(f"{_base(tenant)}/{tp.id}/archive")
    assert [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id)].count("thirdparty_archived") == 1


def test_the_timeline_pages_older_events_without_repeats(app, owner, tenant):
    tp = make_thirdparty(app, tenant, "Busy SARL")
    for n in range(35):
        add_event(app, tenant, tp.id, title=f"event {n:02}")
    first = owner.get(f"{_base(tenant)}/{tp.id}").get_data(as_text=True)
    [next_url] = re.findall(r'<li class="load-more" hx-get="([^"]+)"', first)
    rest = owner.get(next_url.replace("&amp;", "&"), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in rest
    seen = re.findall(r'id="ev-([0-9a-f-]+)"', first) + re.findall(r'id="ev-([0-9a-f-]+)"', rest)
    assert len(seen) == len(set(seen)) == 36

