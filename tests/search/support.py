"""Builders and readers for the global search tests: records made through the domain services, searches run as a
member would (the ``Viewer`` of their membership), the index read back."""
import uuid
from contextlib import contextmanager

from flask import g
from sqlalchemy import func, select

from app import search
from app.extensions import db
from app.models import Note, SalesDocument, SearchTerm, Tenant, ThirdParty
from app.sales import services as sales_services
from app.tenancy import tenant_context
from app.timeline import notes as note_services
from tests.customers import _acting, viewer_for


def add_note(app, tenant, thirdparty_id, body: str, *, by=None, private: bool = False) -> uuid.UUID:
    """A note written through the service (as the owner by default); its id."""
    with _acting(app, tenant, by or tenant.owner) as viewer:
        note, _created = note_services.create_note(viewer, thirdparty_id=thirdparty_id, contact_id=None, body=body,
                                                   private=private, pinned=False, idempotency_key=None)
        return note.id


def make_sales_document(app, tenant, thirdparty_id, kind: str = "quote", *, title: str = "", validated: bool = True):
    """A quote, order, invoice… of ``kind`` for the customer, through the services; (id, number)."""
    viewer = viewer_for(app, tenant, tenant.owner)
    with app.app_context(), tenant_context(tenant.id):
        customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == thirdparty_id))
        doc, _ = sales_services.create_document(viewer, customer, kind, {"title": title} if title else {})
        if validated:
            sales_services.add_line(doc, {"product_id": None, "description": "Work", "quantity": 1, "unit": "",
                                          "unit_price": 100, "discount": 0, "vat_rate": 20})
            sales_services.validate(viewer, doc)
        db.session.commit()
        return doc.id, doc.number


@contextmanager
def in_request(app, tenant):
    """A request of ``tenant``'s pages (links to records are built as in a view), its scope set."""
    with app.test_request_context(), tenant_context(tenant.id):
        g.tenant = db.session.get(Tenant, tenant.id)
        yield


def found(app, tenant, user, text: str, *, kind: str | None = None) -> dict[str, list]:
    """What ``user`` finds for ``text`` on the results page: kind → [(id, title)]."""
    viewer = viewer_for(app, tenant, user)
    with in_request(app, tenant):
        results, _filters = search.find(viewer, text, kind=kind)
        return {group.provider.key: [(hit.id, hit.title) for hit in group.hits] for group in results.groups}


def found_ids(app, tenant, user, text: str) -> set:
    return {hit_id for hits in found(app, tenant, user, text).values() for hit_id, _title in hits}


def terms_of(app, tenant, record_id) -> set[str]:
    """The index's terms of one record."""
    with app.app_context(), tenant_context(tenant.id):
        return set(db.session.scalars(select(SearchTerm.term).where(SearchTerm.record_id == record_id)))


def index_size(app, tenant) -> int:
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(func.count()).select_from(SearchTerm))


def upload_document(app, tenant, browser, thirdparty_id, name: str) -> uuid.UUID:
    """A document uploaded through the page, as the signed-in ``browser``; its id."""
    from app.models import Document
    from tests.documents.support import PDF, upload

    response = upload(browser, thirdparty_id, [(name, PDF)], tenant_slug=tenant.slug)
    assert response.status_code in (200, 201), response.status_code
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(Document.id).where(Document.thirdparty_id == thirdparty_id)
                                 .order_by(Document.created_at.desc()).limit(1))


def acting(app, tenant, user=None):
    return _acting(app, tenant, user or tenant.owner)


def note_row(note_id) -> Note:
    return db.session.scalar(select(Note).where(Note.id == note_id))


def sales_row(doc_id) -> SalesDocument:
    return db.session.scalar(select(SalesDocument).where(SalesDocument.id == doc_id))
