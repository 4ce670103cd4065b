"""What happens to a deal: moved to another stage (a card dragged on the board, or its stage menu), won or lost
with the reason, reopened."""
from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.forms import parse_uuid
from app.htmx import redirect_to, wants_fragment
from app.permissions import require
from app.pipeline import bp, services
from app.pipeline.forms import CloseForm, move_form
from app.pipeline.routes import board_page, opportunity_or_404, show_page
from app.pipeline.stages import get_stage, list_stages

STALE = _l("Someone else changed this opportunity at the same moment: look at it again, then try once more.")
CLOSED = {"won": _l("“%(title)s” is won."), "lost": _l("“%(title)s” is marked as lost.")}


@bp.post("/<uuid:opportunity_id>/move")
@require("quote.create")
def move(opportunity_id):
    """Put an open opportunity in another stage; htmx gets the board back (the form carries its filters)."""
    opp = opportunity_or_404(opportunity_id)
    from_page = request.form.get("back") == "show"  # the opportunity's own page, else the board
    form = move_form(list_stages())
    if not form.validate_on_submit():
        flash(_("Choose one of the stages."), "error")
        return show_page(opportunity_id, status=422) if from_page else board_page(request.form, status=422)
    stage = get_stage(parse_uuid(form.stage_id.data))
    try:
        if services.move_opportunity(g.viewer, opp, stage):
            flash(_("“%(title)s” moved to %(stage)s.", title=opp.title, stage=stage.name), "success")
    except services.PipelineError as error:
        flash(str(error.message), "error")
    except services.StaleOpportunity:
        flash(str(STALE), "error")
    if from_page:
        return redirect_to(url_for(".show", opportunity_id=opportunity_id))
    if wants_fragment():
        return board_page(request.form)
    return redirect(url_for(".index", owner=request.form.get("owner") or None, q=request.form.get("q") or None), 303)


@bp.post("/<uuid:opportunity_id>/<any(won, lost):outcome>")
@require("quote.create")
def close(opportunity_id, outcome):
    """Mark an open opportunity won (the reason is optional) or lost (the reason is needed). Closed by someone else
    meanwhile: 409 with their outcome and reason, and the reason typed here kept in its form."""
    opp = opportunity_or_404(opportunity_id)
    form = CloseForm(outcome)
    if opp.is_open and not form.validate_on_submit():
        return show_page(opportunity_id, status=422, close_forms={outcome: form}, block=f"{outcome}_form")
    try:
        services.close_opportunity(g.viewer, opp, outcome, (form.reason.data or "").strip())
    except services.PipelineError:
        return show_page(opportunity_id, status=409, close_forms={outcome: form}, block=f"{outcome}_form", closed_meanwhile=outcome)
    except services.StaleOpportunity:
        flash(str(STALE), "error")
    else:
        flash(CLOSED[outcome] % {"title": opp.title}, "success")
    return redirect_to(url_for(".show", opportunity_id=opportunity_id))


@bp.post("/<uuid:opportunity_id>/reopen")
@require("quote.create")
def reopen(opportunity_id):
    """Open a won or lost opportunity again, back in its stage."""
    opp = opportunity_or_404(opportunity_id)
    try:
        services.reopen_opportunity(g.viewer, opp)
    except services.PipelineError as error:
        flash(str(error.message), "error")
    except services.StaleOpportunity:
        flash(str(STALE), "error")
    else:
        flash(_("“%(title)s” is open again.", title=opp.title), "success")
    return redirect_to(url_for(".show", opportunity_id=opportunity_id))
