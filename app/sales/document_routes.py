"""The pages every book shares (quotes, orders, invoices with credit notes, contracts): the list, a new draft, a
document, its header, its lines, validation, deleting a draft. Each view is registered once per book with that
book's rights."""
from functools import partial

from flask import abort, current_app, flash, g, make_response, request, url_for
from flask_babel import gettext as _

from app import domains
from app.agenda.routes import contact_of
from app.customers import get_thirdparty, list_contacts_of
from app.documents import services as documents
from app.documents.filetypes import content_disposition
from app.documents.forms import upload_form
from app.editing import EditConflict, decode_snapshot, encode_snapshot
from app.forms import parse_uuid
from app.htmx import redirect_to, render_blocks, render_page
from app.idempotency import new_key
from app.pagination import page_number
from app.permissions import require
from app.sales import BOOKS, Book, bp, contracts, document_url, money, payments, products, queries, services, shipments, states
from app.sales import pdf as printing
from app.sales.forms import RefuseForm, document_form, line_form
from app.sales.labels import BOOK_TITLES, KIND_LABELS, METHOD_LABELS, NEW_TITLES, PERIOD_LABELS


def document_or_404(book: Book, document_id):
    """:raise 404: unless the document is in ``book``, in this tenant, and its customer is visible to the viewer."""
    return queries.get_document(g.viewer, document_id, book.kinds) or abort(404)


show_url = document_url


def _list_query() -> queries.ListQuery:
    args = request.args
    return queries.ListQuery(text=args.get("q", "").strip()[:100], state=args.get("state", ""),
                             thirdparty_id=parse_uuid(args.get("customer")), page=page_number(args))


def list_totals(book: Book):
    """The totals lines of a list: a fragment the list loads once its page is shown."""
    return render_blocks("sales/list.html", ["totals"], book=book, sums=queries.list_totals(g.viewer, book, _list_query()))


def list_page(book: Book):
    query = _list_query()
    rows, has_next = queries.list_documents(g.viewer, book, query)
    return render_page("sales/list.html", "results", book=book, query=query, rows=rows, has_next=has_next,
                       state=partial(states.state, on=queries.today()), title=BOOK_TITLES[book.name],
                       filters=[(key, states.filter_label(book.name, key)) for key in states.FILTERS[book.name]])


def _header_page(book, tp, form, doc=None, status=200, opportunity=None, conflict=None, error=None, open_deals=()):
    kind = doc.kind if doc else book.kind
    return render_page("sales/header.html", "header_form", book=book, tp=tp, form=form, doc=doc, status=status, kind=kind,
                       heading=NEW_TITLES[kind] if doc is None else None, opportunity=opportunity, conflict=conflict,
                       open_deals=open_deals,
                       error=error, names={str(c.id): c.full_name for c in list_contacts_of(tp.id)} if conflict else {})


def new_page(book: Book, thirdparty_id):
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    form = document_form(list_contacts_of(tp.id), kind=book.kind, formdata=None,
                         data={"payment_days": g.tenant.payment_days, "starts_on": queries.today()})
    form.idempotency_key.data = new_key()
    contact = request.args.get("contact")
    if contact and contact_of(tp, contact):
        form.contact_id.data = contact
    opportunity = _opportunity_of(tp, request.args.get("opportunity")) if book.kind == "quote" else None
    open_deals = [] if book.kind != "quote" or opportunity else _open_opportunities(tp)
    if len(open_deals) == 1:  # the customer's one open opportunity: the quote is most likely for it
        opportunity = open_deals[0]
    if opportunity:  # a quote for an opportunity starts from what the opportunity says
        form.opportunity_id.data, form.title.data = str(opportunity.id), opportunity.title
        form.contact_id.data = str(opportunity.contact_id) if opportunity.contact_id else form.contact_id.data
    return _header_page(book, tp, form, opportunity=opportunity, open_deals=open_deals)


def _open_opportunities(tp) -> list:
    """The customer's open opportunities the viewer may see (the pipeline's, when it is here), to offer the link."""
    return [deal for found in domains.call("open_opportunities", g.viewer, tp.id) for deal in found]


def _opportunity_of(tp, value: str | None):
    """The customer's opportunity a link or form names: None when none is named, 404 when it is not theirs."""
    if not value:
        return None
    opportunity = domains.first("opportunity", g.viewer, parse_uuid(value))  # the pipeline's, when it is here
    if opportunity is None or opportunity.thirdparty_id != tp.id:
        abort(404)
    return opportunity


