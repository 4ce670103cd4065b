"""Planning a task or an appointment on a customer, an item's page, marking it done, and .ics files in and out."""
from flask import abort, current_app, flash, g, make_response, request, url_for
from flask_babel import gettext as _

from app.agenda import bp, ical, queries, services
from app.agenda.forms import PlanForm, edit_form, offer_people, plan_form
from app.agenda.labels import PLAN_LABELS
from app.agenda.routes import back_to, check_others, contact_of, preselected_contact
from app.customers import get_thirdparty, list_contacts_of
from app.documents import services as documents
from app.documents.filetypes import content_disposition
from app.documents.forms import upload_form
from app.editing import EditConflict, decode_snapshot, encode_snapshot
from app.forms import viewer_zone
from app.htmx import redirect_to, render_page, wants_fragment
from app.permissions import require
from app.team import list_members


def _page(tp, form, status=200, import_error=None):
    return render_page("agenda/plan.html", "plan_form", tp=tp, form=form, status=status, import_error=import_error)


def _item_or_404(activity_id, *, planned=False):
    item = queries.get_item(g.viewer, activity_id)
    if item is None or (planned and not item.planned):
        abort(404)
    return item


@bp.get("/customers/<uuid:thirdparty_id>/plan")
@require("agenda.create")
def plan(thirdparty_id):
    """The form to plan a task (a due date, a done state) or an appointment (a start, an end, maybe repeating)."""
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    form = plan_form(list_members(), list_contacts_of(tp.id), me=g.viewer.user_id, contact_id=preselected_contact(tp),
                     kind=request.args.get("kind", "task"))
    return _page(tp, form)


@bp.post("/customers/<uuid:thirdparty_id>/plan")
@require("agenda.create")
def save_plan(thirdparty_id):
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    form, contacts = PlanForm(), list_contacts_of(tp.id)
    offer_people(form, list_members(), contacts)
    if not form.validate_on_submit():
        return _page(tp, form, status=422)
    contact, others = contact_of(tp, form.contact_id.data), check_others(contacts, form.other_ids())
    item, created = services.plan(g.viewer, thirdparty_id=tp.id, contact_id=contact.id if contact else None,
                                  values=form.values(), assignee_ids=form.assignee_ids(), contact_ids=others,
                                  idempotency_key=(form.idempotency_key.data or "")[:64] or None)
    if created:
        flash(_("%(what)s planned.", what=PLAN_LABELS[item.kind]), "success")
    return redirect_to(back_to(tp, contact))


def _edit_page(item, form, status=200, conflict=None):
    return render_page("agenda/edit.html", "plan_form", item=item, form=form, status=status, conflict=conflict,
                       customers=queries.customer_names([item.thirdparty_id]))


@bp.get("/items/<uuid:activity_id>/edit")
@require("agenda.create")
def edit_item(activity_id):
    """Change a task or an appointment: reschedule, reassign, repeat, remind differently."""
    item = _item_or_404(activity_id, planned=True)
    form = edit_form(item, list_members(), list_contacts_of(item.thirdparty_id))
    form.base.data = encode_snapshot(services.plan_snapshot(item))
    return _edit_page(item, form)


@bp.post("/items/<uuid:activity_id>/edit")
@require("agenda.create")
def update_item(activity_id):
    """Save the changes; a stale form is merged field by field or refused with a 409 and both values."""
    item = _item_or_404(activity_id, planned=True)
    members, contacts = list_members(), list_contacts_of(item.thirdparty_id)
    form = edit_form(item, members, contacts, formdata=request.form)
    if not form.validate_on_submit():
        return _edit_page(item, form, status=422)
    tp = get_thirdparty(g.viewer, item.thirdparty_id) or abort(404)
    contact, others = contact_of(tp, form.contact_id.data), check_others(contacts, form.other_ids())
    names = {str(m.user_id): m.user.name for m in members} | {str(c.id): c.full_name for c in contacts}
    submitted = services.plan_submitted(form.values(), contact_id=contact.id if contact else None,
                                        assignee_ids=form.assignee_ids(), contact_ids=others)
    try:
        services.update_plan(g.viewer, item, submitted, version=request.form.get("version", type=int) or 0,
                             base=decode_snapshot(form.base.data), names=names)
    except EditConflict as conflict:
        form.version.data, form.base.data = item.version, encode_snapshot(services.plan_snapshot(item))
        return _edit_page(item, form, status=409, conflict=conflict.fields)
    flash(_("Your changes were saved."), "success")
    return redirect_to(url_for(".show_item", activity_id=item.id))


