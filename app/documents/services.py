"""Finding, reading and organising documents, with the viewer's rights applied in the queries."""
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import distinct, func, literal_column, select
from sqlalchemy.orm import aliased

from app.customers import visible
from app.editing import commit_or_conflict, lock, merge_edit
from app.extensions import db
from app.models import Document, DocumentAccess, DocumentTag, DocumentVersion, Tag, Tenant, ThirdParty, utcnow
from app.pagination import page_of, split_page
from app.permissions import Viewer
from app.timeline.rollups import replace_rollup
from app.timeline.services import escape_like, record_event

TRASH_DAYS = 30
DEFAULT_FOLDERS = (_l("Contracts"), _l("Quotes"), _l("Invoices"), _l("Scans"))
FOLDER_MAX = 80
MAX_DEFAULT_FOLDERS = 30
# Document events are shown to those who may see the document lists.
EVENT_RIGHT = "document.read"
# Kinds offered as a filter: what the bytes are, grouped as people think of them.
TYPE_GROUPS = {
    "pdf": (_l("PDF"), ("application/pdf",)),
    "image": (_l("Images"), ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff", "image/heic")),
    "text": (_l("Text"), ("text/plain",)),
}


# What the finder's text matches: the very expression of the trigram index (migration 0004).
SEARCHED = Document.name.concat(literal_column("' '")).concat(Document.description)


class NameTaken(Exception):
    """Another document of the same folder already has this name."""


def default_folders(tenant: Tenant) -> list[str]:
    """The folders every customer starts with: the tenant's own list, or the defaults in its language."""
    if tenant.document_folders is not None:
        return list(tenant.document_folders)
    with force_locale(tenant.locale or "en"):
        return [str(name) for name in DEFAULT_FOLDERS]


def clean_folder(name: str) -> str:
    return " ".join((name or "").split())[:FOLDER_MAX]


def _visible(stmt, viewer: Viewer):
    """Documents whose customer the viewer may see ("only mine" included)."""
    stmt = stmt.join(ThirdParty, (ThirdParty.tenant_id == Document.tenant_id) & (ThirdParty.id == Document.thirdparty_id))
    return visible(stmt, viewer)


def get_document(viewer: Viewer, document_id: uuid.UUID, *, deleted: bool | None = False) -> Document | None:
    """The document if the viewer may see its customer; ``deleted=None`` finds it in the trash too."""
    stmt = select(Document).where(Document.id == document_id)
    if deleted is not None:
        stmt = stmt.where(Document.deleted_at.is_not(None) if deleted else Document.deleted_at.is_(None))
    return db.session.scalar(_visible(stmt, viewer))


def get_version(document: Document, version_id: uuid.UUID) -> DocumentVersion | None:
    return db.session.scalar(select(DocumentVersion).where(
        DocumentVersion.document_id == document.id, DocumentVersion.id == version_id))


def list_versions(document: Document) -> list[DocumentVersion]:
    return db.session.scalars(select(DocumentVersion).where(DocumentVersion.document_id == document.id)
                              .order_by(DocumentVersion.number.desc())).all()


def list_access(document: Document, limit: int = 100) -> list[DocumentAccess]:
    return db.session.scalars(select(DocumentAccess).where(DocumentAccess.document_id == document.id)
                              .order_by(DocumentAccess.occurred_at.desc(), DocumentAccess.id.desc()).limit(limit)).all()


def folders_of(thirdparty_id: uuid.UUID, tenant: Tenant) -> list[str]:
    """The customer's folders: the tenant's defaults, then any other folder its documents are in."""
    defaults = default_folders(tenant)
    return defaults + sorted((f for f in _used_folders(thirdparty_id) if f not in defaults), key=str.lower)


def _used_folders(thirdparty_id: uuid.UUID) -> list[str]:
    """The distinct folders of a customer's live documents, one index probe per folder.

    A loose index scan (a recursive "next folder after this one") on the place index: with 10,000
    documents in five folders it probes the index six times instead of reading 10,000 rows (7.6 → 1.4 ms), and
    uses only leakproof comparisons, so row-level security does not turn it back into a scan.
    """
    def live(model):
        return (model.thirdparty_id == thirdparty_id) & model.deleted_at.is_(None)

    walk = select(func.min(Document.folder).label("folder")).where(live(Document), Document.folder > "").cte(
        "used_folders", recursive=True)
    later = aliased(Document)
    following = select(func.min(later.folder)).where(live(later), later.folder > walk.c.folder).scalar_subquery()
    walk = walk.union_all(select(following).where(walk.c.folder.is_not(None)))
    return db.session.scalars(select(walk.c.folder).where(walk.c.folder.is_not(None))).all()


@dataclass(frozen=True)
class DocumentQuery:
    text: str = ""
    thirdparty_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    folder: str | None = None  # None: every folder; "": the customer's root
    tag_id: uuid.UUID | None = None
    type_group: str = ""
    uploader_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    trash: bool = False
    page: int = 1


def find_documents(viewer: Viewer, query: DocumentQuery) -> tuple[list[Document], bool]:
    """One page of documents matching the query, most recently changed first."""
    stmt = _visible(select(Document), viewer)
    stmt = stmt.where(Document.deleted_at.is_not(None) if query.trash else Document.deleted_at.is_(None))
    if query.thirdparty_id:
        stmt = stmt.where(Document.thirdparty_id == query.thirdparty_id)
    if query.contact_id:
        stmt = stmt.where(Document.contact_id == query.contact_id)
    if query.folder is not None:
        stmt = stmt.where(Document.folder == query.folder)
    if query.text:
        stmt = stmt.where(SEARCHED.ilike(f"%{escape_like(query.text)}%", escape="\\"))
    if query.tag_id:
        stmt = stmt.where(Document.id.in_(select(DocumentTag.document_id).where(DocumentTag.tag_id == query.tag_id)))
    if query.type_group in TYPE_GROUPS:
        stmt = stmt.where(Document.mime.in_(TYPE_GROUPS[query.type_group][1]))
    elif query.type_group == "other":
        stmt = stmt.where(Document.mime.not_in([m for _, mimes in TYPE_GROUPS.values() for m in mimes]))
    if query.uploader_id:
        stmt = stmt.where(Document.uploaded_by_id == query.uploader_id)
    if query.since:
        stmt = stmt.where(Document.updated_at >= query.since)
    if query.until:
        stmt = stmt.where(Document.updated_at < query.until)
    order = Document.deleted_at.desc() if query.trash else Document.updated_at.desc()
    return split_page(db.session.scalars(page_of(stmt.order_by(order, Document.id.desc()), query.page)).all())


def card_box(viewer: Viewer, *, thirdparty_id: uuid.UUID | None = None, contact_id: uuid.UUID | None = None,
             about: tuple[str, uuid.UUID] | None = None, limit: int = 5) -> dict:
    """The latest documents of a customer, about a contact or attached to a business object (``about``), and
    how many there are, for a card's box.

    ``documents`` is None when the viewer may not read documents (the card then shows no box).
    """
    if not viewer.can("document.read"):
        return {"documents": None}
    stmt = _visible(select(Document, func.count().over()), viewer).where(Document.deleted_at.is_(None))
    if about:
        stmt = stmt.where(Document.object_type == about[0], Document.object_id == about[1])
    stmt = stmt.where(Document.contact_id == contact_id) if contact_id else stmt.where(Document.thirdparty_id == thirdparty_id)
    rows = db.session.execute(stmt.order_by(Document.updated_at.desc(), Document.id.desc()).limit(limit)).all()
    return {"documents": [doc for doc, _count in rows], "document_count": rows[0][1] if rows else 0}


def tags_by_document(ids) -> dict[uuid.UUID, list[Tag]]:
    if not ids:
        return {}
    rows = db.session.execute(select(DocumentTag.document_id, Tag).join(
        Tag, (Tag.tenant_id == DocumentTag.tenant_id) & (Tag.id == DocumentTag.tag_id)
    ).where(DocumentTag.document_id.in_(ids)).order_by(func.lower(Tag.name))).all()
    result: dict = {}
    for document_id, tag in rows:
        result.setdefault(document_id, []).append(tag)
    return result


def customer_names(documents) -> dict[uuid.UUID, str]:
    ids = {d.thirdparty_id for d in documents}
    if not ids:
        return {}
    return dict(db.session.execute(select(ThirdParty.id, ThirdParty.name).where(ThirdParty.id.in_(ids))).all())


def name_key(name: str) -> str:
    return name.casefold()[:255]


def find_in_place(thirdparty_id: uuid.UUID, folder: str, name: str, *, lock: bool = True) -> Document | None:
    """The live document with this name in this folder (an upload under that name adds a version), locked
    until the transaction ends unless ``lock`` is false."""
    stmt = select(Document).where(Document.thirdparty_id == thirdparty_id, Document.folder == folder,
                                  Document.name_key == name_key(name), Document.deleted_at.is_(None))
    return db.session.scalar(stmt.with_for_update(of=Document) if lock else stmt)  # not the joined uploader (an outer join)


def snapshot(document: Document) -> dict:
    tag_ids = db.session.scalars(select(DocumentTag.tag_id).where(DocumentTag.document_id == document.id)).all()
    return {"name": document.name, "folder": document.folder, "description": document.description,
            "tag_ids": sorted(str(t) for t in tag_ids)}


def update_document(viewer: Viewer, document: Document, submitted: dict, *, version: int, base: dict | None) -> dict:
    """Rename, move, describe and tag a document (merged with concurrent edits); the timeline says what changed.

    :raise NameTaken: when the target folder already has a document of that name.
    :raise EditConflict: when someone else changed the same fields meanwhile.
    """
    current = snapshot(lock(document))
    submitted = {**submitted, "folder": clean_folder(submitted["folder"]), "tag_ids": sorted(submitted["tag_ids"])}
    values = merge_edit(current, submitted, stale=version != document.version, base=base)
    name, folder = values["name"], values["folder"]
    if (name_key(name), folder) != (document.name_key, document.folder):
        other = find_in_place(document.thirdparty_id, folder, name)
        if other is not None and other.id != document.id:
            raise NameTaken(name)
    document.name, document.name_key, document.folder = name, name_key(name), folder
    document.description = values["description"]
    wanted = {uuid.UUID(t) for t in values["tag_ids"]}
    links = {link.tag_id: link for link in db.session.scalars(select(DocumentTag).where(DocumentTag.document_id == document.id))}
    for tag_id in wanted - links.keys():
        db.session.add(DocumentTag(document_id=document.id, tag_id=tag_id))
    for tag_id in links.keys() - wanted:
        db.session.delete(links[tag_id])
    changes = {f: [current[f], values[f]] for f in values if current[f] != values[f]}
    if not changes:
        db.session.rollback()
        return changes
    document.updated_at = utcnow()
    record_event(thirdparty_id=document.thirdparty_id, contact_id=document.contact_id, kind="document_updated",
                 subject_type="document", subject_id=document.id, actor_id=viewer.user_id, title=document.name,
                 payload={"changes": changes}, required_right=EVENT_RIGHT)
    commit_or_conflict(db.session, document, snapshot, submitted)
    return changes


def move_to_trash(viewer: Viewer, document: Document) -> None:
    if lock(document).deleted_at is not None:
        return  # someone else did it meanwhile
    document.deleted_at, document.deleted_by_id = utcnow(), viewer.user_id
    record_event(thirdparty_id=document.thirdparty_id, contact_id=document.contact_id, kind="document_deleted",
                 subject_type="document", subject_id=document.id, actor_id=viewer.user_id, title=document.name,
                 required_right=EVENT_RIGHT)
    db.session.commit()


def restore(viewer: Viewer, document: Document) -> None:
    """Take a document out of the trash; if its name was reused meanwhile, it comes back renamed."""
    if lock(document).deleted_at is None:
        return  # someone else did it meanwhile
    if find_in_place(document.thirdparty_id, document.folder, document.name) is not None:
        stem, dot, ext = document.name.rpartition(".")
        base = stem if dot else document.name
        suffix = f".{ext}" if dot else ""
        stamp = utcnow().strftime("%Y-%m-%d %H%M%S")
        document.name = f"{base[:200]} ({stamp}){suffix}"
        document.name_key = name_key(document.name)
    document.deleted_at, document.deleted_by_id = None, None
    record_event(thirdparty_id=document.thirdparty_id, contact_id=document.contact_id, kind="document_restored",
                 subject_type="document", subject_id=document.id, actor_id=viewer.user_id, title=document.name,
                 required_right=EVENT_RIGHT)
    db.session.commit()


def record_access(viewer: Viewer, document: Document, version: DocumentVersion, action: str, ip: str | None) -> None:
    """Note who opened which version (the document's history and the audit log), committed before the file is sent.

    The customer's timeline gets no row per view: its one line about the document's views ("viewed 12 times by 3
    people", at the last view) is replaced (``replace_rollup``). The document's row is locked first, so two views at
    once count both and leave one line.
    """
    lock(document)
    db.session.add(DocumentAccess(document_id=document.id, version_id=version.id, action=action,
                                  user_id=viewer.user_id, ip=ip))
    db.session.flush()
    views, people = db.session.execute(select(func.count(), func.count(distinct(DocumentAccess.user_id))).where(
        DocumentAccess.document_id == document.id)).one()
    replace_rollup(key=f"document_views:{document.id}", kind="document_views", subject_type="document",
                   subject_id=document.id, thirdparty_id=document.thirdparty_id, contact_id=document.contact_id,
                   actor_id=viewer.user_id, title=document.name, required_right=EVENT_RIGHT,
                   payload={"views": views, "people": people})
    db.session.commit()


def tenant_usage() -> int:
    """Bytes the tenant stores: every version of every document, the trash included."""
    return db.session.scalar(select(func.coalesce(func.sum(DocumentVersion.size), 0))) or 0


def expired_trash(now: datetime | None = None) -> list[Document]:
    limit = (now or utcnow()) - timedelta(days=TRASH_DAYS)
    return db.session.scalars(select(Document).where(Document.deleted_at.is_not(None), Document.deleted_at < limit)).all()

