"""Logging an interaction from a customer's or a contact's card."""
from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _

from app.agenda import bp, services
from app.agenda.forms import InteractionForm, interaction_form, offer_contacts
from app.agenda.labels import OUTCOMES
from app.contacts.services import get_contact, list_contacts_of
from app.forms import parse_uuid
from app.htmx import redirect_to, render_page
from app.permissions import require
from app.thirdparties.services import get_thirdparty


def _page(tp, form, status=200):
    return render_page("agenda/log.html", "log_form", tp=tp, form=form, outcomes=OUTCOMES, status=status)


@bp.get("/customers/<uuid:thirdparty_id>/log")
@require("agenda.create")
def log(thirdparty_id):
    """The form to log a call (or a meeting, an e-mail, a letter) that just happened."""
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    contact = get_contact(g.viewer, parse_uuid(request.args.get("contact"))) if request.args.get("contact") else None
    return _page(tp, interaction_form(list_contacts_of(tp.id), contact.id if contact and contact.thirdparty_id == tp.id
                                      else None, request.args.get("kind", "call")))


@bp.post("/customers/<uuid:thirdparty_id>/log")
@require("agenda.create")
def save_log(thirdparty_id):
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    form = InteractionForm()
    offer_contacts(form, list_contacts_of(tp.id))
    if not form.validate_on_submit():
        return _page(tp, form, status=422)
    contact = get_contact(g.viewer, parse_uuid(form.contact_id.data)) if form.contact_id.data else None
    if form.contact_id.data and (contact is None or contact.thirdparty_id != tp.id):
        abort(404)  # someone else's contact, or another organisation's
    activity, created = services.log_interaction(
        g.viewer, thirdparty_id=tp.id, contact_id=contact.id if contact else None, values=form.values(),
        idempotency_key=(form.idempotency_key.data or "")[:64] or None)
    if created:
        flash(_("Logged on the timeline."), "success")
    back = request.form.get("back") == "contact" and contact
    return redirect_to(url_for("tenant.contacts.show", contact_id=contact.id) if back
                       else url_for("tenant.thirdparties.show", thirdparty_id=tp.id))
