"""Recording a payment from a customer and sharing it out over its open invoices."""

from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _

from app.customers import get_thirdparty
from app.htmx import redirect_to, render_page
from app.idempotency import new_key
from app.permissions import require
from app.sales import bp, payments, services
from app.sales.forms import PaymentForm


def _page(tp, form, invoices, status=200, error=None):
    return render_page("sales/payment.html", "payment_form", tp=tp, form=form, invoices=invoices, status=status, error=error,
                       shares=request.form if request.method == "POST" else {})


@bp.get("/customers/<uuid:thirdparty_id>/payments/new")
@require("payment.create")
def new_payment(thirdparty_id):
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    invoices = payments.open_invoices(tp.id)
    form = PaymentForm(formdata=None, data={"received_on": services.today()})
    form.idempotency_key.data = new_key()
    return _page(tp, form, invoices)


@bp.post("/customers/<uuid:thirdparty_id>/payments")
@require("payment.create")
def create_payment(thirdparty_id):
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    invoices = payments.open_invoices(tp.id)
    form = PaymentForm()
    key = (form.idempotency_key.data or "")[:64] or None
    if key and payments.made_with(key) is not None:  # a retry of a payment already recorded: the same answer
        return redirect_to(url_for("tenant.thirdparties.show", thirdparty_id=tp.id))
    if not form.validate_on_submit():
        return _page(tp, form, invoices, status=422)
    shares = form.shares(request.form, invoices)
    if shares is None:
        return _page(tp, form, invoices, status=422)
    try:
        payment, created = payments.record_payment(
            g.viewer, tp, amount=form.amount.data, received_on=form.received_on.data, method=form.method.data,
            reference=(form.reference.data or "").strip(), shares=shares,
            idempotency_key=key)
    except services.SalesError as error:
        return _page(tp, form, invoices, status=422, error=error.message)
    if created:
        flash(_("Payment recorded."), "success")
    return redirect_to(url_for("tenant.thirdparties.show", thirdparty_id=tp.id))
