"""Planning tasks and appointments on a customer: the form, repeats across a clock change, done in place,
the follow-up offered after a call, and the customer's next action."""
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Activity, User
from app.tenancy import tenant_context
from tests.customers import audit_of, events_of, make_contact, make_thirdparty
from tests.factories import add_member, make_user
from tests.helpers import Browser, csrf_from, icon_markup, text_of

SAVED = icon_markup("bookmark")  # a saved view's link


def _items(app, tenant, kind=None):
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(Activity).order_by(Activity.created_at)
        items = db.session.scalars(stmt.where(Activity.kind == kind) if kind else stmt).all()
        for item in items:
            item.assignee_ids  # noqa: B018 - loaded while the session is open
        return items


def plan_form(browser, tenant, tp, **query) -> dict:
    page = browser.get(f"/{tenant.slug}/agenda/customers/{tp.id}/plan", query_string=query)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    return {"csrf_token": csrf_from(body),
            "idempotency_key": re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', body).group(1),
            "assignees": re.findall(r'<input checked[^>]*name="assignees"[^>]*value="([^"]+)"', body)}


def plan(browser, tenant, tp, **fields):
    form = {**plan_form(browser, tenant, tp), "priority": "normal", "repeat": "", **fields}
    return browser.post(f"/{tenant.slug}/agenda/customers/{tp.id}/plan", form)


def flat(page: str) -> str:
    """The page's text with its whitespace runs made single spaces."""
    return " ".join(text_of(page).split())


def set_timezone(app, user, zone):
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(timezone=zone))
        db.session.commit()


def test_a_planned_task_is_on_the_timeline_the_card_and_the_agenda_and_is_ticked_done_in_place(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "Officina Bruni")
    marco = make_contact(app, tenant, tp.id, "Bruni", first_name="Marco")
    response = plan(owner, tenant, tp, kind="task", title="Send the revised quote", starts="2030-03-04T10:00",
                    priority="high", contact_id=str(marco.id), body="With the oak finish")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/thirdparties/{tp.id}")
    [task] = _items(app, tenant)
    assert (task.kind, task.title, task.priority, task.contact_id, task.done_at) == (
        "task", "Send the revised quote", "high", marco.id, None)
    assert task.due_at == task.starts_at == datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # 10:00 in Paris
    assert task.assignee_ids == [tenant.owner.id]
    [event] = events_of(app, tenant, thirdparty_id=tp.id, kind="task_planned")
    assert event.title == "Send the revised quote" and event.payload["priority"] == "high"
    assert [a.action for a in audit_of(app, tenant, entity_type="activity")] == ["create"]

    card = flat(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert "Next action: Send the revised quote" in card and "Task planned" in card and "High" in card
    week = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "week", "date": "2030-03-04"}).get_data(as_text=True)
    assert "Send the revised quote" in week and "Officina Bruni" in week and "To do" in text_of(week)

    # Ticked done where it is shown: htmx swaps the row, which now says so; the timeline and the audit log too.
    toggle = owner.post(f"/{tenant.slug}/agenda/items/{task.id}/done", {"customer": "1"}, htmx=True)
    assert toggle.status_code == 200
    row = toggle.get_data(as_text=True)
    assert row.lstrip().startswith('<li class="agenda-item kind-task is-done') and "<html" not in row
    assert f"/agenda/items/{task.id}/todo" in row
    [done] = _items(app, tenant)
    assert done.done_at is not None
    assert [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id, kind="activity_done")] == ["activity_done"]
    assert "done_at" in audit_of(app, tenant, entity_type="activity")[-1].changes
    # Done twice changes nothing more; to do again reopens it.
    owner.post(f"/{tenant.slug}/agenda/items/{task.id}/done", {}, htmx=True)
    assert len(events_of(app, tenant, thirdparty_id=tp.id, kind="activity_done")) == 1
    owner.post(f"/{tenant.slug}/agenda/items/{task.id}/todo", {}, htmx=True)
    assert _items(app, tenant)[0].done_at is None
    assert len(events_of(app, tenant, thirdparty_id=tp.id, kind="activity_reopened")) == 1
    # Without htmx the toggle goes to the item's page, which shows the state.
    response = owner.post(f"/{tenant.slug}/agenda/items/{task.id}/done", {})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/agenda/items/{task.id}")
    page = text_of(owner.get(f"/{tenant.slug}/agenda/items/{task.id}").get_data(as_text=True))
    assert "Done on" in page and "With the oak finish" in page


