"""Documents benchmark (issue 4): large transfers through a real server, and a customer's tab with many documents.

Measured, never asserted (timed tests are flaky); the figures are printed:

1. Upload then download of one large file (``--size-mb``, default 200 MiB; "MB" means MiB here, as in
   ``DOCUMENT_MAX_MB``) through gunicorn with ONE worker, on each storage backend: a local folder
   (``file://`` in a fresh temporary directory) and S3 (moto's standalone server in a separate
   process, fresh bucket). The upload is a streamed multipart POST, as the page's script sends it
   (``X-Upload: 1``); the download follows the app's answer (a stream on the local store, a redirect
   to a presigned URL on S3, timed end to end). For each: the throughput, and the peak memory growth
   of the web worker (VmRSS sampled every 20 ms and VmHWM, minus VmRSS before; target < 50 MB; "n/a"
   without /proc). The files are uploaded to the organisation's second customer, and purged afterwards.
2. The documents tab of a customer holding ``--documents`` (default 10,000) documents, through
   Flask's test client: the full page and the htmx results of a search (median and p95; target
   p95 <= 50 ms). The rows are bulk-inserted once (no stored objects) and reused by later runs.

It uses its own small organisation, ``/benchdocs`` (two customers), so it runs without ``make bench``'s data.
On PostgreSQL it shares ``tests.benchmark``'s database (``BENCH_DATABASE_URL``'s); run it with

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/storia_bench .venv/bin/python -m tests.benchmark_documents

Without ``BENCH_DATABASE_URL`` it uses the SQLite file ``instance/bench.db``.
"""
import argparse
import hashlib
import http.client
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import delete, func, insert, select

from tests.benchmark import PASSWORD, _analyze, _environment, _gunicorn, _http_login, _login, _summary, _time, bench_app
from tests.s3server import REGION, TEST_ENV, empty_bucket, free_port

SLUG = "benchdocs"
OWNER = f"owner@{SLUG}.example"  # what app.demo_scale.generate names the owner
MB = 1024 * 1024
CHUNK = MB
PDF_HEAD = b"%PDF-1.7\n"
FOLDERS = ["Contracts", "Quotes", "Invoices", "Scans", "", "Archives 2023", "Correspondance"]
KINDS = [("Facture", "pdf", "application/pdf", "PDF"), ("Devis", "pdf", "application/pdf", "PDF"),
         ("Contrat", "pdf", "application/pdf", "PDF"), ("Fattura", "pdf", "application/pdf", "PDF"),
         ("Preventivo", "pdf", "application/pdf", "PDF"), ("Photo chantier", "jpg", "image/jpeg", "JPEG image"),
         ("Scan courrier", "png", "image/png", "PNG image"), ("Notes réunion", "txt", "text/plain", "Text")]
NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Rossi",
         "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"]
SEARCH = "dubois"  # in one name out of twenty


# --- data ---------------------------------------------------------------------------------------------


def _ensure_tenant(app):
    """The /benchdocs organisation (made once): its id, owner, customer with many documents, customer for transfers."""
    from flask_migrate import upgrade

    from app.demo_scale import generate
    from app.extensions import db
    from app.models import Tenant, ThirdParty, User
    from app.tenancy import tenant_context

    with app.app_context():
        upgrade()
        if db.session.scalar(select(Tenant.id).where(Tenant.slug == SLUG)) is None:
            generate(slug=SLUG, customers=2, events=100, deep_events=0, password=PASSWORD,
                     echo=lambda line: print(line, flush=True))
        tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == SLUG))
        owner_id = db.session.scalar(select(User.id).where(User.email == OWNER))
        with tenant_context(tenant_id):
            listing, transfers = db.session.scalars(select(ThirdParty.id).order_by(ThirdParty.code).limit(2)).all()
        db.session.remove()
    return {"tenant_id": tenant_id, "owner_id": owner_id, "listing": listing, "transfers": transfers}


