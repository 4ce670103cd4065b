"""The printable PDF of a sales document: built through the services, rendered, and read back as text."""
import io
import re
import statistics
import time
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Contact, SalesDocument, Tenant, ThirdParty
from app.sales import pdf, services
from app.tenancy import tenant_context
from tests.customers import make_contact, make_thirdparty, viewer_for

LEGAL = "12 rue des Lilas, 75011 Paris\nSIRET 123 456 789 00012 · TVA FR12 123456789\nIBAN FR76 3000 6000 0112 3456 7890 189"


def line(description="Consulting", quantity="1", unit_price="100", vat_rate="20", discount="0", unit=""):
    return {"product_id": None, "description": description, "quantity": Decimal(quantity), "unit": unit,
            "unit_price": Decimal(unit_price), "discount": Decimal(discount), "vat_rate": Decimal(vat_rate)}


def make_document(app, tenant, tp, kind="invoice", lines=(), *, validated=True, source_id=None, legal=LEGAL, **values):
    """A document of ``kind`` for ``tp`` with ``lines``, validated unless told; its id."""
    viewer = viewer_for(app, tenant, tenant.owner)
    with app.app_context(), tenant_context(tenant.id):
        db.session.get(Tenant, tenant.id).legal_details = legal
        customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == tp.id))
        source = db.session.scalar(select(SalesDocument).where(SalesDocument.id == source_id)) if source_id else None
        doc, _ = services.create_document(viewer, customer, kind, values, source=source)
        for fields in lines:
            services.add_line(doc, fields)
        if validated:
            services.validate(viewer, doc)
        return doc.id


def render(app, tenant, doc_id, *, locale="en", contact_id=None, source_number=None) -> bytes:
    with app.app_context(), tenant_context(tenant.id):
        doc = db.session.scalar(select(SalesDocument).where(SalesDocument.id == doc_id))
        customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == doc.thirdparty_id))
        contact = db.session.scalar(select(Contact).where(Contact.id == contact_id)) if contact_id else None
        return pdf.render(doc, tenant=db.session.get(Tenant, tenant.id), customer=customer, contact=contact,
                          source_number=source_number, locale=locale)


def pages_of(data: bytes) -> list[str]:
    """The text of each page, runs of white space (no-break ones included) made one plain space."""
    assert data.startswith(b"%PDF-")
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def stored(app, tenant, doc_id) -> SalesDocument:
    with app.app_context(), tenant_context(tenant.id):
        doc = db.session.scalar(select(SalesDocument).where(SalesDocument.id == doc_id))
        db.session.expunge(doc)
        return doc


def number_of(app, tenant, doc_id) -> str | None:
    return stored(app, tenant, doc_id).number


def test_an_invoice_prints_its_parties_number_dates_lines_and_totals(app, tenant):
    tp = make_thirdparty(app, tenant, "Rossi Srl", vat_number="IT01234567890",
                         addresses=[["HQ", "Via Roma 1", "20121", "Milano", "IT"]])
    contact = make_contact(app, tenant, tp.id, "Bianchi", first_name="Giulia")
    doc_id = make_document(app, tenant, tp, "invoice", [
        line("Website design", quantity="3", unit_price="85.50", unit="hour"),
        line("Hosting, one year", unit_price="119.99", discount="10", vat_rate="22"),
    ], title="New website", note="Thank you for your business.")
    (page,) = pages_of(render(app, tenant, doc_id, contact_id=contact.id))
    doc = stored(app, tenant, doc_id)
    number = doc.number
    for expected in ("Atelier Alpha", "SIRET 123 456 789 00012", "IBAN FR76", "Rossi Srl", tp.code, "Via Roma 1, 20121 Milano, IT",
                     "IT01234567890", "For the attention of Giulia Bianchi", f"Invoice {number}", "New website",
                     "3 hour", "€85.50", "10%", "22%", "€256.50", "€107.99",
                     # 256.50 at 20 % (VAT 51.30) and 107.99 at 22 % (VAT 23.76)
                     "€51.30", "€23.76", "€364.49", "€75.06", "€439.55", "Thank you for your business.", "1/1"):
        assert expected in page, expected
    assert f"Date {format_date(doc.issued_on, format='long', locale='en')}" in page
    assert f"Payment due on {format_date(doc.due_on, format='long', locale='en')}" in page and "DRAFT" not in page


def test_amounts_and_dates_follow_the_locale(app, tenant):
    tp = make_thirdparty(app, tenant, "Dupont SARL")
    doc_id = make_document(app, tenant, tp, "invoice", [line(unit_price="1234.56", vat_rate="20")])
    issued_on = stored(app, tenant, doc_id).issued_on
    (fr,) = pages_of(render(app, tenant, doc_id, locale="fr"))
    assert "1 234,56 €" in fr and "1 481,47 €" in fr and "20 %" in fr  # babel's (narrow) no-break spaces, normalised
    assert re.sub(r"\s+", " ", format_date(issued_on, format="long", locale="fr")) in fr
    (it,) = pages_of(render(app, tenant, doc_id, locale="it"))
    assert "1.234,56 €" in it and format_date(issued_on, format="long", locale="it") in it