@pytest.mark.parametrize(("zone", "typed"), [("Europe/Paris", "2026-10-19T09:00"), ("Europe/Rome", "2026-10-19T09:00")])
def test_a_weekly_appointment_stays_at_nine_local_across_the_clock_change(app, tenant, owner, zone, typed):
    set_timezone(app, tenant.owner, zone)
    tp = make_thirdparty(app, tenant)
    response = plan(owner, tenant, tp, kind="appointment", title="Weekly review", starts=typed, ends="2026-10-19T10:30",
                    repeat="weekly", repeat_count="4", location="https://meet.example/abc")
    assert response.status_code == 303
    [item] = _items(app, tenant)
    assert item.recurrence == "FREQ=WEEKLY;COUNT=4" and item.zone == zone
    # Summer time ended on 2026-10-25: 09:00 is 07:00 UTC before and 08:00 UTC after.
    page = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "month", "date": "2026-10-01"}).get_data(as_text=True)
    november = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "list", "date": "2026-10-19"}).get_data(as_text=True)
    starts = re.findall(r'<time datetime="([^"]+)">', november)
    assert [datetime.fromisoformat(s) for s in starts] == [
        datetime(2026, 10, 19, 7, tzinfo=UTC), datetime(2026, 10, 26, 8, tzinfo=UTC),
        datetime(2026, 11, 2, 8, tzinfo=UTC), datetime(2026, 11, 9, 8, tzinfo=UTC)]
    assert all(datetime.fromisoformat(s).astimezone(ZoneInfo(zone)).hour == 9 for s in starts)
    assert page.count("Weekly review") == 2  # 19 and 26 October in October's grid (2 November is in it too, greyed)
    assert item.repeats_until == datetime(2026, 11, 9, 9, 30, tzinfo=UTC)  # the last one ends 10:30 local
    [event] = events_of(app, tenant, thirdparty_id=tp.id, kind="appointment_planned")
    assert "Every week" in text_of(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert event.payload["repeat"] == "FREQ=WEEKLY;COUNT=4"


def test_repeating_until_a_day_includes_that_day(app, tenant, owner):
    tp = make_thirdparty(app, tenant)
    plan(owner, tenant, tp, kind="appointment", title="Stand-up", starts="2030-01-07T18:00", repeat="daily",
         repeat_until="2030-01-09")
    [item] = _items(app, tenant)
    listed = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "list", "date": "2030-01-01"}).get_data(as_text=True)
    assert listed.count(">Stand-up<") == 3  # 7, 8 and 9 January, 18:00 Paris (17:00 UTC, after the last day began in UTC)
    assert item.repeats_until == datetime(2030, 1, 9, 18, 0, tzinfo=UTC)


