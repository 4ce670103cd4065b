"""Sales for the demo organisations: a catalogue, and quotes, orders, invoices, payments and a contract that
show every state (signed, refused, shipped, paid, partly paid, overdue)."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from app.extensions import db
from app.models import Membership, Product, SalesDocument, ThirdParty
from app.permissions import load_viewer
from app.sales import payments, services, shipments
from app.sales.queries import today
from app.tenancy import tenant_context

PRODUCTS = {
    "fr": [("SITE-VITRINE", "Site vitrine (5 pages)", "1900", "20", "", True),
           ("MAINT-MOIS", "Maintenance mensuelle", "79", "20", "mois", True),
           ("JOUR-FORM", "Journée de formation", "650", "20", "jour", True),
           ("IMPR-A4", "Impression flyers A4 (lot de 500)", "89.5", "20", "lot", False),
           ("CONSEIL-H", "Conseil", "95", "20", "heure", True)],
    "it": [("SITO-BASE", "Sito vetrina (5 pagine)", "1800", "22", "", True),
           ("MANUT-MESE", "Manutenzione mensile", "75", "22", "mese", True),
           ("GIORNO-FORM", "Giornata di formazione", "600", "22", "giorno", True),
           ("STAMPA-A4", "Volantini A4 (500 pezzi)", "85", "22", "lotto", False),
           ("CONSUL-H", "Consulenza", "90", "22", "ora", True)],
}


def load_sales(tenant_id, language: str) -> int:
    """The demo organisation's catalogue and sales (skipped when it has a catalogue already); how many documents."""
    with tenant_context(tenant_id):
        if db.session.scalar(select(Product.id).limit(1)):
            return 0
        owner = db.session.scalars(select(Membership).order_by(Membership.created_at)).first()
        viewer = load_viewer(owner.user_id)
        catalogue = [Product(ref=ref, label=label, unit_price=Decimal(price), vat_rate=Decimal(vat), unit=unit, is_service=service)
                     for ref, label, price, vat, unit, service in PRODUCTS[language]]
        db.session.add_all(catalogue)
        db.session.commit()
        customers = db.session.scalars(select(ThirdParty).order_by(ThirdParty.code).limit(8)).all()
        made = 0
        for index, tp in enumerate(customers):
            made += _story(viewer, tp, catalogue, index)
        return made


def _line(product: Product, quantity, discount=0) -> dict:
    return {"product_id": product.id, "description": product.label, "quantity": Decimal(quantity), "unit": product.unit,
            "unit_price": product.unit_price, "discount": Decimal(discount), "vat_rate": product.vat_rate}


def _document(viewer, tp, kind, lines, **values):
    doc, _ = services.create_document(viewer, tp, kind, {"title": values.pop("title", ""), **values})
    for line in lines:
        services.add_line(doc, line)
    return doc


def _story(viewer, tp, catalogue, index: int) -> int:
    """One customer's path from a quote onwards; each customer stops at a different step."""
    site, upkeep, training, flyers, advice = catalogue
    quote = _document(viewer, tp, "quote", [_line(site, 1), _line(training, 2, 10), _line(advice, 3)], title=site.label)
    if index == 7:
        return 1  # a draft still being written
    services.validate(viewer, quote)
    services.answer_quote(viewer, quote, "send")
    if index == 6:
        services.answer_quote(viewer, quote, "refuse", "Budget")
        return 1
    if index == 5:
        return 1  # waiting for an answer
    services.answer_quote(viewer, quote, "sign")
    order, _ = services.make_from(viewer, quote, "order")
    services.validate(viewer, order)
    shipments.record_shipment(viewer, order, shipped_on=today(), reference="", quantities={order.lines[0].id: Decimal(1)})
    invoice, _ = services.make_from(viewer, order, "invoice")
    services.validate(viewer, invoice)
    if index in (0, 1):
        payments.record_payment(viewer, tp, amount=invoice.total_gross, received_on=today(), method="transfer", reference="",
                                shares={invoice.id: invoice.total_gross})
    elif index == 2:
        part = (invoice.total_gross / 2).quantize(Decimal("0.01"))
        payments.record_payment(viewer, tp, amount=part, received_on=today(), method="cheque", reference="", shares={invoice.id: part})
    elif index == 3:  # late: dated 50 days ago, due 20 days ago
        db.session.execute(update(SalesDocument).where(SalesDocument.id == invoice.id).values(
            issued_on=today() - timedelta(days=50), due_on=today() - timedelta(days=20)))
        db.session.commit()
    if index == 0:
        contract = _document(viewer, tp, "contract", [_line(upkeep, 1)], title=upkeep.label, period="monthly",
                             starts_on=today().replace(day=1))
        services.validate(viewer, contract)
        return 5
    return 4
