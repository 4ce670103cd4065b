"""`make bench`: speed of the customer card, timeline pages, list search and live updates.

Measured through the real WSGI app on generated data, never asserted (timed tests are flaky):
the figures are printed, and `docs/benchmarks.md` keeps the latest run with its machine.

On PostgreSQL (``BENCH_DATABASE_URL``, a superuser URL naming the database to use, e.g.
``postgresql://postgres@127.0.0.1:5432/storia_bench_speed``) it creates that database with an owner and an app role
named after it, as the tests do, and keeps it between runs (``--fresh`` rebuilds it, only if the benchmark made it);
without one it uses an SQLite file in ``instance/``.
"""
import argparse
import http.client
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-Password-2026"
SECRET = "bench-secret-key-not-for-production"


def _percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _summary(name, seconds):
    ms = [s * 1000 for s in seconds]
    return f"{name:<44} median {statistics.median(ms):7.1f} ms   p95 {_percentile(ms, 95):7.1f} ms   (n={len(ms)})"


BENCH_MARK = "storia: made by make bench"  # COMMENT ON DATABASE: only a database bearing it is ever dropped


def _postgres_urls(admin_url: str, fresh: bool) -> dict:
    """The benchmark database named by ``admin_url`` (a superuser URL), with an owner and an app role named after it.

    The database is the URL's own (``…/storia_bench`` when the URL names ``postgres``, ``template1`` or none), so two
    benchmarks run side by side on one server. It is created when missing and marked; ``--fresh`` drops it only when it
    bears that mark, never a database the benchmark did not create.
    """
    # app.config reads the environment when first imported: not before _environment() has set it.
    admin = make_url(admin_url).set(drivername="postgresql+psycopg")
    name = admin.database if admin.database not in (None, "", "postgres", "template1") else "storia_bench"
    owner_role, app_role = f"{name}_owner", f"{name}_app"
    engine = create_engine(admin.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for role in (owner_role, app_role):
            if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
                conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS'))
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": name}).scalar()
        mark = conn.execute(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :d"),
                            {"d": name}).scalar()
        if exists and mark != BENCH_MARK:  # earlier benchmarks made theirs without the mark, owned by its owner role
            owner = conn.execute(text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d"), {"d": name}).scalar()
            if owner != owner_role:
                raise SystemExit(f"database {name!r} exists and was not made by the benchmark: name another in BENCH_DATABASE_URL")
        if exists and fresh:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{owner_role}"'))
            conn.execute(text(f'GRANT CONNECT ON DATABASE "{name}" TO "{app_role}"'))
        if mark != BENCH_MARK or not exists:
            conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{BENCH_MARK}'"))
    engine.dispose()
    return {
        "app": admin.set(database=name, username=app_role, password=None).render_as_string(hide_password=False),
        "owner": admin.set(database=name, username=owner_role, password=None).render_as_string(hide_password=False),
    }


def _environment(args) -> dict:
    admin = os.environ.get("BENCH_DATABASE_URL")
    if admin:
        urls = _postgres_urls(admin, args.fresh)
        env = {"DATABASE_URL": urls["app"], "MIGRATE_DATABASE_URL": urls["owner"]}
    else:
        path = ROOT / "instance" / "bench.db"
        if args.fresh and path.exists():
            path.unlink()
        path.parent.mkdir(exist_ok=True)
        env = {"DATABASE_URL": f"sqlite:///{path}"}
    env.update(SECRET_KEY=SECRET, ARGON2_TIME_COST="1", ARGON2_MEMORY_KIB="1024", ARGON2_PARALLELISM="1",
               LOG_LEVEL="WARNING", WTF_CSRF_SSL_STRICT="0", SESSION_COOKIE_NAME="bench_session", LIVE_MAX_STREAMS="20")
    os.environ.update(env)
    return env


def bench_app(env: dict):
    """The app on the benchmark's database (``env`` from ``_environment``)."""
    from app import create_app
    from app.config import Config, database_url

    config = Config.load()
    config.update(SQLALCHEMY_DATABASE_URI=database_url(env["DATABASE_URL"]),
                  MIGRATE_DATABASE_URL=database_url(env.get("MIGRATE_DATABASE_URL", "")) or None)
    return create_app(config)


def _ensure_data(app, args):
    from flask_migrate import upgrade

    from app.demo_scale import generate
    from app.extensions import db
    from app.models import Tenant, ThirdParty, TimelineEvent
    from app.tenancy import tenant_context

    with app.app_context():
        upgrade()
        tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == "bench"))
        if tenant_id is None:
            print(f"generating {args.customers} customers, {args.events} events ({args.deep} on one customer)…", flush=True)
            started = time.perf_counter()
            generate(slug="bench", customers=args.customers, events=args.events, deep_events=args.deep, password=PASSWORD,
                     echo=lambda line: print(line, flush=True))
            print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == "bench"))
        _index_search(tenant_id)
        _analyze(app)
        with tenant_context(tenant_id):
            from sqlalchemy import func

            deep = db.session.execute(select(TimelineEvent.thirdparty_id, func.count()).group_by(TimelineEvent.thirdparty_id)
                                      .order_by(func.count().desc()).limit(1)).one()
            shallow = db.session.execute(select(TimelineEvent.thirdparty_id, func.count()).group_by(TimelineEvent.thirdparty_id)
                                         .having(func.count() >= 100).order_by(func.count()).limit(1)).one()
            customers = db.session.scalar(select(func.count()).select_from(ThirdParty))
            events = db.session.scalar(select(func.count()).select_from(TimelineEvent))
        db.session.remove()
    return {"deep": deep, "shallow": shallow, "customers": customers, "events": events}


