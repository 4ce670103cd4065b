"""Notes: written inline on a card, public or private, pinned on top, every previous text kept."""
import uuid

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.editing import commit_or_conflict, lock, merge_edit
from app.extensions import db
from app.models import Note, NoteVersion, utcnow
from app.permissions import Viewer
from app.timeline.services import record_event

MAX_LENGTH = 20000


def _visible(stmt, viewer: Viewer):
    if viewer.can("note.read_private"):
        return stmt
    return stmt.where(or_(Note.private.is_(False), Note.author_id == viewer.user_id))


def get_note(viewer: Viewer, note_id: uuid.UUID) -> Note | None:
    """The note if ``viewer`` may read it (its third party's visibility is checked by the caller)."""
    return db.session.scalar(_visible(select(Note).where(Note.id == note_id), viewer))


def pinned_notes(viewer: Viewer, thirdparty_id: uuid.UUID) -> list[Note]:
    stmt = select(Note).where(Note.thirdparty_id == thirdparty_id, Note.pinned.is_(True)).order_by(Note.updated_at.desc())
    return db.session.scalars(_visible(stmt, viewer)).all()


def may_edit(viewer: Viewer, note: Note) -> bool:
    return note.author_id == viewer.user_id or viewer.can("thirdparty.update")


def _title(body: str) -> str:
    return body.strip().splitlines()[0][:200] if body.strip() else ""


class IdempotencyConflict(Exception):
    """The form's idempotency key already saved a note with another text (QUALITY T20)."""


def _replayed(idempotency_key: str, body: str) -> Note | None:
    """The note an earlier send of the same form saved, if any.

    :raise IdempotencyConflict: when that send had another text (the form was changed and sent again).
    """
    existing = db.session.scalar(select(Note).where(Note.idempotency_key == idempotency_key))
    if existing is None:
        return None
    first = db.session.scalar(select(NoteVersion.body).where(NoteVersion.note_id == existing.id)
                              .order_by(NoteVersion.edited_at, NoteVersion.id).limit(1))
    if (first if first is not None else existing.body) != body.strip():
        raise IdempotencyConflict(idempotency_key)
    return existing


def create_note(viewer: Viewer, *, thirdparty_id: uuid.UUID, contact_id: uuid.UUID | None, body: str,
                private: bool, pinned: bool, idempotency_key: str | None) -> tuple[Note, bool]:
    """Add a note and its timeline event; a repeated ``idempotency_key`` returns the first note.

    Returns the note and whether it was created now.

    :raise IdempotencyConflict: when the key already saved a note with another text.
    """
    if idempotency_key:
        existing = _replayed(idempotency_key, body)
        if existing is not None:
            return existing, False
    note = Note(thirdparty_id=thirdparty_id, contact_id=contact_id,
                body=body.strip(), private=private, pinned=pinned, author_id=viewer.user_id, idempotency_key=idempotency_key)
    db.session.add(note)
    try:
        db.session.flush()
    except IntegrityError:
        # The same form sent twice at once: the other request committed the key first; answer with its note.
        db.session.rollback()
        existing = _replayed(idempotency_key, body) if idempotency_key else None
        if existing is None:
            raise
        return existing, False
    record_event(thirdparty_id=thirdparty_id, contact_id=contact_id, kind="note_added", subject_type="note",
                 subject_id=note.id, actor_id=viewer.user_id, title=_title(note.body), body=note.body,
                 private_to_id=viewer.user_id if private else None, payload={"pinned": pinned} if pinned else {})
    db.session.commit()
    return note, True


def update_note(viewer: Viewer, note: Note, body: str, *, version: int, base_body: str | None) -> bool:
    """Save a new text (the previous one is kept); False when the text did not change.

    :raise EditConflict: when someone else changed the note meanwhile.
    """
    values = merge_edit({"body": lock(note).body}, {"body": body.strip()}, stale=version != note.version,
                        base={"body": base_body} if base_body is not None else None)
    if values["body"] == note.body:
        return False
    db.session.add(NoteVersion(note_id=note.id, body=note.body, edited_by_id=viewer.user_id))
    note.body, note.updated_at = values["body"], utcnow()
    record_event(thirdparty_id=note.thirdparty_id, contact_id=note.contact_id, kind="note_edited", subject_type="note",
                 subject_id=note.id, actor_id=viewer.user_id, title=_title(note.body), body=note.body,
                 private_to_id=note.author_id if note.private else None)
    commit_or_conflict(db.session, note, lambda n: {"body": n.body}, {"body": values["body"]})
    return True


def set_pinned(note: Note, pinned: bool) -> None:
    lock(note).pinned = pinned
    db.session.commit()


def note_versions(note: Note) -> list[NoteVersion]:
    return db.session.scalars(select(NoteVersion).where(NoteVersion.note_id == note.id)
                              .order_by(NoteVersion.edited_at.desc())).all()
