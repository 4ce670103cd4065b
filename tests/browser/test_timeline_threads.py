"""The timeline's groups in a real browser: a note just added reads under "Today" (issue 14, point 5).

Every wait is Playwright's auto-waiting, never a sleep.
"""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import ThirdParty, utcnow
from tests.customers import _acting, add_event, make_thirdparty
from tests.factories import add_member, make_tenant, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

ARRIVAL = 5_000  # ms: how long a change may take to reach the other browser

# The text of the day heading a row sits under (the nearest heading before it in the list).
GROUP_OF = """el => {
  let item = el.closest("#timeline-list > li");
  for (let row = item.previousElementSibling; row; row = row.previousElementSibling) {
    if (row.matches(".day-header")) return getComputedStyle(row).display === "none" ? "(hidden)" : row.textContent.trim();
  }
  return "(none)";
}"""


SSE_PROBE = 'window.__sseOpen = 0; document.addEventListener("htmx:sseOpen", () => { window.__sseOpen += 1; });'


class Shop:
    def __init__(self, app):
        self.owner = make_user(app, email="anna@lanificio.example.com", name="Anna Ferraro")
        self.tenant = make_tenant(app, slug="lanificio", name="Lanificio", owner=self.owner)
        self.colleague = add_member(app, self.tenant, make_user(app, email="bruno@lanificio.example.com",
                                                                name="Bruno Sala"), role="admin")


@pytest.fixture
def shop(app):
    return Shop(app)


def old_customer(app, tenant, name: str):
    """A customer whose every event is a week old or more: its timeline has no "Today" yet."""
    with _acting(app, tenant, tenant.owner):
        tp = ThirdParty(name=name, code="OLD-1")
        db.session.add(tp)
        db.session.commit()
        tp_id = tp.id
    for days in (7, 8, 9):
        add_event(app, tenant, tp_id, title=f"Price list {days}", occurred_at=utcnow() - timedelta(days=days))
    return tp_id


def post_note(page, text: str):
    composer = page.locator("#note-composer")
    composer.locator("#note-body").fill(text)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/notes")) as answer:
        composer.get_by_role("button", name="Add the note").click()
    assert answer.value.status == 200
    item = page.locator("#timeline-section li.event", has_text=text)
    expect(item).to_have_count(1)
    return item


def test_a_note_just_added_reads_under_today_for_its_author_and_for_the_others(app, shop, pages, sign_in, shot):
    # Today holds the creation; a planned visit next week sits above it (a later day), older days below.
    customer = make_thirdparty(app, shop.tenant, "Tessitura Bellini")
    add_event(app, shop.tenant, customer.id, title="Visit next week",
              occurred_at=utcnow() + timedelta(days=6))
    add_event(app, shop.tenant, customer.id, title="Price list", occurred_at=utcnow() - timedelta(days=3))
    card = f"/{shop.tenant.slug}/thirdparties/{customer.id}"

    anna = pages.phone()
    sign_in(anna, shop.owner.email)
    anna.goto(card)
    bruno = pages.desktop()
    bruno.add_init_script(SSE_PROBE)
    sign_in(bruno, shop.colleague.email)
    bruno.goto(card)
    expect(bruno.locator("#timeline-list li.event")).to_have_count(3)
    bruno.wait_for_function("() => window.__sseOpen > 0")

    mine = post_note(anna, "Asked for the autumn samples.")
    assert mine.evaluate(GROUP_OF) == "Today"
    headings = anna.locator("#timeline-list .day-header:visible")
    expect(headings).to_have_count(3)  # next week's day, Today, three days ago — no second "Today"
    expect(headings.nth(1)).to_have_text("Today")
    # The new row is the first of today's group: above the customer's creation.
    order = anna.eval_on_selector_all("#timeline-list li.event", "els => els.map(e => e.innerText)")
    assert "Asked for the autumn samples." in order[1] and "Visit next week" in order[0]
    shot(anna, "phone-timeline-note-under-today")

    # The colleague watching the card gets it from the live stream, in the same group.
    arrived = bruno.locator("#timeline-list li.event", has_text="Asked for the autumn samples.")
    expect(arrived).to_be_visible(timeout=ARRIVAL)
    assert arrived.evaluate(GROUP_OF) == "Today"
    shot(bruno, "desktop-timeline-note-under-today")


def test_the_first_note_of_the_day_brings_the_today_heading(app, shop, pages, sign_in, shot):
    tp_id = old_customer(app, shop.tenant, "Filati Rossi")
    page = pages.phone()
    sign_in(page, shop.owner.email)
    page.goto(f"/{shop.tenant.slug}/thirdparties/{tp_id}")
    expect(page.locator("#timeline-list li.event")).to_have_count(3)
    expect(page.locator("#timeline-today")).to_be_hidden()  # no event today: no empty "Today"

    item = post_note(page, "First call of the year.")
    expect(page.locator("#timeline-today")).to_be_visible()
    assert item.evaluate(GROUP_OF) == "Today"
    days = page.locator("#timeline-list .day-header:visible").all_inner_texts()
    assert days[0].strip().lower() == "today" and len(days) == 4, days  # Today, then the three old days
    shot(page, "phone-timeline-first-note-of-the-day")