def test_bad_plans_come_back_with_the_reason_and_the_text(app, tenant, owner):
    tp = make_thirdparty(app, tenant)
    other = make_thirdparty(app, tenant, "Other")
    stranger = make_contact(app, tenant, other.id, "Elsewhere")
    cases = [
        ({"kind": "task", "title": "", "starts": "2030-01-01T09:00", "body": "Kept text"}, "Say what is planned."),
        ({"kind": "task", "title": "T", "starts": "", "body": "Kept text"}, "Say when."),
        ({"kind": "appointment", "title": "T", "starts": "2030-01-01T09:00", "ends": "2030-01-01T08:00", "body": "Kept text"},
         "The end comes after the start."),
        ({"kind": "appointment", "title": "T", "starts": "2030-01-01T09:00", "repeat": "weekly", "body": "Kept text"},
         "Say how many times, or until when."),
        ({"kind": "appointment", "title": "T", "starts": "2030-01-01T09:00", "repeat": "weekly", "repeat_until": "2040-01-01",
          "body": "Kept text"}, "within 5 years"),
        ({"kind": "appointment", "title": "T", "starts": "2030-01-01T09:00", "repeat": "weekly", "repeat_count": "9999",
          "body": "Kept text"}, "Number must be between"),
        ({"kind": "task", "title": "T", "starts": "2030-01-01T09:00", "assignees": [], "body": "Kept text"},
         "Choose at least one person."),
        ({"kind": "task", "title": "T", "starts": "2030-01-01T09:00", "assignees": ["00000000-0000-0000-0000-000000000001"],
          "body": "Kept text"}, "is not a valid choice"),
        ({"kind": "fortnightly", "title": "T", "starts": "2030-01-01T09:00", "body": "Kept text"}, "Not a valid choice"),
    ]
    for fields, reason in cases:
        response = plan(owner, tenant, tp, **fields)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert reason in body and "Kept text" in body, (fields, reason)
    response = plan(owner, tenant, tp, kind="task", title="T", starts="2030-01-01T09:00", contact_id=str(stranger.id))
    assert response.status_code == 404
    assert _items(app, tenant) == []


def test_a_double_submit_plans_once_and_a_team_mate_can_be_given_the_task(app, tenant, owner):
    tp = make_thirdparty(app, tenant)
    luca = add_member(app, tenant, make_user(app, name="Luca Verdi"), role="sales")
    form = {**plan_form(owner, tenant, tp), "kind": "task", "title": "Call back", "starts": "2030-01-01T09:00",
            "priority": "normal", "repeat": "", "assignees": [str(luca.id), str(tenant.owner.id)]}
    for _ in range(2):
        assert owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/plan", form).status_code == 303
    [task] = _items(app, tenant)
    assert sorted(map(str, task.assignee_ids)) == sorted([str(luca.id), str(tenant.owner.id)])
    assert len(events_of(app, tenant, thirdparty_id=tp.id, kind="task_planned")) == 1


def test_logging_a_call_can_schedule_its_follow_up(app, tenant, owner):
    set_timezone(app, tenant.owner, "Europe/Rome")
    tp = make_thirdparty(app, tenant)
    page = owner.get(f"/{tenant.slug}/agenda/customers/{tp.id}/log").get_data(as_text=True)
    assert 'name="follow_up"' in page and "Next step" in page
    form = {"csrf_token": csrf_from(page), "idempotency_key": "follow-up-1", "kind": "call", "direction": "outbound",
            "when": re.search(r'name="when"[^>]*value="([^"]+)"', page).group(1), "title": "Price list",
            "body": "Wants prices"}
    yesterday = (datetime.now(ZoneInfo("Europe/Rome")).date() - timedelta(days=1)).isoformat()
    response = owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {**form, "follow_up": yesterday})
    assert response.status_code == 422 and "A follow-up is for today or later." in response.get_data(as_text=True)
    assert _items(app, tenant) == []
    day = date(2030, 6, 3)
    assert owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {**form, "follow_up": day.isoformat()}).status_code == 303
    [call] = _items(app, tenant, "call")
    [task] = _items(app, tenant, "task")
    assert task.title == "Follow up: Price list" and task.assignee_ids == [tenant.owner.id]
    assert task.due_at == datetime(2030, 6, 3, 9, tzinfo=ZoneInfo("Europe/Rome"))
    assert len(events_of(app, tenant, thirdparty_id=tp.id, kind="task_planned")) == 1
    # Sent again (a double tap), neither the call nor the follow-up is saved twice.
    owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/log", {**form, "follow_up": day.isoformat()})
    assert len(_items(app, tenant)) == 2


def test_overdue_tasks_are_listed_on_top_until_done(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "Late Ltd")
    plan(owner, tenant, tp, kind="task", title="Chase the signature", starts="2020-05-04T09:00")
    plan(owner, tenant, tp, kind="task", title="Already handled", starts="2020-05-05T09:00")
    handled = _items(app, tenant)[1]
    owner.post(f"/{tenant.slug}/agenda/items/{handled.id}/done", {})
    page = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "day"}).get_data(as_text=True)
    overdue = page.split("Overdue follow-ups", 1)[1]
    assert "Chase the signature" in overdue and "Already handled" not in overdue
    card = flat(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert "Next action: Chase the signature" in card and "overdue" in card
    only_done = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "day", "state": "done"}).get_data(as_text=True)
    assert "Overdue follow-ups" not in only_done


