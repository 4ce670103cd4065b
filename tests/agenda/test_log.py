"""Logging a call, a meeting, an e-mail or a letter on a customer: the form, the timeline, the card's facts."""
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Activity, User
from app.tenancy import tenant_context
from tests.customers import audit_of, events_of, make_contact, make_thirdparty
from tests.factories import add_member, make_user
from tests.helpers import Browser, csrf_from, text_of


def _activities(app, tenant):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalars(select(Activity).order_by(Activity.created_at)).all()


def _form(browser, tenant, tp, **query) -> dict:
    page = browser.get(f"/{tenant.slug}/agenda/customers/{tp.id}/log", query_string=query)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    return {"csrf_token": csrf_from(body), "idempotency_key": re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', body).group(1),
            "when": re.search(r'name="when"[^>]*value="([^"]+)"', body).group(1)}


def _set_timezone(app, user, zone):
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(timezone=zone))
        db.session.commit()


def test_a_logged_call_lands_on_the_timeline_the_audit_log_and_the_card(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "Officina Bruni")
    marco = make_contact(app, tenant, tp.id, "Bruni", first_name="Marco")
    form = _form(owner, tenant, tp)
    response = owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {
        **form, "kind": "call", "direction": "outbound", "duration": "12", "outcome": "Reached",
        "contact_id": str(marco.id), "title": "", "body": "Wants the quote by Friday.\nCall back Monday."})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/thirdparties/{tp.id}")
    [activity] = _activities(app, tenant)
    assert (activity.kind, activity.direction, activity.duration_minutes, activity.outcome, activity.contact_id) == (
        "call", "outbound", 12, "Reached", marco.id)
    [event] = events_of(app, tenant, thirdparty_id=tp.id, kind="call_logged")
    assert event.title == "Wants the quote by Friday."
    assert event.payload == {"direction": "outbound", "outcome": "Reached", "duration": 12}
    assert [a.action for a in audit_of(app, tenant, entity_type="activity")] == ["create"]

    card = text_of(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert "We reached out · Reached · 12 min" in card and "Call back Monday." in card
    assert "Last reached:" in card and "Last heard from them: never" in card
    only_calls = text_of(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}?kind=interactions").get_data(as_text=True))
    assert "Call back Monday." in only_calls and "Created" not in only_calls.split("Calls, meetings and e-mails", 1)[-1]
    # The contact's card shows it too, and offers to log the next one for them.
    contact_card = owner.get(f"/{tenant.slug}/contacts/{marco.id}").get_data(as_text=True)
    assert "Call back Monday." in contact_card and f"contact={marco.id}" in contact_card


def test_a_meeting_keeps_how_and_where(app, tenant, owner):
    tp = make_thirdparty(app, tenant)
    form = _form(owner, tenant, tp, kind="meeting")
    owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {
        **form, "kind": "meeting", "direction": "inbound", "meeting_mode": "in_person", "location": "Via Roma 3, Torino",
        "title": "Showroom visit", "body": "Chose the oak finish."})
    [activity] = _activities(app, tenant)
    assert (activity.kind, activity.meeting_mode, activity.location, activity.title) == (
        "meeting", "in_person", "Via Roma 3, Torino", "Showroom visit")
    card = text_of(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert "Showroom visit" in card and "They reached us · In person · Via Roma 3, Torino" in card
    assert "Last heard from them:" in card and "Last reached: never" in card


def test_bad_input_comes_back_with_the_reason_and_the_text(app, tenant, owner):
    tp = make_thirdparty(app, tenant)
    form = _form(owner, tenant, tp)
    response = owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {
        **form, "kind": "call", "direction": "outbound", "when": "", "duration": "-5", "body": "Typed before the error"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Typed before the error" in body and "Say when it happened." in body
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {**form, "kind": "call", "when": tomorrow, "body": "x"})
    assert response.status_code == 422 and "planning comes with appointments" in response.get_data(as_text=True)
    assert _activities(app, tenant) == []


def test_a_double_submit_logs_one_call(app, tenant, owner):
    tp = make_thirdparty(app, tenant)
    form = {**_form(owner, tenant, tp), "kind": "call", "direction": "inbound", "body": "Asked for the catalogue"}
    assert owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", form).status_code == 303
    assert owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", form).status_code == 303
    assert len(_activities(app, tenant)) == 1
    assert len(events_of(app, tenant, thirdparty_id=tp.id, kind="call_logged")) == 1


@pytest.mark.parametrize("zone", ["Europe/Paris", "Europe/Rome"])
def test_the_time_typed_is_read_in_the_viewer_zone_on_both_sides_of_a_clock_change(app, tenant, owner, zone):
    _set_timezone(app, tenant.owner, zone)
    tp = make_thirdparty(app, tenant)
    form = _form(owner, tenant, tp)
    for typed in ("2026-03-28T10:00", "2026-03-30T10:00"):  # summer time began on 2026-03-29
        form["idempotency_key"] = typed
        owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {**form, "kind": "call", "when": typed, "body": typed})
    stored = [a.starts_at for a in _activities(app, tenant)]
    assert stored == [datetime(2026, 3, 28, 9, 0, tzinfo=UTC), datetime(2026, 3, 30, 8, 0, tzinfo=UTC)]
    expected = datetime(2026, 3, 30, 10, 0, tzinfo=ZoneInfo(zone))
    assert stored[1] == expected.astimezone(UTC)
    # The form starts at the viewer's local "now", not UTC's.
    shown = datetime.strptime(_form(owner, tenant, tp)["when"], "%Y-%m-%dT%H:%M").replace(tzinfo=ZoneInfo(zone))
    assert abs(shown - datetime.now(UTC)) < timedelta(minutes=2)


