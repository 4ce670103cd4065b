"""Invoices through the pages: made from a quote, validated (number, date, due date) and frozen; payments shared
over invoices (by hand or oldest due first), refused when they do not fit, recorded once; credit notes; the list's
filters and totals, the customer card, the timeline and the PDF."""
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import PaymentShare, SalesDocument, ThirdParty
from app.sales import queries, services
from app.tenancy import tenant_context
from tests.customers import events_of, form_fields, make_thirdparty, submit, viewer_for
from tests.factories import make_tenant
from tests.helpers import text_of
from tests.sales.support import (
    add_line,
    documents,
    made_from,
    payments,
    reload,
    rows_of,
    set_columns,
    show_url,
    validate,
    validated,
)


def today(app, tenant):
    with app.app_context(), tenant_context(tenant.id):
        return queries.today()


def invoice(app, browser, tenant, tp, price="100", **fields) -> SalesDocument:
    """A validated invoice of one line at ``price`` before 20 % VAT (so ``price`` × 1.2 with VAT)."""
    return validated(app, browser, tenant, tp, "invoice", [{"description": "Service", "unit_price": price}], **fields)


def payment_page(browser, tenant, tp) -> str:
    response = browser.get(f"/{tenant.slug}/sales/customers/{tp.id}/payments/new")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def pay(browser, tenant, tp, amount, shares=None, *, page=None, **fields):
    """Fill the payment form of ``tp`` (amount, shares by invoice) as a browser does and submit it."""
    data = form_fields(page or payment_page(browser, tenant, tp), "payment-form")
    data.update({"amount": [str(amount)], "reference": ["VIR-1"], **{k: [v] for k, v in fields.items()}})
    for doc, share in (shares or {}).items():
        data[f"share-{doc.id}"] = [str(share)]
    return submit(browser, f"/{tenant.slug}/sales/customers/{tp.id}/payments", data)


def page_text(browser, url) -> str:
    response = browser.get(url, follow_redirects=True)
    assert response.status_code == 200
    return " ".join(text_of(response.get_data(as_text=True)).split())


