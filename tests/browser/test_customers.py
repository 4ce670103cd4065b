"""Customer-history journeys in a real browser: the list, the form, the card, notes, the timeline.

The live server, the real database and Chromium; nothing mocked, every wait auto-waiting.
Phones (390×844) for what people do on the road, a desktop for the rest.
"""
import re
from datetime import timedelta

import pytest

from app.models import utcnow
from app.timeline import notes as note_services
from tests.customers import _acting, add_event, make_field, make_tag, make_thirdparty, read_thirdparty
from tests.factories import add_member, make_tenant, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

SLUG = "tessuti-moretti"
STATUS_409 = r"status of 409 "  # the console line Chromium logs for the conflict form answered with 409


@pytest.fixture
def org(app):
    owner = make_user(app, email="giulia@tessuti.example.com", name="Giulia Moretti")
    return make_tenant(app, slug=SLUG, name="Tessuti Moretti", owner=owner)


def mark_document(page) -> None:
    page.evaluate("window.__storiaSameDocument = true")


def same_document(page) -> bool:
    return page.evaluate("window.__storiaSameDocument === true")


def assert_no_sideways_scroll(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{what} scrolls sideways at {viewport}px: {width}px wide"


def add_note(app, tenant, thirdparty_id, body: str, *, by=None, pinned: bool = False) -> None:
    """A note written through the service (as the owner by default)."""
    with _acting(app, tenant, by or tenant.owner) as viewer:
        note_services.create_note(viewer, thirdparty_id=thirdparty_id, contact_id=None, body=body, private=False,
                                  pinned=pinned, idempotency_key=None)


# --- create, search, bulk-assign (phone) --------------------------------------------------------

def test_create_a_customer_search_it_and_assign_it_in_bulk(app, org, pages, sign_in, live_server):
    make_tag(app, org, "Wholesale", "green")
    make_field(app, org, "Sector", "choice", choices=["Fashion", "Furniture", "Hotels"], show_in_list=True)
    add_member(app, org, make_user(app, email="carla@tessuti.example.com", name="Carla Neri"), role="sales")
    others = [make_thirdparty(app, org, name) for name in ("Lanerie Biellesi", "Ferramenta Rossi", "Albergo Lana d'Oro")]

    page = pages.phone()
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/thirdparties/")
    page.get_by_role("button", name="New", exact=True).tap()
    page.wait_for_url(live_server(f"/{SLUG}/thirdparties/new"))
    form = page.locator("#thirdparty-form")
    form.get_by_label("Name").fill("Lanificio Bellini & Figli")

    # Two phones: the second row is fetched by "+ Another phone".
    phones = form.locator("#phones .sub-row")
    expect(phones).to_have_count(1)
    phones.nth(0).get_by_label("Label").fill("Office")
    phones.nth(0).get_by_label("Phone").fill("+39 015 555 0101")
    form.get_by_role("button", name="+ Another phone").tap()
    expect(phones).to_have_count(2)
    phones.nth(1).get_by_label("Label").fill("Warehouse")
    phones.nth(1).get_by_label("Phone").fill("+39 015 555 0202")
    # The button now asks for a third row (it was swapped out of band with the next index).
    expect(form.locator("#add-phones")).to_have_attribute("value", "2")

    address = form.locator("#addresses .sub-block").first
    address.get_by_label("Label").fill("Mill")
    address.get_by_label("Street").fill("Via Cernaia 12")
    address.get_by_label("Postcode").fill("13900")
    address.get_by_label("City").fill("Biella")
    address.get_by_label("Country").select_option("IT")
    form.get_by_label("Wholesale").check()
    form.get_by_label("Sector").select_option("Fashion")
    assert_no_sideways_scroll(page, "the new-customer form")
    form.get_by_role("button", name="Save").tap()

    page.wait_for_url(re.compile(rf"/{SLUG}/thirdparties/[0-9a-f-]{{36}}$"))
    expect(page.locator("#flash")).to_contain_text("Lanificio Bellini & Figli was created with the code")
    expect(page.locator("h1")).to_have_text("Lanificio Bellini & Figli")
    # On a phone the timeline comes first: the phone numbers are in the header, the rest behind the Details tab.
    expect(page.locator(".card-header").get_by_role("link", name="+39 015 555 0101")).to_have_attribute(
        "href", "tel:+390155550101")
    details = page.locator("#panel-details")
    expect(details).to_be_hidden()
    page.locator(".card-tabs").get_by_role("button", name="Details").tap()
    expect(details).to_be_visible()
    expect(page.locator(".card-tabs").get_by_role("button", name="Details")).to_have_attribute("aria-expanded", "true")
    expect(details.get_by_role("link", name="+39 015 555 0101")).to_have_attribute("href", "tel:+390155550101")
    expect(details.get_by_role("link", name="+39 015 555 0202")).to_be_visible()
    expect(details).to_contain_text("Warehouse")
    expect(details).to_contain_text("Via Cernaia 12")
    expect(details).to_contain_text("Biella")
    expect(details).to_contain_text("Fashion")
    expect(page.locator(".card-header .tag")).to_have_text("Wholesale")
    expect(page.locator("#timeline-list li.event").first).to_contain_text("Created")
    assert_no_sideways_scroll(page, "the card")
    card_url = page.url

    # Search while typing: the results narrow without a page load, and the URL keeps the search.
    page.locator(".breadcrumb a").tap()
    page.wait_for_url(live_server(f"/{SLUG}/thirdparties/"))
    mark_document(page)
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(4)
    page.locator("#q").press_sequentially("lanif")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Lanificio Bellini & Figli")
    expect(rows.first).to_contain_text("Fashion")  # the custom field shown as a column
    expect(page).to_have_url(re.compile(r"[?&]q=lanif"))
    page.locator("#q").fill("biella")  # the city is searched too
    expect(rows).to_have_count(1)
    page.locator("#q").fill("lan")
    expect(rows).to_have_count(3)
    assert same_document(page), "the search reloaded the page"
    assert_no_sideways_scroll(page, "the list")

    # Ticking a line shows the bulk bar; assigning it to Carla.
    bar = page.locator(".bulk-bar")
    expect(bar).to_be_hidden()
    page.get_by_label("Select Lanificio Bellini & Figli").check()
    expect(bar).to_be_visible()
    assert_no_sideways_scroll(page, "the list with its bulk bar")
    bar.get_by_label("Action").select_option(label="Assign to")
    bar.get_by_label("Sales representative").select_option(label="Carla Neri")
    bar.get_by_role("button", name="Apply to the selection").tap()
    expect(page.locator("#flash")).to_contain_text(re.compile(r"1 lines? updated"))
    page.get_by_label("Select Lanificio Bellini & Figli").uncheck()
    expect(bar).to_be_hidden()

    page.goto(card_url)
    expect(page.locator(".card-header")).to_contain_text("Carla Neri")
    change = page.locator("#timeline-list li.event", has_text="Details changed").first
    expect(change).to_contain_text("Sales representatives")
    expect(change.locator("ins")).to_contain_text("Carla Neri")
    # Only the ticked line was assigned.
    assert all(read_thirdparty(app, org, other.id)["rep_ids"] == [] for other in others)


# --- the card: a contact, a pinned note, an inline edit, the note's history (desktop) ----------

def test_card_contact_pinned_note_inline_edit_and_history(app, org, pages, sign_in, live_server):
    customer = make_thirdparty(app, org, "Sartoria Vitale")
    card = f"/{SLUG}/thirdparties/{customer.id}"
    page = pages.desktop()
    sign_in(page, org.owner.email)
    page.goto(card)

    # A contact, from the card.
    page.get_by_role("link", name="+ Add a contact").click()
    page.wait_for_url(re.compile(r"/contacts/new\?thirdparty="))
    contact_form = page.locator("#contact-form")
    contact_form.get_by_label("First name").fill("Marta")
    contact_form.get_by_label("Last name").fill("Vitale")
    contact_form.get_by_label("Job title").fill("Buyer")
    contact_form.get_by_role("textbox", name="E-mail").fill("marta@sartoria.example.com")
    contact_form.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/contacts/[0-9a-f-]{36}$"))
    expect(page.locator("#flash")).to_contain_text("Marta Vitale was added to Sartoria Vitale.")
    expect(page.locator("h1")).to_have_text("Marta Vitale")
    page.locator(".breadcrumb a").click()
    page.wait_for_url(live_server(card))
    expect(page.locator(".contact-list")).to_contain_text("Marta Vitale")
    expect(page.locator(".contact-list")).to_contain_text("Buyer")
    expect(page.locator("#timeline-list li.event", has_text="Contact added")).to_have_count(1)

    # A note, pinned on top (the card comes back with it above the timeline).
    composer = page.locator("#note-composer")
    composer.locator("#note-body").fill("Prefers deliveries on Tuesday mornings.")
    composer.get_by_label("Pin on top").check()
    composer.get_by_role("button", name="Add the note").click()
    expect(page.locator("#flash")).to_contain_text("Your note was added.")
    expect(page.locator(".pinned .pinned-note")).to_contain_text("Prefers deliveries on Tuesday mornings.")
    expect(page.locator("#timeline-section li.event", has_text="Prefers deliveries")).to_have_count(1)
    expect(composer.locator("#note-body")).to_have_value("")
    expect(composer.get_by_label("Pin on top")).not_to_be_checked()

    # Edited in place: the editor replaces the note's text in the timeline.
    mark_document(page)
    note_item = page.locator("#timeline-list li.event", has_text="Prefers deliveries")
    note_item.get_by_role("link", name="Edit").click()
    editor = note_item.locator("form.note-editor")
    expect(editor.get_by_label("Note")).to_have_value("Prefers deliveries on Tuesday mornings.")
    assert same_document(page), "the editor was opened by a page load"
    editor.get_by_label("Note").fill("Prefers deliveries on Thursday mornings, never after 11.")
    editor.get_by_role("button", name="Save the note").click()
    expect(page.locator("#flash")).to_contain_text("The note was saved.")
    expect(page.locator(".pinned .pinned-note")).to_contain_text("Thursday mornings, never after 11.")
    edited = page.locator("#timeline-list li.event", has_text="Note edited")
    expect(edited).to_contain_text("Thursday mornings")

    # Its history keeps the first text.
    edited.get_by_role("link", name="History").click()
    page.wait_for_url(re.compile(r"/notes/[0-9a-f-]{36}/versions$"))
    expect(page.locator("h1")).to_have_text("History of the note")
    articles = page.locator("main article")
    expect(articles).to_have_count(2)
    expect(articles.nth(0)).to_contain_text("Current text")
    expect(articles.nth(0)).to_contain_text("Thursday mornings, never after 11.")
    expect(articles.nth(1)).to_contain_text("Before")
    expect(articles.nth(1)).to_contain_text("Prefers deliveries on Tuesday mornings.")
    expect(articles.nth(1)).to_contain_text("Giulia Moretti")


# --- timeline filters in the URL, infinite scroll (phone) ---------------------------------------

def test_timeline_filters_live_in_the_url_and_older_events_load_on_scroll(app, org, pages, sign_in, live_server):
    customer = make_thirdparty(app, org, "Mobilificio Sereni")
    start = utcnow() - timedelta(days=8)
    for n in range(84):  # a week of history, two-hourly: four pages, several days
        add_event(app, org, customer.id, title=f"Price list update {n:02}", occurred_at=start + timedelta(hours=2 * n))
    add_note(app, org, customer.id, "Asked for an invoice copy of March.")
    add_note(app, org, customer.id, "Visit planned with the new designer.")
    card = f"/{SLUG}/thirdparties/{customer.id}"
    total = 84 + 1 + 2  # the events above, "Created" and the two notes

    page = pages.phone()
    sign_in(page, org.owner.email)
    page.goto(card)
    events = page.locator("#timeline-list li.event")
    expect(events).to_have_count(30)

    # Older events load as the reader reaches the end of the list, a page at a time.
    for shown in (60, total):
        page.locator("#timeline-list .load-more").scroll_into_view_if_needed()
        expect(events).to_have_count(shown)
    expect(page.locator("#timeline-list .load-more")).to_have_count(0)
    ids = page.eval_on_selector_all("#timeline-section li.event", "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)) == total, "an event is missing or shown twice"
    days = page.locator("#timeline-list .day-header").all_inner_texts()
    assert len(days) == len(set(days)) >= 8, f"a day header repeats across pages: {days}"
    assert_no_sideways_scroll(page, "the card with its whole timeline")

    # Filters: by kind, then by text; the URL keeps them.
    page.evaluate("window.scrollTo(0, 0)")
    mark_document(page)
    filters = page.locator(".timeline-filters")
    filters.locator("summary", has_text="Filters").tap()
    page.eval_on_selector(".timeline-filters", "form => form.dataset.kept = 'yes'")
    filters.get_by_label("What").select_option(label="Notes")
    expect(page).to_have_url(re.compile(r"[?&]kind=notes"))
    expect(events).to_have_count(2)
    # Only the results are swapped: the form the reader is typing in stays as it is.
    expect(page.locator(".timeline-filters[data-kept=yes]")).to_have_count(1)
    page.locator("#tl-text").fill("invoice")
    expect(page).to_have_url(re.compile(r"[?&]text=invoice"))
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("Asked for an invoice copy of March.")
    assert same_document(page), "filtering reloaded the page"
    filtered_url = page.url

    # Reloaded (or shared), the address shows the same filtered view.
    page.reload()
    expect(page).to_have_url(filtered_url)
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("Asked for an invoice copy of March.")
    expect(page.locator("#tl-text")).to_have_value("invoice")
    expect(page.locator("#tl-kind")).to_have_value("notes")
    expect(page.locator(".timeline-filters details.more")).to_have_attribute("open", "")

    # Text alone searches every kind; clearing the filters brings the whole timeline back.
    page.goto(f"{card}?text=update+07")
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("Price list update 07")
    page.get_by_role("link", name="Clear the filters").tap()
    page.wait_for_url(live_server(card))
    expect(events).to_have_count(30)


# --- archive and restore (phone) --------------------------------------------------------------

def test_archive_asks_first_and_restore_brings_the_customer_back(app, org, pages, sign_in, live_server):
    customer = make_thirdparty(app, org, "Tintoria Galli")
    card = f"/{SLUG}/thirdparties/{customer.id}"
    page = pages.phone()
    sign_in(page, org.owner.email)
    page.goto(card)
    archive_posts = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/archive") and archive_posts.append(r.url))
    dialogs = []

    def answer(dialog, accept):
        dialogs.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, accept=False))
    page.locator(".card-actions").get_by_role("button", name="Archive").tap()
    expect(page.locator(".card-actions").get_by_role("button", name="Archive")).to_be_visible()
    page.once("dialog", lambda d: answer(d, accept=True))
    page.locator(".card-actions").get_by_role("button", name="Archive").tap()
    expect(page.locator("#flash")).to_contain_text("Tintoria Galli was archived.")
    assert dialogs == ["Archive Tintoria Galli? It leaves the lists; its history stays."] * 2
    assert len(archive_posts) == 1, "the dismissed confirmation still archived"
    expect(page.locator(".card-header .badge-off")).to_have_text("Archived")
    expect(page.locator("#timeline-list li.event").first).to_contain_text("Archived")
    assert read_thirdparty(app, org, customer.id)["archived"]

    # It leaves the list, and is found under "Archived".
    page.goto(f"/{SLUG}/thirdparties/")
    expect(page.get_by_text("No customers yet.")).to_be_visible()
    page.goto(f"/{SLUG}/thirdparties/?status=archived")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Tintoria Galli").tap()

    page.locator(".card-actions").get_by_role("button", name="Restore").tap()
    expect(page.locator("#flash")).to_contain_text("Tintoria Galli was restored.")
    expect(page.locator(".card-header .badge-off")).to_have_count(0)
    expect(page.locator(".card-actions").get_by_role("button", name="Archive")).to_be_visible()
    expect(page.locator("#timeline-list li.event").first).to_contain_text("Restored")
    assert not read_thirdparty(app, org, customer.id)["archived"]
    assert dialogs == ["Archive Tintoria Galli? It leaves the lists; its history stays."] * 2  # restoring asks nothing


