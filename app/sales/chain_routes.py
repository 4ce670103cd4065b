"""Making one document from another, one click each: a quote becomes an order or an invoice, an order an invoice,
an invoice is corrected by a credit note, and renewing a contract invoices its next period."""
from functools import partial

from flask import flash, g, request
from flask_babel import gettext as _

from app.htmx import redirect_to
from app.permissions import require
from app.sales import CONTRACTS, INVOICES, ORDERS, QUOTES, Book, bp, contracts, services
from app.sales.document_routes import document_or_404, show_url
from app.sales.labels import KIND_LABELS


def _key() -> str | None:
    return (request.form.get("idempotency_key") or "")[:64] or None


def make(source_book: Book, kind: str, document_id):
    """A draft ``kind`` made from the document, linked to it; its page opens to check it, then validate it."""
    source = document_or_404(source_book, document_id)
    try:
        made, created = services.make_from(g.viewer, source, kind, idempotency_key=_key())
    except services.SalesError as error:
        flash(str(error.message), "error")
        return redirect_to(show_url(source))
    if created:
        flash(_("%(kind)s drafted from %(number)s: check it, then validate it.", kind=KIND_LABELS[kind], number=source.number),
              "success")
    return redirect_to(show_url(made))


for _rule, _name, _source, _kind, _right in (
        ("/quotes/<uuid:document_id>/order", "order_quote", QUOTES, "order", "order.create"),
        ("/quotes/<uuid:document_id>/invoice", "invoice_quote", QUOTES, "invoice", "invoice.create"),
        ("/orders/<uuid:document_id>/invoice", "invoice_order", ORDERS, "invoice", "invoice.create"),
        ("/invoices/<uuid:document_id>/credit", "credit_invoice", INVOICES, "credit_note", "invoice.create")):
    bp.add_url_rule(_rule, _name, require(_right)(partial(make, _source, _kind)), methods=["POST"])


@bp.post("/contracts/<uuid:document_id>/renew")
@require("contract.create")
def renew_contract(document_id):
    """Invoice the contract's next period (a draft to check and validate) and move the contract on."""
    contract = document_or_404(CONTRACTS, document_id)
    try:
        invoice, created = contracts.renew(g.viewer, contract, idempotency_key=_key())
    except services.SalesError as error:
        flash(str(error.message), "error")
        return redirect_to(show_url(contract))
    if created:
        flash(_("Renewed: the invoice of the next period is drafted."), "success")
    return redirect_to(show_url(invoice))


