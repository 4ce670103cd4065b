"""Single sign-on against a real OpenID provider: ``node tests/sso/provider.mjs`` (panva's oidc-provider), started
once for the session on a free loopback port and stopped at the end. Google, Microsoft and organisations' providers
are all pointed at it (each a client registered there); people's claims are chosen by each test."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Membership, SsoIdentity, SsoProvider, Tenant, User
from app.permissions import load_viewer
from app.sso import providers
from app.sso.providers import read_discovery
from app.sso.settings import ProviderSettings, save_settings
from app.tenancy import tenant_context
from tests.factories import CLIENT, role_id
from tests.helpers import Browser, path_of
from tests.sso.oidc import OidcProvider

APP = "http://localhost"  # the test client's host, and APP_URL in the tests


@pytest.fixture(scope="session")
def oidc():
    provider = OidcProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def new_browser(app):
    """Make another, independent browser (its own cookies)."""
    return lambda: Browser(app.test_client())


@pytest.fixture
def web_page():
    """A web server that answers an HTML page at every address (not an OpenID provider)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>Welcome</body></html>")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _configure(app, monkeypatch, **values):
    for name, value in values.items():
        monkeypatch.setitem(app.config, name, value)
    providers.forget_cached()


@pytest.fixture
def google(app, oidc, monkeypatch):
    """ "Sign in with Google", pointed at the test provider; returns the client id."""
    client_id, secret = oidc.register(f"{APP}/auth/sso/google/callback")
    _configure(app, monkeypatch, GOOGLE_CLIENT_ID=client_id, GOOGLE_CLIENT_SECRET=secret, GOOGLE_ISSUER=oidc.issuer)
    yield client_id
    providers.forget_cached()


@pytest.fixture
def microsoft(app, oidc, monkeypatch):
    """ "Sign in with Microsoft" (e-mail not trusted), pointed at the test provider; returns the client id."""
    client_id, secret = oidc.register(f"{APP}/auth/sso/microsoft/callback")
    _configure(app, monkeypatch, MICROSOFT_CLIENT_ID=client_id, MICROSOFT_CLIENT_SECRET=secret,
               MICROSOFT_ISSUER=oidc.issuer)
    yield client_id
    providers.forget_cached()


def set_org_provider(app, oidc, tenant, *, domains, auto_join=False, role="sales", enabled=True, extra_redirects=()):
    """Give ``tenant`` its own provider at the test provider (saved as its owner would); return the client id."""
    client_id, secret = oidc.register(f"{APP}/auth/sso/org-{tenant.slug}/callback", *extra_redirects)
    with app.app_context(), tenant_context(tenant.id):
        save_settings(load_viewer(tenant.owner.id), db.session.get(Tenant, tenant.id), ProviderSettings(
            issuer=oidc.issuer, client_id=client_id, client_secret=secret, allowed_domains=list(domains),
            auto_join=auto_join, default_role_id=role_id(app, tenant, role) if role else None, enabled=enabled),
            read_discovery(oidc.issuer), CLIENT)
    return client_id


def start(browser, key, query=None):
    """Open the start of a flow; return the provider's authorisation URL the app sends the browser to."""
    response = browser.get(f"/auth/sso/{key}/start", query_string=query or {})
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def come_back(browser, callback_url):
    """Follow the provider's redirect back to the app's callback (on the test client's host)."""
    assert callback_url.startswith(f"{APP}/auth/sso/"), callback_url
    return browser.get(path_of(callback_url))


def sign_in_with(browser, oidc, key, login, query=None):
    """A whole flow: start, sign in at the provider as ``login``, come back; the app's answer."""
    return come_back(browser, oidc.sign_in(start(browser, key, query), login))


def identities(app) -> list[SsoIdentity]:
    with app.app_context():
        rows = db.session.scalars(select(SsoIdentity).order_by(SsoIdentity.created_at)).all()
        db.session.expunge_all()
        return rows


def user_named(app, email) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return user


def membership(app, tenant, user_id) -> Membership | None:
    with app.app_context(), tenant_context(tenant.id):
        row = db.session.scalar(select(Membership).where(Membership.user_id == user_id))
        db.session.expunge_all()
        return row


def provider_row(app, tenant) -> SsoProvider | None:
    with app.app_context(), tenant_context(tenant.id):
        row = db.session.scalar(select(SsoProvider))
        db.session.expunge_all()
        return row
