"""Custom fields on the third-party and contact forms: each type validated, stored, shown, listed, filtered."""
import pytest

from tests.customers import (
    events_of,
    form_fields,
    listed_ids,
    make_contact,
    make_field,
    make_thirdparty,
    read_contact,
    read_thirdparty,
    submit,
)
from tests.helpers import text_of

CHOICES = ["Gold", "Gold Plus", "Silver"]
COLOURS = ["Red", "Blue", "Green"]

# type, what the user types, what is stored, how the card shows it
VALID = [
    ("text", "Blue sky", "Blue sky", "Blue sky"),
    ("long_text", "Line one\r\nLine two", "Line one\nLine two", "Line one"),
    ("number", "12.5", "12.5", "12.5"),
    ("money", "1234.5", "1234.50", "1,234.50"),
    ("date", "2024-03-01", "2024-03-01", "Mar 1, 2024"),
    ("choice", "Gold Plus", "Gold Plus", "Gold Plus"),
    ("multi_choice", ["Red", "Green"], ["Red", "Green"], "Red, Green"),
    ("checkbox", "y", True, "Yes"),
    ("url", "https://example.com/x?y=1", "https://example.com/x?y=1", "https://example.com/x?y=1"),
]

# type, what the user types, the message they get
INVALID = [
    ("number", "twelve", "Not a valid decimal value."),
    ("number", "NaN", "Enter a number"),
    ("number", "Infinity", "Enter a number"),
    ("number", "1e1000000", "Enter a number"),
    ("money", "12,50", "Not a valid decimal value."),
    ("money", "-inf", "Enter a number"),
    ("date", "2023-02-29", "Not a valid date value."),
    ("choice", "Platinum", "Not a valid choice."),
    ("multi_choice", ["Red", "Purple"], "'Purple' is not a valid choice for this field."),
    ("url", "example dot com", "Enter a web address like https://example.com"),
    ("url", "javascript:alert(1)", "Enter a web address like https://example.com"),
]

REQUIRED = ["text", "long_text", "number", "money", "date", "choice", "multi_choice", "url"]


def _choices(field_type):
    return CHOICES if field_type == "choice" else COLOURS if field_type == "multi_choice" else ()


def _field(app, tenant, field_type, *, entity="thirdparty", required=False, show_in_list=False):
    return make_field(app, tenant, f"My {field_type}", field_type, entity=entity, choices=_choices(field_type),
                      required=required, show_in_list=show_in_list)


def _post_thirdparty(browser, tenant, **fields):
    data = form_fields(browser.get(f"/{tenant.slug}/thirdparties/new").get_data(as_text=True), "thirdparty-form")
    data.update({"name": ["With fields"], **{k: v if isinstance(v, list) else [v] for k, v in fields.items()}})
    return submit(browser, f"/{tenant.slug}/thirdparties/", data, htmx=True)


def _post_contact(browser, tenant, thirdparty_id, **fields):
    page = browser.get(f"/{tenant.slug}/contacts/new?thirdparty={thirdparty_id}").get_data(as_text=True)
    data = form_fields(page, "contact-form")
    data.update({"last_name": ["Person"], **{k: v if isinstance(v, list) else [v] for k, v in fields.items()}})
    return submit(browser, f"/{tenant.slug}/contacts/", data, htmx=True)


def _created_id(app, tenant, kind="thirdparty_created"):
    [event] = events_of(app, tenant, kind=kind)
    return event.thirdparty_id if kind == "thirdparty_created" else event.contact_id


# --- third parties ---

@pytest.mark.parametrize(("field_type", "typed", "stored", "shown"), VALID, ids=[v[0] for v in VALID])
def test_a_valid_value_is_stored_by_type_and_shown_on_the_card(app, owner, tenant, field_type, typed, stored, shown):
    key = _field(app, tenant, field_type)
    response = _post_thirdparty(owner, tenant, **{f"cf_{key}": typed})
    assert response.status_code == 200, text_of(response.get_data(as_text=True))
    tp_id = _created_id(app, tenant)
    assert read_thirdparty(app, tenant, tp_id)["custom"] == {key: stored}
    card = text_of(owner.get(f"/{tenant.slug}/thirdparties/{tp_id}").get_data(as_text=True))
    assert f"My {field_type}" in card and shown in card


