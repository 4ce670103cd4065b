"""Test helpers: a CSRF-aware client, and reading pages."""
import html
import re
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import event

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'X-CSRFToken&#34;: &#34;([^&]+)&#34;|"X-CSRFToken": "([^"]+)"')


def csrf_from(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def text_of(page: str) -> str:
    """The visible text of a page, tags removed and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


class Browser:
    """Drives the app like a browser: fetches a CSRF token before each unsafe request."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def csrf(self) -> str:
        return csrf_from(self.client.get("/auth/check-inbox").get_data(as_text=True))

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, *, htmx=False, headers=None, **kwargs):
        data = dict(data or {})
        headers = dict(headers or {})
        if htmx:
            headers["HX-Request"] = "true"
            headers["X-CSRFToken"] = self.csrf()
        else:
            data.setdefault("csrf_token", self.csrf())
        return self.client.post(url, data=data, headers=headers, **kwargs)

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/auth/login", {"email": email, "password": password})
        assert response.status_code == 303, f"login of {email} failed with {response.status_code}"
        return response

    def logout(self):
        return self.post("/auth/logout")


@contextmanager
def sql_sent(app):
    """Collect the SQL statements the app sends while the block runs (read off the engine, nothing replaced)."""
    from app.extensions import db

    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def icon_markup(name: str) -> str:
    """How ``icon(name)`` (app/icons.py) draws an icon no screen reader reads, in a page."""
    return f'<svg class="icon icon-{name}" aria-hidden="true" focusable="false"><use href="/static/vendor/icons.svg#{name}"></use></svg>'