def test_whose_agenda_a_member_may_see(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "Shared customer")
    luca = add_member(app, tenant, make_user(app, name="Luca Verdi"), role="support")
    plan(owner, tenant, tp, kind="task", title="Owner own task", starts="2030-01-01T09:00")
    plan(owner, tenant, tp, kind="task", title="Task for Luca", starts="2030-01-01T10:00", assignees=[str(luca.id)])
    week = {"view": "week", "date": "2030-01-01"}
    mine = owner.get(f"/{tenant.slug}/agenda/", query_string=week).get_data(as_text=True)
    assert "Owner own task" in mine and "Task for Luca" not in mine
    team = owner.get(f"/{tenant.slug}/agenda/", query_string={**week, "who": "team"}).get_data(as_text=True)
    assert "Owner own task" in team and "Task for Luca" in team
    lucas = owner.get(f"/{tenant.slug}/agenda/", query_string={**week, "who": str(luca.id)}).get_data(as_text=True)
    assert "Owner own task" not in lucas and "Task for Luca" in lucas
    # Support has no "whole team's agenda": asking for it shows their own.
    browser = Browser(app.test_client())
    browser.login(luca.email)
    for who in ("team", str(tenant.owner.id)):
        page = browser.get(f"/{tenant.slug}/agenda/", query_string={**week, "who": who}).get_data(as_text=True)
        assert "Task for Luca" in page and "Owner own task" not in page
        assert 'name="who"' not in page
    # Filters by type, state and customer.
    only_appointments = owner.get(f"/{tenant.slug}/agenda/", query_string={**week, "who": "team", "kind": "appointment"})
    assert "Task for Luca" not in only_appointments.get_data(as_text=True)
    other = make_thirdparty(app, tenant, "Other customer")
    about_other = owner.get(f"/{tenant.slug}/agenda/", query_string={**week, "who": "team", "customer": str(other.id)})
    assert "Task for Luca" not in about_other.get_data(as_text=True)
    assert "About Other customer" in text_of(about_other.get_data(as_text=True))


def test_a_phone_opens_on_the_day_and_bad_dates_fall_back_to_today(app, tenant, owner):
    phone = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148 Safari/604.1"}
    page = owner.get(f"/{tenant.slug}/agenda/", headers=phone).get_data(as_text=True)
    assert re.search(r'<option value="day" selected>', page)
    desktop = owner.get(f"/{tenant.slug}/agenda/").get_data(as_text=True)
    assert re.search(r'<option value="week" selected>', desktop)
    for bad in ("2030-02-30", "0001-01-01", "9999-12-31", "nonsense"):
        for view in ("day", "week", "month", "list"):
            assert owner.get(f"/{tenant.slug}/agenda/", query_string={"date": bad, "view": view}).status_code == 200
    empty = text_of(owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "list"}).get_data(as_text=True))
    assert "Nothing in this agenda for this period." in empty


