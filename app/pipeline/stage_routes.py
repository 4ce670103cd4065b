"""The organisation's stages, for its administrators: add, rename, reorder, delete (only when unused)."""
from flask import abort, flash, url_for
from flask_babel import gettext as _

from app.htmx import redirect_to, render_page
from app.permissions import require
from app.pipeline import bp
from app.pipeline import stages as catalogue
from app.pipeline.forms import StageForm


def _stages_page(status=200, add_form=None, edited=None):
    stages = catalogue.list_stages()
    forms = {s.id: StageForm(formdata=None, data={"name": s.name, "probability": s.probability}) for s in stages}
    if edited:
        forms[edited[0]] = edited[1]
    return render_page("pipeline/stages.html", "stage_list", status=status, stages=stages, stage_forms=forms, usage=catalogue.usage(),
                       add_form=add_form or StageForm(formdata=None, data={"probability": 50}))


def _valid(form, stage_id=None) -> bool:
    """The form is valid and its name is not another stage's."""
    if not form.validate_on_submit():
        return False
    form.name.data = form.name.data.strip()
    if catalogue.name_taken(form.name.data, stage_id):
        form.name.errors = [*form.name.errors, _("Another stage already has this name.")]
        return False
    return True


def _stage_or_404(stage_id):
    """:raise 404: unless it is one of this organisation's stages (the defaults are stored first if need be)."""
    catalogue.ensure_stages()
    return catalogue.get_stage(stage_id) or abort(404)


@bp.get("/stages")
@require("admin.settings")
def stages():
    """The stages in board order, each with its default probability and how many opportunities it holds."""
    return _stages_page()


@bp.post("/stages")
@require("admin.settings")
def create_stage():
    form = StageForm()
    if not _valid(form):
        return _stages_page(422, add_form=form)
    stage = catalogue.add_stage(form.name.data, form.probability.data)
    flash(_("Stage %(name)s added at the end of the board.", name=stage.name), "success")
    return redirect_to(url_for(".stages"))


@bp.post("/stages/<uuid:stage_id>/edit")
@require("admin.settings")
def update_stage(stage_id):
    stage = _stage_or_404(stage_id)
    form = StageForm()
    if not _valid(form, stage.id):
        return _stages_page(422, edited=(stage.id, form))
    catalogue.update_stage(stage, form.name.data, form.probability.data)
    flash(_("Stage %(name)s saved.", name=stage.name), "success")
    return redirect_to(url_for(".stages"))


@bp.post("/stages/<uuid:stage_id>/<any(up, down):direction>")
@require("admin.settings")
def move_stage(stage_id, direction):
    """One column to the left (up) or to the right (down) on the board."""
    catalogue.move_stage(_stage_or_404(stage_id), direction)
    return redirect_to(url_for(".stages"))


@bp.post("/stages/<uuid:stage_id>/delete")
@require("admin.settings")
def delete_stage(stage_id):
    """Delete a stage no opportunity uses; otherwise say which and how many."""
    stage = _stage_or_404(stage_id)
    name = stage.name
    try:
        catalogue.delete_stage(stage)
    except catalogue.StageError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Stage %(name)s deleted.", name=name), "success")
    return redirect_to(url_for(".stages"))
