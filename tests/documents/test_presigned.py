"""Presigned URL controls (QUALITY T17), through the app on S3 (moto over HTTP).

What these prove: every link the app mints is SigV4, lives at most 300 s (``DOCUMENT_URL_SECONDS``,
capped), points at the store's origin (never the app's), forces the disposition and a type the
server chose; a viewer who lost the right gets no new link and no access is recorded; no full link
reaches the logs. The bucket's Block Public Access and multipart lifecycle are checked in
test_storage.py. What moto cannot prove: it serves expired, tampered and unsigned requests alike
(checked in session 9), so "expired → 403" and "unsigned GET refused" rest on S3 itself and are
not asserted here. Uploads go through the app, so no PUT is ever presigned.
"""
import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.customers import make_thirdparty
from tests.documents.support import PDF, access_of, documents_of, upload, versions_of
from tests.factories import add_member, make_user, membership_id, role_id
from tests.helpers import Browser

pytestmark = pytest.mark.parametrize("app_storage", ["s3"], indirect=True)

HTML = b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>"


def _minted(browser, tenant, doc, version, action):
    response = browser.get(f"/{tenant.slug}/documents/{doc['id']}/versions/{version['id']}/{action}")
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    return urlsplit(location), {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.mark.parametrize("seconds", [60, 3600])
def test_every_link_is_short_lived_signed_and_forces_what_the_server_chose(app, tenant, owner, app_storage, s3_server,
                                                                            seconds, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_URL_SECONDS", seconds)
    tp = make_thirdparty(app, tenant)
    upload(owner, tp.id, [("offer.pdf", PDF), ("page.html", HTML)], tenant_slug=tenant.slug)
    docs = {d["name"]: d for d in documents_of(app, tenant, tp.id)}
    store = urlsplit(s3_server)
    for name, doc in docs.items():
        version = versions_of(app, tenant, doc["id"])[0]
        for action in ("download", "preview"):
            url, query = _minted(owner, tenant, doc, version, action)
            assert (url.scheme, url.netloc) == (store.scheme, store.netloc)  # the store's origin, not the app's
            assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-Signature"]
            assert 0 < int(query["X-Amz-Expires"]) <= min(seconds, 300)
            assert query["response-content-type"] == version["served_type"]
            disposition = query["response-content-disposition"]
            inline_allowed = name == "offer.pdf" and action == "preview"
            assert disposition.startswith("inline" if inline_allowed else "attachment"), (name, action, disposition)
            # The key is made of ids only: nothing of the user's file name in the path.
            assert "offer" not in url.path and "page" not in url.path
    # The HTML page is served under a type no browser renders, whatever its name says.
    assert versions_of(app, tenant, docs["page.html"]["id"])[0]["served_type"] in ("application/octet-stream", "text/plain; charset=utf-8")


def test_a_viewer_who_lost_the_right_gets_no_new_link(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant)
    upload(owner, tp.id, [("offer.pdf", PDF)], tenant_slug=tenant.slug)
    [doc] = documents_of(app, tenant, tp.id)
    [version] = versions_of(app, tenant, doc["id"])
    member = add_member(app, tenant, make_user(app, name="Carla Support"), role="support")
    browser = Browser(app.test_client())
    browser.login(member.email)
    _minted(browser, tenant, doc, version, "download")
    assert len(access_of(app, tenant, doc["id"])) == 1

    response = owner.post(f"/{tenant.slug}/admin/members/{membership_id(app, tenant, member)}/role",
                          {"role_id": str(role_id(app, tenant, "readonly"))})
    assert response.status_code == 303
    refused = browser.get(f"/{tenant.slug}/documents/{doc['id']}/versions/{version['id']}/download")
    assert refused.status_code == 403 and "Location" not in refused.headers
    assert len(access_of(app, tenant, doc["id"])) == 1  # nothing recorded for a refused download


def test_no_full_link_reaches_the_logs(app, tenant, owner, app_storage, caplog):
    tp = make_thirdparty(app, tenant)
    upload(owner, tp.id, [("offer.pdf", PDF)], tenant_slug=tenant.slug)
    [doc] = documents_of(app, tenant, tp.id)
    [version] = versions_of(app, tenant, doc["id"])
    with caplog.at_level(logging.DEBUG, logger="app"), caplog.at_level(logging.INFO):
        _, query = _minted(owner, tenant, doc, version, "download")
    signature = query["X-Amz-Signature"]
    assert not [r for r in caplog.records if signature in r.getMessage() or "X-Amz-Signature" in r.getMessage()]