def test_who_may_log_and_on_which_customer(app, tenant, owner):
    tp, other = make_thirdparty(app, tenant, "Mine"), make_thirdparty(app, tenant, "Theirs")
    stranger = make_contact(app, tenant, other.id, "Elsewhere")
    form = _form(owner, tenant, tp)
    # A contact of another customer is not found here.
    response = owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {**form, "contact_id": str(stranger.id), "body": "x"})
    assert response.status_code == 404 and _activities(app, tenant) == []
    reader = add_member(app, tenant, make_user(app, name="Rita Reader"), role="readonly")
    browser = Browser(app.test_client())
    browser.login(reader.email)
    assert browser.get(f"/{tenant.slug}/agenda/customers/{tp.id}/log").status_code == 403
    assert "Log a call or meeting" not in browser.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)
    # "Only mine": a sales member who is not the rep does not find the customer.
    seller = add_member(app, tenant, make_user(app, name="Sandro Sales"), role="sales")
    browser = Browser(app.test_client())
    browser.login(seller.email)
    assert browser.get(f"/{tenant.slug}/agenda/customers/{tp.id}/log").status_code == 404


def test_the_organisation_chooses_the_outcomes_offered(app, tenant, owner):
    tp = make_thirdparty(app, tenant)
    page = owner.get(f"/{tenant.slug}/agenda/customers/{tp.id}/log").get_data(as_text=True)
    assert '<option value="Left a message">' in page  # the usual ones
    settings = owner.get(f"/{tenant.slug}/admin/settings").get_data(as_text=True)
    base = {"csrf_token": csrf_from(settings), "name": tenant.name, "locale": "en", "timezone": "Europe/Paris",
            "document_folders": "", "reminder_minutes": "30"}
    too_long = owner.post(f"/{tenant.slug}/admin/settings", {**base, "call_outcomes": "Quote sent\n" + "x" * 81})
    assert too_long.status_code == 422 and "at most 80 characters" in too_long.get_data(as_text=True)
    assert "Quote sent" in too_long.get_data(as_text=True)
    saved = owner.post(f"/{tenant.slug}/admin/settings", {**base, "call_outcomes": "Quote sent\n  Demo   booked \nquote SENT\n"})
    assert saved.status_code == 303
    page = owner.get(f"/{tenant.slug}/agenda/customers/{tp.id}/log").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)">', page.split('id="outcomes"', 1)[1].split("</datalist>", 1)[0]) == [
        "Quote sent", "Demo booked"]
    owner.post(f"/{tenant.slug}/admin/settings", {**base, "call_outcomes": ""})
    assert '<option value="Left a message">' in owner.get(f"/{tenant.slug}/agenda/customers/{tp.id}/log").get_data(as_text=True)


def test_a_meeting_keeps_who_took_part_and_shows_in_the_colleagues_agendas(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "Studio Neri")
    anna = make_contact(app, tenant, tp.id, "Neri", first_name="Anna")
    bruno = make_contact(app, tenant, tp.id, "Neri", first_name="Bruno")
    stranger = make_contact(app, tenant, make_thirdparty(app, tenant, "Elsewhere").id, "Stranger")
    luca = add_member(app, tenant, make_user(app, name="Luca Verdi"), role="support")
    form = _form(owner, tenant, tp, kind="meeting")
    page = owner.get(f"/{tenant.slug}/agenda/customers/{tp.id}/log", query_string={"kind": "meeting"}).get_data(as_text=True)
    assert "More people took part" in page and "Luca Verdi" in page and "Owner of" not in page.split("Colleagues who", 1)[1]
    bad = owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {
        **form, "kind": "meeting", "direction": "outbound", "body": "x", "others": [str(stranger.id)]})
    assert bad.status_code == 404 and _activities(app, tenant) == []  # someone else's contact is not found
    response = owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {
        **form, "kind": "meeting", "direction": "outbound", "title": "Kick-off", "contact_id": str(anna.id),
        "others": [str(anna.id), str(bruno.id)], "team": [str(luca.id)]})
    assert response.status_code == 303
    with app.app_context(), tenant_context(tenant.id):
        meeting = db.session.scalar(select(Activity))
        attendees, assignees = [a.contact_id for a in meeting.attendees], sorted(map(str, meeting.assignee_ids))
    assert attendees == [bruno.id] and assignees == sorted([str(tenant.owner.id), str(luca.id)])
    page = text_of(owner.get(f"/{tenant.slug}/agenda/items/{meeting.id}").get_data(as_text=True))
    assert "With Anna Neri , Bruno Neri" in " ".join(page.split())
    browser = Browser(app.test_client())
    browser.login(luca.email)
    day = meeting.starts_at.astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    assert "Kick-off" in browser.get(f"/{tenant.slug}/agenda/", query_string={"view": "day", "date": day}).get_data(as_text=True)
