"""Rendered pages kept in each worker's memory, for views read far more often than their data changes.

A page is kept under everything it depends on: the tenant and its data version (``app.freshness``:
any write in the tenant moves it, so a change is never hidden), the viewer (membership and rights:
private notes, "only mine"), language, time zone, the reader's and the organisation's day (Today, overdue), the
URL and the htmx headers that choose page or fragment. An entry also ages out after
``PAGE_CACHE_SECONDS`` (what may change with the clock alone: a task turning overdue).

The request is still authenticated and authorised as usual before the cache is consulted: only the
view's work is skipped. What must differ on every page shown is never served twice: the CSRF token
and the keys of forms saved once (``new_key``) are stored as placeholders and filled fresh.
A page with pending flash messages is neither read from nor written to the cache.

Conditional requests (issue 14): the same key, with the reader's session (its CSRF secret: the page holds a token of
it), the build (templates and code) and the cache's age window, signed with the app's secret, is the page's ``ETag``.
A browser that sends it back in ``If-None-Match`` gets ``304 Not Modified`` before the view runs: no rendering, no
body. A tag is only ever issued with a 200 of that very key, so a 304 tells nothing a 200 did not; a write anywhere in
the organisation moves ``data_version`` and with it every tag. Only htmx fragments get a tag (the timeline's older
events and filtered results): a whole signed-in page stays ``no-store``, since a browser shows a kept page again from
its history without asking (after a sign-out, on a shared computer). And an answer that hands out a key of a form
saved once (``idempotency.new_key``: the note composer) gets none: two tabs revalidating one copy would hold the same
key, and the second note would be taken for the first. Such answers say ``Cache-Control: private, no-cache``
(kept by the browser only, asked again every time) instead of the ``no-store`` of other signed-in answers.
"""
import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict
from functools import wraps
from zoneinfo import ZoneInfo

from flask import current_app, g, make_response, request, session
from flask_babel import get_locale, get_timezone
from flask_wtf.csrf import generate_csrf

from app.htmx import wants_fragment
from app.idempotency import FRESH_KEYS, new_key
from app.models import utcnow
from app.web import local_day

_EXTENSION = "storia_page_cache"
_CSRF = "\x00csrf\x00"
_HTMX_HEADERS = ("HX-Request", "HX-Target", "HX-Boosted", "HX-History-Restore-Request", "HX-Trigger")


class PageCache:
    """A bounded, thread-safe LRU of rendered bodies with an age limit."""

    def __init__(self, size: int, seconds: float):
        self.size, self.seconds = size, seconds
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > self.seconds:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _cache() -> PageCache | None:
    cache = current_app.extensions.get(_EXTENSION)
    if cache is None and current_app.config["PAGE_CACHE_SIZE"] > 0:
        cache = current_app.extensions.setdefault(
            _EXTENSION, PageCache(current_app.config["PAGE_CACHE_SIZE"], current_app.config["PAGE_CACHE_SECONDS"]))
    return cache


def clear(app) -> None:
    """Forget every page this process keeps (the benchmark's first views)."""
    cache = app.extensions.get(_EXTENSION)
    if cache is not None:
        cache.clear()


def _key():
    tenant, viewer, now = g.tenant, g.viewer, utcnow()
    # The reader's day (Today, Yesterday) and the organisation's (a quote expiring, an invoice overdue).
    days = (local_day(now), now.astimezone(ZoneInfo(tenant.timezone)).date())
    return (tenant.id, tenant.data_version, viewer.membership_id, viewer.rights, str(get_locale()), str(get_timezone()),
            days, request.full_path, tuple(request.headers.get(name) for name in _HTMX_HEADERS))


def _store(cache, key, response) -> None:
    body = response.get_data(as_text=True)
    token = g.get("csrf_token")
    if token:
        body = body.replace(token, _CSRF)
    fresh = g.get(FRESH_KEYS) or []
    for n, value in enumerate(fresh):
        body = body.replace(value, f"\x00fresh{n}\x00")
    cache.put(key, (body, response.status_code, response.mimetype, len(fresh)))


def _serve(entry):
    body, status, mimetype, fresh = entry
    if _CSRF in body:
        body = body.replace(_CSRF, generate_csrf())
    for n in range(fresh):
        body = body.replace(f"\x00fresh{n}\x00", new_key())
    response = make_response(body, status)
    response.mimetype = mimetype
    response.vary.add("HX-Request")
    return response


_BUILD: list = []


def _build() -> str:
    """What this process's pages are made of (code, templates, catalogues, static files): a new release changes every
    tag. Read once per process from the files' sizes and times, so the workers of one installation agree."""
    if not _BUILD:
        app, found = current_app, []
        folders = [app.root_path, os.path.join(app.root_path, app.template_folder or "templates")]
        if app.static_folder:
            folders.append(app.static_folder)
        for top in folders:
            for folder, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "node_modules"))
                for name in files:
                    if not name.endswith(".pyc"):
                        stat = os.stat(os.path.join(folder, name))
                        found.append(f"{os.path.relpath(folder, top)}/{name}:{stat.st_size}:{stat.st_mtime_ns}")
        _BUILD.append(hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()[:16])
    return _BUILD[0]


def etag_of(key) -> str:
    """The validator of the page under ``key`` for this reader: the key, their session's CSRF secret, the build and
    the age window, signed (a tag cannot be made up, only received with a 200)."""
    tenant_id, version, membership_id, rights, *rest = key
    window = int(time.time() // max(current_app.config["PAGE_CACHE_SECONDS"], 1))
    parts = (str(tenant_id), str(version), str(membership_id), ",".join(sorted(rights)), *map(str, rest),
             str(session.get("csrf_token", "")), _build(), str(window))
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


def _validated(response, tag: str):
    response.set_etag(tag, weak=True)  # the same content gzipped or not: a weak validator (app.compression)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("HX-Request")
    return response


def cached_page(view):
    """Serve ``view``'s successful GET answers from the cache while its tenant's data has not changed, and answer a
    browser that already holds the page (``If-None-Match``) with ``304 Not Modified`` without running the view.

    The body, status and type are kept, not headers the view set itself: only for views whose answer is its body.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        if request.method != "GET" or session.get("_flashes"):
            return view(*args, **kwargs)
        key = _key()
        generate_csrf()  # the session's CSRF secret exists before the tag is made of it (a first page makes it)
        tag = etag_of(key) if wants_fragment() else None  # whole pages stay no-store (history, shared computers)
        if tag and request.if_none_match.contains_weak(tag):
            return _validated(make_response("", 304), tag)
        cache = _cache()
        entry = cache.get(key) if cache is not None else None
        if entry is not None:
            return _validated(_serve(entry), tag) if tag else _serve(entry)
        g.setdefault(FRESH_KEYS, [])
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough and not session.get("_flashes"):
            if cache is not None:
                _store(cache, key, response)
            if tag and not g.get(FRESH_KEYS):  # an answer with a form saved once must not be shown twice from one copy
                _validated(response, tag)
        return response

    return wrapped
