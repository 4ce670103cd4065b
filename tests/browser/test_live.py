"""The live timeline in real browsers: one customer open on a desktop and on a phone, two users.

What the issue promises: a note written in one browser appears in the other without a reload;
the author sees it once; a reader who scrolled away gets a "N new" button instead of a jump;
an edit of the customer arrives as "Details changed"; a private note reaches nobody else.
Every wait is Playwright's auto-waiting (5 s for an arrival), never a sleep.
"""
import re
from datetime import timedelta

import pytest

from app.models import utcnow
from tests.customers import add_event, make_thirdparty
from tests.factories import add_member, make_tenant, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

ARRIVAL = 5_000  # ms: how long a change may take to reach the other browser

# Records what the live stream did on the page, for the tests to wait on (no sleeps).
_SSE_PROBE = """
window.__sse = {open: 0, ids: [], errors: 0};
document.addEventListener("htmx:sseOpen", function () { window.__sse.open += 1; });
document.addEventListener("htmx:sseError", function () { window.__sse.errors += 1; });
document.addEventListener("htmx:sseBeforeMessage", function (e) {
  window.__sse.ids.push((e.detail.lastEventId || "").split("_").pop());
});
"""


class Shop:
    """A tenant with two users who may both read and annotate one customer."""

    def __init__(self, app):
        self.owner = make_user(app, email="anna@ottica.example.com", name="Anna Ferraro")
        self.tenant = make_tenant(app, slug="ottica-ferraro", name="Ottica Ferraro", owner=self.owner)
        # Sales: sees only the customers they represent, and not other people's private notes.
        self.rep = add_member(app, self.tenant, make_user(app, email="bruno@ottica.example.com", name="Bruno Sala"),
                              role="sales")
        self.customer = make_thirdparty(app, self.tenant, "Lanificio Bellini", reps=[self.rep],
                                        phones=[["Office", "+39 015 555 0101"]])
        self.card = f"/{self.tenant.slug}/thirdparties/{self.customer.id}"


@pytest.fixture
def shop(app):
    return Shop(app)


def open_card(page, sign_in, user, card):
    """Sign in, open the card and wait until its live stream is connected."""
    page.add_init_script(_SSE_PROBE)
    sign_in(page, user.email)
    page.goto(card)
    page.wait_for_function("() => window.__sse.open > 0")
    page.evaluate("window.__storiaSameDocument = true")
    return page


def same_document(page) -> bool:
    return page.evaluate("window.__storiaSameDocument === true")


def write_note(page, text: str, *, private: bool = False):
    """Post a note from the composer; return the timeline item it produced on the author's page."""
    composer = page.locator("#note-composer")
    composer.locator("#note-body").fill(text)
    if private:
        composer.get_by_label("Private").check()
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/notes")) as answer:
        composer.get_by_role("button", name="Add the note").click()
    assert answer.value.status == 200
    item = page.locator("#timeline-section li.event", has_text=text)
    expect(item).to_have_count(1)
    expect(page.locator("#note-body")).to_have_value("")  # a fresh composer came back
    return item


def event_id(item) -> str:
    return item.get_attribute("id").removeprefix("ev-")


def wait_streamed(page, event: str):
    """Wait until the page's own stream has delivered ``event`` (and the page decided what to do)."""
    page.wait_for_function("id => window.__sse.ids.includes(id)", arg=event)


# --- a note reaches the other browser, once for its author ---------------------------------------