def test_only_mine_applies_to_agenda_items(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "Not yours")
    plan(owner, tenant, tp, kind="task", title="Owner secret plan", starts="2030-01-01T09:00")
    [task] = _items(app, tenant)
    seller = add_member(app, tenant, make_user(app, name="Sandro Sales"), role="sales")
    browser = Browser(app.test_client())
    browser.login(seller.email)
    assert browser.get(f"/{tenant.slug}/agenda/items/{task.id}").status_code == 404
    assert browser.post(f"/{tenant.slug}/agenda/items/{task.id}/done", {}).status_code == 404
    assert browser.get(f"/{tenant.slug}/agenda/items/{task.id}.ics").status_code == 404
    assert browser.get(f"/{tenant.slug}/agenda/customers/{tp.id}/plan").status_code == 404
    # A task assigned to them on that customer is theirs to see and tick.
    plan(owner, tenant, tp, kind="task", title="Yours to do", starts="2030-01-02T09:00", assignees=[str(seller.id)])
    mine = _items(app, tenant)[1]
    assert browser.get(f"/{tenant.slug}/agenda/items/{mine.id}").status_code == 200
    assert browser.post(f"/{tenant.slug}/agenda/items/{mine.id}/done", {}).status_code == 303
    reader = add_member(app, tenant, make_user(app, name="Rita Reader"), role="readonly")
    browser = Browser(app.test_client())
    browser.login(reader.email)
    assert browser.get(f"/{tenant.slug}/agenda/customers/{tp.id}/plan").status_code == 403
    card = browser.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)
    assert "Plan a task or appointment" not in card and f"/agenda/items/{task.id}/done" not in card


def test_the_timeline_shows_whether_a_planned_item_is_done_and_toggles_it_in_place(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "Bottega Verdi")
    plan(owner, tenant, tp, kind="task", title="Call the accountant", starts="2030-01-01T09:00")
    [task] = _items(app, tenant)
    card = owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)
    event = card.split("event-task_planned", 1)[1].split("</li>", 1)[0]
    assert f"/agenda/items/{task.id}/done" in event and "To do" in event and 'name="shape" value="toggle"' in event
    assert f"/agenda/items/{task.id}\"" in event  # and it links to the item
    # The toggle answers itself alone (htmx swaps it where it is), now saying done.
    toggle = owner.post(f"/{tenant.slug}/agenda/items/{task.id}/done", {"shape": "toggle"}, htmx=True)
    fragment = toggle.get_data(as_text=True)
    assert fragment.lstrip().startswith('<form method="post"') and "<li" not in fragment
    assert f"/agenda/items/{task.id}/todo" in fragment and "Done" in fragment
    # Reloaded, the timeline says done on the planned event and adds the "Marked done" event.
    card = owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)
    event = card.split("event-task_planned", 1)[1].split("</li>", 1)[0]
    assert f"/agenda/items/{task.id}/todo" in event and "Marked done" in card
    # Someone who may only read sees the state, without a button.
    reader = add_member(app, tenant, make_user(app, name="Rita Reader"), role="readonly")
    browser = Browser(app.test_client())
    browser.login(reader.email)
    event = browser.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True).split("event-task_planned", 1)[1]
    event = event.split("</li>", 1)[0]
    assert "Done" in event and "/done" not in event and "/todo" not in event


