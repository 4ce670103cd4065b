"""Links that leave the app are built from APP_URL, never from the request's Host; unknown hosts are refused."""
import re

import pytest
from flask import url_for

from app.links import trusted_hosts
from tests import customers
from tests.factories import make_user, role_id
from tests.helpers import Browser

APP_URL = "https://crm.example.com/storia"
tenant, owner = customers.tenant, customers.owner  # fixtures


@pytest.fixture
def configured(app):
    """The app as deployed at APP_URL, the test client's localhost still trusted (it is how tests reach it)."""
    saved = app.config["APP_URL"]
    app.config["APP_URL"] = APP_URL
    yield app
    app.config["APP_URL"] = saved


def _links(mail_server, address: str) -> list[str]:
    bodies = [m.get_body(("plain",)).get_content() for m in mail_server.to(address)]
    return [url for body in bodies for url in re.findall(r"https?://\S+", body)]


def test_a_request_naming_an_unknown_host_is_refused(app, browser, mail_server):
    """POST /auth/forgot with ``Host: evil.example`` mails nothing: the request is refused before any view."""
    make_user(app, email="alice@example.com")
    response = browser.post("/auth/forgot", {"email": "alice@example.com"}, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert mail_server.to("alice@example.com") == []
    assert browser.get("/auth/login", headers={"Host": "evil.example:5000"}).status_code == 400


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io"])
def test_unknown_hosts_are_refused_on_every_kind_of_page(app, client, host):
    for path in ("/", "/auth/login", "/health", "/no-such-org/", "/static/css/app.css"):
        assert client.get(path, headers={"Host": host}).status_code == 400, path


def test_reset_link_names_app_url_whatever_the_host(configured, app, mail_server):
    """A trusted host other than APP_URL's (a second name of the server) is not copied into links either."""
    make_user(app, email="alice@example.com")
    browser = Browser(app.test_client())
    browser.client.environ_base["HTTP_HOST"] = "127.0.0.1:5077"
    assert browser.post("/auth/forgot", {"email": "alice@example.com"}).status_code == 303
    [link] = [u for u in _links(mail_server, "alice@example.com") if "/auth/reset/" in u]
    assert link.startswith(APP_URL + "/auth/reset/")


def test_sign_up_mails_name_app_url(configured, app, browser, mail_server):
    make_user(app, email="known@example.com")
    for email in ("new@example.com", "known@example.com"):
        browser.post("/auth/signup", {"name": "Ann", "email": email, "password": "violet lantern mosaic orchard",
                                      "org_name": "Ann & Co", "slug": f"ann-{email[:3]}"})
        links = _links(mail_server, email)
        assert links and all(u.startswith(APP_URL + "/auth/") for u in links), links


def test_invitation_link_names_app_url(configured, app, tenant, owner, mail_server):
    response = owner.post(f"/{tenant.slug}/admin/invitations",
                            {"email": "bruno@example.com", "role_id": str(role_id(app, tenant, "sales"))})
    assert response.status_code == 303
    [link] = _links(mail_server, "bruno@example.com")
    assert link.startswith(APP_URL + "/auth/invite/")


def test_calendar_feed_address_names_app_url(configured, app, tenant, owner):
    page = owner.post(f"/{tenant.slug}/agenda/feed").get_data(as_text=True)
    assert f"{APP_URL}/calendar/{tenant.slug}/" in page


def test_every_external_url_names_app_url_inside_and_outside_requests(configured, app):
    """The class of the bug: ``url_for(..., _external=True)`` anywhere (views, templates, jobs) ignores Host."""
    with app.test_request_context("/auth/login", headers={"Host": "127.0.0.1:5077"}):
        assert url_for("auth.login", _external=True) == APP_URL + "/auth/login"
        assert url_for("auth.login") == "/auth/login"  # links inside the app stay relative
    with app.app_context():
        assert url_for("tenant.dashboard.index", tenant_slug="acme") == APP_URL + "/acme/"
        assert url_for("auth.reset_password", token="t", _anchor="x") == APP_URL + "/auth/reset/t#x"


def test_reminder_mail_links_name_app_url(configured, app, tenant, mail_server):
    """Reminders are mailed by a job, outside any request."""
    from datetime import timedelta

    from tests.agenda.test_reminders import DUE, add_item, run
    from tests.customers import make_thirdparty

    item_id = add_item(app, tenant, make_thirdparty(app, tenant, "Officina Bruni"), "Send the revised quote")
    assert run(app, tenant, DUE - timedelta(minutes=29)) == 1
    assert _links(mail_server, tenant.owner.email) == [f"{APP_URL}/{tenant.slug}/agenda/items/{item_id}"]


def test_trusted_hosts_default_to_the_app_url_host():
    assert trusted_hosts("https://crm.example.com", None) == ["crm.example.com"]
    assert trusted_hosts("http://127.0.0.1:5000", None) == ["127.0.0.1", "localhost", "::1"]
    assert trusted_hosts("https://crm.example.com", " a.example, B.example ") == ["a.example", "b.example"]


def test_a_member_still_reaches_the_app_on_the_trusted_host(app, tenant, owner):
    for host in ("localhost", "localhost:5000"):
        assert owner.get(f"/{tenant.slug}/", headers={"Host": host}).status_code == 200, host
