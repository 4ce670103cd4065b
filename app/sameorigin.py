"""Where an unsafe request comes from, checked before its CSRF token: a foreign ``Origin`` is refused even with a
valid token, and a ``Referer`` that does not parse is a 400, never a 500.

Flask-WTF compares the ``Referer`` with the host only over HTTPS, and ``urlparse(...).port`` raises on a value such
as ``https://127.0.0.1:5077.evil.example/``: that was a 500. Browsers send ``Origin`` on every POST; ours must name
this site. Registered ahead of CSRF protection (``create_app``), for the same methods it protects.
"""
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFError


def _origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``; :raise ValueError: when it does not parse (a port out of range, say)."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or ""), port


def foreign_source(origin: str | None, referer: str | None, own_url: str) -> str | None:
    """Why a request whose headers say ``origin``/``referer`` does not come from ``own_url``'s site, or None."""
    try:
        own = _origin_of(own_url)
        if referer is not None:
            _origin_of(referer)  # a Referer that does not parse is refused outright
        if origin is not None and _origin_of(origin) != own:
            return "The request comes from another site."
    except ValueError:
        return "The request names an address that does not parse."
    return None


def init_app(app: Flask) -> None:
    @app.before_request
    def _check_where_it_comes_from():
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        problem = foreign_source(request.headers.get("Origin"), request.headers.get("Referer"), request.host_url)
        if problem:
            raise CSRFError(problem)
