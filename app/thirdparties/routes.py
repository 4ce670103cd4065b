"""Third-party pages: the list, the form, the card, archiving, bulk actions."""

from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from app import customfields, domains, saved_views, tags
from app.card import load_panels
from app.customers import customer_or_404, list_contacts_of
from app.editing import EditConflict, decode_snapshot, encode_snapshot
from app.forms import SavedViewForm, as_choices, parse_uuid
from app.htmx import redirect_to, render_blocks, render_page, wants_fragment
from app.pagecache import cached_page
from app.pagination import page_number, url_int
from app.permissions import require
from app.team import get_member, list_members
from app.thirdparties import bp, bulk, services
from app.thirdparties.forms import BulkForm, ThirdPartyForm, fill_custom_fields, form_data, with_custom_fields
from app.timeline.forms import composer_form
from app.timeline.notes import pinned_notes
from app.timeline.views import timeline_context


def _list_query() -> services.ListQuery:
    args = request.args
    custom = {f.key: (args[f"cf_{f.key}"] == "yes" if f.field_type == "checkbox" else args[f"cf_{f.key}"][:100])
              for f in customfields.list_fields("thirdparty") if args.get(f"cf_{f.key}")}
    return services.ListQuery(
        text=args.get("q", "").strip()[:100], kind=args.get("kind", ""), tag_id=parse_uuid(args.get("tag")),
        rep_id=parse_uuid(args.get("rep")), status=args.get("status", "active"), custom=custom,
        conditions=tuple(c for found in domains.call("customer_list_conditions", g.viewer, args) for c in found),
        sort=args.get("sort", "name"), page=page_number(args),
    )


def _form(formdata=None, data=None):
    """The third-party form with this tenant's custom fields, tags and members as choices."""
    form = with_custom_fields(ThirdPartyForm, customfields.list_fields("thirdparty"))(formdata=formdata, data=data)
    form.tag_ids.choices = as_choices((t.id, t.name) for t in tags.list_tags())
    form.rep_ids.choices = as_choices((m.id, m.user.name) for m in list_members() if m.active)
    return form


def _thirdparty_or_404(thirdparty_id):
    """:raise 404: unless the third party exists here and the viewer may see it (saying when it is not theirs)."""
    return customer_or_404(g.viewer, thirdparty_id)


# What a saved view of the list keeps: its filters and sort (the domains' filters too), never the page.
VIEW_PARAMS = {"q", "kind", "tag", "rep", "status", "sort"}


def _kept_in_views(key: str) -> bool:
    return key in VIEW_PARAMS or key.startswith("cf_") or key in _domain_params()


def _domain_params() -> set:
    return {param for params in domains.call("customer_list_params") for param in params}



@bp.get("/")
@require("thirdparty.read")
def index():
    """List the third parties; htmx asks for the results only (search as you type, filters, pages)."""
    return _list_page()


def _list_page(view_form=None, status=200, block="results"):
    query = _list_query()
    rows, has_next = services.list_thirdparties(g.viewer, query)
    ids = [tp.id for tp in rows]
    current = saved_views.clean_query(request.args, _kept_in_views)
    return render_page(
        "thirdparties/index.html", block, status=status, query=query, rows=rows, has_next=has_next,
        saved=saved_views.list_views(g.viewer.user_id, "customers"), current_view=current,
        view_form=view_form or SavedViewForm(formdata=None, query=current),
        tags_of=services.tags_by_thirdparty(ids), all_tags=tags.list_tags(), members=list_members(),
        list_fields=[f for f in customfields.list_fields("thirdparty") if f.show_in_list],
        filter_fields=[f for f in customfields.list_fields("thirdparty") if f.field_type in ("choice", "checkbox", "text")],
        kinds=services.KINDS, display=customfields.display, list_facts=_list_facts(ids),
        domain_filtered=any(request.args.get(param) for param in _domain_params()),
    )


def _list_facts(ids) -> dict:
    """What the domains show in the list's own columns (the agenda's last contact and next action), for this page."""
    facts: dict = {}
    for found in domains.call("customer_list_facts", g.viewer, ids):
        facts.update(found)
    return facts


@bp.post("/views")
@require("thirdparty.read")
def save_view():
    """Save the list's current filters under a name (the same name updates that view)."""
    form = SavedViewForm()
    if not form.validate_on_submit():
        return _list_page(view_form=form, status=422, block="save_view")
    query = saved_views.submitted_query(request.form, form.query.data or "", _kept_in_views, marker="q")
    view = saved_views.save_view(g.viewer.user_id, "customers", form.name.data.strip(), query)
    flash(_("The view %(name)s is saved.", name=view.name), "success")
    return redirect_to(url_for(".index") + (f"?{query}" if query else ""))


@bp.post("/views/delete")
@require("thirdparty.read")
def delete_view():
    """Delete the viewer's saved view of that name (views are personal: the name is looked up among theirs)."""
    if saved_views.delete_view(g.viewer.user_id, "customers", request.form.get("name", "")[:60]):
        flash(_("The view was deleted."), "success")
    return redirect_to(url_for(".index"))


@bp.get("/new")
@require("thirdparty.create")
def new():
    form = _form(data={"is_customer": True})
    return render_page("thirdparties/form.html", form=form, tp=None)


@bp.post("/")
@require("thirdparty.create")
def create():
    """Create a third party from the form."""
    form = _form(formdata=request.form)
    if not form.validate_on_submit():
        return render_page("thirdparties/form.html", "thirdparty_form", form=form, tp=None, status=422)
    tp = services.create_thirdparty(g.viewer, form.values())
    flash(_("%(name)s was created with the code %(code)s.", name=tp.name, code=tp.code), "success")
    return redirect_to(url_for(".show", thirdparty_id=tp.id))


