"""Quotes from the customer card: a draft, its lines with totals computed on the server, validation with a
number, the customer's answer, and each step on the timeline."""
import re
from decimal import Decimal

from tests.customers import events_of, make_thirdparty
from tests.helpers import text_of
from tests.sales.support import add_line, documents, draft, make_product, reload, validate


def test_a_quote_is_drafted_priced_validated_and_signed(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Rossi Srl")
    assert draft(browser, tenant, tp, title="New website").status_code == 303
    (quote,) = documents(app, tenant, "quote")
    assert quote.status == "draft" and quote.number is None and quote.valid_until is not None
    product = make_product(app, tenant)
    answer = add_line(browser, tenant, quote, product_id=str(product.id), description="", unit_price="", vat_rate="", quantity="3")
    assert answer.status_code == 200
    answer = add_line(browser, tenant, quote, description="Hosting, one year", unit_price="119.99", discount="10", vat_rate="22")
    page = text_of(answer.get_data(as_text=True))
    quote = reload(app, tenant, quote)
    assert [line.description for line in quote.lines] == ["Consulting hour", "Hosting, one year"]
    # 3 × 85.50 = 256.50 (VAT 20 %: 51.30); 119.99 less 10 % = 107.991 → 107.99 (VAT 22 %: 23.7578 → 23.76)
    assert (quote.total_net, quote.total_vat, quote.total_gross) == (Decimal("364.49"), Decimal("75.06"), Decimal("439.55"))
    assert "439.55" in page

    assert validate(browser, tenant, quote).status_code == 303
    quote = reload(app, tenant, quote)
    assert quote.status == "validated" and quote.number.startswith("PR") and quote.number.endswith("-0001")
    assert browser.post(f"/{tenant.slug}/sales/quotes/{quote.id}/send", {}).status_code == 303
    assert browser.post(f"/{tenant.slug}/sales/quotes/{quote.id}/sign", {}).status_code == 303
    assert reload(app, tenant, quote).status == "signed"
    kinds = [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id)]
    assert {"quote_created", "quote_validated", "quote_sent", "quote_signed"} <= set(kinds)
    card = text_of(browser.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert quote.number in card and "Quote signed" in card


def test_a_validated_quote_is_frozen(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Bianchi")
    draft(browser, tenant, tp)
    (quote,) = documents(app, tenant, "quote")
    add_line(browser, tenant, quote)
    validate(browser, tenant, quote)
    assert add_line(browser, tenant, quote).status_code == 409
    assert browser.post(f"/{tenant.slug}/sales/quotes/{quote.id}/delete", {}).status_code == 409
    assert len(reload(app, tenant, quote).lines) == 1


def test_a_quote_made_for_an_opportunity_is_linked_both_ways(app, browser, tenant, owner):
    from tests.pipeline.support import make_opportunity

    tp, other = make_thirdparty(app, tenant, "Caffè Moretti"), make_thirdparty(app, tenant, "Someone else")
    opp = make_opportunity(app, tenant, tp, title="Espresso bar refit")
    page = browser.get(f"/{tenant.slug}/pipeline/{opp.id}").get_data(as_text=True)
    assert "No quote for this opportunity yet." in page and f"opportunity={opp.id}" in page
    form = browser.get(f"/{tenant.slug}/sales/quotes/customers/{tp.id}/new?opportunity={opp.id}").get_data(as_text=True)
    assert "Espresso bar refit" in form  # the subject starts from the opportunity
    assert draft(browser, tenant, tp, title="Espresso bar refit", opportunity_id=str(opp.id)).status_code == 303
    (quote,) = documents(app, tenant, "quote")
    assert quote.opportunity_id == opp.id
    assert quote.number is None and "Espresso bar refit" in text_of(browser.get(f"/{tenant.slug}/pipeline/{opp.id}").get_data(as_text=True))
    shown = text_of(browser.get(f"/{tenant.slug}/sales/quotes/{quote.id}").get_data(as_text=True))
    assert re.search(r"Opportunity:\s+Espresso bar refit", shown)
    # Another customer's opportunity is not found, on the form and in a submission.
    assert browser.get(f"/{tenant.slug}/sales/quotes/customers/{other.id}/new?opportunity={opp.id}").status_code == 404
    assert draft(browser, tenant, other, opportunity_id=str(opp.id)).status_code == 404
    assert len(documents(app, tenant, "quote")) == 1
