"""Agenda journeys in a real browser: on a phone, plan a follow-up from a customer's card, find it in the
agenda, tick it done in place; on a desktop, log a call that schedules its follow-up and browse the month.

The live server and Chromium; nothing mocked, every wait auto-waiting.
"""
import re
import urllib.request

import icalendar
import pytest

from tests.customers import make_contact, make_thirdparty
from tests.factories import make_tenant, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

SLUG = "studio-agenda"


@pytest.fixture
def org(app):
    owner = make_user(app, email="paola@studioagenda.example.com", name="Paola Conti")
    return make_tenant(app, slug=SLUG, name="Studio Agenda", owner=owner)


def test_on_a_phone_plan_a_task_find_it_in_the_agenda_and_tick_it_done(app, org, pages, sign_in, shot):
    customer = make_thirdparty(app, org, "Ceramiche Nardi")
    make_contact(app, org, customer.id, "Nardi", first_name="Giulia")
    page = pages.phone()
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/thirdparties/{customer.id}")
    expect(page.locator(".next-action")).to_contain_text("none planned")
    page.get_by_role("button", name="Plan a task or appointment").click()
    expect(page.locator("h1")).to_have_text("Plan a task or an appointment")
    page.get_by_label("Subject").fill("Send the kiln quote")
    page.get_by_label("With").select_option(label="Giulia Nardi")
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Plan it").click()

    # Back on the card: the flash, the next action and the timeline say so.
    expect(page.locator(".flash")).to_contain_text("Task planned.")
    expect(page.locator(".next-action")).to_contain_text("Send the kiln quote")
    expect(page.locator(".timeline")).to_contain_text("Task planned")

    # The agenda opens on the day list on a phone; the task is due tomorrow at 09:00.
    page.locator(".menu-toggle").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agenda").click()
    expect(page.get_by_label("Show")).to_have_value("day")
    expect(page.locator("#agenda-body")).not_to_contain_text("Send the kiln quote")
    page.get_by_role("button", name="Later").click()
    row = page.locator(".agenda-item", has_text="Send the kiln quote")
    expect(row).to_contain_text("To do")
    expect(row).to_contain_text("High priority")
    shot(page, "phone-agenda-day-journey")

    # Ticked done in place: the row changes, the page does not reload.
    page.evaluate("window.__kept = true")
    row.get_by_role("button", name="To do").click()
    done = page.locator(".agenda-item.is-done", has_text="Send the kiln quote")
    expect(done).to_contain_text("Done")
    assert page.evaluate("window.__kept") is True
    # And back to to-do.
    done.get_by_role("button", name="Done").click()
    expect(page.locator(".agenda-item", has_text="Send the kiln quote")).not_to_have_class(re.compile(r"\bis-done\b"))


def test_on_a_desktop_log_a_call_with_its_follow_up_then_browse_the_month(app, org, pages, sign_in, shot):
    customer = make_thirdparty(app, org, "Vetreria Sala")
    page = pages.desktop()
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/thirdparties/{customer.id}")
    page.get_by_role("button", name="Log a call or meeting").click()
    page.get_by_label("Subject").fill("Asked about delivery dates")
    page.get_by_label("Follow up on").fill("2031-05-12")
    page.get_by_role("button", name="Log it").click()
    expect(page.locator(".flash")).to_contain_text("a follow-up added to your agenda")
    expect(page.locator(".next-action")).to_contain_text("Follow up: Asked about delivery dates")

    page.goto(f"/{SLUG}/agenda/?view=month&date=2031-05-01")
    cell = page.locator(".agenda-month td", has=page.locator(".day-number", has_text=re.compile(r"^12\b")))
    expect(cell.first).to_contain_text("Follow up: Asked about delivery dates")
    shot(page, "desktop-agenda-month-journey")
    # Switching to the list keeps the period and the filters in the address (a bookmarkable view).
    page.get_by_label("Show").select_option("list")
    expect(page).to_have_url(re.compile(r"view=list"))
    expect(page.locator("#agenda-body")).to_contain_text("Follow up: Asked about delivery dates")
    page.get_by_label("State").select_option("done")  # every filter shows on a desktop
    expect(page).to_have_url(re.compile(r"state=done"))
    expect(page.locator("#agenda-body")).not_to_contain_text("Follow up: Asked about delivery dates")


def test_on_a_desktop_reschedule_an_appointment_then_cancel_it_after_a_confirmation(app, org, pages, sign_in):
    customer = make_thirdparty(app, org, "Tessiture Bonomi")
    page = pages.desktop()
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/agenda/customers/{customer.id}/plan?kind=appointment")
    page.get_by_label("Subject").fill("Sample review")
    page.get_by_label("When").fill("2031-03-10T10:00")
    page.get_by_role("button", name="Plan it").click()
    expect(page.locator(".flash")).to_contain_text("Appointment planned.")
    page.locator(".next-action").get_by_role("link", name="Sample review").click()
    expect(page.locator("h1")).to_have_text("Sample review")
    page.locator("#main").get_by_role("button", name="Change").click()
    expect(page.locator("h1")).to_have_text("Change Sample review")
    page.get_by_label("When").fill("2031-03-12T15:30")
    page.get_by_label("Ends").fill("2031-03-12T16:30")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Your changes were saved.")
    expect(page.locator("dl.details")).to_contain_text("3:30")

    # The timeline says what changed; cancelling asks first, and a "no" changes nothing.
    page.goto(f"/{SLUG}/thirdparties/{customer.id}")
    expect(page.locator(".event-activity_updated")).to_contain_text("When:")
    page.locator(".next-action").get_by_role("link", name="Sample review").click()
    expect(page.locator("h1")).to_have_text("Sample review")  # arrived (a loaded machine is slow to navigate)
    page.locator("#main").get_by_role("button", name="Change").click()
    expect(page.locator("h1")).to_have_text("Change Sample review")
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Cancel this task or appointment").click()
    expect(page.locator("h1")).to_have_text("Change Sample review")
    page.once("dialog", lambda d: (messages.append(d.message), d.accept()))
    page.get_by_role("button", name="Cancel this task or appointment").click()
    expect(page.locator(".flash")).to_contain_text("Sample review was cancelled.")
    assert messages == ["Cancel Sample review? It leaves the agenda; the timeline keeps that it was planned."] * 2
    expect(page.locator(".next-action")).to_contain_text("none planned")
    expect(page.locator(".timeline")).to_contain_text("Cancelled")


def test_get_the_calendar_address_and_a_calendar_app_reads_it(app, org, pages, sign_in):
    customer = make_thirdparty(app, org, "Cartotecnica Lodi")
    page = pages.desktop()
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/agenda/customers/{customer.id}/plan")
    page.get_by_label("Subject").fill("Send the catalogue")
    page.get_by_role("button", name="Plan it").click()
    expect(page.locator(".flash")).to_contain_text("Task planned.")
    page.goto(f"/{SLUG}/agenda/")
    page.get_by_role("link", name="Calendar and reminders").click()
    page.get_by_role("button", name="Get my calendar address").click()
    address = page.locator("#feed-url")
    expect(address).to_have_value(re.compile(rf"/calendar/{SLUG}/[\w-]{{40,}}\.ics$"))
    url = address.input_value()
    with urllib.request.urlopen(url) as response:  # a calendar app: no cookie, only the address
        calendar = icalendar.Calendar.from_ical(response.read())
    assert [str(e["summary"]) for e in calendar.walk("VEVENT")] == ["Send the catalogue · Cartotecnica Lodi"]
