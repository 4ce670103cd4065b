"""Tags, custom fields and customer numbering: what an administrator sets up for the whole team."""
from flask import abort, flash, url_for
from flask_babel import gettext as _

from app import customfields, numbering, tags
from app.admin import bp
from app.admin.catalog_forms import COLOUR_LABELS, CustomFieldForm, NumberingForm, TagForm
from app.htmx import redirect_to, render_page
from app.models import utcnow
from app.numbering import format_code
from app.permissions import require


def _catalog_page(tag_form=None, field_form=None, numbering_form=None, status=200, block=None):
    return render_page(
        "admin/catalog.html", block, status=status, tags=tags.list_tags(), fields=customfields.list_fields(),
        tag_form=tag_form or TagForm(), field_form=field_form or CustomFieldForm(),
        numbering_form=numbering_form or NumberingForm(pattern=numbering.get_pattern("customer")),
        colours=COLOUR_LABELS, types=customfields.TYPE_LABELS, entities=customfields.ENTITY_LABELS,
        example=lambda pattern: format_code(pattern, 42, utcnow()),
    )


@bp.get("/catalog")
@require("admin.settings")
def catalog():
    """Tags, custom fields and the customer code pattern."""
    return _catalog_page()


@bp.post("/tags")
@require("admin.settings")
def create_tag():
    form = TagForm()
    if form.validate_on_submit() and tags.tag_name_taken(form.name.data):
        form.name.errors.append(_("A tag with this name already exists."))
    elif form.validate_on_submit():
        tags.save_tag(None, form.name.data, form.colour.data)
        flash(_("The tag %(name)s was created.", name=form.name.data), "success")
        return redirect_to(url_for(".catalog"))
    return _catalog_page(tag_form=form, status=422, block="tag_form")


@bp.post("/tags/<uuid:tag_id>/delete")
@require("admin.settings")
def delete_tag(tag_id):
    tag = tags.get_tag(tag_id) or abort(404)
    tags.delete_tag(tag)
    flash(_("The tag %(name)s was deleted.", name=tag.name), "success")
    return redirect_to(url_for(".catalog"))


@bp.post("/fields")
@require("admin.settings")
def create_field():
    """Add a custom field to third parties or contacts."""
    form = CustomFieldForm()
    if not form.validate_on_submit():
        return _catalog_page(field_form=form, status=422, block="field_form")
    customfields.save_field(None, entity=form.entity.data, label=form.label.data, field_type=form.field_type.data,
                            choices=form.choice_list(), required=form.required.data, show_in_list=form.show_in_list.data)
    flash(_("The field %(name)s was added.", name=form.label.data), "success")
    return redirect_to(url_for(".catalog"))


@bp.route("/fields/<uuid:field_id>/edit", methods=["GET", "POST"])
@require("admin.settings")
def edit_field(field_id):
    """Change a field's label, choices and flags (its type stays, so stored values keep their meaning)."""
    field = customfields.get_field(field_id) or abort(404)
    form = CustomFieldForm(obj=field)
    if not form.is_submitted():  # the record's list would otherwise fill the one-per-line text box
        form.choices.data = "\n".join(field.choices)
    form.entity.data, form.field_type.data = field.entity, field.field_type
    if form.validate_on_submit():
        customfields.save_field(field, entity=field.entity, label=form.label.data, field_type=field.field_type,
                                choices=form.choice_list(), required=form.required.data, show_in_list=form.show_in_list.data)
        flash(_("The field %(name)s was saved.", name=field.label), "success")
        return redirect_to(url_for(".catalog"))
    return render_page("admin/field_form.html", "field_edit_form", form=form, field=field, types=customfields.TYPE_LABELS,
                       entities=customfields.ENTITY_LABELS, status=422 if form.is_submitted() else 200)


@bp.post("/fields/<uuid:field_id>/delete")
@require("admin.settings")
def delete_field(field_id):
    field = customfields.get_field(field_id) or abort(404)
    customfields.delete_field(field)
    flash(_("The field %(name)s was removed.", name=field.label), "success")
    return redirect_to(url_for(".catalog"))


@bp.post("/numbering")
@require("admin.settings")
def update_numbering():
    form = NumberingForm()
    if not form.validate_on_submit():
        return _catalog_page(numbering_form=form, status=422, block="numbering_form")
    numbering.set_pattern("customer", form.pattern.data.strip())
    flash(_("New customers will be numbered like %(example)s.", example=format_code(form.pattern.data.strip(), 1, utcnow())), "success")
    return redirect_to(url_for(".catalog"))
