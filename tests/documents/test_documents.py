"""Documents end to end through the app, on the local folder and on S3 (moto over HTTP)."""
import hashlib
import urllib.request

from tests.customers import events_of, make_thirdparty
from tests.documents.support import PDF, access_of, documents_of, png, upload, versions_of


def _fetch(browser, response):
    """The bytes and headers a browser ends up with: streamed by the app, or from the presigned S3 link."""
    if response.status_code == 302:
        with urllib.request.urlopen(response.headers["Location"]) as remote:  # noqa: S310 (our moto server)
            return remote.read(), remote.headers
    assert response.status_code == 200, response.status_code
    return b"".join(response.response), response.headers


def test_upload_lists_previews_and_downloads(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant, "Rossi SpA")
    response = upload(owner, tp.id, [("Contratto 2026.pdf", PDF), ("logo.png", png())], folder="Contracts",
                      tenant_slug=tenant.slug)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Contratto 2026.pdf" in page and "logo.png" in page and "data-upload-answer" in page
    docs = {d["name"]: d for d in documents_of(app, tenant, tp.id)}
    assert set(docs) == {"Contratto 2026.pdf", "logo.png"}
    assert docs["Contratto 2026.pdf"]["folder"] == "Contracts" and docs["Contratto 2026.pdf"]["mime"] == "application/pdf"
    pdf_version = versions_of(app, tenant, docs["Contratto 2026.pdf"]["id"])[0]
    # The object key is made of ids only, never of the user's file name.
    assert pdf_version["key"] == f"tenants/{tenant.id}/documents/{docs['Contratto 2026.pdf']['id']}/{pdf_version['id']}"
    assert app_storage.exists(pdf_version["key"])
    assert pdf_version["sha256"] == hashlib.sha256(PDF).hexdigest()
    image_version = versions_of(app, tenant, docs["logo.png"]["id"])[0]
    assert image_version["thumb"] and app_storage.exists(image_version["thumb"])

    listing = owner.get(f"/{tenant.slug}/documents/customers/{tp.id}?folder=Contracts").get_data(as_text=True)
    assert "Contratto 2026.pdf" in listing and "logo.png" in listing

    base = f"/{tenant.slug}/documents/{docs['Contratto 2026.pdf']['id']}/versions/{pdf_version['id']}"
    body, headers = _fetch(owner, owner.get(base + "/download"))
    assert body == PDF
    assert headers["Content-Disposition"].startswith("attachment")
    assert "Contratto%202026.pdf" in headers["Content-Disposition"]
    body, headers = _fetch(owner, owner.get(base + "/preview"))
    assert body == PDF and headers["Content-Disposition"].startswith("inline")
    assert headers["Content-Type"] == "application/pdf"

    thumb = owner.get(f"/{tenant.slug}/documents/{docs['logo.png']['id']}/versions/{image_version['id']}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/webp" and thumb.get_data()[:4] == b"RIFF"

    assert [a[0] for a in access_of(app, tenant, docs["Contratto 2026.pdf"]["id"])] == ["download", "preview"]
    kinds = [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id)]
    assert kinds.count("document_uploaded") == 2
    assert kinds.count("document_views") == 1  # the two views, rolled up into one line


def test_same_name_same_folder_makes_a_new_version(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant)
    upload(owner, tp.id, [("devis.pdf", PDF)], folder="Quotes", tenant_slug=tenant.slug)
    second = PDF.replace(b"<<>>", b"<< /V 2 >>")
    upload(owner, tp.id, [("DEVIS.pdf", second)], folder="Quotes", tenant_slug=tenant.slug)
    upload(owner, tp.id, [("devis.pdf", PDF)], folder="Other", tenant_slug=tenant.slug)
    docs = documents_of(app, tenant, tp.id)
    assert sorted((d["folder"], d["versions"]) for d in docs) == [("Other", 1), ("Quotes", 2)]
    quotes = next(d for d in docs if d["folder"] == "Quotes")
    versions = versions_of(app, tenant, quotes["id"])
    assert [v["number"] for v in versions] == [1, 2] and quotes["current"] == versions[1]["id"]
    # Every version stays downloadable.
    for version, content in zip(versions, (PDF, second), strict=True):
        body, _ = _fetch(owner, owner.get(f"/{tenant.slug}/documents/{quotes['id']}/versions/{version['id']}/download"))
        assert body == content
    page = owner.get(f"/{tenant.slug}/documents/{quotes['id']}").get_data(as_text=True)
    assert "devis (v1).pdf" not in page  # the page lists versions by number
    assert page.count("/download") >= 3  # the main button and one per version
    assert [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id, kind="document_version_added")]


def test_refused_files_get_a_clear_message_and_leave_nothing(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant)
    response = upload(owner, tp.id, [("setup.exe", b"MZ\x90\x00" + b"\x00" * 100)], tenant_slug=tenant.slug)
    assert response.status_code == 415
    assert "programs and scripts" in response.get_data(as_text=True)
    response = upload(owner, tp.id, [("empty.txt", b"")], tenant_slug=tenant.slug)
    assert response.status_code == 422 and "empty" in response.get_data(as_text=True)
    assert documents_of(app, tenant, tp.id) == []
    assert list(app_storage.keys(f"tenants/{tenant.id}/")) == []