def test_a_50_line_invoice_runs_over_pages_with_its_header_repeated(app, tenant):
    tp = make_thirdparty(app, tenant, "Big Order SpA")
    doc_id = make_document(app, tenant, tp, "invoice", [line(f"Item-{n:03} service", quantity="2", unit_price="12.34")
                                                        for n in range(1, 51)])
    pages = pages_of(render(app, tenant, doc_id))
    text = " ".join(pages)
    assert len(pages) >= 2
    for n, page in enumerate(pages, 1):
        assert f"{n}/{len(pages)}" in page and "Unit price" in page  # the table's header on every page
    assert all(text.count(f"Item-{n:03} service") == 1 for n in range(1, 51))
    assert "€1,234.00" in pages[-1] and "€247.00" in pages[-1] and "€1,481.00" in pages[-1]  # 4.94 of VAT a line


def test_a_draft_says_so_and_has_no_number(app, tenant):
    tp = make_thirdparty(app, tenant, "Bianchi")
    doc_id = make_document(app, tenant, tp, "quote", [line()], validated=False)
    (page,) = pages_of(render(app, tenant, doc_id))
    assert number_of(app, tenant, doc_id) is None
    assert "DRAFT" in page and "Quote" in page and "Valid until" in page
    assert not re.search(r"PR\d{4}-\d+", page)


def test_each_kind_prints_its_own_dates_and_where_it_was_made_from(app, tenant):
    tp = make_thirdparty(app, tenant, "Chain Ltd")
    quote_id = make_document(app, tenant, tp, "quote", [line()])
    quote_number = number_of(app, tenant, quote_id)
    invoice_id = make_document(app, tenant, tp, "invoice", source_id=quote_id)
    (page,) = pages_of(render(app, tenant, invoice_id, source_number=quote_number))
    assert f"Made from {quote_number}" in page and "€120.00" in page
    credit_id = make_document(app, tenant, tp, "credit_note", source_id=invoice_id)
    (page,) = pages_of(render(app, tenant, credit_id, source_number=number_of(app, tenant, invoice_id)))
    assert f"Credit note {number_of(app, tenant, credit_id)}" in page and "Payment due" not in page
    contract_id = make_document(app, tenant, tp, "contract", [line("Maintenance")], validated=False, period="monthly",
                                starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    (page,) = pages_of(render(app, tenant, contract_id))
    assert "Contract — DRAFT" in page and "Monthly, from January 1, 2026 to December 31, 2026" in page
    order_id = make_document(app, tenant, tp, "order", [line()], validated=False)
    assert "Order — DRAFT" in pages_of(render(app, tenant, order_id))[0]
    draft_invoice_id = make_document(app, tenant, tp, "invoice", [line()], validated=False, payment_days=45)
    assert "Payment due 45 days after the invoice date" in pages_of(render(app, tenant, draft_invoice_id))[0]


def test_hostile_text_is_printed_as_text_and_never_breaks_the_render(app, tenant):
    tp = make_thirdparty(app, tenant, "Café <b>Bold</b> & Co 😀 中文 Dvořák")
    contact = make_contact(app, tenant, tp.id, "O'Brien <i>", first_name="&amp;")
    long_text = ("word " * 600) + "x" * 2000
    doc_id = make_document(app, tenant, tp, "quote", [
        line("Bell\x07 esc\x1b tab\there <para>&</para> <br/> 😀 👍🏽 \u202eRTL"),
        line(long_text),
        line("Line one\nLine two\r\nLine three"),
    ], legal="<font size=40>Big</font> & \x01\nsecond line", title="<b>not bold</b>", note="5 < 6 & 7 > 3 ]]>")
    data = render(app, tenant, doc_id, contact_id=contact.id, locale="en")
    text = " ".join(pages_of(data))
    for expected in ("Café <b>Bold</b> & Co ? ?? Dvorák", "For the attention of &amp; O'Brien <i>", "<para>&</para> <br/>",
                     "<font size=40>Big</font> &", "<b>not bold</b>", "5 < 6 & 7 > 3 ]]>", "Line one Line two Line three",
                     "tab here", "Bell esc"):
        assert expected in text, expected
    assert text.count("word") == 600 and text.count("x") >= 2000  # the 5,000 characters, over rows and pages


def test_report_the_render_time_of_a_50_line_invoice(app, tenant, capsys):
    """Prints, asserts nothing: the median time of rendering a 50-line invoice."""
    tp = make_thirdparty(app, tenant, "Timing SAS")
    doc_id = make_document(app, tenant, tp, "invoice", [line(f"Service {n}, with a description long enough to wrap over "
                                                             "two lines of the table's first column", quantity="2")
                                                        for n in range(50)])
    with app.app_context(), tenant_context(tenant.id):
        doc = db.session.scalar(select(SalesDocument).where(SalesDocument.id == doc_id))
        customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == tp.id))
        org = db.session.get(Tenant, tenant.id)
        times = []
        for _ in range(10):
            start = time.perf_counter()
            pdf.render(doc, tenant=org, customer=customer, locale="fr")
            times.append(time.perf_counter() - start)
    with capsys.disabled():
        print(f"\nPDF of a 50-line invoice: median {statistics.median(times) * 1000:.0f} ms over {len(times)} renders")