def create(book: Book, thirdparty_id):
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    form = document_form(list_contacts_of(tp.id), kind=book.kind)
    if not form.validate_on_submit():
        return _header_page(book, tp, form, status=422)
    contact = contact_of(tp, form.contact_id.data)
    values = {**form.values(), "contact_id": contact.id if contact else None}
    if book.kind == "quote" and (opportunity := _opportunity_of(tp, form.opportunity_id.data)):
        values["opportunity_id"] = opportunity.id
    doc, created = services.create_document(g.viewer, tp, book.kind, values, idempotency_key=(form.idempotency_key.data or "")[:64] or None)
    if created:
        flash(_("%(kind)s drafted: add its lines.", kind=KIND_LABELS[doc.kind]), "success")
    return redirect_to(show_url(doc))


def show(book: Book, document_id, line_form_=None, status=200, refuse_form=None, block="lines"):
    doc = document_or_404(book, document_id)
    on = queries.today()
    return render_page(
        "sales/show.html", block, status=status, book=book, doc=doc, tp=get_thirdparty(g.viewer, doc.thirdparty_id),
        state=states.state(doc, on), chain=queries.chain(g.viewer, doc), state_of=partial(states.state, on=on),
        contact=next((c for c in list_contacts_of(doc.thirdparty_id) if c.id == doc.contact_id), None),
        payments=payments.payments_of(doc.id) if doc.kind == "invoice" and g.viewer.can("payment.read") else [],
        shipments=shipments.shipments_of(doc.id) if doc.kind == "order" else [],
        line_form=line_form_ or (line_form(products.active_products()) if doc.is_draft else None),
        refuse_form=refuse_form or RefuseForm(), totals=money.totals(doc.lines), method_labels=METHOD_LABELS,
        kind_labels=KIND_LABELS, period_labels=PERIOD_LABELS, can_make=services.can_make,
        renewable=contracts.renewable(doc), can_ship=doc.kind == "order" and doc.status in ("validated", "partial"),
        form_key=new_key(),  # one-click forms: a double tap makes one document, not two
        opportunity=domains.first("opportunity", g.viewer, doc.opportunity_id) if doc.opportunity_id else None,
        attached=documents.card_box(g.viewer, thirdparty_id=doc.thirdparty_id, about=("sales_document", doc.id), limit=50),
        upload=upload_form(doc.contact_id, about=("sales_document", doc.id)), max_bytes=current_app.config["DOCUMENT_MAX_BYTES"],
    )


def edit(book: Book, document_id):
    doc = _draft_or_409(document_or_404(book, document_id))
    form = document_form(list_contacts_of(doc.thirdparty_id), kind=doc.kind, obj=doc)
    form.contact_id.data = str(doc.contact_id) if doc.contact_id else ""
    form.version.data, form.base.data = doc.version, encode_snapshot(services.header_snapshot(doc))
    return _header_page(book, get_thirdparty(g.viewer, doc.thirdparty_id), form, doc)


def update(book: Book, document_id):
    """Save a draft's header; a concurrent change to the same fields answers 409 with both values."""
    doc = _draft_or_409(document_or_404(book, document_id))
    tp = get_thirdparty(g.viewer, doc.thirdparty_id)
    form = document_form(list_contacts_of(doc.thirdparty_id), kind=doc.kind, obj=doc)  # a field left out keeps its value
    if not form.validate_on_submit():
        return _header_page(book, tp, form, doc, status=422)
    contact = contact_of(tp, form.contact_id.data)
    try:
        services.update_document(doc, {**form.values(), "contact_id": contact.id if contact else None},
                                 version=request.form.get("version", type=int) or 0, base=decode_snapshot(form.base.data))
    except (EditConflict, services.SalesError) as refused:  # changed, or validated, by someone else meanwhile
        form.version.data, form.base.data = doc.version, encode_snapshot(services.header_snapshot(doc))
        conflict, error = (refused.fields, None) if isinstance(refused, EditConflict) else (None, refused.message)
        return _header_page(book, tp, form, doc, status=409, conflict=conflict, error=error)
    flash(_("Your changes were saved."), "success")
    return redirect_to(show_url(doc))


def _draft_or_409(doc):
    """A validated document is frozen: its forms answer 409 with the reason (a credit note corrects an invoice)."""
    if not doc.is_draft:
        abort(409)
    return doc


def delete(book: Book, document_id):
    doc = _draft_or_409(document_or_404(book, document_id))
    thirdparty_id = doc.thirdparty_id
    services.delete_draft(doc)
    flash(_("The draft was deleted."), "success")
    return redirect_to(url_for("tenant.thirdparties.show", thirdparty_id=thirdparty_id))


