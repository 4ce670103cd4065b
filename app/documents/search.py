"""What the global search finds of documents: their name and description (not those in the trash)."""
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.customers import visible
from app.extensions import db
from app.models import Document, ThirdParty
from app.search import NAME, TEXT, WORDS, Entry, Hit, Provider


def _entries(ids) -> dict:
    rows = db.session.execute(select(Document.id, Document.thirdparty_id, Document.name, Document.description)
                              .where(Document.id.in_(ids), Document.deleted_at.is_(None)))
    return {row.id: Entry(row.thirdparty_id, ((row.name, NAME, WORDS), (row.description, TEXT, WORDS))) for row in rows}


def _hits(viewer, ids) -> dict:
    stmt = select(Document.id, Document.name, Document.folder, Document.description, ThirdParty.name.label("customer")).join(
        ThirdParty, (ThirdParty.tenant_id == Document.tenant_id) & (ThirdParty.id == Document.thirdparty_id))
    rows = db.session.execute(visible(stmt, viewer).where(Document.id.in_(ids), Document.deleted_at.is_(None)))
    return {row.id: Hit(row.id, row.name, url_for("tenant.documents.show", document_id=row.id),
                        context=" · ".join(p for p in (row.customer, row.folder) if p), snippet=row.description)
            for row in rows}


PROVIDER = Provider(
    key="document", label=_l("Documents"), right="document.read", order=70,
    entries=_entries, hits=_hits, every=lambda: select(Document.id).where(Document.deleted_at.is_(None)),
    watch={Document: lambda document: [document.id]},
)
