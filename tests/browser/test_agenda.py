"""Agenda journeys in a real browser: on a phone, plan a follow-up from a customer's card, find it in the
agenda, tick it done in place; on a desktop, log a call that schedules its follow-up and browse the month.

The live server and Chromium; nothing mocked, every wait auto-waiting.
"""
import re

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
    page.locator(".more-filters summary").click()
    page.get_by_label("State").select_option("done")
    expect(page).to_have_url(re.compile(r"state=done"))
    expect(page.locator("#agenda-body")).not_to_contain_text("Follow up: Asked about delivery dates")