def test_a_validated_quote_is_invoiced_validated_numbered_and_due_after_the_payment_days(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Rossi Srl")
    quote = validated(app, browser, tenant, tp, "quote", [
        {"description": "Website design", "quantity": "3", "unit_price": "85.50"},
        {"description": "Hosting", "unit_price": "119.99", "discount": "10", "vat_rate": "22"}], title="New website")
    page = page_text(browser, show_url(tenant, quote))
    assert "Invoice it" in page

    draft = made_from(app, browser, tenant, quote, "Invoice it")
    assert (draft.kind, draft.status, draft.number, draft.source_id) == ("invoice", "draft", None, quote.id)
    assert draft.title == "New website" and draft.payment_days == 30
    assert [(x.description, x.quantity, x.unit_price, x.discount, x.vat_rate, x.net, x.vat) for x in draft.lines] == \
        [(x.description, x.quantity, x.unit_price, x.discount, x.vat_rate, x.net, x.vat) for x in quote.lines]
    assert (draft.total_net, draft.total_gross) == (quote.total_net, quote.total_gross) == (Decimal("364.49"), Decimal("439.55"))
    page = page_text(browser, show_url(tenant, draft))
    assert f"Quote {quote.number}" in page and "Invoice (draft)" in page  # the chain, from the quote

    assert validate(browser, tenant, draft).status_code == 303
    inv = reload(app, tenant, draft)
    day = today(app, tenant)
    assert inv.status == "validated" and inv.number == f"FA{day:%y%m}-0001"
    assert inv.issued_on == day and inv.due_on == day + timedelta(days=30)
    page = page_text(browser, show_url(tenant, inv))
    assert f"Invoice {inv.number}" in page and "€439.55" in page and shown_state(browser, tenant, inv) == "unpaid"
    # Payment days set on the draft win over the organisation's.
    other = invoice(app, browser, tenant, tp, payment_days="45")
    assert other.number == f"FA{day:%y%m}-0002" and other.due_on == day + timedelta(days=45)


def test_a_validated_invoice_refuses_changes_to_its_lines_and_header(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    inv = invoice(app, browser, tenant, tp, title="March")
    (line,) = inv.lines
    base = f"/{tenant.slug}/sales/invoices/{inv.id}"
    assert add_line(browser, tenant, inv, description="Sneaked in").status_code == 409
    assert browser.get(f"{base}/lines/{line.id}").status_code == 409
    assert browser.post(f"{base}/lines/{line.id}", {"description": "Changed", "quantity": "9", "unit_price": "1",
                                                   "vat_rate": "0", "discount": "", "product_id": ""}).status_code == 409
    assert browser.post(f"{base}/lines/{line.id}/delete", {}).status_code == 409
    assert browser.get(f"{base}/edit").status_code == 409
    assert browser.post(f"{base}/edit", {"title": "Changed", "payment_days": "0", "contact_id": "", "note": ""}).status_code == 409
    assert browser.post(f"{base}/delete", {}).status_code == 409
    assert validate(browser, tenant, inv).status_code == 303  # validating twice changes nothing
    after = reload(app, tenant, inv)
    assert (after.title, after.number, after.due_on, after.total_gross) == ("March", inv.number, inv.due_on, Decimal("120.00"))
    assert [(x.description, x.quantity) for x in after.lines] == [("Service", Decimal("1.000"))]
    assert "Change the header" not in page_text(browser, show_url(tenant, inv))


def test_a_partial_payment_leaves_the_invoice_partly_paid_with_its_balance(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    inv = invoice(app, browser, tenant, tp)
    response = pay(browser, tenant, tp, "50", {inv: "50"}, method="cheque")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/thirdparties/{tp.id}")
    (payment,) = payments(app, tenant)
    assert (payment.amount, payment.currency, payment.method, payment.reference) == (Decimal("50.00"), "EUR", "cheque", "VIR-1")
    assert [(s.invoice_id, s.amount) for s in payment.shares] == [(inv.id, Decimal("50.00"))]
    inv = reload(app, tenant, inv)
    assert (inv.settled, inv.balance) == (Decimal("50.00"), Decimal("70.00"))
    page = page_text(browser, show_url(tenant, inv))
    assert "Partly paid" in page and "Left to pay €70.00" in page and "Paid or credited €50.00" in page
    assert shown_state(browser, tenant, inv) == "partial"
    assert "€50.00 · Cheque · VIR-1" in page  # the payments section


def test_one_payment_is_shared_over_two_invoices(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    first, second = invoice(app, browser, tenant, tp), invoice(app, browser, tenant, tp, price="200")
    page = payment_page(browser, tenant, tp)
    assert f"{first.number}" in text_of(page) and "€240.00 left to pay" in text_of(page)
    assert pay(browser, tenant, tp, "200,00", {first: "120", second: "80"}, page=page).status_code == 303
    (payment,) = payments(app, tenant)
    assert sorted((s.invoice_id, s.amount) for s in payment.shares) == sorted([(first.id, Decimal("120.00")),
                                                                              (second.id, Decimal("80.00"))])
    first, second = reload(app, tenant, first), reload(app, tenant, second)
    assert (first.balance, second.balance) == (Decimal("0.00"), Decimal("160.00"))
    assert (shown_state(browser, tenant, first), shown_state(browser, tenant, second)) == ("paid", "partial")
    (event,) = events_of(app, tenant, thirdparty_id=tp.id, kind="payment_received")
    assert event.payload["total"] == "200.00" and sorted(event.payload["invoices"]) == sorted([first.number, second.number])


def test_a_payment_without_shares_pays_the_invoice_due_first(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    later = invoice(app, browser, tenant, tp, payment_days="60")  # numbered first, due last
    sooner = invoice(app, browser, tenant, tp, price="200", payment_days="10")
    assert pay(browser, tenant, tp, "300").status_code == 303  # every share left empty
    (payment,) = payments(app, tenant)
    assert {s.invoice_id: s.amount for s in payment.shares} == {sooner.id: Decimal("240.00"), later.id: Decimal("60.00")}
    assert reload(app, tenant, sooner).balance == 0 and reload(app, tenant, later).balance == Decimal("60.00")
    # More than what the customer owes in all: refused, nothing recorded.
    response = pay(browser, tenant, tp, "61")
    assert response.status_code == 422 and "more than the customer owes" in text_of(response.get_data(as_text=True))
    assert len(payments(app, tenant)) == 1 and reload(app, tenant, later).balance == Decimal("60.00")


def test_a_share_larger_than_its_invoice_balance_is_refused_with_the_input_kept(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    first, second = invoice(app, browser, tenant, tp), invoice(app, browser, tenant, tp, price="200")
    response = pay(browser, tenant, tp, "200", {first: "150", second: "50"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f"{first.number} has 120.00 left to pay" in text_of(body)
    fields = form_fields(body, "payment-form")
    assert fields["amount"] == ["200"] and fields[f"share-{first.id}"] == ["150"] and fields[f"share-{second.id}"] == ["50"]
    assert fields["reference"] == ["VIR-1"]
    assert payments(app, tenant) == [] and rows_of(app, tenant, PaymentShare) == []
    assert reload(app, tenant, first).settled == reload(app, tenant, second).settled == 0
    assert events_of(app, tenant, kind="payment_received") == []


def test_shares_that_do_not_add_up_to_the_payment_are_refused(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    first, second = invoice(app, browser, tenant, tp), invoice(app, browser, tenant, tp, price="200")
    response = pay(browser, tenant, tp, "100", {first: "30", second: "30"})
    assert response.status_code == 422
    assert "must add up to the payment (100" in text_of(response.get_data(as_text=True))
    response = pay(browser, tenant, tp, "100", {first: "abc"})
    assert response.status_code == 422 and f"{first.number}: enter an amount" in text_of(response.get_data(as_text=True))
    assert payments(app, tenant) == []
    assert reload(app, tenant, first).settled == reload(app, tenant, second).settled == 0


def test_the_same_payment_form_sent_twice_records_one_payment(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    inv = invoice(app, browser, tenant, tp)
    page = payment_page(browser, tenant, tp)
    assert pay(browser, tenant, tp, "40", {inv: "40"}, page=page).status_code == 303
    assert pay(browser, tenant, tp, "40", {inv: "40"}, page=page).status_code == 303  # a double tap or a retry
    assert len(payments(app, tenant)) == 1 and len(rows_of(app, tenant, PaymentShare)) == 1
    assert reload(app, tenant, inv).settled == Decimal("40.00")
    assert len(events_of(app, tenant, kind="payment_received")) == 1
    # A new form (a new key) is a new payment.
    assert pay(browser, tenant, tp, "40", {inv: "40"}).status_code == 303
    assert len(payments(app, tenant)) == 2 and reload(app, tenant, inv).settled == Decimal("80.00")


def test_a_credit_note_corrects_part_of_an_invoice(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    inv = validated(app, browser, tenant, tp, "invoice", [{"description": "Design", "quantity": "4", "unit_price": "100"},
                                                          {"description": "Hosting", "unit_price": "50"}])
    assert inv.total_gross == Decimal("540.00")
    credit = made_from(app, browser, tenant, inv, "Correct it with a credit note")
    assert (credit.kind, credit.status, credit.source_id, credit.total_gross) == ("credit_note", "draft", inv.id, Decimal("540.00"))
    assert [(x.description, x.quantity) for x in credit.lines] == [("Design", Decimal("4.000")), ("Hosting", Decimal("1.000"))]
    # One hour of design was not worked: the credit note keeps one hour of it and drops the hosting.
    design, hosting = credit.lines
    base = f"/{tenant.slug}/sales/invoices/{credit.id}/lines"
    response = browser.post(f"{base}/{design.id}", {"product_id": "", "description": "Design", "quantity": "1",
                                                    "unit_price": "100", "discount": "", "vat_rate": "20"})
    assert response.status_code == 303
    assert browser.post(f"{base}/{hosting.id}/delete", {}, htmx=True).status_code == 200
    assert reload(app, tenant, credit).total_gross == Decimal("120.00")

    assert validate(browser, tenant, credit).status_code == 303
    credit, inv = reload(app, tenant, credit), reload(app, tenant, inv)
    day = today(app, tenant)
    assert credit.status == "validated" and credit.number == f"AV{day:%y%m}-0001" and credit.issued_on == day
    assert (inv.settled, inv.balance) == (Decimal("120.00"), Decimal("420.00"))
    page = page_text(browser, show_url(tenant, inv))
    assert "Left to pay €420.00" in page and f"Credit note {credit.number}" in page
    assert shown_state(browser, tenant, inv) == "partial" and shown_state(browser, tenant, credit) == "credited"


def test_a_credit_note_larger_than_the_balance_is_refused(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    inv = invoice(app, browser, tenant, tp)
    assert pay(browser, tenant, tp, "100", {inv: "100"}).status_code == 303
    credit = made_from(app, browser, tenant, inv, "Correct it with a credit note")  # all of it: 120.00, but 20.00 is due
    response = validate(browser, tenant, credit)
    assert response.status_code == 303 and response.headers["Location"].endswith(show_url(tenant, credit))
    page = page_text(browser, show_url(tenant, credit))
    assert "A credit note cannot be larger than what is still due on its invoice (20.00)" in page
    credit, inv = reload(app, tenant, credit), reload(app, tenant, inv)
    assert (credit.status, credit.number) == ("draft", None)
    assert inv.settled == Decimal("100.00") and events_of(app, tenant, kind="credit_note_validated") == []
    # Once paid in full there is nothing left to correct: the button is gone and the route refuses.
    assert pay(browser, tenant, tp, "20", {inv: "20"}).status_code == 303
    assert "Correct it with a credit note" not in page_text(browser, show_url(tenant, inv))
    before = len(documents(app, tenant))
    response = browser.post(f"/{tenant.slug}/sales/invoices/{inv.id}/credit", {})
    assert response.status_code == 303 and len(documents(app, tenant)) == before


def test_each_step_is_on_the_customer_timeline(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Officina Bruni")
    inv = invoice(app, browser, tenant, tp)
    pay(browser, tenant, tp, "60", {inv: "60"})
    credit = made_from(app, browser, tenant, inv, "Correct it with a credit note")
    browser.post(f"/{tenant.slug}/sales/invoices/{credit.id}/lines/{credit.lines[0].id}",
                 {"product_id": "", "description": "Service", "quantity": "1", "unit_price": "10", "discount": "", "vat_rate": "20"})
    validate(browser, tenant, credit)
    credit = reload(app, tenant, credit)
    kinds = [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id) if e.kind != "thirdparty_created"]
    assert kinds == ["invoice_created", "invoice_validated", "payment_received", "credit_note_created", "credit_note_validated"]
    validated_event = events_of(app, tenant, kind="invoice_validated")[0]
    assert (validated_event.title, validated_event.payload["total"], validated_event.actor_id) == (inv.number, "120.00", tenant.owner.id)
    card = page_text(browser, f"/{tenant.slug}/thirdparties/{tp.id}")
    for label in ("Invoice drafted", "Invoice validated", "Payment received", "Credit note validated", inv.number, credit.number):
        assert label in card, label


def listed(browser, tenant, state="") -> tuple[dict[str, str], str]:
    """The rows of the invoice list filtered by ``state`` (number → state shown) and the text of its totals (which the
    page loads once shown, as htmx does) and results."""
    response = browser.get(f"/{tenant.slug}/sales/invoices/?state={state}")
    assert response.status_code == 200
    results = response.get_data(as_text=True).split('id="results"', 1)[1]
    totals = browser.get(f"/{tenant.slug}/sales/invoices/totals?state={state}", headers={"HX-Request": "true"})
    assert totals.status_code == 200 and f"/sales/invoices/totals?state={state}" in results
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", results, re.S)[1:]:  # the header row first
        number = re.search(r"\b(?:FA|AV)\d{4}-\d{4}\b|>Draft<", row).group(0).strip("<>")
        rows[number] = re.search(r'class="badge state-([a-z]+)"', row).group(1)
    return rows, " ".join(text_of(totals.get_data(as_text=True) + results).split())


def shown_state(browser, tenant, doc) -> str:
    """The state badge in the header of ``doc``'s page."""
    page = browser.get(show_url(tenant, doc)).get_data(as_text=True)
    return re.search(r'class="badge state-([a-z]+)"', page.split("<h1>", 1)[1]).group(1)


def test_the_invoice_list_filters_by_state_and_totals_what_it_selects(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Rossi Srl")
    unpaid = invoice(app, browser, tenant, tp, price="100")
    late = invoice(app, browser, tenant, tp, price="200")
    partial = invoice(app, browser, tenant, tp, price="300")
    paid = invoice(app, browser, tenant, tp, price="400")
    set_columns(app, tenant, SalesDocument, late.id, due_on=today(app, tenant) - timedelta(days=1))
    assert pay(browser, tenant, tp, "580", {partial: "100", paid: "480"}).status_code == 303
    credit = made_from(app, browser, tenant, partial, "Correct it with a credit note")
    browser.post(f"/{tenant.slug}/sales/invoices/{credit.id}/lines/{credit.lines[0].id}",
                 {"product_id": "", "description": "Refund", "quantity": "1", "unit_price": "50", "discount": "", "vat_rate": "20"})
    validate(browser, tenant, credit)
    credit = reload(app, tenant, credit)
    draft = made_from(app, browser, tenant, validated(app, browser, tenant, tp), "Invoice it")
    assert draft.number is None

    expected = {"": {unpaid: "unpaid", late: "overdue", partial: "partial", paid: "paid", credit: "credited", draft: "draft"},
                "due": {unpaid: "unpaid", late: "overdue", partial: "partial"}, "overdue": {late: "overdue"},
                "partial": {partial: "partial"}, "paid": {paid: "paid"}, "credited": {credit: "credited"},
                "draft": {draft: "draft"}}
    for state, docs in expected.items():
        rows, _text = listed(browser, tenant, state)
        assert rows == {d.number or "Draft": key for d, key in docs.items()}, state
    _rows, text = listed(browser, tenant, "due")
    # 3 invoices: 600.00 before VAT, 720.00 with it; 120 + 240 + (360 − 100 paid − 60 credited) = 560.00 left to pay.
    assert "3 documents Total before VAT: €600.00 Total with VAT: €720.00 Left to pay: €560.00" in text
    _rows, text = listed(browser, tenant, "paid")
    assert "1 document Total before VAT: €400.00 Total with VAT: €480.00 Left to pay: €0.00" in text
    _rows, text = listed(browser, tenant, "overdue")
    assert "1 document Total before VAT: €200.00 Total with VAT: €240.00 Left to pay: €240.00" in text
    _rows, text = listed(browser, tenant, "expired")  # not a filter of invoices: everything
    assert "6 documents" in text

    card = page_text(browser, f"/{tenant.slug}/thirdparties/{tp.id}")
    assert "3 unpaid invoices (1 overdue)" in card and "Balance due: €560.00" in card


def test_the_pdf_of_an_invoice_and_not_of_another_organisations(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    inv = invoice(app, browser, tenant, tp)
    response = browser.get(f"/{tenant.slug}/sales/invoices/{inv.id}.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert response.data.startswith(b"%PDF-") and f"{inv.number}.pdf" in response.headers["Content-Disposition"]

    other = make_tenant(app, name="Beta")
    their_tp = make_thirdparty(app, other, "Their customer")
    viewer = viewer_for(app, other, other.owner)
    with app.app_context(), tenant_context(other.id):
        customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == their_tp.id))
        theirs, _ = services.create_document(viewer, customer, "invoice", {"title": "Secret"})
        services.add_line(theirs, {"product_id": None, "description": "X", "quantity": Decimal(1), "unit": "",
                                   "unit_price": Decimal(1), "discount": Decimal(0), "vat_rate": Decimal(0)})
        services.validate(viewer, theirs)
        theirs_id = theirs.id
    assert browser.get(f"/{tenant.slug}/sales/invoices/{theirs_id}.pdf").status_code == 404
    assert browser.get(f"/{tenant.slug}/sales/invoices/{theirs_id}").status_code == 404
    assert browser.get(f"/{other.slug}/sales/invoices/{theirs_id}.pdf").status_code in (403, 404)  # not a member there
    # A quote's id is not an invoice.
    quote = validated(app, browser, tenant, tp)
    assert browser.get(f"/{tenant.slug}/sales/invoices/{quote.id}.pdf").status_code == 404


def test_a_retried_payment_that_paid_everything_answers_like_the_first(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    inv = invoice(app, browser, tenant, tp)
    page = payment_page(browser, tenant, tp)
    first = pay(browser, tenant, tp, "120", page=page)  # shares left empty: the invoice, in full
    assert first.status_code == 303 and reload(app, tenant, inv).balance == 0
    again = pay(browser, tenant, tp, "120", page=page)  # the same form again (a retry after a lost answer)
    assert len(payments(app, tenant)) == 1  # (true already: nothing is recorded twice)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]


def test_a_credit_note_never_raises_what_is_due(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    inv = invoice(app, browser, tenant, tp)
    credit = made_from(app, browser, tenant, inv, "Correct it with a credit note")
    browser.post(f"/{tenant.slug}/sales/invoices/{credit.id}/lines/{credit.lines[0].id}",
                 {"product_id": "", "description": "Service", "quantity": "-1", "unit_price": "100", "discount": "", "vat_rate": "20"})
    assert reload(app, tenant, credit).total_gross == Decimal("-120.00")
    validate(browser, tenant, credit)
    assert reload(app, tenant, inv).balance <= Decimal("120.00")
    assert reload(app, tenant, credit).status == "draft"


def test_the_invoice_list_totals_take_credit_notes_off(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    inv = invoice(app, browser, tenant, tp)
    credit = made_from(app, browser, tenant, inv, "Correct it with a credit note")
    browser.post(f"/{tenant.slug}/sales/invoices/{credit.id}/lines/{credit.lines[0].id}",
                 {"product_id": "", "description": "Refund", "quantity": "1", "unit_price": "50", "discount": "", "vat_rate": "20"})
    validate(browser, tenant, credit)
    _rows, text = listed(browser, tenant, "")
    assert "2 documents" in text and "Left to pay: €60.00" in text
    assert "Total with VAT: €180.00" not in text  # 120.00 invoiced, 60.00 of it credited: 60.00, not 180.00
