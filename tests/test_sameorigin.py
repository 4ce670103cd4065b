"""Where an unsafe request comes from (issue 13, finding 6): a foreign Origin is refused even with a valid token, a
Referer that does not parse is a 400 (it was a 500), and the browser's own requests pass. Every POST route is swept by
``tests/test_security.py::test_unsafe_request_without_or_with_another_sessions_token_is_refused``."""
import pytest

from app.sameorigin import foreign_source
from tests.factories import make_user
from tests.helpers import Browser, text_of

OWN = "https://crm.example.com/"


@pytest.mark.parametrize("origin, referer", [
    (None, None), ("https://crm.example.com", None), ("https://crm.example.com:443", "https://crm.example.com/x"),
    (None, "https://elsewhere.example/page"),  # a Referer from elsewhere: Flask-WTF's own check decides (HTTPS)
])
def test_requests_from_the_site_itself_pass(origin, referer):
    assert foreign_source(origin, referer, OWN) is None


@pytest.mark.parametrize("origin, referer", [
    ("https://evil.example", None), ("http://crm.example.com", None), ("https://crm.example.com:8443", None),
    ("null", None), ("", None), (None, "https://127.0.0.1:5077.evil.example/"), (None, "http://[::1"),
    ("https://crm.example.com:99999", None), ("https://crm.example.com.evil.example", None),
])
def test_foreign_or_broken_sources_are_refused(origin, referer):
    assert foreign_source(origin, referer, OWN) is not None


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_referer_with_a_strange_port_is_a_400_with_the_usual_message(app, mail_server, scheme):
    make_user(app, email="alice@example.com")
    browser = Browser(app.test_client())
    browser.client.environ_base["wsgi.url_scheme"] = scheme  # over HTTPS Flask-WTF compares the Referer itself
    response = browser.post("/auth/forgot", {"email": "alice@example.com"},
                            headers={"Referer": "https://127.0.0.1:5077.evil.example/"})
    assert response.status_code == 400
    assert "sent from elsewhere" in text_of(response.get_data(as_text=True))
    assert mail_server.to("alice@example.com") == []


def test_a_foreign_origin_is_refused_even_with_a_valid_token(app, mail_server):
    make_user(app, email="alice@example.com")
    browser = Browser(app.test_client())
    refused = browser.post("/auth/forgot", {"email": "alice@example.com"}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 400 and mail_server.to("alice@example.com") == []
    accepted = browser.post("/auth/forgot", {"email": "alice@example.com"}, headers={"Origin": "http://localhost"})
    assert accepted.status_code == 303 and len(mail_server.to("alice@example.com")) == 1
