"""Links that leave the app (e-mails, calendar feeds, PDFs, jobs) are built from ``APP_URL``, never the Host.

A request's ``Host`` header is chosen by whoever sends it: a reset link built from it e-mails a valid
token to ``https://evil.example/``. So every absolute URL comes from the configured address, whether it
is built inside a request or in a job, and requests naming any other host are refused
(``TRUSTED_HOSTS``, checked by Flask before routing). See docs/architecture.md, "Links that leave the app".
"""
from urllib.parse import urlsplit

from flask import Flask

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def trusted_hosts(app_url: str, configured: str | None) -> list[str]:
    """The hosts requests may name: ``TRUSTED_HOSTS`` when set, else the host of ``APP_URL``, plus the
    loopback names when that is a loopback address (``make run`` opened as localhost or 127.0.0.1)."""
    if configured:
        return [host.strip().lower() for host in configured.split(",") if host.strip()]
    host = (urlsplit(app_url).hostname or "").lower()
    return list(dict.fromkeys([host, *LOOPBACK])) if host in LOOPBACK else [host]


class StoriaFlask(Flask):
    """Flask whose absolute URLs always name ``APP_URL`` (scheme, host, port and path prefix)."""

    def url_for(self, /, endpoint: str, *, _anchor=None, _method=None, _scheme=None, _external=None, **values) -> str:
        from flask import has_request_context
        from flask.globals import request_ctx

        in_request = has_request_context()
        external = bool(_external or _scheme or (_external is None and not in_request))
        if in_request and not external and request_ctx.url_adapter is not None:
            return super().url_for(endpoint, _anchor=_anchor, _method=_method, **values)
        # Absolute links, links built in jobs, and links on the error page of a refused host.
        if endpoint[:1] == ".":
            blueprint = request_ctx.request.blueprint if in_request else None
            endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
        self.inject_url_defaults(endpoint, values)
        base = urlsplit(self.config["APP_URL"])
        adapter = self.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=_scheme or base.scheme)
        url = adapter.build(endpoint, values, method=_method, force_external=external)
        return f"{url}#{_anchor}" if _anchor else url
