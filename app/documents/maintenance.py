"""Scheduled upkeep: purging the trash after 30 days, and checking rows against stored objects (T18)."""
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.documents.services import EVENT_RIGHT, TRASH_DAYS, expired_trash
from app.editing import lock_all
from app.extensions import db
from app.models import DocumentAccess, DocumentTag, DocumentVersion, utcnow
from app.storage import Storage, StorageError
from app.tenancy import current_tenant_id
from app.timeline.services import record_event

# An object younger than this may belong to an upload whose rows are not committed yet.
ORPHAN_GRACE = timedelta(hours=1)


def purge_trash(storage: Storage, now: datetime | None = None) -> int:
    """Delete the documents of the tenant in scope that stayed in the trash past its limit, rows then objects.

    Rows go first, in one transaction: a failure leaves everything as it was. Objects that cannot be
    deleted afterwards are orphans, which ``reconcile`` reports and removes.
    """
    limit = (now or utcnow()) - timedelta(days=TRASH_DAYS)
    # Locked first, then read again: one restored meanwhile stays.
    documents = [d for d in lock_all(expired_trash(now)) if d.deleted_at is not None and d.deleted_at < limit]
    keys = []
    for document in documents:
        versions = db.session.scalars(select(DocumentVersion).where(DocumentVersion.document_id == document.id)).all()
        keys += [k for v in versions for k in (v.storage_key, v.thumbnail_key) if k]
        for row in [*versions, *db.session.scalars(select(DocumentTag).where(DocumentTag.document_id == document.id)),
                    *db.session.scalars(select(DocumentAccess).where(DocumentAccess.document_id == document.id))]:
            db.session.delete(row)
        db.session.flush()  # the children first: no relationship tells the flush their order
        record_event(thirdparty_id=document.thirdparty_id, contact_id=document.contact_id, kind="document_purged",
                     subject_type="document", subject_id=None, actor_id=None, title=document.name, required_right=EVENT_RIGHT)
        db.session.delete(document)
    db.session.commit()
    for key in keys:
        try:
            storage.delete(key)
        except StorageError:
            pass
    return len(documents)


@dataclass
class Reconciliation:
    dangling: list[str] = field(default_factory=list)  # rows whose object is missing
    orphans: list[str] = field(default_factory=list)  # objects no row points to
    removed: list[str] = field(default_factory=list)


def _created_at(key: str) -> datetime | None:
    """When the key's last id (a UUIDv7) was made: ids carry their creation time in milliseconds."""
    try:
        ident = uuid.UUID(key.rsplit("/", 1)[-1])
    except ValueError:
        return None
    if ident.version != 7:
        return None
    return datetime.fromtimestamp((ident.int >> 80) / 1000, UTC)


def reconcile(storage: Storage, *, remove_orphans: bool = False, now: datetime | None = None) -> Reconciliation:
    """Compare the tenant's version rows with its stored objects."""
    now = now or utcnow()
    result = Reconciliation()
    known = set()
    for key, thumb in db.session.execute(select(DocumentVersion.storage_key, DocumentVersion.thumbnail_key)):
        known.add(key)
        if thumb:
            known.add(thumb)
    db.session.rollback()
    stored = set(storage.keys(f"tenants/{current_tenant_id()}/"))
    result.dangling = sorted(k for k in known - stored)
    result.orphans = sorted(stored - known)
    if remove_orphans:
        for key in result.orphans:
            created = _created_at(key)
            if created is not None and now - created > ORPHAN_GRACE:
                storage.delete(key)
                result.removed.append(key)
    return result