def test_a_note_appears_in_the_other_browser_and_once_for_its_author(shop, pages, sign_in):
    anna = open_card(pages.desktop(), sign_in, shop.owner, shop.card)
    bruno = open_card(pages.phone(), sign_in, shop.rep, shop.card)

    mine = write_note(anna, "Called about the autumn order: 40 bolts of grey flannel.")
    arrived = bruno.locator("#timeline-live li.event", has_text="40 bolts of grey flannel")
    expect(arrived).to_be_visible(timeout=ARRIVAL)
    expect(arrived).to_contain_text("Anna Ferraro")
    expect(arrived.locator(".event-head strong")).to_have_text("Note")
    assert same_document(bruno), "the phone reloaded the card instead of receiving the note"

    # The author got the note from her own POST and again from her stream: it shows once.
    wait_streamed(anna, event_id(mine))
    expect(anna.locator("#timeline-section li.event", has_text="40 bolts of grey flannel")).to_have_count(1)
    expect(anna.locator(f"#ev-{event_id(mine)}")).to_have_count(1)

    # And the other way round, from the phone to the desktop.
    reply = write_note(bruno, "Samples posted today.")
    expect(anna.locator("#timeline-live li.event", has_text="Samples posted today.")).to_be_visible(timeout=ARRIVAL)
    wait_streamed(bruno, event_id(reply))
    expect(bruno.locator("#timeline-section li.event", has_text="Samples posted today.")).to_have_count(1)
    expect(bruno.locator("#timeline-section li.event", has_text="40 bolts of grey flannel")).to_have_count(1)
    assert same_document(anna) and same_document(bruno)


# --- a private note ------------------------------------------------------------------------------

def test_a_private_note_does_not_reach_the_other_user(shop, pages, sign_in):
    anna = open_card(pages.desktop(), sign_in, shop.owner, shop.card)
    bruno = open_card(pages.phone(), sign_in, shop.rep, shop.card)

    private = write_note(anna, "Private: Bellini pays late, keep the credit limit low.", private=True)
    expect(private.locator(".badge")).to_have_text("private")
    write_note(anna, "Public: catalogue sent.")

    # The public note was written after the private one: once it is on the phone, the private
    # one would have come before it.
    expect(bruno.locator("#timeline-live li.event", has_text="Public: catalogue sent.")).to_be_visible(timeout=ARRIVAL)
    expect(bruno.get_by_text("keep the credit limit low")).to_have_count(0)
    assert event_id(private) not in bruno.evaluate("window.__sse.ids")
    bruno.reload()
    expect(bruno.locator("#timeline-list")).to_contain_text("Public: catalogue sent.")
    expect(bruno.get_by_text("keep the credit limit low")).to_have_count(0)


# --- an edit of the customer -------------------------------------------------------------------

def test_an_edit_of_the_customer_arrives_as_details_changed(shop, pages, sign_in):
    anna = open_card(pages.desktop(), sign_in, shop.owner, shop.card)
    bruno = open_card(pages.phone(), sign_in, shop.rep, shop.card)

    bruno.goto(shop.card + "/edit")
    phone = bruno.locator("#phones .sub-row").first.get_by_label("Phone")
    expect(phone).to_have_value("+39 015 555 0101")
    phone.fill("+39 015 555 0199")
    bruno.get_by_role("button", name="Save").tap()
    bruno.wait_for_url(re.compile(re.escape(shop.card) + "$"))
    expect(bruno.locator("#flash")).to_contain_text("Your changes were saved.")

    change = anna.locator("#timeline-live li.event", has_text="Details changed")
    expect(change).to_be_visible(timeout=ARRIVAL)
    expect(change.locator(".changes")).to_contain_text("Phones")
    expect(change.locator(".changes del")).to_contain_text("+39 015 555 0101")
    expect(change.locator(".changes ins")).to_contain_text("+39 015 555 0199")
    expect(change).to_contain_text("Bruno Sala")
    assert same_document(anna)


# --- arrivals while the reader is scrolled down -------------------------------------------------