@bp.get("/<uuid:thirdparty_id>")
@require("thirdparty.read")
@cached_page
def show(thirdparty_id):
    """The card: key facts, the note box and the timeline, and the panels the domains add (contacts, sales…)."""
    if wants_fragment():  # the timeline's next page or filtered results: nothing else of the card is read
        context = timeline_context(g.viewer, thirdparty_id, endpoint=".show", thirdparty_id=thirdparty_id)
        # Filtered results carry the filters' form (its people: the contacts), as on the page; older events do not.
        people = list_contacts_of(thirdparty_id) if context["timeline_block"] == "timeline_section" else []
        return render_page("thirdparties/show.html", context["timeline_block"], tp={"id": thirdparty_id},
                           contacts=people, **context)
    tp = _thirdparty_or_404(thirdparty_id)
    context = timeline_context(g.viewer, tp.id, seen=True, endpoint=".show", thirdparty_id=tp.id)
    panels = load_panels(g.viewer, tp, services.card_facts(g.viewer, tp))  # the header's facts with the panels'
    facts = services.card_values(panels.header)
    contacts = panels.data("contacts", "contacts")
    return render_page(
        "thirdparties/show.html", context["timeline_block"], tp=tp, counts=facts,
        tags=facts["tags"], contacts=list_contacts_of(tp.id) if contacts is None else contacts,
        rep_names=facts["reps"], fields=facts["fields"], display=customfields.display,
        pinned=pinned_notes(g.viewer, tp.id) if facts["pinned"] else [], kinds=services.KINDS, note_form=composer_form(),
        panels=panels, shown_panel=request.args.get("panel", ""), **context,
    )


@bp.get("/<uuid:thirdparty_id>/edit")
@require("thirdparty.update")
def edit(thirdparty_id):
    tp = _thirdparty_or_404(thirdparty_id)
    values = services.snapshot(tp)
    form = _form(data={**form_data(values), "version": tp.version, "base": encode_snapshot(values)})
    fill_custom_fields(form, tp.custom)
    return render_page("thirdparties/form.html", form=form, tp=tp)


@bp.post("/<uuid:thirdparty_id>/edit")
@require("thirdparty.update")
def update(thirdparty_id):
    """Save an edit; a concurrent change to the same fields answers 409 with both values."""
    tp = _thirdparty_or_404(thirdparty_id)
    form = _form(formdata=request.form)
    if not form.validate_on_submit():
        return render_page("thirdparties/form.html", "thirdparty_form", form=form, tp=tp, status=422)
    try:
        services.update_thirdparty(g.viewer, tp, form.values(), version=request.form.get("version", type=int) or 0,
                                   base=decode_snapshot(form.base.data))
    except EditConflict as conflict:
        return _conflict(form, tp, conflict)
    flash(_("Your changes were saved."), "success")
    return redirect_to(url_for(".show", thirdparty_id=tp.id))


def _conflict(form, tp, conflict):
    """Re-render the user's input against the current record, the conflicting fields marked."""
    form.version.data, form.base.data = tp.version, encode_snapshot(services.snapshot(tp))
    names = {str(m.id): m.user.name for m in list_members()} | {str(t.id): t.name for t in tags.list_tags()}
    return render_page("thirdparties/form.html", "thirdparty_form", form=form, tp=tp, conflict=conflict.fields, names=names,
                       status=409)


@bp.post("/<uuid:thirdparty_id>/<any(archive, restore):action>")
@require("thirdparty.delete")
def set_archived(thirdparty_id, action):
    tp = _thirdparty_or_404(thirdparty_id)
    services.set_archived(g.viewer, tp, action == "archive")
    flash(_("%(name)s was archived.", name=tp.name) if action == "archive" else _("%(name)s was restored.", name=tp.name), "success")
    return redirect_to(url_for(".show", thirdparty_id=tp.id))


@bp.post("/bulk")
@require("thirdparty.update")
def bulk_action():
    """Tag or assign several third parties at once (only those the viewer may see)."""
    form = BulkForm()
    ids = [i for i in (parse_uuid(v) for v in request.form.getlist("ids")) if i]
    tag_id, rep_id = parse_uuid(form.tag_id.data), parse_uuid(form.rep_id.data)
    valid_target = (form.action.data == "tag" and tag_id and tags.get_tag(tag_id)) or \
        (form.action.data == "assign" and rep_id and get_member(rep_id))
    if not ids or not valid_target:
        flash(_("Select some lines and what to do with them."), "error")
        return redirect_to(url_for(".index", **request.args))
    done = bulk.apply(g.viewer, ids, form.action.data, tag_id=tag_id, rep_id=rep_id)
    flash(ngettext("%(num)d line updated.", "%(num)d lines updated.", done), "success")
    return redirect_to(request.referrer if (request.referrer or "").startswith(request.host_url) else url_for(".index"))


@bp.get("/form-row")
@require("thirdparty.read")
def form_row():
    """One more empty address, phone or e-mail row for the form, and the button for the next one."""
    kind = request.args.get("kind")
    if kind not in ("addresses", "phones", "emails"):
        abort(404)
    entries = getattr(_form(), kind)
    index = url_int(request.args, "index", low=1, high=entries.max_entries - 1, default=1, clamp=True)
    while len(entries) <= index:
        entries.append_entry()
    row_block = {"addresses": "address_row", "phones": "phone_row", "emails": "email_row"}[kind]
    return render_blocks("thirdparties/form.html", [row_block, f"add_{kind}"], entry=entries[index], next_index=index + 1)
