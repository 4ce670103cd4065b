"""Concurrent edits of a contact (QUALITY T21): merge what does not overlap, 409 with the input kept when it does."""
import pytest

from tests.customers import events_of, form_fields, make_contact, make_field, make_thirdparty, move_contact, read_contact, submit
from tests.factories import add_member
from tests.helpers import Browser, text_of


@pytest.fixture
def second(app, tenant):
    admin = add_member(app, tenant, role="admin")
    browser = Browser(app.test_client())
    browser.login(admin.email)
    return browser


@pytest.fixture
def person(app, tenant):
    company = make_thirdparty(app, tenant, "Dupont SARL")
    return make_contact(app, tenant, company.id, "Curie", first_name="Marie", job_title="CEO")


def _load(browser, tenant, contact):
    form = form_fields(browser.get(f"/{tenant.slug}/contacts/{contact.id}/edit").get_data(as_text=True), "contact-form")
    assert form["version"] and form["base"][0].startswith("{")
    return form


def _save(browser, tenant, contact, form, **typed):
    data = {**form, **{k: v if isinstance(v, list) else [v] for k, v in typed.items()}}
    return submit(browser, f"/{tenant.slug}/contacts/{contact.id}/edit", data, htmx=True)


def test_changes_to_different_fields_are_merged(app, owner, second, tenant, person):
    mine, theirs = _load(owner, tenant, person), _load(second, tenant, person)
    assert _save(owner, tenant, person, mine, job_title="Chair").status_code == 200
    assert _save(second, tenant, person, theirs, first_name="Maria", consent_email="y").status_code == 200
    stored = read_contact(app, tenant, person.id)
    assert (stored["job_title"], stored["first_name"], stored["consent_email"]) == ("Chair", "Maria", True)


def test_changes_to_the_same_field_answer_409_with_the_input_kept(app, owner, second, tenant, person):
    mine, theirs = _load(owner, tenant, person), _load(second, tenant, person)
    _save(owner, tenant, person, mine, job_title="Chair")
    response = _save(second, tenant, person, theirs, job_title="Treasurer", first_name="Maria")
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    alert = " ".join(text_of(body[body.index('role="alert"'):body.index("</div>", body.index('role="alert"'))]).split())
    assert "Job title : Chair" in alert
    kept = form_fields(body, "contact-form")
    assert kept["job_title"] == ["Treasurer"] and kept["first_name"] == ["Maria"]
    stored = read_contact(app, tenant, person.id)
    assert (stored["job_title"], stored["first_name"]) == ("Chair", "Marie")
    assert len(events_of(app, tenant, kind="contact_updated")) == 1


def test_saving_again_after_a_conflict_keeps_my_version(app, owner, second, tenant, person):
    mine, theirs = _load(owner, tenant, person), _load(second, tenant, person)
    _save(owner, tenant, person, mine, job_title="Chair")
    again = form_fields(_save(second, tenant, person, theirs, job_title="Treasurer").get_data(as_text=True), "contact-form")
    assert _save(second, tenant, person, again).status_code == 200
    assert read_contact(app, tenant, person.id)["job_title"] == "Treasurer"


def test_overlapping_e_mail_changes_answer_409(app, owner, second, tenant, person):
    mine, theirs = _load(owner, tenant, person), _load(second, tenant, person)
    _save(owner, tenant, person, mine, **{"emails-0-value": "a@dupont.example"})
    response = _save(second, tenant, person, theirs, **{"emails-0-value": "b@dupont.example"})
    assert response.status_code == 409
    assert read_contact(app, tenant, person.id)["emails"] == [["", "a@dupont.example"]]


def test_changes_to_different_custom_fields_are_merged(app, owner, second, tenant, person):
    hobby = make_field(app, tenant, "Hobby", "text", entity="contact")
    birthday = make_field(app, tenant, "Birthday", "date", entity="contact")
    mine, theirs = _load(owner, tenant, person), _load(second, tenant, person)
    _save(owner, tenant, person, mine, **{f"cf_{hobby}": "Chess"})
    assert _save(second, tenant, person, theirs, **{f"cf_{birthday}": "1867-11-07"}).status_code == 200
    assert read_contact(app, tenant, person.id)["custom"] == {hobby: "Chess", birthday: "1867-11-07"}


def test_a_move_meanwhile_survives_an_edit(app, owner, tenant, person):
    target = make_thirdparty(app, tenant, "Martin & Fils")
    mine = _load(owner, tenant, person)
    move_contact(app, tenant, person.id, target.id)
    assert _save(owner, tenant, person, mine, job_title="Chair").status_code == 200
    stored = read_contact(app, tenant, person.id)
    assert (stored["thirdparty_id"], stored["job_title"]) == (target.id, "Chair")
