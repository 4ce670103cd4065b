"""Writing, editing and pinning notes on a third party's or a contact's card."""
import uuid

from flask import abort, flash, g, render_template, request, url_for
from flask_babel import gettext as _

from app.audit.web import log_denied
from app.auth.signin import safe_next
from app.customers import get_contact, get_thirdparty
from app.editing import EditConflict
from app.htmx import redirect_to, render_page, wants_fragment
from app.idempotency import new_key
from app.permissions import require
from app.timeline import bp, notes
from app.timeline.forms import NoteEditForm, NoteForm, composer_form
from app.timeline.services import note_event


def _note_or_404(note_id):
    """:raise 404: unless the note and its third party are visible to the viewer."""
    note = notes.get_note(g.viewer, note_id)
    if note is None or get_thirdparty(g.viewer, note.thirdparty_id) is None:
        abort(404)
    return note


def _may_edit_or_403(note) -> None:
    """:raise 403: (logged like every refusal) unless the viewer wrote the note or may edit the customer."""
    if not notes.may_edit(g.viewer, note):
        log_denied(403, right="thirdparty.update")
        abort(403)


def _contact_of(thirdparty, value):
    try:
        contact = get_contact(g.viewer, uuid.UUID(value)) if value else None
    except ValueError:
        abort(404)
    if value and (contact is None or contact.thirdparty_id != thirdparty.id):
        abort(404)
    return contact


@bp.post("/thirdparties/<uuid:thirdparty_id>/notes")
@require("note.create")
def create_note(thirdparty_id):
    """Add a note; htmx gets a fresh composer and the new event for the top of the timeline."""
    tp = get_thirdparty(g.viewer, thirdparty_id) or abort(404)
    form = NoteForm()
    contact = _contact_of(tp, form.contact_id.data)
    if not form.validate_on_submit():
        return render_page("timeline/note_created.html", "composer", form=form, action=request.path, event=None, status=422)
    try:
        note, created = notes.create_note(
            g.viewer, thirdparty_id=tp.id, contact_id=contact.id if contact else None, body=form.body.data,
            private=form.private.data, pinned=form.pinned.data, idempotency_key=(form.idempotency_key.data or "")[:64] or None,
        )
    except notes.IdempotencyConflict:
        # This form already saved another text (sent, changed, sent again): keep the text, with a new key.
        form.idempotency_key.data = new_key()
        form.body.errors = [_("This form already saved a note with a different text. Send again to add this text "
                              "as a new note.")]
        return render_page("timeline/note_created.html", "composer", form=form, action=request.path, event=None, status=422)
    if not wants_fragment() or (created and note.pinned):
        # A pinned note also goes on top of the card, outside the timeline: show the card again.
        flash(_("Your note was added."), "success")
        return redirect_to(url_for("tenant.contacts.show", contact_id=contact.id) if contact
                           else url_for("tenant.thirdparties.show", thirdparty_id=tp.id))
    return render_template("timeline/note_created.html", form=composer_form(form.contact_id.data), action=request.path,
                           event=note_event(note.id))


@bp.get("/notes/<uuid:note_id>/edit")
@require("note.create")
def edit_note(note_id):
    note = _note_or_404(note_id)
    _may_edit_or_403(note)
    form = NoteEditForm(data={"body": note.body, "version": note.version, "base_body": note.body})
    return render_page("timeline/note_edit.html", "note_editor", form=form, note=note)


@bp.post("/notes/<uuid:note_id>/edit")
@require("note.create")
def update_note(note_id):
    """Save a note's new text; the previous text stays in its versions."""
    note = _note_or_404(note_id)
    _may_edit_or_403(note)
    form = NoteEditForm()
    if not form.validate_on_submit():
        return render_page("timeline/note_edit.html", "note_editor", form=form, note=note, status=422)
    try:
        notes.update_note(g.viewer, note, form.body.data, version=request.form.get("version", type=int) or 0,
                          base_body=form.base_body.data)
    except EditConflict as conflict:
        form.version.data, form.base_body.data = note.version, note.body
        return render_page("timeline/note_edit.html", "note_editor", form=form, note=note,
                           conflict=conflict.fields["body"][0], status=409)
    flash(_("The note was saved."), "success")
    # ``back`` is a path of this site only: "//evil.example" or "/\\evil.example" would leave it (open redirect).
    return redirect_to(safe_next(request.form.get("back"))
                       or url_for("tenant.thirdparties.show", thirdparty_id=note.thirdparty_id))


@bp.post("/notes/<uuid:note_id>/<any(pin, unpin):action>")
@require("note.create")
def pin_note(note_id, action):
    note = _note_or_404(note_id)
    _may_edit_or_403(note)
    notes.set_pinned(note, action == "pin")
    return redirect_to(url_for("tenant.thirdparties.show", thirdparty_id=note.thirdparty_id))


@bp.get("/notes/<uuid:note_id>/versions")
@require("thirdparty.read")
def note_versions(note_id):
    """Every earlier text of a note, newest first."""
    note = _note_or_404(note_id)
    return render_page("timeline/note_versions.html", "versions", note=note, versions=notes.note_versions(note))
