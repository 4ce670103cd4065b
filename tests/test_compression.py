"""Text compression (issue 14, point 5: Lighthouse found none, ~140 KiB a page): pages and our assets go out gzipped
to a client that takes it, with ``Vary: Accept-Encoding``; live streams, uploaded documents and ranges never are.
"""
import gzip

import pytest

from app.compression import MIN_BYTES, accepts_gzip
from tests.customers import make_thirdparty
from tests.documents.support import documents_of, upload, versions_of
from tests.factories import make_tenant

GZIP = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what Chromium sends


@pytest.fixture
def tenant(app):
    return make_tenant(app, name="Vetreria Galli")


@pytest.fixture
def owner(browser, tenant):
    browser.login(tenant.owner.email)
    return browser


def fetch(client, path: str, **headers):
    """GET ``path``, its body read and the response closed (a static file's is an open file until then)."""
    with client.get(path, headers=headers) as response:
        response.get_data()
        return response


def test_accept_encoding_is_read_with_its_weights():
    assert accepts_gzip("gzip") and accepts_gzip("gzip, deflate, br") and accepts_gzip("br;q=1.0, gzip;q=0.5")
    assert accepts_gzip("*") and accepts_gzip("x-gzip")
    assert not accepts_gzip(None) and not accepts_gzip("") and not accepts_gzip("br, deflate")
    assert not accepts_gzip("gzip;q=0") and not accepts_gzip("*, gzip;q=0") and not accepts_gzip("gzip;q=nonsense")


def test_a_page_goes_out_gzipped_and_says_it_varies(app, owner, tenant):
    make_thirdparty(app, tenant, "Osteria del Ponte")
    plain = owner.get(f"/{tenant.slug}/thirdparties/")
    packed = owner.get(f"/{tenant.slug}/thirdparties/", headers=GZIP)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers and packed.headers["Content-Encoding"] == "gzip"
    body = packed.get_data()
    assert int(packed.headers["Content-Length"]) == len(body) < len(plain.get_data()) / 2
    page = gzip.decompress(body).decode()
    assert page.startswith("<!doctype html>") and "Osteria del Ponte" in page and page.rstrip().endswith("</html>")
    for response in (plain, packed):  # both: a cache must not hand the gzipped page to a client that cannot read it
        vary = {v.strip() for v in response.headers["Vary"].split(",")}
        assert {"Accept-Encoding", "HX-Request"} <= vary


def test_an_error_page_and_an_htmx_fragment_are_compressed_too(app, owner, tenant):
    missing = owner.get(f"/{tenant.slug}/no-such-page", headers=GZIP)
    assert missing.status_code == 404 and missing.headers["Content-Encoding"] == "gzip"
    assert "Not found" in gzip.decompress(missing.get_data()).decode()
    fragment = owner.get(f"/{tenant.slug}/thirdparties/", headers={**GZIP, "HX-Request": "true"})
    body = fragment.get_data()
    text = gzip.decompress(body).decode() if len(body) and fragment.headers.get("Content-Encoding") else body.decode()
    assert "<html" not in text and "Accept-Encoding" in fragment.headers["Vary"]


def test_nothing_is_compressed_for_a_client_that_does_not_say_so(app, owner, tenant):
    for headers in ({}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0, br"}):
        response = owner.get(f"/{tenant.slug}/", headers=headers)
        assert response.status_code == 200 and "Content-Encoding" not in response.headers, headers
        assert response.get_data(as_text=True).startswith("<!doctype html>")
        assert "Accept-Encoding" in response.headers["Vary"]


def test_a_head_request_keeps_its_length_and_encoding(app, owner, tenant):
    response = owner.client.head(f"/{tenant.slug}/", headers=GZIP)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


@pytest.mark.parametrize("path", ["/static/vendor/pico.min.css", "/static/vendor/htmx.min.js", "/static/css/app.css",
                                  "/static/js/app.js"])
def test_static_files_are_gzipped_and_still_revalidate(client, path):
    plain = fetch(client, path)
    packed = fetch(client, path, **GZIP)
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert int(packed.headers["Content-Length"]) == len(packed.get_data())
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    # Another representation of the same file: a weak validator, which a revalidation matches (304, no body).
    assert packed.headers["ETag"] == "W/" + plain.headers["ETag"]
    assert "Accept-Ranges" not in packed.headers
    again = fetch(client, path, **GZIP, **{"If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    # The same bytes every time (kept once per file version), so caches and ETags agree.
    assert fetch(client, path, **GZIP).get_data() == packed.get_data()


def test_a_range_of_a_static_file_is_served_on_its_plain_bytes(client):
    whole = fetch(client, "/static/vendor/pico.min.css").get_data()
    part = fetch(client, "/static/vendor/pico.min.css", **GZIP, Range="bytes=100-199")
    assert part.status_code == 206 and "Content-Encoding" not in part.headers
    assert part.get_data() == whole[100:200] and part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"


def test_a_small_answer_is_not_worth_compressing(client):
    small = fetch(client, "/static/favicon.svg", **GZIP)
    assert small.status_code == 200 and len(small.get_data()) < MIN_BYTES
    assert "Content-Encoding" not in small.headers and int(small.headers["Content-Length"]) == len(small.get_data())


def test_documents_keep_their_bytes_length_and_ranges(app, owner, tenant):
    """An uploaded text file is text, yet a document: sent as stored, with its own length, never re-encoded."""
    tp = make_thirdparty(app, tenant)
    text = ("Minutes of the meeting with the glassworks.\n" * 200).encode()
    assert upload(owner, tp.id, [("minutes.txt", text)], tenant_slug=tenant.slug).status_code == 200
    (document,) = documents_of(app, tenant)
    (version,) = versions_of(app, tenant, document["id"])
    base = f"/{tenant.slug}/documents/{document['id']}/versions/{version['id']}"
    for what in ("download", "preview"):
        response = owner.get(f"{base}/{what}", headers=GZIP)
        assert response.status_code == 200, what
        assert "Content-Encoding" not in response.headers, what
        assert response.get_data() == text and int(response.headers["Content-Length"]) == len(text), what
        ranged = owner.get(f"{base}/{what}", headers={**GZIP, "Range": "bytes=0-9"})
        assert "Content-Encoding" not in ranged.headers, what
        assert ranged.get_data() in (text, text[:10]), what  # the whole file, or the range asked for


def test_a_live_stream_is_neither_compressed_nor_held_back(app, owner, tenant):
    tp = make_thirdparty(app, tenant)
    response = owner.client.get(f"/{tenant.slug}/timeline/thirdparties/{tp.id}/stream", headers=GZIP, buffered=False)
    try:
        assert response.status_code == 200 and response.mimetype == "text/event-stream"
        assert "Content-Encoding" not in response.headers and "Accept-Encoding" not in response.headers.get("Vary", "")
        assert next(iter(response.response)) in ("retry: 2000\n\n", b"retry: 2000\n\n")  # the first line, at once
    finally:
        response.close()
