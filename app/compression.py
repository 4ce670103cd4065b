"""Text compression: pages, fragments and our CSS and scripts go out gzipped to a browser that accepts it.

A WSGI middleware around the whole app (``create_app`` wraps ``app.wsgi_app``), so it sees exactly what
leaves: it compresses a response only when its type is text we make (HTML, CSS, JavaScript, JSON, SVG), it is at
least ``MIN_BYTES`` long, it is a whole representation (no ``Content-Range``, not a 206), and it is not a file (no
``Content-Disposition`` outside ``/static/``: uploaded documents keep their length and their range requests), not
already encoded and not marked ``no-transform``. An event stream is never compressed nor buffered: it is not one of
those types, so it passes through as it streams.
Every response of a compressible type says ``Vary: Accept-Encoding``, compressed or not, so a cache never serves one
encoding for the other. A compressed response's validator becomes weak (``W/"…"``): the gzipped bytes are another
representation of the same content, and ``If-None-Match`` compares weakly, so a browser's revalidation still gets
its 304. ``Accept-Ranges`` is dropped there: ranges are served on the identity encoding only.

Measured on the demo pages (docs/architecture.md, "Text compression"): gzip level 6 costs 0.1-0.2 ms for a 10-25 KB
page and brings it to a quarter. A static file's gzipped bytes are kept per file version (its ETag: modification
time and size), so each is compressed once per process, at level 9; no build step, nothing stale on disk.
"""
import threading
import zlib
from collections import OrderedDict

COMPRESSIBLE = frozenset({"text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                          "image/svg+xml", "text/plain"})
MIN_BYTES = 1024  # below this, the gzip header and the CPU are not worth it
PAGE_LEVEL = 6  # pages and fragments: each compressed as it leaves
STATIC_LEVEL = 9  # static files: compressed once per version, kept in memory
STATIC_CACHE_BYTES = 8 * 1024 * 1024


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header takes gzip (named or ``*``, with a non-zero weight)."""
    weights = {}
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weights[name.strip().lower()] = quality
    weight = weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0)))
    return weight > 0


def gzipped(data: bytes, level: int) -> bytes:
    """``data`` in the gzip format (RFC 1952), without a file name or a time (the same bytes every time)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


class _StaticCache:
    """Gzipped static files by (path, ETag), least recently used out first, bounded in bytes."""

    def __init__(self, limit: int):
        self.limit, self.size = limit, 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            if key not in self._items and len(value) <= self.limit:
                self._items[key] = value
                self.size += len(value)
                while self.size > self.limit:
                    _old, dropped = self._items.popitem(last=False)
                    self.size -= len(dropped)
        return value


def _header(headers, name: str) -> str | None:
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


def _compressible(status: str, headers, static: bool) -> bool:
    """Whether a response is one of ours to compress: text we make, whole, not a file (``static``: one of our assets,
    which Flask sends with ``Content-Disposition: inline`` too)."""
    code = int(status.split(" ", 1)[0])
    content_type = (_header(headers, "Content-Type") or "").split(";", 1)[0].strip().lower()
    return (200 <= code < 300 or code >= 400) and code not in (204, 206) and content_type in COMPRESSIBLE \
        and not any(_header(headers, name) for name in ("Content-Encoding", "Content-Range")) \
        and (static or _header(headers, "Content-Disposition") is None) \
        and "no-transform" not in (_header(headers, "Cache-Control") or "").lower()


def _with_vary(headers) -> list:
    vary = _header(headers, "Vary")
    if vary is None:
        return [*headers, ("Vary", "Accept-Encoding")]
    if "accept-encoding" in vary.lower() or vary.strip() == "*":
        return list(headers)
    return [(k, f"{v}, Accept-Encoding" if k.lower() == "vary" else v) for k, v in headers]


def _weak(etag: str) -> str:
    return etag if etag.startswith("W/") else f"W/{etag}"


class Compressor:
    """The WSGI middleware (see the module's docstring)."""

    def __init__(self, wsgi_app, static_prefix: str = "/static/"):
        self.wsgi_app, self.static_prefix = wsgi_app, static_prefix
        self.static = _StaticCache(STATIC_CACHE_BYTES)

    def __call__(self, environ, start_response):
        wanted = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING")) and environ.get("REQUEST_METHOD") != "HEAD" \
            and "HTTP_RANGE" not in environ
        static = environ.get("PATH_INFO", "").startswith(self.static_prefix)
        held, returned = {}, []

        def start(status, headers, exc_info=None):
            if exc_info is None and _compressible(status, headers, static):
                headers = _with_vary(headers)
                if wanted and not returned:  # decided once the body is read: kept back until then
                    held.update(status=status, headers=headers)
                    return held.setdefault("written", []).append
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, start)
        returned.append(True)  # an app that starts its response only while iterated is passed through
        if not held:
            return body  # passed through untouched (and still streaming)
        try:
            data = b"".join([*held.get("written", []), *body])
        finally:
            if hasattr(body, "close"):
                body.close()
        headers = held["headers"]
        if len(data) < MIN_BYTES:
            start_response(held["status"], [(k, v) for k, v in headers if k.lower() != "content-length"]
                           + [("Content-Length", str(len(data)))])
            return [data]
        etag = _header(headers, "ETag")
        if static and etag:
            packed = self.static.get((environ["PATH_INFO"], etag), lambda: gzipped(data, STATIC_LEVEL))
        else:
            packed = gzipped(data, PAGE_LEVEL)
        kept = [(k, _weak(v) if k.lower() == "etag" else v) for k, v in headers
                if k.lower() not in ("content-length", "accept-ranges")]
        start_response(held["status"], [*kept, ("Content-Encoding", "gzip"), ("Content-Length", str(len(packed)))])
        return [packed]