def _index_search(tenant_id) -> None:
    """Index the generated organisation for the global search (``generate`` writes past the ORM's hooks)."""
    from sqlalchemy import func

    from app.extensions import db
    from app.models import SearchTerm, ThirdParty
    from app.search_index import rebuild
    from app.tenancy import tenant_context

    with tenant_context(tenant_id):
        # Indexed customers, not any term: notes posted by earlier runs are indexed by the ORM's hooks already.
        customers = db.session.scalar(select(func.count(func.distinct(SearchTerm.record_id)))
                                      .where(SearchTerm.kind == "customer"))
        if customers < db.session.scalar(select(func.count()).select_from(ThirdParty)):
            print("indexing the global search…", flush=True)
            started = time.perf_counter()
            written = rebuild(db.session)
            db.session.commit()
            print(f"indexed {written} terms in {time.perf_counter() - started:.0f} s", flush=True)


def _analyze(app) -> None:
    """Refresh the planner's statistics, as autovacuum would soon after a bulk load (PostgreSQL).

    Measured right after generating a million rows, stale statistics gave plans three times slower.
    """
    owner = app.config.get("MIGRATE_DATABASE_URL")
    if not owner:
        return
    engine = create_engine(owner, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def _login(client, email="owner@bench.example"):
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.status_code


def _time(client, url, n, headers=None, cold=False, status=200):
    """Server times of ``n`` GETs; ``cold``: each one a first view (the page cache emptied before it)."""
    from app import pagecache

    samples = []
    for _ in range(n):
        if cold:
            pagecache.clear(client.application)
        started = time.perf_counter()
        response = client.get(url, headers=headers or {})
        samples.append(time.perf_counter() - started)
        assert response.status_code == status, (url, response.status_code)
    return samples


def single_client(app, data, n):
    from app import pagecache

    client = app.test_client()
    _login(client)
    deep_id, deep_count = data["deep"]
    shallow_id, shallow_count = data["shallow"]
    card = f"/bench/thirdparties/{deep_id}"
    page = client.get(card).get_data(as_text=True)
    older = re.search(r'class="load-more" hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    _time(client, card, 5)  # warm up
    htmx = {"HX-Request": "true"}
    results = []
    # First views (rendered: the page cache emptied before each request), then views of an unchanged card.
    for cold, label in ((True, ""), (False, ", cached")):
        results += [
            _summary(f"customer card ({deep_count} events){label}", _time(client, card, n, cold=cold)),
            _summary(f"next timeline page (htmx, keyset){label}", _time(client, older, n, htmx, cold=cold)),
            _summary(f"filtered timeline (notes + text){label}", _time(client, f"{card}?kind=notes&text=devis", n, htmx, cold=cold)),
            _summary(f"timeline page at {shallow_count} events{label}", _time(client, f"/bench/thirdparties/{shallow_id}", n, cold=cold)),
            _summary(f"timeline page at {deep_count} events{label}", _time(client, card, n, cold=cold)),
        ]
    tag = client.get(older, headers=htmx).headers["ETag"]
    results.append(_summary("next timeline page, revisited (304)", _time(client, older, n, {**htmx, "If-None-Match": tag},
                                                                         status=304)))
    results.append(_summary("customer list search (htmx)", _time(client, "/bench/thirdparties/?q=garage+dubois", n, htmx)))
    results.append(_summary("global search box (htmx)", _time(client, "/bench/search/suggest?q=garage+dub", n, htmx)))
    results.append(_summary("global search page", _time(client, "/bench/search/?q=dubois", n)))
    pagecache.clear(app)
    results += [f"{'SQL statements: ' + label:<44} {_statements(app, client, url, headers)}"
                for label, url, headers in (("customer card (cache off)", card, {}), ("next timeline page", older, htmx),
                                            ("next timeline page, 304", older, {**htmx, "If-None-Match": tag}))]
    return results


def _statements(app, client, url, headers) -> int:
    """How many statements one request sends (read off the engine; the page cache emptied first)."""
    from sqlalchemy import event

    from app import pagecache
    from app.extensions import db

    sent = []

    def count(*_args):
        sent.append(1)

    with app.app_context():
        engine = db.engine
    pagecache.clear(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(url, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent)


def _gunicorn(env, port, workers=2, threads=8, **settings):
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    process = subprocess.Popen(
        [gunicorn, "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads), "--timeout", "300",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env={**os.environ, **env, **settings})
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health")
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def _http_login(port, email="owner@bench.example") -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/auth/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = f"email={email.replace('@', '%40')}&password={PASSWORD}&csrf_token={token}"
    conn.request("POST", "/auth/login", body=body, headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    assert response.status == 303, response.status
    return response.getheader("Set-Cookie").split(";")[0]


def _load(port, path, cookie, seconds=10, connections=8, headers=None):
    """Requests per second with ``connections`` keep-alive clients (wrk when installed)."""
    headers = {"Cookie": cookie, **(headers or {})}
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s",
                              *[arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")],
                              f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
        if "Non-2xx or 3xx responses" in out:
            raise RuntimeError(f"{path}: answers other than 2xx/3xx under load:\n{out}")
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        return rps, "wrk"
    counts = [0] * connections
    stop = time.monotonic() + seconds

    def worker(i):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while time.monotonic() < stop:
            conn.request("GET", path, headers=headers)
            conn.getresponse().read()
            counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds, "python client (install wrk for a lighter client)"


def _live_delay(port, cookie_a, cookie_b, thirdparty_id, samples=20):
    """Seconds from posting a note in one session to its arrival on another session's open stream."""
    stream = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    stream.request("GET", f"/bench/timeline/thirdparties/{thirdparty_id}/stream", headers={"Cookie": cookie_b})
    response = stream.getresponse()
    assert response.status == 200, response.status
    arrivals, ready = [], threading.Event()

    def read():
        ready.set()
        while len(arrivals) < samples:
            try:
                line = response.fp.readline()
            except (AttributeError, OSError):  # the stream was closed
                return
            if not line:
                return
            if line.startswith(b"event: timeline"):
                arrivals.append(time.perf_counter())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ready.wait()
    time.sleep(0.3)
    poster = http.client.HTTPConnection("127.0.0.1", port)
    poster.request("GET", f"/bench/thirdparties/{thirdparty_id}", headers={"Cookie": cookie_a})
    answer = poster.getresponse()
    page = answer.read().decode()
    cookie_a = (answer.getheader("Set-Cookie") or cookie_a).split(";")[0]  # the session now holds the CSRF secret
    token = re.search(r'X-CSRFToken&#34;: &#34;([^&]+)&#34;|"X-CSRFToken": "([^"]+)"', page)
    token = token.group(1) or token.group(2)
    sent = []
    for i in range(samples):
        before = len(arrivals)
        sent.append(time.perf_counter())
        poster = http.client.HTTPConnection("127.0.0.1", port)
        poster.request("POST", f"/bench/timeline/thirdparties/{thirdparty_id}/notes", body=f"body=bench+note+{i}",
                       headers={"Cookie": cookie_a, "Content-Type": "application/x-www-form-urlencoded",
                                "HX-Request": "true", "X-CSRFToken": token})
        answer = poster.getresponse()
        answer.read()
        assert answer.status == 200, answer.status
        poster.close()
        deadline = time.monotonic() + 5
        while len(arrivals) == before and time.monotonic() < deadline:
            time.sleep(0.002)
    stream.close()
    return [a - s for a, s in zip(arrivals, sent, strict=False)]


def _older_url(port, cookie, thirdparty_id) -> tuple[str, str]:
    """The card's "older events" URL, and the session cookie as the card left it (holding the CSRF secret, which the
    fragments' ETag is made of: a client that never keeps it would get a new secret, and a new tag, every time)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", f"/bench/thirdparties/{thirdparty_id}", headers={"Cookie": cookie})
    response = conn.getresponse()
    page = response.read().decode()
    cookie = (response.getheader("Set-Cookie") or cookie).split(";")[0]
    return re.search(r'class="load-more" hx-get="([^"]+)"', page).group(1).replace("&amp;", "&"), cookie


def _get(port, path, headers):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def _card_load(env, data, port, **settings):
    """Requests per second of the card, of its next timeline page (htmx) and of that page revisited (304)."""
    process = _gunicorn(env, port, **settings)
    try:
        cookie = _http_login(port)
        card = _load(port, f"/bench/thirdparties/{data['deep'][0]}", cookie)[0]
        older, cookie = _older_url(port, cookie, data["deep"][0])
        htmx = {"HX-Request": "true"}
        fragment = _load(port, older, cookie, headers=htmx)[0]
        answer, _body = _get(port, older, {"Cookie": cookie, **htmx})
        tag = answer.getheader("ETag")
        assert _get(port, older, {"Cookie": cookie, **htmx, "If-None-Match": tag})[0].status == 304
        revisit = _load(port, older, cookie, headers={**htmx, "If-None-Match": tag})[0]
        return card, fragment, revisit
    finally:
        process.terminate()
        process.wait()


def floor_app(environ, start_response):
    """The floor: the card's HTML from memory, nothing else (gunicorn ``tests.benchmark:floor_app``)."""
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(_FLOOR)))])
    return [_FLOOR]


_FLOOR = Path(os.environ["BENCH_FLOOR_FILE"]).read_bytes() if os.environ.get("BENCH_FLOOR_FILE") else b""


def _floor(env, data, port) -> float:
    """Requests per second of the same card HTML served from memory under the same gunicorn settings."""
    process = _gunicorn(env, port)
    try:
        cookie = _http_login(port)
        _answer, body = _get(port, f"/bench/thirdparties/{data['deep'][0]}", {"Cookie": cookie})
    finally:
        process.terminate()
        process.wait()
    path = ROOT / "instance" / f"bench-floor-{os.getpid()}.html"
    path.write_bytes(body)
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    process = subprocess.Popen(
        [gunicorn, "--worker-class", "gthread", "--workers", "2", "--threads", "8", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "tests.benchmark:floor_app"], cwd=ROOT, env={**os.environ, "BENCH_FLOOR_FILE": str(path)})
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
                break
            except OSError:
                time.sleep(0.1)
        return _load(port, "/", "none=1")[0]
    finally:
        process.terminate()
        process.wait()
        path.unlink(missing_ok=True)


def served(env, data, port):
    card_off, fragment_off, revisit_off = _card_load(env, data, port, PAGE_CACHE_SIZE="0")
    card_on, fragment_on, revisit_on = _card_load(env, data, port)
    floor = _floor(env, data, port)
    rates = [f"{'customer card, rendered (cache off)':<44} {card_off:7.0f} requests/s",
             f"{'next timeline page, rendered (cache off)':<44} {fragment_off:7.0f} requests/s",
             f"{'next timeline page, 304 (cache off)':<44} {revisit_off:7.0f} requests/s",
             f"{'customer card, cache on':<44} {card_on:7.0f} requests/s",
             f"{'next timeline page, cache on':<44} {fragment_on:7.0f} requests/s",
             f"{'next timeline page, 304 (cache on)':<44} {revisit_on:7.0f} requests/s",
             f"{'floor: the card HTML from memory':<44} {floor:7.0f} requests/s (gunicorn gthread 2×8, 8 connections)"]
    process = _gunicorn(env, port)
    try:
        cookie = _http_login(port)
        shallow_id = data["shallow"][0]
        delays = _live_delay(port, cookie, _http_login(port), shallow_id)
        return [*rates, _summary("live delay: note posted → other timeline", delays)]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # open streams keep workers busy past the graceful timeout
            process.kill()
            process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--deep", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--fresh", action="store_true", help="rebuild the benchmark database")
    args = parser.parse_args()
    env = _environment(args)
    app = bench_app(env)
    data = _ensure_data(app, args)
    engine = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(f"\nStoria benchmark — {engine}, {data['customers']} customers, {data['events']} events")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    for line in single_client(app, data, args.samples):
        print(line, flush=True)
    for line in served(env, data, args.port):
        print(line, flush=True)


if __name__ == "__main__":
    main()
