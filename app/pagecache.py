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
"""
import threading
import time
from collections import OrderedDict
from functools import wraps
from zoneinfo import ZoneInfo

from flask import current_app, g, make_response, request, session
from flask_babel import get_locale, get_timezone
from flask_wtf.csrf import generate_csrf

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


def cached_page(view):
    """Serve ``view``'s successful GET answers from the cache while its tenant's data has not changed.

    The body, status and type are kept, not headers the view set itself: only for views whose answer is its body.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        cache = _cache()
        if cache is None or request.method != "GET" or session.get("_flashes"):
            return view(*args, **kwargs)
        key = _key()
        entry = cache.get(key)
        if entry is not None:
            return _serve(entry)
        g.setdefault(FRESH_KEYS, [])
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough and not session.get("_flashes"):
            _store(cache, key, response)
        return response

    return wrapped