def add_line(book: Book, document_id):
    doc = _draft_or_409(document_or_404(book, document_id))
    form = line_form(products.active_products(), formdata=request.form)
    if not form.validate_on_submit():
        return show(book, document_id, line_form_=form, status=422)
    services.add_line(doc, form.values())
    return show(book, document_id)


def _line_or_404(doc, line_id):
    return next((line for line in doc.lines if line.id == line_id), None) or abort(404)


def edit_line(book: Book, document_id, line_id):
    doc = _draft_or_409(document_or_404(book, document_id))
    line = _line_or_404(doc, line_id)
    return render_page("sales/line.html", "line_form", book=book, doc=doc, line=line, form=line_form(products.active_products(), line))


def update_line(book: Book, document_id, line_id):
    doc = _draft_or_409(document_or_404(book, document_id))
    line = _line_or_404(doc, line_id)
    form = line_form(products.active_products(), line, formdata=request.form)
    if not form.validate_on_submit():
        return render_page("sales/line.html", "line_form", book=book, doc=doc, line=line, form=form, status=422)
    services.update_line(doc, line.id, form.values())
    return redirect_to(show_url(doc))


def delete_line(book: Book, document_id, line_id):
    doc = _draft_or_409(document_or_404(book, document_id))
    services.delete_line(doc, _line_or_404(doc, line_id).id)
    return show(book, document_id)


@bp.errorhandler(services.SalesError)
def _changed_meanwhile(error):
    """A step the document's state refused after its lock: someone validated or deleted it meanwhile (409)."""
    from app.errors import conflict_response

    return conflict_response(str(error.message))


def validate(book: Book, document_id):
    doc = document_or_404(book, document_id)
    try:
        services.validate(g.viewer, doc)
    except services.SalesError as error:
        flash(str(error.message), "error")
    else:
        flash(_("%(kind)s %(number)s validated.", kind=KIND_LABELS[doc.kind], number=doc.number), "success")
    return redirect_to(show_url(doc))


def pdf(book: Book, document_id):
    """The printable document, in the organisation's language, shown by the browser (downloaded on a phone)."""
    doc = document_or_404(book, document_id)
    source = queries.source_of(doc)
    body = printing.render(doc, tenant=g.tenant, customer=get_thirdparty(g.viewer, doc.thirdparty_id),
                           contact=next((c for c in list_contacts_of(doc.thirdparty_id) if c.id == doc.contact_id), None),
                           source_number=source.number if queries.readable(g.viewer, source) else None, locale=g.tenant.locale)
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = content_disposition(f"{doc.number or KIND_LABELS[doc.kind]}.pdf", inline=True)
    return response


def _register(book: Book) -> None:
    """Every shared page of ``book`` under ``/sales/<book>/``, each with the right it needs."""
    rules = (
        ("/", "index", list_page, book.read, ["GET"]),
        ("/totals", "totals", list_totals, book.read, ["GET"]),
        ("/customers/<uuid:thirdparty_id>/new", "new", new_page, book.create, ["GET"]),
        ("/customers/<uuid:thirdparty_id>", "create", create, book.create, ["POST"]),
        ("/<uuid:document_id>", "show", show, book.read, ["GET"]),
        ("/<uuid:document_id>.pdf", "pdf", pdf, book.read, ["GET"]),
        ("/<uuid:document_id>/edit", "edit", edit, book.create, ["GET"]),
        ("/<uuid:document_id>/edit", "update", update, book.create, ["POST"]),
        ("/<uuid:document_id>/delete", "delete", delete, book.create, ["POST"]),
        ("/<uuid:document_id>/lines", "add_line", add_line, book.create, ["POST"]),
        ("/<uuid:document_id>/lines/<uuid:line_id>", "edit_line", edit_line, book.create, ["GET"]),
        ("/<uuid:document_id>/lines/<uuid:line_id>", "update_line", update_line, book.create, ["POST"]),
        ("/<uuid:document_id>/lines/<uuid:line_id>/delete", "delete_line", delete_line, book.create, ["POST"]),
        ("/<uuid:document_id>/validate", "validate", validate, book.validate, ["POST"]),
    )
    for rule, name, view, right, methods in rules:
        bp.add_url_rule(f"/{book.name}{rule}", f"{book.name}_{name}", require(right)(partial(view, book)), methods=methods)


for _book in BOOKS:
    _register(_book)