def test_arrivals_while_scrolled_down_show_a_button_instead_of_moving_the_page(app, shop, pages, sign_in):
    start = utcnow() - timedelta(days=3)
    for n in range(28):  # one page of history (30 events), older than the card's own
        add_event(app, shop.tenant, shop.customer.id, title=f"Older event {n:02}", occurred_at=start + timedelta(hours=n))
    anna = open_card(pages.desktop(), sign_in, shop.owner, shop.card)
    bruno = open_card(pages.phone(), sign_in, shop.rep, shop.card)
    button = bruno.locator(".new-events")
    expect(button).to_be_hidden()

    # Bruno reads further down the timeline.
    anchor = bruno.locator("#timeline-list li.event", has_text="Older event 10")
    anchor.scroll_into_view_if_needed()
    bruno.evaluate("el => el.scrollIntoView({block: 'center'})", anchor.element_handle())
    expect(bruno.locator("#timeline-live")).not_to_be_in_viewport()
    before = anchor.bounding_box()

    first = write_note(anna, "First arrival while Bruno reads.")
    wait_streamed(bruno, event_id(first))
    expect(button).to_be_visible(timeout=ARRIVAL)
    expect(button).to_have_text("↑ 1 new")
    expect(button).to_be_in_viewport()  # he can see it where he is reading
    write_note(anna, "Second arrival while Bruno reads.")
    expect(button).to_have_text("↑ 2 new", timeout=ARRIVAL)
    after = anchor.bounding_box()
    assert abs(after["y"] - before["y"]) <= 1, f"the page moved under the reader: {before['y']} → {after['y']}"

    # Tapping the button brings him back to the top of the timeline, where the new notes are.
    button.tap()
    expect(button).to_be_hidden()
    expect(bruno.locator("#timeline-live li.event", has_text="Second arrival")).to_be_in_viewport()
    expect(bruno.locator("#timeline-live li.event")).to_have_count(2)
    # The scroll up is smooth: wait until it has brought him to the top.
    expect(bruno.locator("#timeline-live")).to_be_in_viewport(ratio=1)

    # Reading at the top, a new arrival needs no button.
    third = write_note(anna, "Third arrival, Bruno is at the top.")
    wait_streamed(bruno, event_id(third))
    expect(bruno.locator("#timeline-live li.event", has_text="Third arrival")).to_be_visible()
    expect(button).to_be_hidden()


# --- leaving a card ------------------------------------------------------------------------------

def test_leaving_a_card_logs_no_error_and_coming_back_is_live_again(shop, pages, sign_in, live_server):
    anna = open_card(pages.desktop(), sign_in, shop.owner, shop.card)
    bruno = open_card(pages.phone(), sign_in, shop.rep, shop.card)

    # Leave by a link, by the browser's back button, and come back: no console error (the conftest
    # fails the test on any), and the card is live again.
    bruno.locator(".breadcrumb a").tap()
    bruno.wait_for_url(live_server(f"/{shop.tenant.slug}/thirdparties/"))
    expect(bruno.locator("h1")).to_have_text("Customers and suppliers")
    bruno.go_back()
    bruno.wait_for_url(live_server(shop.card))
    bruno.wait_for_function("() => window.__sse.open > 0")
    write_note(anna, "Still live after coming back.")
    expect(bruno.locator("#timeline-live li.event", has_text="Still live after coming back.")).to_be_visible(timeout=ARRIVAL)

    # Filtering the timeline replaces the live region (its stream is closed, no error either),
    # and leaving to another page from there too.
    anna.locator("#tl-text").fill("Still live")
    anna.wait_for_url(re.compile(r"text=Still"))
    expect(anna.locator("#timeline-list li.event")).to_have_count(1)
    anna.goto(f"/{shop.tenant.slug}/")
    expect(anna.locator("h1")).to_have_text("Ottica Ferraro")
    assert bruno.evaluate("window.__sse.errors") == 0


# --- a burst of recent events -------------------------------------------------------------------

def test_a_burst_of_recent_events_is_not_pushed_on_top_as_new(app, shop, pages, sign_in):
    """The stream re-reads 10 s behind the newest event: with more recent events than one page
    holds, the older ones belong below (infinite scroll), not in the live region on top."""
    for n in range(45):  # all within a second, as an import or a bulk change would write them
        add_event(app, shop.tenant, shop.customer.id, title=f"Imported line {n:02}")
    page = open_card(pages.phone(), sign_in, shop.owner, shop.card)
    page.wait_for_function("() => window.__sse.ids.length > 0")  # the stream's first read is done
    expect(page.locator("#timeline-list li.event")).to_have_count(30)
    expect(page.locator("#timeline-live li.event")).to_have_count(0)
    expect(page.locator(".new-events")).to_be_hidden()

    # Scrolling down loads the rest, each event once.
    page.locator("#timeline-list .load-more").scroll_into_view_if_needed()
    expect(page.locator("#timeline-list li.event")).to_have_count(46)
    expect(page.locator("#timeline-section li.event", has_text="Imported line 00")).to_have_count(1)
