"""Calendar interop: each person's private feed (valid iCalendar, only their items, revocable, unguessable),
one appointment as a file, and an invitation imported."""
import hashlib
import io
import re
from datetime import UTC, datetime

import icalendar
from sqlalchemy import select, update

from app.agenda import ical, recurrence
from app.extensions import db
from app.models import Activity, CalendarFeed, Membership
from app.tenancy import tenant_context
from tests.agenda.test_plan import flat, plan, set_timezone
from tests.customers import events_of, make_thirdparty
from tests.factories import add_member, make_user
from tests.helpers import Browser, csrf_from


def _new_feed(browser, tenant) -> str:
    page = browser.get(f"/{tenant.slug}/agenda/feed").get_data(as_text=True)
    response = browser.post(f"/{tenant.slug}/agenda/feed", {"csrf_token": csrf_from(page)})
    assert response.status_code == 200
    return re.search(r'id="feed-url"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)


def _read(app, url, status=200):
    response = app.test_client().get(url.removeprefix("http://localhost"))  # no session: as a calendar app
    assert response.status_code == status, url
    return response


def _events(response) -> dict:
    cal = icalendar.Calendar.from_ical(response.data)
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


def test_the_feed_is_valid_icalendar_with_only_the_persons_items(app, tenant, owner):
    set_timezone(app, tenant.owner, "Europe/Rome")
    tp = make_thirdparty(app, tenant, "Ferramenta Rossi")
    luca = add_member(app, tenant, make_user(app, name="Luca Verdi"), role="sales")
    plan(owner, tenant, tp, kind="appointment", title="Quarterly review", starts="2030-03-25T09:00", ends="2030-03-25T10:00",
         repeat="monthly", repeat_count="3", location="Via Roma 3", body="Bring the catalogue")
    plan(owner, tenant, tp, kind="task", title="Send the offer", starts="2030-03-20T15:00")
    plan(owner, tenant, tp, kind="task", title="Luca's errand", starts="2030-03-21T09:00", assignees=[str(luca.id)])
    url = _new_feed(owner, tenant)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 43  # 256 random bits
    response = _read(app, url)
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    events = _events(response)
    assert set(events) == {"Quarterly review · Ferramenta Rossi", "Send the offer · Ferramenta Rossi"}
    review = events["Quarterly review · Ferramenta Rossi"]
    start = review.decoded("dtstart")
    assert start == datetime(2030, 3, 25, 9, tzinfo=start.tzinfo) and str(start.tzinfo) in ("Europe/Rome",)
    assert review["rrule"].to_ical() == b"FREQ=MONTHLY;COUNT=3"
    assert str(review["location"]) == "Via Roma 3" and "Bring the catalogue" in str(review["description"])
    assert f"/{tenant.slug}/agenda/items/" in str(review["url"])
    assert icalendar.Calendar.from_ical(response.data).walk("VTIMEZONE")  # the zone travels with the feed
    # Only the token's digest is stored.
    with app.app_context(), tenant_context(tenant.id):
        [feed] = db.session.scalars(select(CalendarFeed)).all()
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in feed.token_hash
    # Done tasks say so; the page shows the address only when it is made.
    page = flat(owner.get(f"/{tenant.slug}/agenda/feed").get_data(as_text=True))
    assert token not in page and "Your address is active." in page


def test_a_feed_stops_when_reset_revoked_or_its_person_leaves(app, tenant, owner):
    tp = make_thirdparty(app, tenant)
    plan(owner, tenant, tp, kind="task", title="Something", starts="2030-01-01T09:00")
    first = _new_feed(owner, tenant)
    _read(app, first)
    second = _new_feed(owner, tenant)
    _read(app, first, 404)
    _read(app, second)
    # Guessing: another token, a truncated one, or the right token in another organisation.
    _read(app, second[:-8] + "AAAAAAAA.ics", 404)
    _read(app, second.replace(".ics", "")[:-20] + ".ics", 404)
    _read(app, second.replace(f"/calendar/{tenant.slug}/", "/calendar/nobody-here/"), 404)
    page = owner.get(f"/{tenant.slug}/agenda/feed").get_data(as_text=True)
    response = owner.post(f"/{tenant.slug}/agenda/feed/revoke", {"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    _read(app, second, 404)
    assert owner.post(f"/{tenant.slug}/agenda/feed/revoke", {"csrf_token": csrf_from(page)}).status_code == 303
    # A member who is deactivated, or loses the right to read the agenda, no longer gets their feed.
    seller = add_member(app, tenant, make_user(app, name="Sara Sales"), role="sales")
    browser = Browser(app.test_client())
    browser.login(seller.email)
    url = _new_feed(browser, tenant)
    _read(app, url)
    with app.app_context(), tenant_context(tenant.id):
        db.session.execute(update(Membership).where(Membership.user_id == seller.id).values(active=False))
        db.session.commit()
    _read(app, url, 404)


def test_an_appointment_downloads_as_a_calendar_file(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "Atelier Nord")
    plan(owner, tenant, tp, kind="appointment", title="Fitting <b>day</b>", starts="2030-05-06T00:00", all_day="y",
         ends="2030-05-07T00:00")
    with app.app_context(), tenant_context(tenant.id):
        item = db.session.scalar(select(Activity))
    response = owner.get(f"/{tenant.slug}/agenda/items/{item.id}.ics")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    [event] = _events(response).values()
    assert event.decoded("dtstart") == datetime(2030, 5, 6).date() and event.decoded("dtend") == datetime(2030, 5, 8).date()
    page = owner.get(f"/{tenant.slug}/agenda/items/{item.id}").get_data(as_text=True)
    assert f"/agenda/items/{item.id}.ics" in page and "Fitting &lt;b&gt;day&lt;/b&gt;" in page


INVITATION = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//EN\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
    "DTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "END:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:abc-123@mail.example\r\nDTSTAMP:20300101T000000Z\r\n"
    "DTSTART;TZID=Europe/Paris:20300610T143000\r\nDTEND;TZID=Europe/Paris:20300610T153000\r\n"
    "RRULE:FREQ=WEEKLY;COUNT=2\r\nSUMMARY:Supplier call\r\nLOCATION:https://meet.example/x\r\n"
    "DESCRIPTION:Agenda attached\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _import(browser, tenant, tp, data: bytes, name="invite.ics"):
    page = browser.get(f"/{tenant.slug}/agenda/customers/{tp.id}/plan").get_data(as_text=True)
    return browser.post(f"/{tenant.slug}/agenda/customers/{tp.id}/import",
                        {"csrf_token": csrf_from(page), "invitation": (io.BytesIO(data), name)},
                        content_type="multipart/form-data")


def test_an_invitation_is_imported_once(app, tenant, owner):
    tp = make_thirdparty(app, tenant)
    assert _import(owner, tenant, tp, INVITATION.encode()).status_code == 303
    assert _import(owner, tenant, tp, INVITATION.encode()).status_code == 303  # the same invitation again
    with app.app_context(), tenant_context(tenant.id):
        [item] = db.session.scalars(select(Activity)).all()
        assignees = item.assignee_ids
    assert (item.kind, item.title, item.location, item.body, item.zone, item.recurrence) == (
        "appointment", "Supplier call", "https://meet.example/x", "Agenda attached", "Europe/Paris", "FREQ=WEEKLY;COUNT=2")
    assert item.starts_at == datetime(2030, 6, 10, 12, 30, tzinfo=UTC) and assignees == [tenant.owner.id]
    assert len(events_of(app, tenant, thirdparty_id=tp.id, kind="appointment_planned")) == 1
    card = flat(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert "Appointment planned" in card and "Supplier call" in card and "Every week" in card


def test_an_invitations_repeat_count_is_bounded_as_the_form_bounds_it(app, tenant, owner):
    """Once (or fewer) is no repeat, and at most MAX_COUNT times; a count the file cannot hold is refused. A count
    below one was a 500 (an empty series has no last occurrence)."""
    tp = make_thirdparty(app, tenant)
    for count, answer in (("-1", 303), ("0", 303), ("1", 303), ("99999", 303), ("99999999999999999999999", 422)):
        data = INVITATION.replace("COUNT=2", f"COUNT={count}").replace("abc-123", f"count{count}").encode()
        assert _import(owner, tenant, tp, data).status_code == answer, count
    with app.app_context(), tenant_context(tenant.id):
        rules = sorted(db.session.scalars(select(Activity.recurrence)))
    assert rules == ["", "", "", f"FREQ=WEEKLY;COUNT={recurrence.MAX_COUNT}"]
    assert owner.get(f"/{tenant.slug}/agenda/?view=list&date=2030-06-01").status_code == 200


def test_a_file_that_is_not_an_invitation_is_refused_with_the_reason(app, tenant, owner, monkeypatch):
    monkeypatch.setattr(ical, "MAX_INVITATION_BYTES", 16 * 1024)  # a small limit: the test client spools big bodies to files
    tp = make_thirdparty(app, tenant)
    for data, reason in [(b"", "Choose an invitation file"), (b"%PDF-1.4 not a calendar", "not a calendar invitation"),
                         (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "not a calendar invitation"),
                         (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:No start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                          "not a calendar invitation"),
                         (b"X" * (20 * 1024), "too large")]:
        response = _import(owner, tenant, tp, data)
        assert response.status_code == (413 if reason == "too large" else 422), reason
        assert reason in response.get_data(as_text=True), reason
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.scalars(select(Activity)).all() == []