def test_the_customer_list_shows_and_filters_last_contact_and_next_action(app, tenant, owner):
    make_thirdparty(app, tenant, "Quiet Ltd")
    busy = make_thirdparty(app, tenant, "Busy Srl")
    late = make_thirdparty(app, tenant, "Late SA")
    form = {"csrf_token": csrf_from(owner.get(f"/{tenant.slug}/agenda/customers/{busy.id}/log").get_data(as_text=True)),
            "kind": "call", "direction": "inbound", "body": "Ordered again"}
    recent = (datetime.now(ZoneInfo("Europe/Paris")) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    old = (datetime.now(ZoneInfo("Europe/Paris")) - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M")
    owner.post(f"/{tenant.slug}/agenda/customers/{busy.id}/log", {**form, "when": recent, "idempotency_key": "a"})
    owner.post(f"/{tenant.slug}/agenda/customers/{late.id}/log", {**form, "when": old, "idempotency_key": "b"})
    plan(owner, tenant, busy, kind="appointment", title="Showroom visit", starts="2030-02-01T10:00")
    plan(owner, tenant, late, kind="task", title="Chase the invoice", starts="2020-02-01T10:00")

    def listed(**query):
        page = owner.get(f"/{tenant.slug}/thirdparties/", query_string=query).get_data(as_text=True)
        return [name for name in ("Quiet Ltd", "Busy Srl", "Late SA") if name in page], flat(page)

    names, page = listed()
    assert names == ["Quiet Ltd", "Busy Srl", "Late SA"]
    assert "Showroom visit" in page and "Chase the invoice" in page and "overdue" in page and "none planned" in page
    assert listed(contacted="30")[0] == ["Quiet Ltd", "Late SA"]
    assert listed(contacted="180")[0] == ["Quiet Ltd"]
    assert listed(contacted="never")[0] == ["Quiet Ltd"]
    assert listed(planned="none")[0] == ["Quiet Ltd"]
    assert listed(planned="overdue")[0] == ["Late SA"]
    assert "Not contacted for 30 days" in page  # the ready-made filter
    # Without the agenda right, no columns and the filters do nothing.
    reader = add_member(app, tenant, make_user(app, name="Acc Ounting"), role="accounting")
    browser = Browser(app.test_client())
    browser.login(reader.email)
    page = browser.get(f"/{tenant.slug}/thirdparties/", query_string={"planned": "overdue"}).get_data(as_text=True)
    assert "Quiet Ltd" in page and "Next action" not in page and "Chase the invoice" not in page


def test_from_the_agenda_choose_the_customer_then_plan_and_come_back(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "Cartiera Lombarda")
    make_thirdparty(app, tenant, "Other Company")
    agenda = owner.get(f"/{tenant.slug}/agenda/").get_data(as_text=True)
    assert f"/{tenant.slug}/agenda/new/plan" in agenda and f"/{tenant.slug}/agenda/new/log" in agenda
    found = owner.get(f"/{tenant.slug}/agenda/new/plan", query_string={"q": "cartiera"}).get_data(as_text=True)
    assert "Cartiera Lombarda" in found and "Other Company" not in found
    link = re.search(r'href="([^"]+/plan\?back=agenda)"', found).group(1)
    assert link == f"/{tenant.slug}/agenda/customers/{tp.id}/plan?back=agenda"
    form = owner.get(link).get_data(as_text=True)
    assert '<input type="hidden" name="back" value="agenda">' in form
    response = owner.post(f"/{tenant.slug}/agenda/customers/{tp.id}/plan", {
        **plan_form(owner, tenant, tp), "back": "agenda", "kind": "task", "title": "Order paper", "starts": "2030-01-01T09:00",
        "priority": "normal", "repeat": ""})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/{tenant.slug}/agenda/")
    log = owner.get(f"/{tenant.slug}/agenda/new/log").get_data(as_text=True)
    assert f"/agenda/customers/{tp.id}/log?back=agenda" in log
    assert "Nothing matches" in owner.get(f"/{tenant.slug}/agenda/new/log", query_string={"q": "zzzz"}).get_data(as_text=True)


def test_the_organisation_chooses_which_business_events_also_show_in_the_agenda(app, tenant, owner):
    from app.timeline.services import record_event
    from tests.customers import _acting

    tp = make_thirdparty(app, tenant, "Vetri Sala")  # "Created" by the owner, now
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    page = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "day", "date": today}).get_data(as_text=True)
    assert "event-" not in page  # nothing chosen yet: the agenda holds only agenda items
    settings = owner.get(f"/{tenant.slug}/admin/settings").get_data(as_text=True)
    assert "Also show in the agenda" in settings and 'value="document_uploaded"' in settings
    saved = owner.post(f"/{tenant.slug}/admin/settings", {
        "csrf_token": csrf_from(settings), "name": tenant.name, "locale": "en", "timezone": "Europe/Paris",
        "reminder_minutes": "30", "agenda_kinds": ["thirdparty_created", "note_added"]})
    assert saved.status_code == 303
    page = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "day", "date": today}).get_data(as_text=True)
    row = page.split('class="agenda-item agenda-event kind-thirdparty_created"', 1)[1].split("</li>", 1)[0]
    assert "Created" in row and "Vetri Sala" in row
    # Someone else's events are in the team's agenda, not in mine; "to do" and a type filter leave them out.
    luca = add_member(app, tenant, make_user(app, name="Luca Verdi"), role="support")
    with _acting(app, tenant, luca):
        record_event(thirdparty_id=tp.id, kind="note_added", subject_type="note", subject_id=None, actor_id=luca.id,
                     title="Luca's note")
        db.session.commit()
    mine = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "day", "date": today}).get_data(as_text=True)
    team = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "day", "date": today, "who": "team"}).get_data(as_text=True)
    assert "Luca&#39;s note" not in mine and "Luca&#39;s note" in team
    for query in ({"state": "todo"}, {"kind": "task"}):
        page = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "day", "date": today, **query}).get_data(as_text=True)
        assert "agenda-event" not in page
    month = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "month", "date": today}).get_data(as_text=True)
    assert "Created" in month
    # A sales member who is not the customer's rep does not see its events in the team's agenda either.
    seller = add_member(app, tenant, make_user(app, name="Sandro Sales"), role="sales")
    browser = Browser(app.test_client())
    browser.login(seller.email)
    assert "Vetri Sala" not in browser.get(f"/{tenant.slug}/agenda/", query_string={"view": "day"}).get_data(as_text=True)


