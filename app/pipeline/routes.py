"""The board, the list, an opportunity's page, and opening or changing one (from a customer's card or the board)."""
from dataclasses import replace
from functools import partial

from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _

from app.agenda.routes import contact_of
from app.customers import get_contact, get_thirdparty, list_contacts_of
from app.editing import EditConflict, decode_snapshot, encode_snapshot
from app.forms import parse_uuid
from app.htmx import redirect_to, render_page
from app.idempotency import new_key
from app.models import OPPORTUNITY_STATUSES
from app.pagination import page_number
from app.permissions import require
from app.pipeline import bp, services
from app.pipeline.forms import CloseForm, move_form, opportunity_form
from app.pipeline.labels import STATUS_LABELS
from app.pipeline.stages import ensure_stages, list_stages
from app.sales import queries as sales_queries
from app.sales import states as sales_states
from app.team import list_members
from app.thirdparties.services import ListQuery, list_thirdparties


def opportunity_or_404(opportunity_id):
    """:raise 404: unless the opportunity is in this tenant and the viewer may see its customer."""
    return services.get_opportunity(g.viewer, opportunity_id) or abort(404)


def read_filters(source, members) -> tuple[services.Filters, str]:
    """The filters of a board or list URL (or of a move form, which carries the board's): and the owner as given,
    ``me``, a member's user id or empty. An owner who is not a member, or a malformed value, filters nothing."""
    owner = (source.get("owner") or "")[:40]
    owner_id = g.viewer.user_id if owner == "me" else parse_uuid(owner)
    if owner_id is not None and not any(m.user_id == owner_id for m in members):
        owner, owner_id = "", None
    status = source.get("status", "")
    return services.Filters(owner_id=owner_id, text=(source.get("q") or "").strip()[:100],
                            stage_id=parse_uuid(source.get("stage")), status=status if status in OPPORTUNITY_STATUSES else "",
                            thirdparty_id=parse_uuid(source.get("customer")), page=page_number(source)), owner


def board_page(source, status=200):
    """The board (whole, or its ``board`` block for htmx) for the filters found in ``source``."""
    members, stages = list_members(), list_stages()
    filters, owner = read_filters(source, members)
    filters = replace(filters, stage_id=None, status="", page=1)  # the board is every stage's open opportunities
    columns, totals = services.board(g.viewer, stages, filters)
    return render_page("pipeline/index.html", "board", status=status, columns=columns, totals=totals, stages=stages,
                       members=members, filters=filters, owner=owner, currency=g.tenant.currency)


@bp.get("/")
@require("quote.read")
def index():
    """The board: one column per stage with its open opportunities, count, amount and weighted amount."""
    return board_page(request.args)


@bp.get("/list")
@require("quote.read")
def list_view():
    """Every opportunity, open or closed, filtered, with totals per stage; a page at a time."""
    members, stages = list_members(), list_stages()
    filters, owner = read_filters(request.args, members)
    rows, has_next, per_stage, totals = services.list_opportunities(g.viewer, filters)
    customer = get_thirdparty(g.viewer, filters.thirdparty_id) if filters.thirdparty_id else None
    return render_page("pipeline/list.html", "results", rows=rows, has_next=has_next, per_stage=per_stage, totals=totals,
                       customer=customer,
                       stages=stages, stage_names={s.id: s.name for s in stages}, members=members, filters=filters,
                       owner=owner, query=filters, status_labels=STATUS_LABELS, currency=g.tenant.currency)


@bp.get("/new")
@require("quote.create")
def choose_customer():
    """From the board: which customer is the new opportunity with?"""
    text = request.args.get("q", "").strip()[:100]
    rows, has_more = list_thirdparties(g.viewer, ListQuery(text=text))
    return render_page("pipeline/choose.html", "choices", text=text, rows=rows, has_more=has_more)


def _form(tp, stages, opp=None, **kw):
    """The opportunity form for ``tp``: its contacts (and the one already chosen, even archived), the stages, the
    active members (and the owner already chosen, even deactivated)."""
    contacts = list(list_contacts_of(tp.id))
    if opp and opp.contact_id and all(c.id != opp.contact_id for c in contacts):
        contacts += [c for c in [get_contact(g.viewer, opp.contact_id)] if c]
    owner_id = opp.owner_id if opp else None
    members = [m for m in list_members() if m.active or m.user_id == owner_id]
    return opportunity_form(contacts, stages, members, **kw)


def _form_page(tp, form, opp=None, status=200, conflict=None, back=""):
    names = {}
    if conflict:  # the other person's values, ids shown by name
        names = {str(s.id): s.name for s in list_stages()} | {str(m.user_id): m.user.name for m in list_members()}
        names |= {str(c.id): c.full_name for c in list_contacts_of(tp.id)}
    return render_page("pipeline/form.html", "opportunity_form", status=status, tp=tp, form=form, opp=opp,
                       conflict=conflict, names=names, back=back)


