"""Document pages: a customer's documents, finding, uploading, the document page, downloads."""


from flask import abort, current_app, flash, g, request, url_for
from flask_babel import gettext as _

from app import domains, tags
from app.bodylimits import body_limit
from app.customers import get_contact, get_thirdparty, list_contacts_of
from app.documents import bp, delivery, services, uploads
from app.documents.forms import DocumentForm, UploadForm, upload_form
from app.editing import EditConflict, decode_snapshot, encode_snapshot
from app.forms import as_choices, day_start, parse_uuid
from app.htmx import redirect_to, render_page, wants_fragment
from app.idempotency import new_key
from app.pagination import page_number
from app.permissions import require
from app.storage import StorageError, get_storage
from app.team import list_members


def _query(thirdparty_id=None, *, trash=False) -> services.DocumentQuery:
    args = request.args
    return services.DocumentQuery(
        text=args.get("q", "").strip()[:100], thirdparty_id=thirdparty_id or parse_uuid(args.get("customer")),
        contact_id=parse_uuid(args.get("contact")),
        folder=args.get("folder")[:services.FOLDER_MAX] if args.get("folder") is not None else None,
        tag_id=parse_uuid(args.get("tag")), type_group=args.get("type", ""), uploader_id=parse_uuid(args.get("uploader")),
        since=day_start(args.get("since")), until=day_start(args.get("until"), plus_days=1), trash=trash,
        page=page_number(args),
    )


def _limits() -> uploads.Limits:
    return uploads.Limits(max_bytes=current_app.config["DOCUMENT_MAX_BYTES"], quota_bytes=current_app.config["DOCUMENT_QUOTA_BYTES"])


def _document_or_404(document_id, *, deleted=False):
    return services.get_document(g.viewer, document_id, deleted=deleted) or abort(404)


def _version_or_404(document, version_id):
    return services.get_version(document, version_id) or abort(404)


def _list_context(query, rows, has_next, *, filters=False, customers=True):
    """What a list of documents needs; ``filters`` adds the finder's choices (skipped when htmx swaps only the rows)."""
    context = {"query": query, "rows": rows, "has_next": has_next, "tags_of": services.tags_by_document([d.id for d in rows]),
               "customer_names": services.customer_names(rows) if customers else {},
               "contact": get_contact(g.viewer, query.contact_id) if query.contact_id else None}
    if filters and not wants_fragment():
        context.update(all_tags=tags.list_tags(), members=list_members(), type_groups=services.TYPE_GROUPS)
    return context


@bp.get("/")
@require("document.read")
def index():
    """Find documents across the customers the viewer may see."""
    query = _query()
    rows, has_next = services.find_documents(g.viewer, query)
    customer = get_thirdparty(g.viewer, query.thirdparty_id) if query.thirdparty_id else None
    return render_page("documents/index.html", "results", customer=customer,
                       **_list_context(query, rows, has_next, filters=True, customers=customer is None))


@bp.get("/trash")
@require("document.delete")
def trash():
    query = _query(trash=True)
    rows, has_next = services.find_documents(g.viewer, query)
    return render_page("documents/trash.html", "results", trash_days=services.TRASH_DAYS, **_list_context(query, rows, has_next))


@bp.get("/customers/<uuid:thirdparty_id>")
@require("document.read")
def customer(thirdparty_id):
    """A customer's documents: folders, the upload zone and the list."""
    return _customer_page(get_thirdparty(g.viewer, thirdparty_id) or abort(404))


def _customer_page(tp, *, form=None, upload_errors=(), status=200):
    query = _query(tp.id)
    rows, has_next = services.find_documents(g.viewer, query)
    context = _list_context(query, rows, has_next, customers=False)
    if upload_errors or not wants_fragment():  # the whole page: folders and the upload zone too
        context.update(folders=services.folders_of(tp.id, g.tenant), contacts=list_contacts_of(tp.id),
                       form=form or upload_form(query.contact_id, folder=query.folder or ""), max_bytes=_limits().max_bytes)
    return render_page("documents/customer.html", None if upload_errors else "results", tp=tp, upload_errors=upload_errors,
                       status=status, **context)