# --- two people edit the same customer (desktop) ------------------------------------------------

def test_a_concurrent_edit_answers_with_the_conflict_form_in_place(app, org, pages, sign_in):
    pages.expect_console(STATUS_409)
    customer = make_thirdparty(app, org, "Calzificio Bruni", phones=[["Office", "+39 0331 555 100"]],
                               website="https://bruni.example.com")
    colleague = add_member(app, org, make_user(app, email="piero@tessuti.example.com", name="Piero Ricci"), role="admin")
    edit = f"/{SLUG}/thirdparties/{customer.id}/edit"
    giulia, piero = pages.desktop(), pages.desktop()
    sign_in(giulia, org.owner.email)
    sign_in(piero, colleague.email)
    giulia.goto(edit)
    piero.goto(edit)

    # Giulia saves a new phone number first.
    giulia.locator("#phones .sub-row").first.get_by_label("Phone").fill("+39 0331 555 111")
    giulia.get_by_role("button", name="Save").click()
    expect(giulia.locator("#flash")).to_contain_text("Your changes were saved.")

    # Piero, on the form he opened before, changes the same number and the description.
    mark_document(piero)
    piero_phone = piero.locator("#phones .sub-row").first.get_by_label("Phone")
    piero_phone.fill("+39 0331 555 999")
    piero.get_by_label("Notes", exact=True).fill("Ships from the Legnano plant.")
    with piero.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/edit")) as answer:
        piero.get_by_role("button", name="Save").click()
    assert answer.value.status == 409
    alert = piero.locator("#thirdparty-form [role=alert]")
    expect(alert).to_contain_text("Someone else changed this record while you were editing it.")
    expect(alert).to_contain_text("+39 0331 555 111")  # what Giulia saved
    expect(piero_phone).to_have_value("+39 0331 555 999")  # what he typed is kept
    expect(piero.get_by_label("Notes", exact=True)).to_have_value("Ships from the Legnano plant.")
    assert same_document(piero), "the conflict reloaded the page"
    assert read_thirdparty(app, org, customer.id)["phones"] == [["Office", "+39 0331 555 111"]]

    # Saving again keeps his version, knowingly.
    piero.get_by_role("button", name="Save").click()
    expect(piero.locator("#flash")).to_contain_text("Your changes were saved.")
    stored = read_thirdparty(app, org, customer.id)
    assert stored["phones"] == [["Office", "+39 0331 555 999"]]
    assert stored["description"] == "Ships from the Legnano plant."
    assert stored["website"] == "https://bruni.example.com"
