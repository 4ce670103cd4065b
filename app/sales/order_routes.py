"""Shipping an order: what left when, line by line; the order is partly shipped, then shipped."""

from flask import flash, g, request
from flask_babel import gettext as _

from app.htmx import redirect_to, render_page
from app.idempotency import new_key
from app.permissions import require
from app.sales import ORDERS, bp, queries, services, shipments
from app.sales.document_routes import document_or_404, show_url
from app.sales.forms import ShipmentForm, typed_quantity


def _page(order, form, left, status=200, error=None):
    """The shipment form: each line still to ship filled with what is left of it, or with what was sent."""
    filled = {f"qty-{line_id}": typed_quantity(quantity) for line_id, quantity in left.items() if quantity > 0}
    if request.method == "POST":
        filled |= {key: value for key, value in request.form.items() if key in filled}
    return render_page("sales/ship.html", "ship_form", order=order, form=form, left=left, status=status, error=error,
                       filled=filled)


@bp.get("/orders/<uuid:document_id>/ship")
@require("order.create")
def ship(document_id):
    order = document_or_404(ORDERS, document_id)
    form = ShipmentForm(formdata=None, data={"shipped_on": queries.today()})
    form.idempotency_key.data = new_key()
    return _page(order, form, shipments.left_to_ship(order))


@bp.post("/orders/<uuid:document_id>/ship")
@require("order.create")
def save_shipment(document_id):
    """Record a shipment; a quantity left empty ships nothing of that line, the form as shown ships all that is left."""
    order = document_or_404(ORDERS, document_id)
    left = shipments.left_to_ship(order)
    form = ShipmentForm()
    quantities = form.quantities(request.form, left) if form.validate_on_submit() else None
    if quantities is None:
        return _page(order, form, left, status=422)
    try:
        _shipment, created = shipments.record_shipment(
            g.viewer, order, shipped_on=form.shipped_on.data, reference=(form.reference.data or "").strip(),
            quantities=quantities, idempotency_key=(form.idempotency_key.data or "")[:64] or None)
    except services.SalesError as error:
        return _page(order, form, left, status=422, error=error.message)
    if created:
        flash(_("Shipment recorded."), "success")
    return redirect_to(show_url(order))
