"""What only quotes do: take the customer's answer (sent, signed, refused or reopened)."""
from flask import flash, g
from flask_babel import lazy_gettext as _l

from app.htmx import redirect_to
from app.permissions import require
from app.sales import QUOTES, bp, services
from app.sales.document_routes import document_or_404, show, show_url
from app.sales.forms import RefuseForm

STEP_MESSAGES = {"send": _l("%(number)s is marked as sent."), "sign": _l("%(number)s is signed: it can be invoiced now."),
                 "refuse": _l("%(number)s is marked as refused."), "reopen": _l("%(number)s waits for an answer again.")}


@bp.post("/quotes/<uuid:document_id>/<any(send, sign, refuse, reopen):step>")
@require("quote.validate")
def answer_quote(document_id, step):
    """Mark a validated quote sent, signed or refused (with the reason given), or reopen an answered one."""
    quote = document_or_404(QUOTES, document_id)
    form = RefuseForm()
    if step == "refuse" and not form.validate_on_submit():
        return show(QUOTES, document_id, status=422, refuse_form=form, block=None)  # the whole page: the form is in its header
    reason = (form.reason.data or "").strip() if step == "refuse" else ""
    try:
        services.answer_quote(g.viewer, quote, step, reason)
    except services.SalesError as error:
        flash(str(error.message), "error")
    else:
        flash(STEP_MESSAGES[step] % {"number": quote.number}, "success")
    return redirect_to(show_url(quote))

