"""An opportunity through its pages: opened from a customer's card or the board (a double submit opens one), refused
input kept with the reason (422), a stale edit refused (409) with the input kept, won, lost and reopened, and each
step on the customer's timeline."""
import re
from datetime import date
from decimal import Decimal

import pytest

from tests.customers import events_of, form_fields, make_contact, make_thirdparty, submit
from tests.helpers import text_of
from tests.pipeline.support import create, make_opportunity, open_form, opportunities, reload, stages


def test_an_opportunity_is_opened_from_the_customer_card(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Rossi Srl")
    person = make_contact(app, tenant, tp.id, "Verdi", first_name="Anna")
    page = browser.get(f"/{tenant.slug}/pipeline/customers/{tp.id}/new?contact={person.id}").get_data(as_text=True)
    assert f'<option selected value="{person.id}">Anna Verdi</option>' in page
    negotiation = stages(app, tenant)[3]
    answer = create(browser, tenant, tp, title="New shop", amount="12 500,50", stage_id=str(negotiation.id), probability="",
                    contact_id=str(person.id))
    (opp,) = opportunities(app, tenant)
    assert answer.status_code == 303 and answer.headers["Location"] == f"/{tenant.slug}/pipeline/{opp.id}"
    assert (opp.title, opp.amount, opp.probability, opp.stage_id, opp.contact_id, opp.owner_id, opp.expected_close_on) == (
        "New shop", Decimal("12500.50"), 75, negotiation.id, person.id, tenant.owner.id, date(2031, 3, 31))
    shown = text_of(browser.get(answer.headers["Location"]).get_data(as_text=True))
    assert "New shop" in shown and "Stage: Negotiation" in shown and "€12,500.50" in shown and "Weighted: €9,375.38" in shown
    assert "Opportunity “New shop” opened." in shown  # the flash, on the page it leads to
    card = text_of(browser.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert "Opportunity opened" in card and "Open the opportunity" in card


def test_a_double_submit_opens_one_opportunity(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    form = open_form(browser, tenant, tp)
    url = f"/{tenant.slug}/pipeline/customers/{tp.id}"
    first, second = browser.post(url, form), browser.post(url, form)
    (opp,) = opportunities(app, tenant)
    assert first.headers["Location"] == second.headers["Location"] == f"/{tenant.slug}/pipeline/{opp.id}"
    assert len(events_of(app, tenant, kind="opportunity_created")) == 1


def test_from_the_board_pick_the_customer_then_come_back_to_the_board(app, browser, tenant, owner):
    make_thirdparty(app, tenant, "Bianchi Spa")
    tp = make_thirdparty(app, tenant, "Rossi Srl")
    choices = browser.get(f"/{tenant.slug}/pipeline/new?q=ross", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in choices and "Bianchi" not in choices
    link = f"/{tenant.slug}/pipeline/customers/{tp.id}/new?back=board"
    assert f'href="{link}"' in choices
    page = browser.get(link).get_data(as_text=True)
    fields = form_fields(page, "opportunity-form")
    assert fields["back"] == ["board"]
    answer = submit(browser, f"/{tenant.slug}/pipeline/customers/{tp.id}", {**fields, "title": ["Website"], "amount": ["800"]})
    assert answer.status_code == 303 and answer.headers["Location"] == f"/{tenant.slug}/pipeline/"
    board = text_of(browser.get(answer.headers["Location"]).get_data(as_text=True))
    assert "Website" in board and "Rossi Srl" in board


@pytest.mark.parametrize("field,value,message", [
    ("amount", "twelve", "Not a valid decimal value"),
    ("amount", "-5", "Enter a number between 0 and"),
    ("amount", "10.505", "Use at most 2 decimals"),
    ("amount", "", "This field is required"),
    ("expected_close_on", "2031-02-30", "Not a valid date value"),
    ("expected_close_on", "1899-12-31", "Enter a date between 2000 and 2199"),
    ("probability", "101", "Number must be between 0 and 100"),
    ("probability", "lots", "Not a valid integer value"),
    ("stage_id", "no-such-stage", "Not a valid choice"),
    ("owner_id", "no-such-member", "Not a valid choice"),
    ("contact_id", "no-such-contact", "Choose one of the contacts"),
    ("title", "", "This field is required"),
])
def test_bad_input_is_refused_with_the_input_kept(app, browser, tenant, owner, field, value, message):
    tp = make_thirdparty(app, tenant)
    form = open_form(browser, tenant, tp, **{"title": "Kept title 1234", field: value})
    answer = browser.post(f"/{tenant.slug}/pipeline/customers/{tp.id}", form, htmx=True)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "<html" not in body
    assert message in text_of(body)
    if field != "title":
        assert 'value="Kept title 1234"' in body
    assert opportunities(app, tenant) == []


def test_an_owner_who_is_not_a_member_here_is_not_a_choice(app, browser, tenant, owner):
    from tests.factories import make_tenant
    stranger = make_tenant(app).owner
    tp = make_thirdparty(app, tenant)
    answer = create(browser, tenant, tp, owner_id=str(stranger.id))
    assert answer.status_code == 422 and opportunities(app, tenant) == []


def test_a_contact_of_another_customer_is_not_found(app, browser, tenant, owner):
    tp, other = make_thirdparty(app, tenant, "Rossi"), make_thirdparty(app, tenant, "Bianchi")
    theirs = make_contact(app, tenant, other.id, "Neri")
    assert create(browser, tenant, tp, contact_id=str(theirs.id)).status_code == 404
    assert opportunities(app, tenant) == []


def test_a_stale_edit_of_the_same_field_is_refused_with_409_both_values_and_the_input_kept(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website", "1000")
    url = f"/{tenant.slug}/pipeline/{opp.id}/edit"
    mine = form_fields(browser.get(url).get_data(as_text=True), "opportunity-form")
    theirs = form_fields(browser.get(url).get_data(as_text=True), "opportunity-form")
    assert submit(browser, url, {**theirs, "title": ["Their title"], "amount": ["2000"]}).status_code == 303  # saved first
    answer = submit(browser, url, {**mine, "title": ["My better title"]}, htmx=True)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "<html" not in body
    alert = " ".join(text_of(body[body.index('role="alert"'):body.index("</div>", body.index('role="alert"'))]).split())
    assert "Someone else changed this record" in alert and "What the deal is : Their title" in alert
    assert 'value="My better title"' in body
    assert (reload(app, tenant, opp).title, reload(app, tenant, opp).amount) == ("Their title", Decimal("2000.00"))
    # The form now carries the current version: saving it again is a deliberate choice, and works.
    again = form_fields(body, "opportunity-form")
    assert again["version"] == ["2"]
    assert submit(browser, url, again, htmx=True).headers["HX-Redirect"] == f"/{tenant.slug}/pipeline/{opp.id}"
    assert reload(app, tenant, opp).title == "My better title"


def test_a_stale_edit_of_other_fields_is_merged(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website", "1000")
    url = f"/{tenant.slug}/pipeline/{opp.id}/edit"
    mine = form_fields(browser.get(url).get_data(as_text=True), "opportunity-form")
    theirs = form_fields(browser.get(url).get_data(as_text=True), "opportunity-form")
    assert submit(browser, url, {**theirs, "amount": ["2000"]}).status_code == 303
    assert submit(browser, url, {**mine, "title": ["My better title"]}).status_code == 303
    assert (reload(app, tenant, opp).title, reload(app, tenant, opp).amount) == ("My better title", Decimal("2000.00"))


def test_an_edit_moving_the_stage_is_on_the_timeline(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website", "1000")
    url = f"/{tenant.slug}/pipeline/{opp.id}/edit"
    fields = form_fields(browser.get(url).get_data(as_text=True), "opportunity-form")
    assert fields["probability"] == ["10"] and fields["amount"] == ["1000.00"]
    proposal = stages(app, tenant)[2]
    assert submit(browser, url, {**fields, "stage_id": [str(proposal.id)]}).status_code == 303
    assert (reload(app, tenant, opp).stage_id, reload(app, tenant, opp).probability) == (proposal.id, 50)
    (moved,) = events_of(app, tenant, kind="opportunity_moved")
    assert (moved.payload["from"], moved.payload["to"]) == ("Prospect", "Proposal")
    card = text_of(browser.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert "From Prospect to Proposal" in card


def test_lost_needs_a_reason_won_does_not_and_both_can_be_reopened(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    lost, won = make_opportunity(app, tenant, tp, "Logo"), make_opportunity(app, tenant, tp, "Shop", stage=2)
    base = f"/{tenant.slug}/pipeline"
    refused = browser.post(f"{base}/{lost.id}/lost", {"reason": "  "}, htmx=True)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and body.lstrip().startswith('<form id="lost-form"') and "Say why it was lost." in body
    assert reload(app, tenant, lost).status == "open"
    assert browser.post(f"{base}/{lost.id}/lost", {"reason": "Went with a cheaper studio"}).status_code == 303
    assert browser.post(f"{base}/{won.id}/won", {}, htmx=True).headers["HX-Redirect"] == f"{base}/{won.id}"
    lost, won = reload(app, tenant, lost), reload(app, tenant, won)
    assert (lost.status, lost.close_reason, lost.probability) == ("lost", "Went with a cheaper studio", 0)
    assert (won.status, won.close_reason, won.probability) == ("won", None, 100)
    page = text_of(browser.get(f"{base}/{lost.id}").get_data(as_text=True))
    assert "Why: Went with a cheaper studio" in page and "Reopen" in page and "Mark as won" not in page
    # Closing again is refused (409) with the outcome it has and the reason typed kept; reopening puts it back in its
    # stage with that stage's probability.
    again = browser.post(f"{base}/{won.id}/lost", {"reason": "Changed my mind"}, htmx=True)
    body = again.get_data(as_text=True)
    assert again.status_code == 409 and reload(app, tenant, won).status == "won"
    assert "This opportunity is already closed." in text_of(body) and "Won on" in text_of(body)
    assert 'value="Changed my mind"' in body
    assert browser.post(f"{base}/{won.id}/reopen", {}).status_code == 303
    assert (reload(app, tenant, won).status, reload(app, tenant, won).probability) == ("open", 50)
    kinds = [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id) if e.kind.startswith("opportunity_")]
    assert kinds == ["opportunity_created", "opportunity_created", "opportunity_lost", "opportunity_won", "opportunity_reopened"]
    card = text_of(browser.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert "Opportunity lost" in card and "Went with a cheaper studio" in card and "Opportunity reopened" in card


def test_a_closing_reason_is_shown_as_text(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp)
    browser.post(f"/{tenant.slug}/pipeline/{opp.id}/lost", {"reason": "<script>alert(1)</script>"})
    for url in (f"/{tenant.slug}/pipeline/{opp.id}", f"/{tenant.slug}/thirdparties/{tp.id}"):
        body = browser.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and not re.search(r"<script>alert", body)


def test_a_won_opportunity_changes_stage_by_its_form_and_keeps_its_probability(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website", stage=1)
    browser.post(f"/{tenant.slug}/pipeline/{opp.id}/won", {"reason": "Best offer"})
    url = f"/{tenant.slug}/pipeline/{opp.id}/edit"
    fields = form_fields(browser.get(url).get_data(as_text=True), "opportunity-form")
    prospect = stages(app, tenant)[0]
    assert submit(browser, url, {**fields, "stage_id": [str(prospect.id)], "probability": ["40"]}).status_code == 303
    opp = reload(app, tenant, opp)
    assert (opp.stage_id, opp.status, opp.probability, opp.close_reason) == (prospect.id, "won", 100, "Best offer")
    # Closing it again says so (409), whatever was typed.
    again = browser.post(f"/{tenant.slug}/pipeline/{opp.id}/lost", {"reason": ""})
    assert again.status_code == 409 and reload(app, tenant, opp).status == "won"
    assert "Why: Best offer" in text_of(again.get_data(as_text=True))


def test_a_quote_from_the_card_offers_the_customers_open_opportunity_and_signing_it_wins_the_deal(app, browser, tenant,
                                                                                                  owner):
    """Issue 14: a quote made from the card for a customer with an open opportunity is offered the link (preselected
    when there is one), and signing the quote marks the opportunity won, in the same transaction, on the timeline."""
    from tests.sales.support import add_line, documents, draft, validate
    from tests.sales.support import reload as reload_doc

    tp = make_thirdparty(app, tenant, "Rossi Srl")
    deal = make_opportunity(app, tenant, tp, title="New shop")
    page = browser.get(f"/{tenant.slug}/sales/quotes/customers/{tp.id}/new").get_data(as_text=True)
    assert "For the opportunity" in text_of(page) and f'<option value="{deal.id}" selected>New shop</option>' in page
    assert draft(browser, tenant, tp, title="Shop fitting", opportunity_id=str(deal.id)).status_code == 303
    (quote,) = documents(app, tenant, "quote")
    assert quote.opportunity_id == deal.id
    assert add_line(browser, tenant, quote, description="Shelves", unit_price="900", vat_rate="20").status_code == 200
    assert validate(browser, tenant, quote).status_code == 303
    assert reload(app, tenant, deal).status == "open"
    assert browser.post(f"/{tenant.slug}/sales/quotes/{quote.id}/sign", {}).status_code == 303
    won = reload(app, tenant, deal)
    assert won.status == "won" and won.probability == 100 and reload_doc(app, tenant, quote).number in won.close_reason
    assert "opportunity_won" in [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id)]


def test_a_quote_on_its_own_leaves_the_opportunity_open(app, browser, tenant, owner):
    from tests.sales.support import add_line, documents, draft, validate

    tp = make_thirdparty(app, tenant, "Rossi Srl")
    deal = make_opportunity(app, tenant, tp, title="New shop")
    assert draft(browser, tenant, tp, title="Spare parts", opportunity_id="").status_code == 303
    (quote,) = documents(app, tenant, "quote")
    assert add_line(browser, tenant, quote, description="Bolts", unit_price="9", vat_rate="20").status_code == 200
    assert validate(browser, tenant, quote).status_code == 303
    assert browser.post(f"/{tenant.slug}/sales/quotes/{quote.id}/sign", {}).status_code == 303
    assert reload(app, tenant, deal).status == "open"
