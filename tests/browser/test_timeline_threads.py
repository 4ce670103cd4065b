"""The timeline's groups in a real browser: a note just added reads under "Today", a document's views are one line
updated live (issue 14, point 5), the sales chain is one thread (point 6).

Every wait is Playwright's auto-waiting, never a sleep.
"""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import ThirdParty, utcnow
from tests.customers import _acting, add_event, make_thirdparty
from tests.documents.support import PDF, documents_of, upload, versions_of
from tests.factories import add_member, make_tenant, make_user
from tests.helpers import Browser
from tests.sales.support import made_from, reload, validate
from tests.sales.test_invoices import pay
from tests.sales.test_orders import order_from_a_quote, ship

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
    # An event of another day arriving live (a visit planned for next week) lands there too, and says its date.
    add_event(app, shop.tenant, customer.id, title="Second visit", occurred_at=utcnow() + timedelta(days=8))
    planned = bruno.locator("#timeline-live li.event", has_text="Second visit")
    expect(planned).to_be_visible(timeout=ARRIVAL)
    assert "/" in planned.locator("time").inner_text()  # a date, not only a time
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


def _client(app, user):
    client = Browser(app.test_client())
    client.login(user.email)
    return client


def test_the_sales_chain_reads_as_one_thread_and_a_new_step_arrives_linked_to_it(app, shop, pages, sign_in, shot):
    customer = make_thirdparty(app, shop.tenant, "Mobili Conti")
    office = _client(app, shop.owner)
    quote, order = order_from_a_quote(app, office, shop.tenant, customer)
    assert ship(office, shop.tenant, order, reference="DHL 1").status_code == 303
    invoice = made_from(app, office, shop.tenant, order, "Invoice it")
    assert validate(office, shop.tenant, invoice).status_code == 303
    card = f"/{shop.tenant.slug}/thirdparties/{customer.id}"

    phone = pages.phone()
    sign_in(phone, shop.owner.email)
    phone.goto(card)
    thread = phone.locator(f'#timeline-list li.thread[data-thread="{quote.id}"]')
    expect(thread).to_have_count(1)
    expect(thread.locator(".thread-head")).to_contain_text(f"Quote {quote.number}")
    expect(thread.locator(".thread-steps").first.locator("li.event")).to_have_count(1)  # the newest step shows
    expect(thread.locator(".thread-steps").first).to_contain_text("Invoice validated")
    earlier = thread.locator("details.thread-more li.event")
    expect(earlier.first).to_be_hidden()  # the earlier steps wait behind the <details>
    shot(phone, "phone-timeline-sales-thread")
    thread.locator("details.thread-more > summary").click()
    expect(earlier.filter(has_text="Quote validated")).to_be_visible()
    shot(phone, "phone-timeline-sales-thread-open")

    desktop = pages.desktop()
    desktop.add_init_script(SSE_PROBE)
    sign_in(desktop, shop.colleague.email)
    desktop.goto(card)
    desktop.wait_for_function("() => window.__sseOpen > 0")
    desktop.locator(f'li.thread[data-thread="{quote.id}"] details.thread-more > summary').click()
    # The next step (the payment) arrives live on top of today's group, naming its thread and linking it.
    invoice = reload(app, shop.tenant, invoice)
    assert pay(office, shop.tenant, customer, invoice.total_gross, {invoice: invoice.total_gross}).status_code == 303
    arrived = desktop.locator("#timeline-live li.event", has_text="Payment received")
    expect(arrived).to_contain_text("In the thread of", timeout=ARRIVAL)
    expect(arrived.get_by_role("link", name=quote.number)).to_be_visible()
    shot(desktop, "desktop-timeline-sales-thread")
    # Read again, the payment has joined the thread.
    desktop.reload()
    expect(desktop.locator(f'li.thread[data-thread="{quote.id}"] .thread-steps').first).to_contain_text("Payment received")


def test_a_documents_views_are_one_line_updated_live(app, shop, pages, sign_in, shot):
    customer = make_thirdparty(app, shop.tenant, "Filati Bianchi")
    office = _client(app, shop.owner)
    assert upload(office, customer.id, [("Preventivo.pdf", PDF)], tenant_slug=shop.tenant.slug).status_code == 200
    doc = documents_of(app, shop.tenant, customer.id)[0]
    version = versions_of(app, shop.tenant, doc["id"])[0]
    preview = f"/{shop.tenant.slug}/documents/{doc['id']}/versions/{version['id']}/preview"
    office.get(preview).close()

    page = pages.phone()
    page.add_init_script(SSE_PROBE)
    sign_in(page, shop.owner.email)
    page.goto(f"/{shop.tenant.slug}/thirdparties/{customer.id}")
    page.wait_for_function("() => window.__sseOpen > 0")
    lines = page.locator("#timeline-section li[data-rollup]")
    expect(lines).to_have_count(1)
    expect(lines).to_contain_text("viewed 1 time by 1 person")

    colleague = _client(app, shop.colleague)
    colleague.get(preview).close()
    colleague.get(preview).close()
    expect(lines.filter(has_text="viewed 3 times by 2 people")).to_have_count(1, timeout=ARRIVAL)
    expect(lines).to_have_count(1)  # the line was replaced, not added to
    expect(page.locator("#timeline-section li.event", has_text="Document viewed")).to_have_count(0)
    shot(page, "phone-timeline-document-views")