def _ensure_documents(app, data, count):
    """``count`` live documents (one version each, rows only) on the listing customer; kept between runs."""
    import random

    from app.documents.services import name_key
    from app.documents.uploads import version_key
    from app.extensions import db
    from app.models import Document, DocumentAccess, DocumentTag, DocumentVersion, new_id, utcnow
    from app.tenancy import tenant_context

    tenant_id, thirdparty_id, owner_id = data["tenant_id"], data["listing"], data["owner_id"]
    with app.app_context(), tenant_context(tenant_id):
        ours = select(Document.id).where(Document.thirdparty_id == thirdparty_id)
        present = db.session.scalar(select(func.count()).select_from(Document).where(
            Document.thirdparty_id == thirdparty_id, Document.deleted_at.is_(None)))
        if present == count:
            db.session.remove()
            return
        print(f"writing {count} document rows (was {present})…", flush=True)
        for model in (DocumentVersion, DocumentTag, DocumentAccess):
            db.session.execute(delete(model).where(model.document_id.in_(ours)))
        db.session.execute(delete(Document).where(Document.thirdparty_id == thirdparty_id))
        db.session.commit()
        rng, now = random.Random(4), utcnow()
        for start in range(0, count, 5000):
            documents, versions = [], []
            for n in range(start, min(count, start + 5000)):
                kind, ext, mime, label = KINDS[n % len(KINDS)]
                name = f"{kind} {2020 + n % 6}-{n:05d} {NAMES[n % len(NAMES)]}.{ext}"
                document_id, version_id = new_id(), new_id()
                size = rng.randint(20_000, 5_000_000)
                when = now - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
                documents.append({"tenant_id": tenant_id, "id": document_id, "thirdparty_id": thirdparty_id, "contact_id": None,
                                  "folder": FOLDERS[n % len(FOLDERS)], "name": name, "name_key": name_key(name),
                                  "description": "", "current_version_id": version_id, "version_count": 1, "size": size,
                                  "mime": mime, "uploaded_by_id": owner_id, "created_at": when, "updated_at": when,
                                  "version": 1})
                versions.append({"tenant_id": tenant_id, "id": version_id, "document_id": document_id, "number": 1,
                                 "storage_key": version_key(tenant_id, document_id, version_id), "thumbnail_key": None,
                                 "size": size, "sha256": hashlib.sha256(name.encode()).hexdigest(), "mime": mime,
                                 "served_type": mime if mime != "text/plain" else "text/plain; charset=utf-8", "label": label,
                                 "filename": name, "uploaded_by_id": owner_id, "uploaded_at": when, "idempotency_key": None})
            db.session.execute(insert(Document), documents)
            db.session.execute(insert(DocumentVersion), versions)
            db.session.commit()
        db.session.remove()
    _analyze(app)


def _purge_transfers(app, data, storage):
    """Remove the documents the transfers made (rows, then objects), through the trash purge."""
    from app.documents.maintenance import purge_trash
    from app.extensions import db
    from app.models import Document, utcnow
    from app.tenancy import tenant_context

    with app.app_context(), tenant_context(data["tenant_id"]):
        expired = utcnow() - timedelta(days=365)
        for document in db.session.scalars(select(Document).where(Document.thirdparty_id == data["transfers"])):
            document.deleted_at = expired
        db.session.commit()
        purge_trash(storage)
        db.session.remove()


def _stored_version(app, data, document_id):
    from app.extensions import db
    from app.models import Document, DocumentVersion
    from app.tenancy import tenant_context

    with app.app_context(), tenant_context(data["tenant_id"]):
        version_id = db.session.scalar(select(Document.current_version_id).where(Document.id == document_id))
        version = db.session.scalar(select(DocumentVersion).where(DocumentVersion.id == version_id))
        found = (version.id, version.size, version.sha256)
        db.session.remove()
    return found


# --- listing ------------------------------------------------------------------------------------------


def listing(app, data, count, n):
    client = app.test_client()
    _login(client, OWNER)
    tab = f"/{SLUG}/documents/customers/{data['listing']}"
    htmx = {"HX-Request": "true"}
    search = f"{tab}?q={SEARCH}"
    assert SEARCH in client.get(search, headers=htmx).get_data(as_text=True).lower(), "the search found nothing"
    _time(client, tab, 5)  # warm up
    _time(client, search, 5, htmx)
    return [_summary(f"customer documents tab ({count} documents)", _time(client, tab, n)),
            _summary(f"documents tab search (htmx, {count} documents)", _time(client, search, n, htmx))]


# --- processes ----------------------------------------------------------------------------------------