@bp.post("/customers/<uuid:thirdparty_id>")
@require("document.upload")
@body_limit("DOCUMENT_MAX_BYTES")
def upload(thirdparty_id):
    """Take one or several files. The page's script sends one file per request and shows each answer
    under its progress bar; without script the form sends them all and comes back here."""
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    form = UploadForm()
    contact = None
    if form.contact_id.data:
        contact = get_contact(g.viewer, parse_uuid(form.contact_id.data) or abort(404))
        if contact is None or contact.thirdparty_id != tp.id:
            abort(404)
    about, back = None, None
    if form.about_type.data:  # a record of this customer the viewer may see (its domain says), else not found
        subject = domains.first("document_subject", g.viewer, form.about_type.data, parse_uuid(form.about_id.data))
        if subject is None or subject.thirdparty_id != tp.id:
            abort(404)
        about, back = (form.about_type.data, subject.id), subject.url
    return _receive(tp, form, contact, about=about, back=back)


@bp.post("/<uuid:document_id>/versions")
@require("document.upload")
@body_limit("DOCUMENT_MAX_BYTES")
def upload_version(document_id):
    """A new version of this document, whatever the name of the file sent."""
    document = _document_or_404(document_id)
    tp = get_thirdparty(g.viewer, document.thirdparty_id) or abort(404)
    return _receive(tp, UploadForm(), None, into=document)


def _receive(tp, form, contact, into=None, about=None, back=None):
    if not form.validate_on_submit():
        return _upload_answer(tp, form, [], [error for errors in form.errors.values() for error in errors], status=422, into=into)
    files = form.chosen_files()[:1] if into else form.chosen_files()
    done, refused, status = [], [], 200
    key = form.idempotency_key.data[:56] if form.idempotency_key.data else None
    storage, limits = get_storage(), _limits()
    for position, file in enumerate(files):
        try:
            done.append(uploads.store_upload(
                g.viewer, storage, file, thirdparty=tp, contact=contact, folder=form.folder.data or "",
                limits=limits, idempotency_key=f"{key}-{position}" if key else None, into=into, about=about))
        except uploads.UploadRefused as refusal:
            refused.append(refusal.message)
            status = refusal.status
    return _upload_answer(tp, form, done, refused, status=status if not done else 200, into=into, back=back)


def _upload_answer(tp, form, done, refused, *, status, into=None, back=None):
    if request.headers.get("X-Upload") == "1":  # static/js/upload.js: one file, its answer under its progress bar
        return render_page("documents/upload_result.html", "upload_result", done=done, refused=refused, status=status)
    if not done and back is not None:  # back to the agenda item or the sales document, which says why
        for message in refused:
            flash(message, "error")
        return redirect_to(back)
    if not done:
        # Nothing was taken: the page again, with the reasons (the file itself cannot be kept in a form).
        form.idempotency_key.data = new_key()
        if into is not None:
            return _document_page(into, upload_errors=refused, status=status)
        return _customer_page(tp, form=form, upload_errors=refused, status=status)
    for upload in done:
        flash(_("%(name)s was added as version %(number)d.", name=upload.document.name, number=upload.version.number)
              if not upload.new_document else _("%(name)s was added.", name=upload.document.name), "success")
    for message in refused:
        flash(message, "error")
    if into is not None:
        return redirect_to(url_for(".show", document_id=into.id))
    if back is not None:
        return redirect_to(back)
    return redirect_to(url_for(".customer", thirdparty_id=tp.id, folder=form.folder.data or None))


@bp.get("/<uuid:document_id>")
@require("document.read")
def show(document_id):
    """The document: its preview, versions and who opened it."""
    return _document_page(services.get_document(g.viewer, document_id, deleted=None) or abort(404))


def _attached_to(document):
    """The record a document is attached to (label and address), when the viewer may see it (its domain says)."""
    if not document.object_type or not document.object_id:
        return None
    return domains.first("document_subject", g.viewer, document.object_type, document.object_id)