@pytest.mark.parametrize(("field_type", "typed", "message"), INVALID, ids=[f"{v[0]}-{v[1]}" for v in INVALID])
def test_an_invalid_value_answers_422_with_a_message_and_the_input_kept(app, owner, tenant, field_type, typed, message):
    key = _field(app, tenant, field_type)
    response = _post_thirdparty(owner, tenant, **{f"cf_{key}": typed})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in text_of(body)
    if field_type in ("number", "money", "date", "url"):
        assert form_fields(body, "thirdparty-form")[f"cf_{key}"] == [typed]
    assert events_of(app, tenant) == []


@pytest.mark.parametrize("field_type", REQUIRED)
def test_a_required_field_left_empty_answers_422(app, owner, tenant, field_type):
    key = _field(app, tenant, field_type, required=True)
    response = _post_thirdparty(owner, tenant, **{f"cf_{key}": []})
    assert response.status_code == 422 and "This field is required." in text_of(response.get_data(as_text=True))
    assert events_of(app, tenant) == []


def test_an_optional_field_left_empty_stores_nothing(app, owner, tenant):
    keys = [_field(app, tenant, t) for t in REQUIRED]
    assert _post_thirdparty(owner, tenant, **{f"cf_{k}": [] for k in keys}).status_code == 200
    assert read_thirdparty(app, tenant, _created_id(app, tenant))["custom"] == {}


def test_values_show_as_list_columns(app, owner, tenant):
    tier = _field(app, tenant, "choice", show_in_list=True)
    budget = _field(app, tenant, "money", show_in_list=True)
    _field(app, tenant, "text")  # not a column
    make_thirdparty(app, tenant, "Listed", custom={tier: "Silver", budget: "99.90", "my_text": "hidden value"})
    page = owner.get(f"/{tenant.slug}/thirdparties/").get_data(as_text=True)
    header = text_of(page[page.index("<thead>"):page.index("</thead>")])
    row = text_of(page[page.index("<tbody>"):page.index("</tbody>")])
    assert "My choice" in header and "My money" in header and "My text" not in header
    assert "Silver" in row and "99.90" in row and "hidden value" not in row


def test_the_list_filters_on_a_choice_field_exactly(app, owner, tenant):
    tier = _field(app, tenant, "choice")
    gold = make_thirdparty(app, tenant, "Gold one", custom={tier: "Gold"})
    make_thirdparty(app, tenant, "Gold Plus one", custom={tier: "Gold Plus"})
    make_thirdparty(app, tenant, "No tier")
    page = owner.get(f"/{tenant.slug}/thirdparties/?cf_{tier}=Gold").get_data(as_text=True)
    assert listed_ids(page) == [str(gold.id)]


def test_the_list_filters_on_a_checkbox_field(app, owner, tenant):
    flag = _field(app, tenant, "checkbox")
    ticked = make_thirdparty(app, tenant, "Ticked", custom={flag: True})
    make_thirdparty(app, tenant, "Unticked")
    page = owner.get(f"/{tenant.slug}/thirdparties/?cf_{flag}=yes").get_data(as_text=True)
    assert listed_ids(page) == [str(ticked.id)]


def test_a_custom_field_change_lands_on_the_timeline(app, owner, tenant):
    tier = _field(app, tenant, "choice")
    tp = make_thirdparty(app, tenant, "Upgraded", custom={tier: "Silver"})
    data = form_fields(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}/edit").get_data(as_text=True), "thirdparty-form")
    data[f"cf_{tier}"] = ["Gold"]
    assert owner.post(f"/{tenant.slug}/thirdparties/{tp.id}/edit", data).status_code == 303
    [event] = events_of(app, tenant, kind="thirdparty_updated")
    assert event.payload["changes"] == {"custom": [{tier: "Silver"}, {tier: "Gold"}]}


