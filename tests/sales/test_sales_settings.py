"""The organisation's sales settings, saved from the settings page: the currency new documents carry, the days
after which invoices are due, the late-payment reminder levels, and the legal details printed on documents."""
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import Tenant
from tests.customers import form_fields, make_thirdparty, submit
from tests.helpers import text_of
from tests.sales.support import documents, made_from, payments, reload, show_url, validate, validated


def settings_page(browser, tenant) -> str:
    response = browser.get(f"/{tenant.slug}/admin/settings")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def save_settings(browser, tenant, **changes):
    """Change some fields of the settings form, keep the others as the page shows them, and save."""
    data = form_fields(settings_page(browser, tenant), "settings-form")
    data.update({name: [value] for name, value in changes.items()})
    return submit(browser, f"/{tenant.slug}/admin/settings", data)


def stored(app, tenant) -> Tenant:
    with app.app_context():
        row = db.session.get(Tenant, tenant.id)
        db.session.expunge(row)
        return row


def flat(page: str) -> str:
    return " ".join(text_of(page).split())


def test_the_currency_is_carried_by_new_documents_and_formats_their_amounts(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    before = validated(app, browser, tenant, tp)
    assert before.currency == "EUR"
    page = settings_page(browser, tenant)
    assert form_fields(page, "settings-form")["currency"] == ["EUR"]
    assert save_settings(browser, tenant, currency="CHF").status_code == 303
    assert stored(app, tenant).currency == "CHF"
    assert form_fields(settings_page(browser, tenant), "settings-form")["currency"] == ["CHF"]

    quote = validated(app, browser, tenant, tp, "quote", [{"unit_price": "250"}])
    assert quote.currency == "CHF" and quote.total_gross == Decimal("300.00")
    page = flat(browser.get(show_url(tenant, quote)).get_data(as_text=True))
    compact = page.replace(" ", "")
    assert "CHF250.00" in compact and "TotalwithVATCHF300.00" in compact and "€" not in page
    # A document written before keeps its currency; one made from a new quote carries the new one.
    assert "€120.00" in flat(browser.get(show_url(tenant, before)).get_data(as_text=True))
    assert made_from(app, browser, tenant, quote, "Invoice it").currency == "CHF"
    assert save_settings(browser, tenant, currency="XXX").status_code == 422  # not one of the list
    assert stored(app, tenant).currency == "CHF"


def test_payment_days_set_when_new_invoices_are_due(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    assert form_fields(settings_page(browser, tenant), "settings-form")["payment_days"] == ["30"]
    assert save_settings(browser, tenant, payment_days="45").status_code == 303
    assert stored(app, tenant).payment_days == 45
    page = browser.get(f"/{tenant.slug}/sales/invoices/customers/{tp.id}/new").get_data(as_text=True)
    assert form_fields(page, "header-form")["payment_days"] == ["45"]  # the new invoice's form starts with them
    invoice = made_from(app, browser, tenant, validated(app, browser, tenant, tp), "Invoice it")
    assert invoice.payment_days == 45
    validate(browser, tenant, invoice)
    invoice = reload(app, tenant, invoice)
    assert invoice.due_on == invoice.issued_on + timedelta(days=45)
    for bad in ("-1", "366", "soon"):
        response = save_settings(browser, tenant, payment_days=bad)
        assert response.status_code == 422, bad
        assert form_fields(response.get_data(as_text=True), "settings-form")["payment_days"] == [bad]
    assert stored(app, tenant).payment_days == 45


@pytest.mark.parametrize(("typed", "stored_as", "shown"), [
    ("7, 15, 30", None, "7, 15, 30"),  # the defaults: stored as None, so they follow the defaults if those change
    ("30,15;7", None, "7, 15, 30"),
    ("10,20", [10, 20], "10, 20"),
    (" 20 , 10 , 10 ", [10, 20], "10, 20"),
    ("", [], ""),  # no reminders
])
def test_reminder_levels_are_saved(app, browser, tenant, owner, typed, stored_as, shown):
    assert form_fields(settings_page(browser, tenant), "settings-form")["dunning_days"] == ["7, 15, 30"]
    assert save_settings(browser, tenant, dunning_days=typed).status_code == 303
    assert stored(app, tenant).dunning_days == stored_as
    assert form_fields(settings_page(browser, tenant), "settings-form")["dunning_days"] == [shown]


@pytest.mark.parametrize("typed", ["abc", "7, 15, x", "0", "366", "1, 2, 3, 4, 5, 6", "-7"])
def test_reminder_levels_that_are_not_days_are_refused_with_the_input_kept(app, browser, tenant, owner, typed):
    assert save_settings(browser, tenant, dunning_days="10,20").status_code == 303
    response = save_settings(browser, tenant, dunning_days=typed, payment_days="12")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Numbers of days separated by commas" in text_of(body)
    fields = form_fields(body, "settings-form")
    assert fields["dunning_days"] == [typed] and fields["payment_days"] == ["12"]
    after = stored(app, tenant)
    assert (after.dunning_days, after.payment_days) == ([10, 20], 30)  # nothing saved


def test_legal_details_are_printed_on_the_pdf(app, browser, tenant, owner):
    legal = "12 rue des Lilas, 75011 Paris\r\nSIRET 123 456 789 00012\r\nIBAN FR76 3000 6000 0112 3456 7890 189"
    assert save_settings(browser, tenant, legal_details=legal).status_code == 303
    assert stored(app, tenant).legal_details.splitlines() == legal.splitlines()
    assert form_fields(settings_page(browser, tenant), "settings-form")["legal_details"] == [legal]
    tp = make_thirdparty(app, tenant, "Rossi Srl")
    invoice = validated(app, browser, tenant, tp, "invoice")
    response = browser.get(f"/{tenant.slug}/sales/invoices/{invoice.id}.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    text = " ".join(re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(response.data)).pages)
    for part in ("12 rue des Lilas, 75011 Paris", "SIRET 123 456 789 00012", "IBAN FR76 3000 6000 0112 3456 7890 189",
                 invoice.number, "Rossi Srl"):
        assert part in text, part
    # Too long: refused, kept in the form.
    response = save_settings(browser, tenant, legal_details="x" * 1001)
    assert response.status_code == 422
    assert stored(app, tenant).legal_details.splitlines() == legal.splitlines()


def test_a_payment_is_recorded_in_the_organisations_currency(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    assert save_settings(browser, tenant, currency="GBP").status_code == 303
    invoice = validated(app, browser, tenant, tp, "invoice")
    assert invoice.currency == "GBP"
    page = browser.get(f"/{tenant.slug}/sales/customers/{tp.id}/payments/new").get_data(as_text=True)
    assert "£120.00 left to pay" in text_of(page)
    data = form_fields(page, "payment-form")
    data["amount"] = ["120"]
    assert submit(browser, f"/{tenant.slug}/sales/customers/{tp.id}/payments", data).status_code == 303
    (payment,) = payments(app, tenant)
    assert payment.currency == "GBP"
    card = flat(browser.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True))
    assert "Balance due: £0.00" in card


def test_list_totals_do_not_add_up_documents_of_different_currencies(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    validated(app, browser, tenant, tp)  # 120.00 EUR
    save_settings(browser, tenant, currency="CHF")
    validated(app, browser, tenant, tp)  # 120.00 CHF
    assert {d.currency for d in documents(app, tenant, "quote")} == {"EUR", "CHF"}
    totals = flat(browser.get(f"/{tenant.slug}/sales/quotes/totals").get_data(as_text=True))
    assert "240.00" not in totals  # 120 EUR + 120 CHF is not 240 of anything
    assert "€120.00" in totals and "CHF" in totals and "2 documents" in totals