def _document_page(document, *, upload_errors=(), status=200):
    versions = services.list_versions(document)
    current = next((v for v in versions if v.id == document.current_version_id), None)
    return render_page("documents/show.html", document=document, versions=versions, current=current,
                       tp=get_thirdparty(g.viewer, document.thirdparty_id), access=services.list_access(document),
                       doc_tags=services.tags_by_document([document.id]).get(document.id, []),
                       inline=current is not None and delivery.may_show_inline(current),
                       version_numbers={v.id: v.number for v in versions}, upload_form=upload_form(), attached_to=_attached_to(document),
                       max_bytes=_limits().max_bytes, upload_errors=upload_errors, status=status)


def _edit_form(document, formdata=None):
    current = None if formdata else services.snapshot(document)
    form = DocumentForm(formdata=formdata, data=current and {**current, "version": document.version, "base": encode_snapshot(current)})
    form.tag_ids.choices = as_choices((t.id, t.name) for t in tags.list_tags())
    return form


@bp.get("/<uuid:document_id>/edit")
@require("document.upload")
def edit(document_id):
    document = _document_or_404(document_id)
    return render_page("documents/edit.html", "editor", document=document, form=_edit_form(document),
                       folders=services.folders_of(document.thirdparty_id, g.tenant))


@bp.post("/<uuid:document_id>/edit")
@require("document.upload")
def update(document_id):
    """Rename, move, describe or tag; a stale form is merged field by field or refused with a 409."""
    document = _document_or_404(document_id)
    form = _edit_form(document, request.form)
    folders = services.folders_of(document.thirdparty_id, g.tenant)
    if not form.validate_on_submit():
        return render_page("documents/edit.html", "editor", document=document, form=form, folders=folders, status=422)
    try:
        services.update_document(g.viewer, document, form.values(), version=request.form.get("version", type=int) or 0,
                                 base=decode_snapshot(form.base.data))
    except services.NameTaken:
        form.name.errors = [_("This folder already has a document with this name.")]
        return render_page("documents/edit.html", "editor", document=document, form=form, folders=folders, status=422)
    except EditConflict as conflict:
        form.version.data, form.base.data = document.version, encode_snapshot(services.snapshot(document))
        return render_page("documents/edit.html", "editor", document=document, form=form, folders=folders,
                           conflict=conflict.fields, status=409)
    flash(_("The document was saved."), "success")
    return redirect_to(url_for(".show", document_id=document.id))


@bp.post("/<uuid:document_id>/trash")
@require("document.delete")
def move_to_trash(document_id):
    document = _document_or_404(document_id, deleted=None)  # already in the trash (a double tap, a colleague): done
    services.move_to_trash(g.viewer, document)
    flash(_("%(name)s was moved to the trash. It can be restored for %(days)d days.", name=document.name,
            days=services.TRASH_DAYS), "success")
    return redirect_to(url_for(".customer", thirdparty_id=document.thirdparty_id))


@bp.post("/<uuid:document_id>/restore")
@require("document.delete")
def restore(document_id):
    document = _document_or_404(document_id, deleted=None)  # already restored (a double tap, a colleague): done
    services.restore(g.viewer, document)
    flash(_("%(name)s was restored.", name=document.name), "success")
    return redirect_to(url_for(".show", document_id=document.id))


def _send(document_id, version_id, action):
    document = _document_or_404(document_id)
    version = _version_or_404(document, version_id)
    services.record_access(g.viewer, document, version, action, request.remote_addr)
    try:
        return delivery.send(get_storage(), document, version, inline=action == "preview")
    except StorageError:
        abort(503)


@bp.get("/<uuid:document_id>/versions/<uuid:version_id>/download")
@require("document.download")
def download(document_id, version_id):
    """Record the download, then hand the file over (a short-lived link on S3, a stream otherwise)."""
    return _send(document_id, version_id, "download")


@bp.get("/<uuid:document_id>/versions/<uuid:version_id>/preview")
@require("document.download")
def preview(document_id, version_id):
    """Record the preview, then send the file inline if its type may be shown (else as a download)."""
    return _send(document_id, version_id, "preview")


@bp.get("/<uuid:document_id>/versions/<uuid:version_id>/thumbnail")
@require("document.read")
def thumbnail(document_id, version_id):
    document = _document_or_404(document_id)
    version = _version_or_404(document, version_id)
    if not version.thumbnail_key:
        abort(404)
    try:
        return delivery.send_thumbnail(get_storage(), version)
    except StorageError:
        abort(404)