def test_saving_unchanged_values_of_every_type_records_nothing(app, owner, tenant):
    stored = {_field(app, tenant, t): value for t, _typed, value, _shown in VALID}
    tp = make_thirdparty(app, tenant, "Stable", custom=stored)
    events = events_of(app, tenant)
    data = form_fields(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}/edit").get_data(as_text=True), "thirdparty-form")
    assert owner.post(f"/{tenant.slug}/thirdparties/{tp.id}/edit", data).status_code == 303
    assert events_of(app, tenant) == events


def test_a_stored_value_that_does_not_fit_its_type_does_not_break_the_card(app, owner, tenant):
    keys = {t: _field(app, tenant, t, show_in_list=True) for t in ("number", "money", "date")}
    tp = make_thirdparty(app, tenant, "Odd values", custom={keys["number"]: "1e1000000", keys["money"]: "abc",
                                                          keys["date"]: "yesterday"})
    assert owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").status_code == 200
    assert owner.get(f"/{tenant.slug}/thirdparties/").status_code == 200
    assert owner.get(f"/{tenant.slug}/thirdparties/{tp.id}/edit").status_code == 200


# --- contacts: the same fields on the contact form (one field of each type at once) ---

def test_valid_contact_values_of_every_type_are_stored_and_shown(app, owner, tenant):
    keys = {t: _field(app, tenant, t, entity="contact") for t, *_rest in VALID}
    tp = make_thirdparty(app, tenant, "Employer")
    response = _post_contact(owner, tenant, tp.id, **{f"cf_{keys[t]}": typed for t, typed, _stored, _shown in VALID})
    assert response.status_code == 200, text_of(response.get_data(as_text=True))
    contact_id = _created_id(app, tenant, "contact_added")
    assert read_contact(app, tenant, contact_id)["custom"] == {keys[t]: value for t, _typed, value, _shown in VALID}
    card = text_of(owner.get(f"/{tenant.slug}/contacts/{contact_id}").get_data(as_text=True))
    assert [t for t, _typed, _stored, shown in VALID if shown not in card] == []


def test_invalid_contact_values_of_every_type_answer_422_with_their_messages(app, owner, tenant):
    cases = {t: (typed, message) for t, typed, message in INVALID if typed not in ("NaN", "-inf", "javascript:alert(1)")}
    keys = {t: _field(app, tenant, t, entity="contact") for t in cases}
    tp = make_thirdparty(app, tenant, "Employer")
    response = _post_contact(owner, tenant, tp.id, **{f"cf_{keys[t]}": typed for t, (typed, _m) in cases.items()})
    page = text_of(response.get_data(as_text=True))
    assert response.status_code == 422
    assert [m for _typed, m in cases.values() if m not in page] == []
    assert events_of(app, tenant, kind="contact_added") == []


def test_required_contact_fields_of_every_type_left_empty_answer_422(app, owner, tenant):
    keys = [_field(app, tenant, t, entity="contact", required=True) for t in REQUIRED]
    tp = make_thirdparty(app, tenant, "Employer")
    response = _post_contact(owner, tenant, tp.id, **{f"cf_{k}": [] for k in keys})
    assert response.status_code == 422
    assert text_of(response.get_data(as_text=True)).count("This field is required.") == len(REQUIRED)


def test_contact_fields_stay_off_the_third_party_form_and_back(app, owner, tenant):
    tp_key = _field(app, tenant, "text")
    contact_key = make_field(app, tenant, "Hobby", "text", entity="contact")
    tp = make_thirdparty(app, tenant, "Employer")
    contact = make_contact(app, tenant, tp.id, "Person")
    tp_form = form_fields(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}/edit").get_data(as_text=True), "thirdparty-form")
    contact_form = form_fields(owner.get(f"/{tenant.slug}/contacts/{contact.id}/edit").get_data(as_text=True), "contact-form")
    assert f"cf_{tp_key}" in tp_form and f"cf_{contact_key}" not in tp_form
    assert f"cf_{contact_key}" in contact_form and f"cf_{tp_key}" not in contact_form