@bp.post("/items/<uuid:activity_id>/cancel")
@require("agenda.create")
def cancel_item(activity_id):
    """Cancel (delete) a task or an appointment after a confirmation; the timeline keeps that it was cancelled."""
    item = _item_or_404(activity_id, planned=True)
    thirdparty_id, title = item.thirdparty_id, item.title
    services.cancel_plan(g.viewer, item)
    flash(_("%(title)s was cancelled.", title=title), "success")
    return redirect_to(url_for("tenant.thirdparties.show", thirdparty_id=thirdparty_id))


@bp.post("/customers/<uuid:thirdparty_id>/import")
@require("agenda.create")
def import_ics(thirdparty_id):
    """Read an invitation (``.ics``) into appointments on this customer, for the viewer; twice makes them once."""
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    upload = request.files.get("invitation")
    data = upload.read(ical.MAX_INVITATION_BYTES + 1) if upload else b""
    problem, status = None, 422
    if not data:
        problem = _("Choose an invitation file (.ics).")
    elif len(data) > ical.MAX_INVITATION_BYTES:
        problem, status = _("This file is too large for an invitation."), 413
    else:
        try:
            invitations = ical.read_invitations(data, viewer_zone())
        except ical.InvitationError:
            problem = _("This file is not a calendar invitation Storia can read.")
    if problem:
        form = plan_form(list_members(), list_contacts_of(tp.id), me=g.viewer.user_id, kind="appointment")
        return _page(tp, form, status=status, import_error=problem)
    added = 0
    for invitation in invitations:
        values = {**invitation.values, "title": invitation.values["title"] or str(PLAN_LABELS["appointment"])}
        _item, created = services.plan(g.viewer, thirdparty_id=tp.id, contact_id=None, values=values,
                                       assignee_ids=[g.viewer.user_id], idempotency_key=invitation.uid_key)
        added += created
    flash(_("%(n)d appointment(s) imported.", n=added) if added else _("This invitation was already imported."),
          "success" if added else "info")
    return redirect_to(url_for("tenant.thirdparties.show", thirdparty_id=tp.id))


@bp.get("/items/<uuid:activity_id>")
@require("agenda.read")
def show_item(activity_id):
    """An agenda item: what, when, with whom, for whom, its state and its calendar file."""
    item = _item_or_404(activity_id)
    box = documents.card_box(g.viewer, thirdparty_id=item.thirdparty_id, about=("activity", item.id), limit=50)
    return render_page("agenda/item.html", item=item, customers=queries.customer_names([item.thirdparty_id]),
                       people=queries.people_of(item), attached=box["documents"], attached_count=box.get("document_count", 0),
                       upload=upload_form(item.contact_id, about=("activity", item.id)), max_bytes=current_app.config["DOCUMENT_MAX_BYTES"],
                       next=queries.Occurrence(item, item.starts_at, item.ends_at))


@bp.post("/items/<uuid:activity_id>/<any(done, todo):action>")
@require("agenda.create")
def set_done(activity_id, action):
    """Tick a task or an appointment done (or to do again) where it is shown: htmx swaps the row in place."""
    item = _item_or_404(activity_id, planned=True)
    if item.recurrence:
        abort(404)  # a repeating appointment has no single done state
    services.set_done(g.viewer, item, action == "done")
    if wants_fragment() and request.form.get("shape") == "toggle":  # the toggle alone, on a timeline event
        return render_page("agenda/_toggle.html", item=item)
    if wants_fragment():
        return render_page("agenda/_row.html", occurrence=queries.Occurrence(item, item.starts_at, item.ends_at),
                           customers=queries.customer_names([item.thirdparty_id]), show_customer=request.form.get("customer") == "1")
    return redirect_to(url_for(".show_item", activity_id=item.id))


@bp.get("/items/<uuid:activity_id>.ics")
@require("agenda.read")
def item_ics(activity_id):
    """One appointment or task as a calendar file, to add it to a phone's or a desktop's calendar."""
    item = _item_or_404(activity_id, planned=True)
    body = ical.calendar([item], name=item.title, customers=queries.customer_names([item.thirdparty_id]),
                         links={item.id: url_for(".show_item", activity_id=item.id, _external=True)})
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(f"{item.title or 'storia'}.ics")
    return response
