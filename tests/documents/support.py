"""Builders and readers for the document tests."""
import io
import uuid

from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import Document, DocumentAccess, DocumentVersion
from app.tenancy import tenant_context

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png(width=64, height=48, colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def upload(browser, thirdparty_id, files, *, folder="", key=None, contact_id="", xhr=True, tenant_slug):
    """Post files as the upload form would: ``files`` is a list of ``(name, bytes)``."""
    data = {"folder": folder, "contact_id": contact_id, "idempotency_key": key or uuid.uuid4().hex,
            "files": [(io.BytesIO(content), name) for name, content in files]}
    headers = {"X-Upload": "1"} if xhr else {}
    return browser.post(f"/{tenant_slug}/documents/customers/{thirdparty_id}", data, headers=headers,
                        content_type="multipart/form-data")


def documents_of(app, tenant, thirdparty_id=None, *, deleted=False) -> list[dict]:
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(Document).order_by(Document.created_at)
        if thirdparty_id:
            stmt = stmt.where(Document.thirdparty_id == thirdparty_id)
        if deleted is not None:
            stmt = stmt.where(Document.deleted_at.is_not(None) if deleted else Document.deleted_at.is_(None))
        return [{"id": d.id, "name": d.name, "folder": d.folder, "versions": d.version_count, "current": d.current_version_id,
                 "mime": d.mime, "size": d.size, "deleted": d.deleted_at is not None} for d in db.session.scalars(stmt)]


def versions_of(app, tenant, document_id=None) -> list[dict]:
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(DocumentVersion).order_by(DocumentVersion.number)
        if document_id:
            stmt = stmt.where(DocumentVersion.document_id == document_id)
        return [{"id": v.id, "number": v.number, "key": v.storage_key, "thumb": v.thumbnail_key, "size": v.size,
                 "sha256": v.sha256, "mime": v.mime, "served_type": v.served_type, "filename": v.filename}
                for v in db.session.scalars(stmt)]


def access_of(app, tenant, document_id) -> list[tuple]:
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(DocumentAccess).where(DocumentAccess.document_id == document_id)
                                  .order_by(DocumentAccess.occurred_at))
        return [(a.action, a.version_id, a.user_id) for a in rows]

