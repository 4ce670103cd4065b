"""The global search in Chromium (issue 14, point 4): typed in the top bar, results grouped by kind as one types,
arrow keys and Enter open a record, Escape closes; the results page with its filters; at 390x844 and 1280x800."""
import pytest

from tests.customers import make_contact, make_thirdparty
from tests.factories import make_tenant, make_user
from tests.search.support import add_note, make_sales_document

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser


@pytest.fixture
def org(app):
    owner = make_user(app, email="giulia@tessuti.example.com", name="Giulia Moretti")
    org = make_tenant(app, slug="tessuti-moretti", name="Tessuti Moretti", owner=owner)
    ferrari = make_thirdparty(app, org, "Società Ferrari", addresses=[["HQ", "Via Roma 1", "20121", "Milano", "IT"]])
    make_thirdparty(app, org, "Ferramenta Rossi")
    make_contact(app, org, ferrari.id, "Ferri", first_name="Clémence")
    add_note(app, org, ferrari.id, "Ferrari asked for the autumn fabrics catalogue")
    make_sales_document(app, org, ferrari.id, "quote", title="Tessuti autunno")
    return org, ferrari


def _search(page, text: str):
    box = page.get_by_role("combobox", name="Search customers, contacts, notes, documents and sales")
    box.fill(text)
    listbox = page.get_by_role("listbox", name="Search results")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    return box, listbox


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_type_see_grouped_results_and_open_one_with_the_keyboard(org, pages, sign_in, shot, device):
    org, ferrari = org
    page = pages.phone() if device == "phone" else pages.desktop()
    if device == "desktop":
        page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "giulia@tessuti.example.com")
    page.goto(f"/{org.slug}/")
    box, listbox = _search(page, "ferr")
    for group in ("Customers", "Contacts", "Notes", "Quotes"):
        expect(listbox.get_by_role("group", name=group)).to_be_visible()
    expect(listbox.get_by_role("group", name="Customers")).to_contain_text("Società Ferrari")
    # The box spans the bar on a phone (its own row), and the results do not scroll the page sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]
    if device == "phone":
        assert box.bounding_box()["width"] > page.viewport_size["width"] * 0.8
    shot(page, f"{device}-search")

    # Escape closes the list; typing again opens it.
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    box, listbox = _search(page, "societa")
    expect(listbox.get_by_role("option").first).to_contain_text("Società Ferrari")

    # Arrow down makes the first record active (the focus stays in the box); Enter opens it.
    box.press("ArrowDown")
    first = listbox.get_by_role("option").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    with page.expect_navigation():
        box.press("Enter")
    assert page.url.endswith(f"/{org.slug}/thirdparties/{ferrari.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Società Ferrari")


def test_enter_without_a_choice_opens_the_results_page_with_its_filters(org, pages, sign_in, shot):
    org, _ferrari = org
    page = pages.phone()
    sign_in(page, "giulia@tessuti.example.com")
    page.goto(f"/{org.slug}/")
    box, _listbox = _search(page, "ferr")
    with page.expect_navigation():
        box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    filters = page.get_by_role("navigation", name="Kinds of results")
    filters.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", level=2)).to_have_count(1)
    expect(page.get_by_role("link", name="Ferramenta Rossi")).to_be_visible()
    shot(page, "phone-search-results")
    page.goto(f"/{org.slug}/search/?q=xylophone")
    expect(page.get_by_text("No results for “xylophone”.")).to_be_visible()