def test_a_planned_item_is_changed_with_its_history_and_cancelled_after_a_confirmation(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "Sartoria Blu")
    luca = add_member(app, tenant, make_user(app, name="Luca Verdi"), role="support")
    plan(owner, tenant, tp, kind="appointment", title="Fitting", starts="2030-04-01T10:00", ends="2030-04-01T11:00",
         repeat="weekly", repeat_until="2030-04-29")
    [item] = _items(app, tenant)
    page = owner.get(f"/{tenant.slug}/agenda/items/{item.id}/edit").get_data(as_text=True)
    assert 'value="2030-04-01T10:00"' in page and 'value="2030-04-29"' in page and 'name="version"' in page
    fields = {"csrf_token": csrf_from(page), "version": str(item.version),
              "base": re.search(r'name="base" type="hidden" value="([^"]*)"', page).group(1).replace("&#34;", '"'),
              "kind": "appointment", "title": "Fitting", "starts": "2030-04-02T15:00", "ends": "2030-04-02T16:00",
              "priority": "normal", "repeat": "weekly", "repeat_until": "2030-04-30",
              "assignees": [str(tenant.owner.id), str(luca.id)], "reminder": ""}
    bad = owner.post(f"/{tenant.slug}/agenda/items/{item.id}/edit", {**fields, "title": "", "body": "Kept"})
    assert bad.status_code == 422 and "Kept" in bad.get_data(as_text=True)
    assert owner.post(f"/{tenant.slug}/agenda/items/{item.id}/edit", fields).status_code == 303
    [moved] = _items(app, tenant)
    assert moved.starts_at == datetime(2030, 4, 2, 13, tzinfo=UTC) and len(moved.assignee_ids) == 2
    [event] = events_of(app, tenant, thirdparty_id=tp.id, kind="activity_updated")
    assert set(event.payload["changes"]) == {"starts_at", "ends_at", "recurrence", "assignees"}
    assert sorted(event.payload["changes"]["assignees"][1]) == ["Luca Verdi", "Owner of Atelier Alpha"]
    card = flat(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert "Plan changed" in card and "Apr 2, 2030 3:00" in card and "Every week, until" in card
    # A stale form that changes the same field is refused with both values; another field merges.
    stale = owner.post(f"/{tenant.slug}/agenda/items/{item.id}/edit", {**fields, "starts": "2030-04-03T09:00",
                                                                        "ends": "2030-04-03T10:00"})
    assert stale.status_code == 409 and "Someone else changed this meanwhile" in stale.get_data(as_text=True)
    merged = owner.post(f"/{tenant.slug}/agenda/items/{item.id}/edit", {
        **fields, "starts": "2030-04-01T10:00", "ends": "2030-04-01T11:00", "repeat_until": "2030-04-29",
        "assignees": [str(tenant.owner.id)], "location": "Atelier"})  # as first shown, but for the place
    assert merged.status_code == 303
    [now] = _items(app, tenant)
    assert now.location == "Atelier" and now.starts_at == datetime(2030, 4, 2, 13, tzinfo=UTC) and len(now.assignee_ids) == 2

    # Cancelled: gone from the agenda, the timeline says so and no longer links to it.
    response = owner.post(f"/{tenant.slug}/agenda/items/{item.id}/cancel", {"csrf_token": csrf_from(page)})
    assert response.status_code == 303 and _items(app, tenant) == []
    assert owner.get(f"/{tenant.slug}/agenda/items/{item.id}").status_code == 404
    card = owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)
    assert "Cancelled" in card and f"/agenda/items/{item.id}" not in card
    assert 'hx-confirm="Cancel Fitting?' in page