def _moto(port):
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               env={**os.environ, **TEST_ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_port(port, process, "moto")
    return process


def _wait_for_port(port, process, name):
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not start")


def _stop(process):
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _worker_pid(master):
    """The gunicorn worker: the master's only child."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[1] == str(master):
                    children.append(stat.parent.name)
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker found")


class Memory:
    """Peak resident memory of a process while a block runs: VmRSS sampled every 20 ms, and VmHWM (reset first)."""

    def __init__(self, pid):
        self.status = Path(f"/proc/{pid}/status")
        self.clear_refs = Path(f"/proc/{pid}/clear_refs")
        self.available = self.status.exists()
        self.before = self.peak = 0
        self._stop = threading.Event()

    def _read(self):
        values = {}
        for line in self.status.read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, kib = line.split()[:2]
                values[name[:-1]] = int(kib) * 1024
        return values

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._read()["VmRSS"])

    def __enter__(self):
        if self.available:
            try:
                self.clear_refs.write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
            except OSError:
                pass
            self.before = self.peak = self._read()["VmRSS"]
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info):
        if self.available:
            self._stop.set()
            self._thread.join()
            values = self._read()
            self.peak = max(self.peak, values["VmRSS"], values.get("VmHWM", 0))

    def growth(self):
        return f"+{(self.peak - self.before) / MB:.0f} MB (peak RSS {self.peak / MB:.0f} MB)" if self.available else "n/a"


# --- transfers ----------------------------------------------------------------------------------------


def _upload_token(port, cookie, path):
    """The upload zone's CSRF token, and the session cookie (renewed when the page stores the CSRF secret)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    page = response.read().decode()
    assert response.status == 200, response.status
    cookie = (response.getheader("Set-Cookie") or cookie).split(";")[0]
    token = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)"', page).group(1)
    conn.close()
    return token, cookie


def _content(size):
    """The file, in chunks: a PDF header, then the same incompressible MiB again and again (never all in memory)."""
    from app.documents.filetypes import HEAD_SIZE, sniff

    while True:
        block = PDF_HEAD + os.urandom(CHUNK - len(PDF_HEAD))
        if not sniff(block[:HEAD_SIZE], "benchmark.pdf").refused:  # random bytes could spell "<?=" (a PHP tag)
            break
    first, rest = block, block[len(PDF_HEAD):] + PDF_HEAD  # later chunks need no header

    def chunks():
        sent = 0
        while sent < size:
            piece = first if sent == 0 else rest
            piece = piece[:size - sent]
            sent += len(piece)
            yield piece

    return chunks


def _upload(port, cookie, path, token, name, size, chunks):
    """POST the file as multipart/form-data from a generator; (seconds, status, answer)."""
    boundary = uuid.uuid4().hex
    fields = {"csrf_token": token, "folder": "Benchmark", "idempotency_key": uuid.uuid4().hex}
    preamble = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                        for k, v in fields.items())
    preamble += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                 "Content-Type: application/pdf\r\n\r\n").encode()
    closing = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield preamble
        yield from chunks()
        yield closing

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("POST", path, body=body(), headers={
        "Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Upload": "1",
        "Content-Length": str(len(preamble) + size + len(closing))})
    response = conn.getresponse()
    answer = response.read().decode()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, response.status, answer


def _read_all(conn, path, headers=None):
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    if response.status in (301, 302, 303, 307):
        response.read()
        return response.status, response.getheader("Location"), 0
    received = 0
    while chunk := response.read(CHUNK):
        received += len(chunk)
    return response.status, None, received


def _download(port, cookie, path):
    """GET the file, following the app's redirect to the store; (seconds, bytes, via the store)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    status, location, received = _read_all(conn, path, {"Cookie": cookie})
    conn.close()
    if location:
        target = urlsplit(location)
        store = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=600)
        status, _, received = _read_all(store, f"{target.path}?{target.query}")
        store.close()
    assert status == 200, status
    return time.perf_counter() - started, received, location is not None


def _transfer(app, data, port, worker, name, size, chunks):
    """Upload then download one file; the upload and download seconds and the web worker's memory growth for each."""
    cookie = _http_login(port, OWNER)
    path = f"/{SLUG}/documents/customers/{data['transfers']}"
    token, cookie = _upload_token(port, cookie, path)
    with Memory(worker) as up:
        up_seconds, status, answer = _upload(port, cookie, path, token, name, size, chunks)
    assert status == 200 and "upload-ok" in answer, (status, answer[:500])
    document_id = uuid.UUID(re.search(r'/documents/([0-9a-f-]{36})"', answer).group(1))
    version_id, stored_size, sha256 = _stored_version(app, data, document_id)
    assert stored_size == size, (stored_size, size)
    download = f"/{SLUG}/documents/{document_id}/versions/{version_id}/download"
    with Memory(worker) as down:
        down_seconds, received, via_store = _download(port, cookie, download)
    assert received == size, (received, size)
    return {"up": up_seconds, "up_memory": up, "down": down_seconds, "down_memory": down, "sha256": sha256,
            "via_store": via_store}


