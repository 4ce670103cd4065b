"""Logging an interaction from a customer's or a contact's card (and the follow-up it asks for)."""
from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _

from app.agenda import bp, services
from app.agenda.forms import InteractionForm, interaction_form, offer_people
from app.customers import get_contact, get_thirdparty, list_contacts_of
from app.forms import parse_uuid
from app.htmx import redirect_to, render_page
from app.permissions import require
from app.team import list_members


def contact_of(tp, value: str | None):
    """The customer's contact named by a URL or form value: None when none is named, 404 when it is not theirs."""
    if not value:
        return None
    contact = get_contact(g.viewer, parse_uuid(value))
    if contact is None or contact.thirdparty_id != tp.id:
        abort(404)  # someone else's contact, or another organisation's
    return contact


def preselected_contact(tp):
    """The contact a link asks to preselect (``?contact=``), if it is one of this customer's; a stale link: none."""
    contact = get_contact(g.viewer, parse_uuid(request.args.get("contact"))) if request.args.get("contact") else None
    return contact.id if contact and contact.thirdparty_id == tp.id else None


def check_others(contacts, ids) -> list:
    """:raise 404: when one of ``ids`` is not one of the customer's ``contacts``."""
    known = {c.id for c in contacts}
    if any(i not in known for i in ids):
        abort(404)
    return ids


def back_to(tp, contact):
    """Where a saved form returns: the contact's card when it came from there, else the customer's."""
    if request.form.get("back") == "contact" and contact:
        return url_for("tenant.contacts.show", contact_id=contact.id)
    if request.form.get("back") == "agenda":
        return url_for(".index")
    return url_for("tenant.thirdparties.show", thirdparty_id=tp.id)


def _page(tp, form, status=200):
    return render_page("agenda/log.html", "log_form", tp=tp, form=form, outcomes=services.outcomes(g.tenant), status=status)


@bp.get("/customers/<uuid:thirdparty_id>/log")
@require("agenda.create")
def log(thirdparty_id):
    """The form to log a call (or a meeting, an e-mail, a letter) that just happened."""
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    return _page(tp, interaction_form(list_members(), list_contacts_of(tp.id), preselected_contact(tp),
                                      request.args.get("kind", "call")))


@bp.post("/customers/<uuid:thirdparty_id>/log")
@require("agenda.create")
def save_log(thirdparty_id):
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    form, contacts = InteractionForm(), list_contacts_of(tp.id)
    offer_people(form, list_members(), contacts)
    if not form.validate_on_submit():
        return _page(tp, form, status=422)
    contact = contact_of(tp, form.contact_id.data)
    follow_up = form.follow_up_values()
    activity, created = services.log_interaction(
        g.viewer, thirdparty_id=tp.id, contact_id=contact.id if contact else None, values=form.values(),
        idempotency_key=(form.idempotency_key.data or "")[:64] or None, follow_up=follow_up,
        contact_ids=check_others(contacts, form.other_ids()), team_ids=form.team_ids())
    if created:
        flash(_("Logged on the timeline, and a follow-up added to your agenda.") if follow_up
              else _("Logged on the timeline."), "success")
    return redirect_to(back_to(tp, contact))
