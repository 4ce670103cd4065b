"""Taking an uploaded file in: checks, storage, then the rows — all of it or nothing (QUALITY T18).

Order matters. The file goes to the store first, under a key made of ids only; the rows are
written after, in one transaction with the timeline event. If the store fails, no row is written;
if the transaction fails, the stored objects are removed again. A retried upload (same
idempotency key) finds the version the first attempt made instead of making a second one.
"""
import hashlib
import io
import uuid
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from app.documents import filetypes
from app.documents.services import EVENT_RIGHT, clean_folder, find_in_place, name_key, tenant_usage
from app.extensions import db
from app.i18n import human_size
from app.models import Contact, Document, DocumentVersion, ThirdParty, new_id, utcnow
from app.permissions import Viewer
from app.storage import Storage, StorageError, TooLarge
from app.tenancy import current_tenant_id
from app.timeline.services import record_event


class UploadRefused(Exception):
    """The file was not taken; ``message`` says why in the user's language, ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    quota_bytes: int


@dataclass
class Upload:
    document: Document
    version: DocumentVersion
    new_document: bool
    replayed: bool = False


def version_key(tenant_id: uuid.UUID, document_id: uuid.UUID, version_id: uuid.UUID) -> str:
    return f"tenants/{tenant_id}/documents/{document_id}/{version_id}"


def thumbnail_key(tenant_id: uuid.UUID, version_id: uuid.UUID) -> str:
    return f"tenants/{tenant_id}/thumbnails/{version_id}"


def _size(stream) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _sha256(stream) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _check(file: FileStorage, limits: Limits) -> tuple[str, filetypes.Sniffed, int]:
    """The file's display name, what its bytes are and its size; :raise UploadRefused: when it cannot be taken."""
    name = filetypes.display_name(file.filename or "")
    stream = file.stream
    size = _size(stream)
    if size > limits.max_bytes:
        raise _too_large(name, limits)
    sniffed = filetypes.sniff(stream.read(filetypes.HEAD_SIZE), name)
    stream.seek(0)
    if size == 0:
        raise UploadRefused(_("%(name)s is empty.", name=name))
    if sniffed.refused:
        raise UploadRefused(_("%(name)s was refused: programs and scripts cannot be stored.", name=name), 415)
    return name, sniffed, size


def _too_large(name: str, limits: Limits) -> UploadRefused:
    return UploadRefused(_("%(name)s is too large: at most %(size)s per file.", name=name, size=human_size(limits.max_bytes)), 413)


def _replay(idempotency_key: str, file: FileStorage) -> Upload | None:
    """What an earlier send of this same file made, if any.

    :raise UploadRefused: when that send carried other bytes under the same key (409).
    """
    version = db.session.scalar(select(DocumentVersion).where(DocumentVersion.idempotency_key == idempotency_key))
    if version is None:
        return None
    if version.sha256 != _sha256(file.stream):
        raise UploadRefused(_("This upload was already used for another file. Choose the file again."), 409)
    document = db.session.scalar(select(Document).where(Document.id == version.document_id))
    return Upload(document=document, version=version, new_document=False, replayed=True)