def _expected_sha256(chunks):
    digest = hashlib.sha256()
    for chunk in chunks():
        digest.update(chunk)
    return digest.hexdigest()


def transfers(app, data, env, size_mb):
    from app.storage import storage_from_url

    size = size_mb * MB
    chunks = _content(size)
    expected = _expected_sha256(chunks)
    warm = _content(9 * MB)  # past one S3 part (8 MiB): the first requests load code the measure should not count
    lines, gunicorn, moto, folder, s3 = [], None, None, None, None
    try:
        folder = tempfile.mkdtemp(prefix="storia-bench-files-")
        s3_port = free_port()
        moto = _moto(s3_port)
        bucket = f"storia-bench-{uuid.uuid4().hex[:12]}"
        backends = [("local folder", "local folder", f"file://{folder}"),
                    ("S3 (moto)", "S3 (moto, presigned)",
                     f"s3://{bucket}?endpoint_url=http://127.0.0.1:{s3_port}&region={REGION}")]
        for up_label, down_label, url in backends:
            storage = storage_from_url(url)
            if url.startswith("s3://"):
                s3 = storage
                storage.prepare(versioning=True)
            port = free_port()
            gunicorn = _gunicorn({**env, "STORAGE_URL": url}, port, workers=1, threads=2)
            try:
                worker = _worker_pid(gunicorn.pid)
                _transfer(app, data, port, worker, "warm-up.pdf", 9 * MB, warm)
                result = _transfer(app, data, port, worker, f"benchmark-{size_mb}mb.pdf", size, chunks)
            finally:
                _stop(gunicorn)
                _purge_transfers(app, data, storage)
            assert result["sha256"] == expected, "the stored file differs from the one sent"
            assert result["via_store"] == url.startswith("s3://")
            lines.append(f"{f'documents: {size_mb} MB upload, {up_label}':<50} {size / MB / result['up']:7.1f} MB/s   "
                         f"web process memory {result['up_memory'].growth()}")
            lines.append(f"{f'documents: {size_mb} MB download, {down_label}':<50} {size / MB / result['down']:7.1f} MB/s   "
                         f"web process memory {result['down_memory'].growth()}")
            for line in lines[-2:]:
                print(line, flush=True)
    finally:
        _stop(gunicorn)
        if s3 is not None:
            try:
                empty_bucket(s3)
            except Exception as exc:  # moto goes away with its process anyway
                print(f"(could not empty the bucket: {type(exc).__name__})", flush=True)
            s3.client.close()
        _stop(moto)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="size of the file uploaded and downloaded (MiB)")
    parser.add_argument("--documents", type=int, default=10_000, help="documents on the customer whose tab is timed")
    parser.add_argument("--samples", type=int, default=100, help="requests per timed page")
    parser.set_defaults(fresh=False)  # tests.benchmark._environment: never drop the shared benchmark database here
    args = parser.parse_args()
    if args.size_mb < 1 or args.documents < 1 or args.samples < 1:
        parser.error("--size-mb, --documents and --samples must be at least 1")
    for name in [k for k in os.environ if k.startswith("AWS_")]:  # no real profile or endpoint may be used
        del os.environ[name]
    os.environ.update(TEST_ENV)
    # The quota counts the listed rows' sizes too (about 25 GB for 10,000 documents): far above them.
    os.environ.update(DOCUMENT_MAX_MB=str(max(300, args.size_mb + 10)), DOCUMENT_QUOTA_MB=str(10_000_000))
    env = _environment(args)
    env.update({k: os.environ[k] for k in ("DOCUMENT_MAX_MB", "DOCUMENT_QUOTA_MB", *TEST_ENV)})
    app = bench_app(env)
    data = _ensure_tenant(app)
    _ensure_documents(app, data, args.documents)
    engine = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(f"\nStoria documents benchmark — {engine}, {args.size_mb} MB file, {args.documents} documents on one customer")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"gunicorn gthread 1×2, memory target < 50 MB, p95 target ≤ 50 ms\n", flush=True)
    transfers(app, data, env, args.size_mb)
    for line in listing(app, data, args.documents, args.samples):
        print(line, flush=True)


if __name__ == "__main__":
    main()