def test_a_retried_upload_makes_one_document(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant)
    for _ in range(3):
        assert upload(owner, tp.id, [("scan.pdf", PDF)], key="k" * 32, tenant_slug=tenant.slug).status_code == 200
    docs = documents_of(app, tenant, tp.id)
    assert len(docs) == 1 and docs[0]["versions"] == 1
    assert len(list(app_storage.keys(f"tenants/{tenant.id}/"))) == 1
    # The same key with other bytes is refused, not stored.
    other = upload(owner, tp.id, [("scan.pdf", PDF + b"x")], key="k" * 32, tenant_slug=tenant.slug)
    assert other.status_code == 409
    assert documents_of(app, tenant, tp.id)[0]["versions"] == 1



def test_trash_restore_and_purge_after_30_days(app, tenant, owner, app_storage):
    from datetime import timedelta

    from app.documents.maintenance import purge_trash
    from app.models import utcnow
    from app.tenancy import tenant_context

    tp = make_thirdparty(app, tenant)
    upload(owner, tp.id, [("a.pdf", PDF)], tenant_slug=tenant.slug)
    doc = documents_of(app, tenant, tp.id)[0]
    keys = list(app_storage.keys(f"tenants/{tenant.id}/"))
    assert owner.post(f"/{tenant.slug}/documents/{doc['id']}/trash").status_code == 303
    assert documents_of(app, tenant, tp.id) == [] and documents_of(app, tenant, tp.id, deleted=True)
    trash = owner.get(f"/{tenant.slug}/documents/trash").get_data(as_text=True)
    assert "a.pdf" in trash
    assert owner.post(f"/{tenant.slug}/documents/{doc['id']}/restore").status_code == 303
    assert documents_of(app, tenant, tp.id)[0]["id"] == doc["id"]
    owner.post(f"/{tenant.slug}/documents/{doc['id']}/trash")
    with app.app_context(), tenant_context(tenant.id):
        assert purge_trash(app_storage, now=utcnow() + timedelta(days=29)) == 0
        assert purge_trash(app_storage, now=utcnow() + timedelta(days=31)) == 1
    assert documents_of(app, tenant, tp.id, deleted=None) == []
    assert keys and all(not app_storage.exists(k) for k in keys)
    assert "document_purged" in [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id)]


def test_a_failed_commit_removes_the_stored_object(app, tenant, owner, app_storage, monkeypatch):
    """QUALITY T18: the store has the bytes, the database refuses the rows: no orphan is left."""
    from sqlalchemy.exc import OperationalError

    from app.documents import uploads

    tp = make_thirdparty(app, tenant)

    def broken(*args, **kwargs):
        raise OperationalError("COMMIT", {}, Exception("connection lost during commit"))

    monkeypatch.setattr(uploads, "_save_rows", broken)
    response = upload(owner, tp.id, [("a.pdf", PDF)], tenant_slug=tenant.slug)
    assert response.status_code == 503
    assert documents_of(app, tenant, tp.id) == []
    assert list(app_storage.keys(f"tenants/{tenant.id}/")) == []


def test_an_unreachable_store_saves_nothing_and_says_so(app, tenant, owner, local_storage):
    from app.storage import storage_from_url
    from tests.s3server import free_port

    tp = make_thirdparty(app, tenant)
    before = app.extensions.get("storage")
    app.extensions["storage"] = storage_from_url(
        f"s3://nowhere?endpoint_url=http://127.0.0.1:{free_port()}&region=eu-west-1&connect_timeout=1&max_attempts=1")
    try:
        response = upload(owner, tp.id, [("a.pdf", PDF)], tenant_slug=tenant.slug)
    finally:
        app.extensions["storage"] = before
    assert response.status_code == 503
    assert "cannot be reached" in response.get_data(as_text=True)
    assert documents_of(app, tenant, tp.id) == []


def test_reconcile_finds_missing_and_orphan_files(app, tenant, owner, app_storage):
    import io

    from app.documents.maintenance import reconcile
    from app.tenancy import tenant_context

    tp = make_thirdparty(app, tenant)
    upload(owner, tp.id, [("a.pdf", PDF), ("b.pdf", PDF + b"b")], tenant_slug=tenant.slug)
    a, b = documents_of(app, tenant, tp.id)
    missing = versions_of(app, tenant, a["id"])[0]["key"]
    app_storage.delete(missing)
    orphan = f"tenants/{tenant.id}/documents/{b['id']}/00000000-0000-7000-8000-000000000000"
    app_storage.put(orphan, io.BytesIO(b"stray"), content_type="application/octet-stream")
    with app.app_context(), tenant_context(tenant.id):
        result = reconcile(app_storage)
    assert result.dangling == [missing] and result.orphans == [orphan]