def store_upload(viewer: Viewer, storage: Storage, file: FileStorage, *, thirdparty: ThirdParty, contact: Contact | None,
                 folder: str, limits: Limits, idempotency_key: str | None = None, into: Document | None = None,
                 about: tuple[str, uuid.UUID] | None = None) -> Upload:
    """Store one uploaded file as a new document, or as a new version of the one with its name in that folder
    (or of ``into``, whatever the file's name). ``about``: the business object a new document is attached to
    (``("activity", id)``: a meeting, an appointment…).

    :raise UploadRefused: for a file that is too large, empty, of a refused type, over the quota, or
        when the store cannot be reached (nothing is saved then).
    """
    name, sniffed, size = _check(file, limits)
    filename = name
    folder = clean_folder(folder)
    if into is not None:
        name, folder, contact = into.name, into.folder, None
    if idempotency_key:
        replayed = _replay(idempotency_key, file)
        if replayed is not None:
            db.session.rollback()
            return replayed
    if tenant_usage() + size > limits.quota_bytes:
        raise UploadRefused(_("Your organisation's storage is full (%(size)s): delete documents or ask for more space.",
                              size=human_size(limits.quota_bytes)), 413)
    existing = into or find_in_place(thirdparty.id, folder, name, lock=False)
    document_id = existing.id if existing else new_id()
    tenant_id, version_id = current_tenant_id(), new_id()
    db.session.rollback()  # hold no connection (nor lock) while the bytes travel to the store
    key = version_key(tenant_id, document_id, version_id)
    keys = [key]
    try:
        stored = storage.put(key, file.stream, content_type=sniffed.served_type, max_bytes=limits.max_bytes)
        thumb = _thumbnail(storage, file, sniffed, thumbnail_key(tenant_id, version_id))
        if thumb:
            keys.append(thumb)
    except TooLarge:
        _remove(storage, keys)
        raise _too_large(name, limits) from None
    except StorageError:
        _remove(storage, keys)
        raise UploadRefused(_("The file store cannot be reached: %(name)s was not saved. Try again in a moment.",
                              name=name), 503) from None
    try:
        return _save_rows(viewer, thirdparty=thirdparty, contact=contact, folder=folder, name=name, filename=filename, sniffed=sniffed,
                          document_id=document_id, version_id=version_id, key=key, thumb=thumb, stored=stored,
                          idempotency_key=idempotency_key, about=about)
    except IntegrityError:
        # Another request took the name (a new document at the same moment) or this same upload's key.
        db.session.rollback()
        _remove(storage, keys)
        if idempotency_key:
            replayed = _replay(idempotency_key, file)
            db.session.rollback()
            if replayed is not None:
                return replayed
        raise UploadRefused(_("Another upload of %(name)s happened at the same moment. Send it again.", name=name), 409) from None
    except BaseException:
        db.session.rollback()
        _remove(storage, keys)
        raise


def _thumbnail(storage: Storage, file: FileStorage, sniffed, key: str) -> str | None:
    if sniffed.mime not in filetypes.IMAGE_TYPES:
        return None
    file.stream.seek(0)
    data = filetypes.thumbnail(file.stream)
    if data is None:
        return None
    storage.put(key, io.BytesIO(data), content_type=filetypes.THUMBNAIL_TYPE)
    return key


def _remove(storage: Storage, keys: list[str]) -> None:
    """Best effort: what cannot be removed now is an orphan that ``flask documents reconcile`` reports."""
    for key in keys:
        try:
            storage.delete(key)
        except StorageError:
            pass


def _save_rows(viewer, *, thirdparty, contact, folder, name, filename, sniffed, document_id, version_id, key, thumb, stored,
               idempotency_key, about=None) -> Upload:
    document = find_in_place(thirdparty.id, folder, name)
    new_document = document is None
    if new_document:
        document = Document(id=document_id, thirdparty_id=thirdparty.id, contact_id=contact.id if contact else None,
                            folder=folder, name=name, name_key=name_key(name), uploaded_by_id=viewer.user_id,
                            version_count=0, description="", object_type=about[0] if about else None,
                            object_id=about[1] if about else None)
        db.session.add(document)
    # If another upload created the document meanwhile, the key names an id guessed before: keys are
    # made of ids only and stay unique, so the object is still valid under it.
    number = document.version_count + 1
    version = DocumentVersion(
        id=version_id, document_id=document.id, number=number, storage_key=key, thumbnail_key=thumb, size=stored.size,
        sha256=stored.sha256, mime=sniffed.mime, served_type=sniffed.served_type, label=sniffed.label, filename=filename,
        uploaded_by_id=viewer.user_id, idempotency_key=idempotency_key,
    )
    db.session.add(version)
    document.current_version_id, document.version_count = version_id, number
    document.size, document.mime, document.updated_at = stored.size, sniffed.mime, utcnow()
    record_event(thirdparty_id=thirdparty.id, contact_id=document.contact_id,
                 kind="document_uploaded" if new_document else "document_version_added", subject_type="document",
                 subject_id=document.id, actor_id=viewer.user_id, title=name,
                 payload={"version": number, "size": stored.size, "folder": folder,
                          **({"about": [document.object_type, str(document.object_id)]} if document.object_id else {})},
                 required_right=EVENT_RIGHT)
    db.session.commit()
    return Upload(document=document, version=version, new_document=new_document)
