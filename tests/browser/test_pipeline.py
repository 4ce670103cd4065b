"""The pipeline in a real browser: on a desktop, drag a card to another column (the move is saved: it is still there
after a reload); on a phone, the columns stack and a card's stage menu moves it; phone screenshots of the board and
the list.

The live server and Chromium; nothing mocked, every wait auto-waiting.
"""
from datetime import date

import pytest

from tests.customers import make_thirdparty
from tests.factories import make_tenant, make_user
from tests.pipeline.support import make_opportunity, stages

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

SLUG = "studio-pipeline"


@pytest.fixture
def org(app):
    owner = make_user(app, email="marta@studiopipeline.example.com", name="Marta Ricci")
    return make_tenant(app, slug=SLUG, name="Studio Pipeline", owner=owner)


@pytest.fixture
def deals(app, org):
    """Four open opportunities of three customers, one in each default stage; the stages, in board order."""
    rossi, bianchi = make_thirdparty(app, org, "Rossi Srl"), make_thirdparty(app, org, "Bianchi Arredamenti")
    verdi = make_thirdparty(app, org, "Cantina Verdi")
    make_opportunity(app, org, rossi, "New website", "12000", stage=0, expected=date(2031, 3, 31))
    make_opportunity(app, org, bianchi, "Online shop with a very long name for a small screen", "8500", stage=1)
    make_opportunity(app, org, verdi, "Yearly maintenance", "2400", stage=2, probability=60, expected=date(2031, 1, 15))
    make_opportunity(app, org, rossi, "Photo shoot", "900", stage=3)
    return stages(app, org)


def _column(page, stage):
    return page.locator(f'.stage-column[data-stage-id="{stage.id}"]')


def test_on_a_desktop_drag_a_card_to_another_column(app, org, deals, pages, sign_in, shot):
    prospect, _qualified, proposal, _negotiation = deals
    page = pages.desktop()
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/pipeline/")
    expect(_column(page, proposal).locator(".stage-head .badge")).to_have_text("1")
    # Side by side on a desktop.
    first, third = _column(page, prospect).bounding_box(), _column(page, proposal).bounding_box()
    assert abs(first["y"] - third["y"]) < 1 and third["x"] > first["x"]

    page.locator(".opp-card", has_text="New website").drag_to(_column(page, proposal))
    expect(page.locator(".flash")).to_contain_text("“New website” moved to Proposal.")
    expect(_column(page, proposal).locator(".opp-card", has_text="New website")).to_be_visible()
    expect(_column(page, proposal).locator(".stage-head .badge")).to_have_text("2")
    expect(_column(page, proposal)).to_contain_text("Weighted: €7,440.00")  # 12,000 × 50 % + 2,400 × 60 %
    expect(_column(page, prospect)).to_contain_text("Nothing in this stage.")

    page.reload()  # saved, not only moved on the screen
    expect(_column(page, proposal).locator(".opp-card", has_text="New website")).to_be_visible()
    expect(_column(page, prospect).locator(".opp-card")).to_have_count(0)
    shot(page, "desktop-pipeline-board")


def test_on_a_phone_the_columns_stack_and_a_cards_stage_menu_moves_it(app, org, deals, pages, sign_in, shot):
    _prospect, qualified, _proposal, negotiation = deals
    page = pages.phone()
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/pipeline/")
    first, second = _column(page, deals[0]).bounding_box(), _column(page, qualified).bounding_box()
    assert second["y"] >= first["y"] + first["height"] - 1 and abs(first["x"] - second["x"]) < 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the board is wider than the phone"
    shot(page, "phone-pipeline-board")

    card = page.locator(".opp-card", has_text="Online shop")
    card.get_by_label("Stage of Online shop with a very long name for a small screen").select_option(label="Negotiation")
    card.get_by_role("button", name="Move").click()
    expect(_column(page, negotiation).locator(".opp-card", has_text="Online shop")).to_be_visible()
    expect(_column(page, qualified)).to_contain_text("Nothing in this stage.")
    page.reload()
    expect(_column(page, negotiation).locator(".opp-card", has_text="Online shop")).to_be_visible()

    page.goto(f"/{SLUG}/pipeline/list")
    expect(page.locator(".totals-line")).to_contain_text("4 opportunities")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the list is wider than the phone"
    shot(page, "phone-pipeline-list")

    # Lost needs a reason: the form says so in place (a 422 answer, which Chromium logs), then takes it.
    pages.expect_console(r"status of 422")
    page.get_by_role("link", name="Photo shoot").click()
    page.get_by_role("button", name="Mark as lost").click()
    expect(page.locator("#lost-form .field-error")).to_have_text("Say why it was lost.")
    page.get_by_label("Why it was lost").fill("Went with their nephew")
    page.get_by_role("button", name="Mark as lost").click()
    expect(page.locator(".flash")).to_contain_text("“Photo shoot” is marked as lost.")
    expect(page.locator(".close-reason")).to_have_text("Why: Went with their nephew")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the opportunity is wider than the phone"
    shot(page, "phone-pipeline-opportunity")