@bp.get("/customers/<uuid:thirdparty_id>/new")
@require("quote.create")
def new(thirdparty_id):
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    stages = list_stages()
    stage = parse_uuid(request.args.get("stage"))
    contact = parse_uuid(request.args.get("contact"))
    form = _form(tp, stages, formdata=None, data={
        "stage_id": str(stage if any(s.id == stage for s in stages) else stages[0].id), "owner_id": str(g.viewer.user_id),
        "contact_id": str(contact) if contact and any(c.id == contact for c in list_contacts_of(tp.id)) else "",
        "idempotency_key": new_key()})
    return _form_page(tp, form, back="board" if request.args.get("back") == "board" else "")


@bp.post("/customers/<uuid:thirdparty_id>")
@require("quote.create")
def create(thirdparty_id):
    """Open an opportunity for the customer; a double submit (same idempotency key) opens one."""
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    back = "board" if request.form.get("back") == "board" else ""
    form = _form(tp, ensure_stages())
    if not form.validate_on_submit():
        return _form_page(tp, form, status=422, back=back)
    contact = contact_of(tp, form.contact_id.data)
    opp, created = services.create_opportunity(g.viewer, tp, {**form.values(), "contact_id": contact.id if contact else None},
                                               idempotency_key=(form.idempotency_key.data or "")[:64] or None)
    if created:
        flash(_("Opportunity “%(title)s” opened.", title=opp.title), "success")
    return redirect_to(url_for(".index") if back else url_for(".show", opportunity_id=opp.id))


@bp.get("/<uuid:opportunity_id>")
@require("quote.read")
def show(opportunity_id):
    """An opportunity: its facts, its stage menu, and winning, losing or reopening it."""
    return show_page(opportunity_id)


def show_page(opportunity_id, status=200, close_forms=None, block=None, closed_meanwhile=None):
    opp = opportunity_or_404(opportunity_id)
    stages = list_stages()
    forms = {"won": CloseForm("won", formdata=None), "lost": CloseForm("lost", formdata=None), **(close_forms or {})}
    contact = get_contact(g.viewer, opp.contact_id) if opp.contact_id else None
    return render_page("pipeline/show.html", block, status=status, opp=opp, tp=get_thirdparty(g.viewer, opp.thirdparty_id),
                       contact=contact, stage=next((s for s in stages if s.id == opp.stage_id), None), stages=stages,
                       move_form=move_form(stages, formdata=None, data={"stage_id": str(opp.stage_id)}),
                       close_forms=forms, closed_meanwhile=closed_meanwhile, status_labels=STATUS_LABELS,
                       quotes=sales_queries.quotes_for(g.viewer, opp.id),
                       quote_state=partial(sales_states.state, on=sales_queries.today()))


@bp.get("/<uuid:opportunity_id>/edit")
@require("quote.create")
def edit(opportunity_id):
    opp = opportunity_or_404(opportunity_id)
    tp = get_thirdparty(g.viewer, opp.thirdparty_id)
    form = _form(tp, list_stages(), opp, formdata=None, data={
        "title": opp.title, "amount": opp.amount, "probability": opp.probability, "expected_close_on": opp.expected_close_on,
        "contact_id": str(opp.contact_id or ""), "stage_id": str(opp.stage_id), "owner_id": str(opp.owner_id or ""),
        "version": opp.version, "base": encode_snapshot(services.snapshot(opp))})
    return _form_page(tp, form, opp)


@bp.post("/<uuid:opportunity_id>/edit")
@require("quote.create")
def update(opportunity_id):
    """Save an opportunity; when someone else saved it meanwhile, 409 and the form as typed (never a silent overwrite)."""
    opp = opportunity_or_404(opportunity_id)
    tp = get_thirdparty(g.viewer, opp.thirdparty_id)
    form = _form(tp, ensure_stages(), opp)
    if not form.validate_on_submit():
        return _form_page(tp, form, opp, status=422)
    contact = contact_of(tp, form.contact_id.data)
    try:
        services.update_opportunity(g.viewer, opp, {**form.values(), "contact_id": contact.id if contact else None},
                                    version=request.form.get("version", type=int) or 0, base=decode_snapshot(form.base.data))
    except EditConflict as conflict:
        form.version.data, form.base.data = opp.version, encode_snapshot(services.snapshot(opp))
        return _form_page(tp, form, opp, status=409, conflict=conflict.fields)
    flash(_("Your changes were saved."), "success")
    return redirect_to(url_for(".show", opportunity_id=opp.id))
