"""Helpers shared by the account tests: more browsers, reading sessions, tokens and the security log."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuthSession, Membership, SecurityEvent, User
from app.tenancy import tenant_context
from tests.helpers import Browser

SESSION_COOKIE = "__Host-storia"
_CSRF_VALUES = re.compile(
    r'(name="csrf_token"[^>]*value=")[^"]+(")'
    r'|(X-CSRFToken&#34;: &#34;)[^&]+(&#34;)'
    r'|("X-CSRFToken": ")[^"]+(")'
)


def without_csrf(page: str) -> str:
    """``page`` with its per-session CSRF tokens blanked, to compare two answers byte for byte."""
    return _CSRF_VALUES.sub(lambda m: "".join(g for g in m.groups() if g is not None), page)


@pytest.fixture
def new_browser(app):
    """Make another, independent browser (its own cookies), optionally from another IP address."""

    def make(ip: str = "127.0.0.1") -> Browser:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = ip
        return Browser(client)

    return make


def is_signed_in(browser: Browser) -> bool:
    """True when the browser's cookie opens a page that needs a signed-in user."""
    response = browser.get("/auth/account")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def session_cookie(browser: Browser) -> str | None:
    cookie = browser.client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie else None


def browser_with_cookie(app, value: str) -> Browser:
    """A fresh browser that carries only the given session cookie (a stolen or replayed one)."""
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, value)
    return Browser(client)


def session_token(app, browser: Browser) -> str | None:
    """The server-side session token inside the browser's signed session cookie."""
    value = session_cookie(browser)
    if value is None:
        return None
    data = app.session_interface.get_signing_serializer(app).loads(value)
    return data.get("_user_id")


def sessions_of(app, user) -> list[AuthSession]:
    with app.app_context():
        rows = db.session.scalars(select(AuthSession).where(AuthSession.user_id == user.id)
                                  .order_by(AuthSession.created_at)).all()
        db.session.expunge_all()
        return rows


def security_log(app, tenant, kind: str | None = None) -> list[SecurityEvent]:
    """The security events of ``tenant`` (optionally of one kind), oldest first."""
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(SecurityEvent).order_by(SecurityEvent.occurred_at, SecurityEvent.id)
        if kind:
            stmt = stmt.where(SecurityEvent.kind == kind)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return rows


def membership_of(app, tenant, user) -> Membership | None:
    """The membership of ``user`` in ``tenant`` (role loaded), or None."""
    with app.app_context(), tenant_context(tenant.id):
        row = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        db.session.expunge_all()
        return row


def user_by_email(app, email: str) -> User | None:
    with app.app_context():
        row = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return row


def link_path(mail_server, address: str, path_part: str) -> str:
    """The path of the last link to ``path_part`` e-mailed to ``address``."""
    from tests.helpers import path_of

    return path_of(mail_server.last_link(address, path_part))


def mail_text(message) -> str:
    return message.get_body(("plain",)).get_content()