def test_documents_are_attached_to_an_agenda_item(app, tenant, owner):
    import io

    tp, other = make_thirdparty(app, tenant, "Fonderia Riva"), make_thirdparty(app, tenant, "Other")
    plan(owner, tenant, tp, kind="appointment", title="Plant visit", starts="2030-05-06T10:00")
    plan(owner, tenant, other, kind="task", title="Elsewhere", starts="2030-05-06T10:00")
    item, elsewhere = _items(app, tenant)
    page = owner.get(f"/{tenant.slug}/agenda/items/{item.id}").get_data(as_text=True)
    assert "No documents attached yet" in page and f'name="about_id" type="hidden" value="{item.id}"' in page

    def upload(activity_id, name):
        return owner.post(f"/{tenant.slug}/documents/customers/{tp.id}", {
            "csrf_token": csrf_from(page), "about_type": "activity", "about_id": str(activity_id), "folder": "",
            "files": (io.BytesIO(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"), name)},
            content_type="multipart/form-data")

    response = upload(item.id, "minutes.pdf")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/agenda/items/{item.id}")
    page = owner.get(f"/{tenant.slug}/agenda/items/{item.id}").get_data(as_text=True)
    assert "minutes.pdf" in page and "Documents (1)" in page
    document_id = re.search(r'/documents/([0-9a-f-]{36})">minutes.pdf', page).group(1)
    document = owner.get(f"/{tenant.slug}/documents/{document_id}").get_data(as_text=True)
    assert f"/agenda/items/{item.id}" in document and "Plant visit" in document  # the item, by its subject
    [event] = events_of(app, tenant, thirdparty_id=tp.id, kind="document_uploaded")
    assert event.payload["about"] == ["activity", str(item.id)]
    # Another customer's agenda item is not found here; nothing is stored.
    assert upload(elsewhere.id, "wrong.pdf").status_code == 404
    assert len(events_of(app, tenant, thirdparty_id=tp.id, kind="document_uploaded")) == 1


def test_a_saved_agenda_view_opens_the_same_filters_on_today(app, tenant, owner):
    page = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "list", "state": "todo", "date": "2030-01-01"})
    body = page.get_data(as_text=True)
    assert "Save this view" in body
    response = owner.post(f"/{tenant.slug}/agenda/views", {
        "csrf_token": csrf_from(body), "name": "To do, as a list", "query": "view=day",
        "view": "list", "state": "todo", "kind": "", "date": "2030-01-01"}, htmx=True)  # htmx sends the filters as they are
    assert response.headers["HX-Redirect"].endswith("/agenda/?state=todo&view=list")
    page = owner.get(f"/{tenant.slug}/agenda/", query_string={"view": "list", "state": "todo"}).get_data(as_text=True)
    assert f'aria-current="true">{SAVED} To do, as a list' in page
    refused = owner.post(f"/{tenant.slug}/agenda/views", {"csrf_token": csrf_from(body), "name": "", "view": "day"},
                         htmx=True)
    assert refused.status_code == 422 and "Give the view a name." in refused.get_data(as_text=True)
    owner.post(f"/{tenant.slug}/agenda/views/delete", {"csrf_token": csrf_from(body), "name": "To do, as a list"})
    assert f"{SAVED} To do" not in owner.get(f"/{tenant.slug}/agenda/").get_data(as_text=True)
    # The customer list's views are another list's: they do not show here.
    owner.post(f"/{tenant.slug}/thirdparties/views", {"csrf_token": csrf_from(body), "name": "Customers only", "query": ""})
    assert f"{SAVED} Customers only" not in owner.get(f"/{tenant.slug}/agenda/").get_data(as_text=True)
