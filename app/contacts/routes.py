"""Contact pages: search, form, card with the person's own timeline, moving, archiving."""
import uuid

from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _

from app import customfields
from app.contacts import bp, services
from app.contacts.forms import CHANNEL_LABELS, ContactForm, form_data
from app.customers import contact_or_404, get_thirdparty
from app.documents import services as documents
from app.editing import EditConflict, decode_snapshot, encode_snapshot
from app.htmx import redirect_to, render_page
from app.pagination import page_number
from app.permissions import require
from app.thirdparties.forms import fill_custom_fields, with_custom_fields
from app.thirdparties.services import ListQuery, list_thirdparties
from app.timeline.forms import composer_form
from app.timeline.views import timeline_context


def _form(formdata=None, data=None):
    return with_custom_fields(ContactForm, customfields.list_fields("contact"))(formdata=formdata, data=data)


def _contact_or_404(contact_id):
    """:raise 404: unless the contact exists here and the viewer may see its third party."""
    return contact_or_404(g.viewer, contact_id)


def _thirdparty_or_404(value):
    try:
        thirdparty_id = uuid.UUID(value or "")
    except ValueError:
        abort(404)
    return get_thirdparty(g.viewer, thirdparty_id) or abort(404)


@bp.get("/")
@require("thirdparty.read")
def index():
    """Search the people of the customers the viewer may see."""
    text = request.args.get("q", "").strip()[:100]
    page = page_number(request.args)
    rows, has_next = services.search_contacts(g.viewer, text, page=page)
    return render_page("contacts/index.html", "results", rows=rows, has_next=has_next, text=text, page=page)


@bp.get("/new")
@require("contact.create")
def new():
    tp = _thirdparty_or_404(request.args.get("thirdparty"))
    return render_page("contacts/form.html", form=_form(data={"preferred_channel": "any"}), contact=None, tp=tp)


@bp.post("/")
@require("contact.create")
def create():
    """Add a person to a third party."""
    tp = _thirdparty_or_404(request.form.get("thirdparty_id"))
    form = _form(formdata=request.form)
    if not form.validate_on_submit():
        return render_page("contacts/form.html", "contact_form", form=form, contact=None, tp=tp, status=422)
    contact = services.create_contact(g.viewer, tp, form.values())
    flash(_("%(name)s was added to %(company)s.", name=contact.full_name, company=tp.name), "success")
    return redirect_to(url_for(".show", contact_id=contact.id))


@bp.get("/<uuid:contact_id>")
@require("thirdparty.read")
def show(contact_id):
    """The person's card and their own timeline (across the third parties they belonged to)."""
    contact = _contact_or_404(contact_id)
    context = timeline_context(g.viewer, contact.thirdparty_id, contact=contact, endpoint=".show", contact_id=contact.id)
    return render_page(
        "contacts/show.html", context["timeline_block"], contact=contact, tp=contact.thirdparty,
        fields=customfields.list_fields("contact"), display=customfields.display, channel_labels=CHANNEL_LABELS,
        note_form=composer_form(contact.id), **documents.card_box(g.viewer, contact_id=contact.id), **context,
    )


@bp.get("/<uuid:contact_id>/edit")
@require("contact.update")
def edit(contact_id):
    contact = _contact_or_404(contact_id)
    values = services.snapshot(contact)
    form = _form(data={**form_data(values), "version": contact.version, "base": encode_snapshot(values)})
    fill_custom_fields(form, contact.custom)
    return render_page("contacts/form.html", form=form, contact=contact, tp=contact.thirdparty)


@bp.post("/<uuid:contact_id>/edit")
@require("contact.update")
def update(contact_id):
    """Save an edit; a concurrent change to the same fields answers 409 with both values."""
    contact = _contact_or_404(contact_id)
    form = _form(formdata=request.form)
    if not form.validate_on_submit():
        return render_page("contacts/form.html", "contact_form", form=form, contact=contact, tp=contact.thirdparty, status=422)
    try:
        services.update_contact(g.viewer, contact, form.values(), version=request.form.get("version", type=int) or 0,
                                base=decode_snapshot(form.base.data))
    except EditConflict as conflict:
        form.version.data, form.base.data = contact.version, encode_snapshot(services.snapshot(contact))
        return render_page("contacts/form.html", "contact_form", form=form, contact=contact, tp=contact.thirdparty,
                           conflict=conflict.fields, status=409)
    flash(_("Your changes were saved."), "success")
    return redirect_to(url_for(".show", contact_id=contact.id))


@bp.route("/<uuid:contact_id>/move", methods=["GET", "POST"])
@require("contact.update")
def move(contact_id):
    """Pick another third party for this person (search), then move them there."""
    contact = _contact_or_404(contact_id)
    if request.method == "POST":
        target = _thirdparty_or_404(request.form.get("thirdparty_id"))
        services.move_contact(g.viewer, contact, target)
        flash(_("%(name)s now belongs to %(company)s.", name=contact.full_name, company=target.name), "success")
        return redirect_to(url_for(".show", contact_id=contact.id))
    text = request.args.get("q", "").strip()[:100]
    rows, _more = list_thirdparties(g.viewer, ListQuery(text=text)) if text else ([], False)
    return render_page("contacts/move.html", "candidates", contact=contact, rows=rows, text=text)


@bp.post("/<uuid:contact_id>/<any(archive, restore):action>")
@require("contact.delete")
def set_archived(contact_id, action):
    contact = _contact_or_404(contact_id)
    services.set_archived(g.viewer, contact, action == "archive")
    flash(_("%(name)s was archived.", name=contact.full_name) if action == "archive"
          else _("%(name)s was restored.", name=contact.full_name), "success")
    return redirect_to(url_for(".show", contact_id=contact.id))
