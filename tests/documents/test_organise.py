"""Organising and finding documents: edits, conflicts, filters, contacts, card boxes, default folders, rights.

The store does not matter here (test_documents.py runs the storage paths on both): the local folder only.
"""
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Document, Tenant, utcnow
from app.tenancy import tenant_context
from tests.customers import audit_of, events_of, make_contact, make_tag, make_thirdparty
from tests.documents.support import PDF, documents_of, png, upload
from tests.factories import add_member, make_user
from tests.helpers import Browser, csrf_from, text_of

pytestmark = pytest.mark.parametrize("app_storage", ["local"], indirect=True)


def _one(app, tenant, tp, name, content=PDF, **kwargs):
    response = upload(kwargs.pop("browser"), tp.id, [(name, content)], tenant_slug=tenant.slug, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return next(d for d in documents_of(app, tenant, tp.id) if d["name"] == name)


def _edit_form(browser, tenant, document_id) -> dict:
    """The edit form's fields as the page rendered them (hidden version and base included)."""
    page = browser.get(f"/{tenant.slug}/documents/{document_id}/edit").get_data(as_text=True)
    fields = {name: html.unescape(value) for name, value in re.findall(r'<input[^>]*name="(version|base)"[^>]*value="([^"]*)"', page)}
    fields["csrf_token"] = csrf_from(page)
    return fields


def test_rename_move_describe_and_tag_land_on_the_timeline_and_in_the_audit(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant, "Bianchi Srl")
    tag = make_tag(app, tenant, "Signed")
    doc = _one(app, tenant, tp, "scan.pdf", browser=owner)
    form = _edit_form(owner, tenant, doc["id"])
    response = owner.post(f"/{tenant.slug}/documents/{doc['id']}/edit", {
        **form, "name": "Contract 2026.pdf", "folder": "Contracts", "description": "Signed in March", "tag_ids": [str(tag)]})
    assert response.status_code == 303
    [saved] = documents_of(app, tenant, tp.id)
    assert (saved["name"], saved["folder"]) == ("Contract 2026.pdf", "Contracts")
    page = text_of(owner.get(f"/{tenant.slug}/documents/{doc['id']}").get_data(as_text=True))
    assert "Contract 2026.pdf" in page and "Signed in March" in page and "Signed" in page
    [event] = events_of(app, tenant, thirdparty_id=tp.id, kind="document_updated")
    assert event.payload["changes"]["name"] == ["scan.pdf", "Contract 2026.pdf"]
    assert event.payload["changes"]["folder"] == ["", "Contracts"]
    changes = [a.changes for a in audit_of(app, tenant, entity_type="document", entity_id=doc["id"]) if a.action == "update"]
    assert changes and changes[-1]["name"] == ["scan.pdf", "Contract 2026.pdf"]
    # The card's timeline, filtered to documents, shows it.
    card = text_of(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}?kind=documents").get_data(as_text=True))
    assert "Document changed" in card and "Document added" in card


def test_a_name_taken_in_the_folder_is_refused_and_the_input_kept(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant)
    _one(app, tenant, tp, "a.pdf", browser=owner, folder="Quotes")
    other = _one(app, tenant, tp, "b.pdf", browser=owner, folder="Quotes")
    form = _edit_form(owner, tenant, other["id"])
    response = owner.post(f"/{tenant.slug}/documents/{other['id']}/edit",
                          {**form, "name": "a.pdf", "folder": "Quotes", "description": "typed text"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "already has a document with this name" in body and "typed text" in body
    assert {d["name"] for d in documents_of(app, tenant, tp.id)} == {"a.pdf", "b.pdf"}


def test_a_stale_edit_of_the_same_field_answers_409_and_keeps_both_values(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant)
    doc = _one(app, tenant, tp, "plan.pdf", browser=owner)
    stale = _edit_form(owner, tenant, doc["id"])
    fresh = _edit_form(owner, tenant, doc["id"])
    assert owner.post(f"/{tenant.slug}/documents/{doc['id']}/edit", {**fresh, "name": "plan-A.pdf"}).status_code == 303
    response = owner.post(f"/{tenant.slug}/documents/{doc['id']}/edit", {**stale, "name": "plan-B.pdf"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "plan-A.pdf" in body and "plan-B.pdf" in body
    assert documents_of(app, tenant, tp.id)[0]["name"] == "plan-A.pdf"
    # A stale edit of another field merges instead.
    assert owner.post(f"/{tenant.slug}/documents/{doc['id']}/edit",
                      {**stale, "name": "plan.pdf", "description": "merged"}).status_code == 303
    with app.app_context(), tenant_context(tenant.id):
        saved = db.session.scalar(select(Document).where(Document.id == doc["id"]))
        assert (saved.name, saved.description) == ("plan-A.pdf", "merged")


def test_find_by_text_type_tag_uploader_customer_and_date(app, tenant, owner, app_storage):
    uma = add_member(app, tenant, make_user(app, name="Uma Uploader"), role="admin")
    uma_browser = Browser(app.test_client())
    uma_browser.login(uma.email)
    rossi, verdi = make_thirdparty(app, tenant, "Rossi"), make_thirdparty(app, tenant, "Verdi")
    invoice = _one(app, tenant, rossi, "invoice-march.pdf", browser=owner)
    _one(app, tenant, rossi, "photo.png", png(), browser=uma_browser)
    _one(app, tenant, verdi, "notes.txt", b"meeting notes\n", browser=owner)
    tag = make_tag(app, tenant, "Paid")
    form = _edit_form(owner, tenant, invoice["id"])
    owner.post(f"/{tenant.slug}/documents/{invoice['id']}/edit",
               {**form, "name": "invoice-march.pdf", "description": "settled", "tag_ids": [str(tag)]})
    with app.app_context(), tenant_context(tenant.id):  # an old document, for the date filter
        db.session.execute(update(Document).where(Document.name == "notes.txt").values(updated_at=utcnow() - timedelta(days=40)))
        db.session.commit()

    def names(query):
        page = owner.get(f"/{tenant.slug}/documents/?{query}", headers={"HX-Request": "true"}).get_data(as_text=True)
        return {n for n in ("invoice-march.pdf", "photo.png", "notes.txt") if n in page}

    assert names("") == {"invoice-march.pdf", "photo.png", "notes.txt"}
    assert names("q=MARCH") == {"invoice-march.pdf"}
    assert names("q=settled") == {"invoice-march.pdf"}  # the description too
    assert names("type=image") == {"photo.png"}
    assert names("type=text") == {"notes.txt"}
    assert names(f"tag={tag}") == {"invoice-march.pdf"}
    assert names(f"uploader={uma.id}") == {"photo.png"}
    assert names(f"customer={verdi.id}") == {"notes.txt"}
    since = (utcnow() - timedelta(days=10)).date().isoformat()
    assert names(f"since={since}") == {"invoice-march.pdf", "photo.png"}
    assert names("q=nothing-like-this") == set()


def test_contact_card_lists_their_documents_and_links_to_an_upload_for_them(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant, "Ferrari Snc")
    anna = make_contact(app, tenant, tp.id, "Ferrari", first_name="Anna")
    upload(owner, tp.id, [("anna-id.pdf", PDF)], contact_id=str(anna.id), tenant_slug=tenant.slug)
    upload(owner, tp.id, [("company.pdf", PDF)], tenant_slug=tenant.slug)

    card = owner.get(f"/{tenant.slug}/contacts/{anna.id}").get_data(as_text=True)
    assert "anna-id.pdf" in card and "company.pdf" not in card
    assert f"/documents/customers/{tp.id}?contact={anna.id}" in card.replace("&amp;", "&")

    # The customer's documents page, for Anna: only hers, and the upload form chooses her.
    page = owner.get(f"/{tenant.slug}/documents/customers/{tp.id}?contact={anna.id}").get_data(as_text=True)
    assert "anna-id.pdf" in page and "company.pdf" not in page
    assert f'<option value="{anna.id}" selected>' in page
    assert "About Anna Ferrari" in text_of(page)
    # Every document of the customer on its card; the search across customers filters by contact too.
    assert "company.pdf" in owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)
    found = owner.get(f"/{tenant.slug}/documents/?contact={anna.id}").get_data(as_text=True)
    assert "anna-id.pdf" in found and "company.pdf" not in found


def test_default_folders_are_set_by_an_admin_and_offered_on_every_customer(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant)
    folders_page = owner.get(f"/{tenant.slug}/documents/customers/{tp.id}").get_data(as_text=True)
    assert "Contracts" in folders_page and "Scans" in folders_page  # the defaults in the tenant's language

    settings = owner.get(f"/{tenant.slug}/admin/settings").get_data(as_text=True)
    base = {"csrf_token": csrf_from(settings), "name": "Atelier Alpha", "locale": "en", "timezone": "Europe/Paris"}
    response = owner.post(f"/{tenant.slug}/admin/settings", {**base, "document_folders": "Contratti\n\n  Preventivi \ncontratti\n"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Tenant.document_folders).where(Tenant.id == tenant.id)) == ["Contratti", "Preventivi"]
    page = owner.get(f"/{tenant.slug}/documents/customers/{tp.id}").get_data(as_text=True)
    assert "Contratti" in page and "Preventivi" in page and "Scans" not in page
    assert "Contratti\nPreventivi" in owner.get(f"/{tenant.slug}/admin/settings").get_data(as_text=True)

    too_long = "x" * 81
    response = owner.post(f"/{tenant.slug}/admin/settings", {**base, "document_folders": f"Ok\n{too_long}"})
    assert response.status_code == 422
    assert too_long in response.get_data(as_text=True) and "at most 80 characters" in response.get_data(as_text=True)

    assert owner.post(f"/{tenant.slug}/admin/settings", {**base, "document_folders": ""}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Tenant.document_folders).where(Tenant.id == tenant.id)) is None
    assert "Scans" in owner.get(f"/{tenant.slug}/documents/customers/{tp.id}").get_data(as_text=True)


def test_only_mine_hides_the_documents_of_other_customers(app, tenant, owner, app_storage):
    sam = add_member(app, tenant, make_user(app, name="Sam Sales"), role="sales")
    mine = make_thirdparty(app, tenant, "Mine Corp", reps=[sam])
    hidden = make_thirdparty(app, tenant, "Hidden Corp")
    _one(app, tenant, mine, "mine.pdf", browser=owner)
    secret = _one(app, tenant, hidden, "secret.pdf", browser=owner)
    hidden_contact = make_contact(app, tenant, hidden.id, "Hidden")
    sales = Browser(app.test_client())
    sales.login(sam.email)
    listing = sales.get(f"/{tenant.slug}/documents/").get_data(as_text=True)
    assert "mine.pdf" in listing and "secret.pdf" not in listing
    assert "secret.pdf" not in sales.get(f"/{tenant.slug}/documents/?customer={hidden.id}").get_data(as_text=True)
    assert "secret.pdf" not in sales.get(f"/{tenant.slug}/documents/?contact={hidden_contact.id}").get_data(as_text=True)
    assert sales.get(f"/{tenant.slug}/documents/{secret['id']}").status_code == 404
    assert sales.get(f"/{tenant.slug}/documents/customers/{hidden.id}").status_code == 404


def test_the_contact_card_does_not_link_its_own_events_back_to_itself(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant, "Gatti")
    sara = make_contact(app, tenant, tp.id, "Rinaldi", first_name="Sara")
    upload(owner, tp.id, [("door.pdf", PDF)], contact_id=str(sara.id), tenant_slug=tenant.slug)
    own = owner.get(f"/{tenant.slug}/contacts/{sara.id}").get_data(as_text=True)
    assert "door.pdf" in own and f'href="/{tenant.slug}/contacts/{sara.id}"' not in own
    card = owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)
    assert f'href="/{tenant.slug}/contacts/{sara.id}"' in card  # the customer's card still leads to her


def test_long_lists_are_paged(app, tenant, owner, app_storage, monkeypatch):
    from app import pagination

    monkeypatch.setattr(pagination, "PAGE_SIZE", 2)
    tp = make_thirdparty(app, tenant)
    upload(owner, tp.id, [("one.pdf", PDF), ("two.pdf", PDF), ("three.pdf", PDF)], tenant_slug=tenant.slug)
    first = owner.get(f"/{tenant.slug}/documents/customers/{tp.id}").get_data(as_text=True)
    second = owner.get(f"/{tenant.slug}/documents/customers/{tp.id}?page=2").get_data(as_text=True)
    names = ("one.pdf", "two.pdf", "three.pdf")
    on_first, on_second = {n for n in names if n in first}, {n for n in names if n in second}
    assert len(on_first) == 2 and len(on_second) == 1 and on_first | on_second == set(names)
    assert "Next" in text_of(first) and "Previous" not in text_of(first)
    assert "Previous" in text_of(second) and "Next" not in text_of(second)
    monkeypatch.setattr(pagination, "PAGE_SIZE", 50)
    assert 'class="pager"' not in owner.get(f"/{tenant.slug}/documents/customers/{tp.id}").get_data(as_text=True)


def test_the_folder_bar_lists_the_defaults_then_every_folder_in_use(app, tenant, owner, app_storage):
    from app.documents.services import folders_of

    tp, other = make_thirdparty(app, tenant, "Uno"), make_thirdparty(app, tenant, "Due")
    for folder, name in (("Zeta", "z.pdf"), ("alpha", "a.pdf"), ("alpha", "a2.pdf"), ("Scans", "s.pdf"), ("", "root.pdf"),
                         ("Beta", "b.pdf")):
        upload(owner, tp.id, [(name, PDF)], folder=folder, tenant_slug=tenant.slug)
    upload(owner, other.id, [("o.pdf", PDF)], folder="Elsewhere", tenant_slug=tenant.slug)
    beta = next(d for d in documents_of(app, tenant, tp.id) if d["name"] == "b.pdf")
    assert owner.post(f"/{tenant.slug}/documents/{beta['id']}/trash").status_code == 303
    with app.app_context(), tenant_context(tenant.id):
        tenant_row = db.session.get(Tenant, tenant.id)
        assert folders_of(tp.id, tenant_row) == ["Contracts", "Quotes", "Invoices", "Scans", "alpha", "Zeta"]
        assert folders_of(other.id, tenant_row)[-1] == "Elsewhere"
