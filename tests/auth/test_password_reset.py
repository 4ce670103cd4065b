"""Password reset (QUALITY T14): no enumeration, single use, at most 60 minutes, unforgeable, ends sessions, logged."""
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.auth.conftest import (
    browser_with_cookie,
    is_signed_in,
    link_path,
    mail_text,
    security_log,
    session_cookie,
    user_by_email,
    without_csrf,
)
from tests.factories import make_tenant, make_user
from tests.helpers import PASSWORD

NEW_PASSWORD = "violet lantern mosaic orchard"
RESET = "/auth/reset/"


def _request_reset(browser, mail_server, email):
    """Ask for a reset link and return its path."""
    assert browser.post("/auth/forgot", {"email": email}).status_code == 303
    return link_path(mail_server, email, RESET)


def _resign(app, path, *, age: timedelta) -> str:
    """The same reset link, signed as if it had been issued ``age`` ago (instead of waiting)."""
    token = path.removeprefix(RESET)

    class IssuedEarlier(TimestampSigner):
        def get_timestamp(self):
            return int(time.time() - age.total_seconds())

    key, salt = app.config["SECRET_KEY"], "storia.reset"
    payload = URLSafeTimedSerializer(key, salt=salt).loads(token)
    return RESET + URLSafeTimedSerializer(key, salt=salt, signer=IssuedEarlier).dumps(payload)


def _refused(response) -> bool:
    return response.status_code == 404 and "This link no longer works" in response.get_data(as_text=True)


def test_forgot_password_answers_the_same_for_known_and_unknown_emails(app, new_browser):
    make_user(app, email="alice@example.com")
    answers = []
    for email in ("alice@example.com", "nobody@example.com"):
        browser = new_browser()
        response = browser.post("/auth/forgot", {"email": email})
        page = browser.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], response.get_data(as_text=True),
                        page.status_code, without_csrf(page.get_data(as_text=True))))
    assert answers[0][0] == 303
    assert answers[0] == answers[1]


def test_forgot_password_over_htmx_answers_the_same_for_known_and_unknown_emails(app, new_browser):
    make_user(app, email="alice@example.com")
    known = new_browser().post("/auth/forgot", {"email": "alice@example.com"}, htmx=True)
    unknown = new_browser().post("/auth/forgot", {"email": "nobody@example.com"}, htmx=True)
    assert (known.status_code, known.headers["HX-Redirect"], known.get_data()) == \
        (unknown.status_code, unknown.headers["HX-Redirect"], unknown.get_data())


def test_known_email_gets_a_reset_link(app, browser, mail_server):
    make_user(app, email="alice@example.com")
    browser.post("/auth/forgot", {"email": "alice@example.com"})
    [message] = mail_server.to("alice@example.com")
    assert message["Subject"] == "Reset your Storia password"
    assert RESET in mail_text(message)


def test_unknown_email_gets_a_mail_without_a_reset_link(app, browser, mail_server):
    browser.post("/auth/forgot", {"email": "nobody@example.com"})
    [message] = mail_server.to("nobody@example.com")
    assert RESET not in mail_text(message)
    assert "no account uses it" in mail_text(message)


def test_reset_link_shows_the_new_password_form(app, browser, mail_server):
    make_user(app, email="alice@example.com")
    page = browser.get(_request_reset(browser, mail_server, "alice@example.com"))
    assert page.status_code == 200
    assert 'id="reset-form"' in page.get_data(as_text=True)


def test_reset_link_sets_the_new_password(app, new_browser, mail_server):
    make_user(app, email="alice@example.com")
    link = _request_reset(new_browser(), mail_server, "alice@example.com")
    response = new_browser().post(link, {"password": NEW_PASSWORD})
    assert response.status_code == 303
    new_browser().login("alice@example.com", NEW_PASSWORD)
    assert new_browser().post("/auth/login", {"email": "alice@example.com", "password": PASSWORD}).status_code == 422


def test_reset_signs_the_user_in(app, new_browser, mail_server):
    make_user(app, email="alice@example.com")
    link = _request_reset(new_browser(), mail_server, "alice@example.com")
    resetting = new_browser()
    resetting.post(link, {"password": NEW_PASSWORD})
    assert is_signed_in(resetting)


def test_reset_link_works_once(app, new_browser, mail_server):
    make_user(app, email="alice@example.com")
    link = _request_reset(new_browser(), mail_server, "alice@example.com")
    new_browser().post(link, {"password": NEW_PASSWORD})
    assert _refused(new_browser().get(link))
    assert _refused(new_browser().post(link, {"password": "another fresh passphrase"}))
    new_browser().login("alice@example.com", NEW_PASSWORD)


def test_older_reset_link_dies_when_the_password_changes(app, new_browser, mail_server):
    make_user(app, email="alice@example.com")
    first = _request_reset(new_browser(), mail_server, "alice@example.com")
    second = _request_reset(new_browser(), mail_server, "alice@example.com")
    new_browser().post(second, {"password": NEW_PASSWORD})
    assert _refused(new_browser().get(first))


def test_invalid_new_password_keeps_the_link_usable(app, new_browser, mail_server):
    make_user(app, email="alice@example.com")
    link = _request_reset(new_browser(), mail_server, "alice@example.com")
    response = new_browser().post(link, {"password": "password123"})
    assert response.status_code == 422
    assert new_browser().post(link, {"password": NEW_PASSWORD}).status_code == 303


def test_reset_link_older_than_60_minutes_is_refused(app, new_browser, mail_server):
    make_user(app, email="alice@example.com")
    link = _resign(app, _request_reset(new_browser(), mail_server, "alice@example.com"), age=timedelta(minutes=61))
    assert _refused(new_browser().get(link))
    assert _refused(new_browser().post(link, {"password": NEW_PASSWORD}))


def test_reset_link_younger_than_its_max_age_works(app, new_browser, mail_server):
    """The control for the test above: re-signing alone does not break the link."""
    make_user(app, email="alice@example.com")
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    link = _resign(app, _request_reset(new_browser(), mail_server, "alice@example.com"),
                   age=max_age - timedelta(minutes=1))
    assert new_browser().get(link).status_code == 200


def test_reset_link_fails_after_the_configured_max_age(app, new_browser, mail_server):
    make_user(app, email="alice@example.com")
    link = _request_reset(new_browser(), mail_server, "alice@example.com")
    saved = app.config["PASSWORD_RESET_MAX_AGE"]
    app.config["PASSWORD_RESET_MAX_AGE"] = timedelta(seconds=-1)
    try:
        response = new_browser().get(link)
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = saved
    assert _refused(response)
    assert new_browser().get(link).status_code == 200  # the same link, back within its age


@pytest.mark.parametrize("alter", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),   # signature changed
    lambda token: "x" + token[1:] if not token.startswith("x") else "y" + token[1:],  # payload changed
    lambda token: token.rsplit(".", 1)[0],                                        # signature removed
    lambda token: "not-a-token",
])
def test_altered_reset_link_is_refused(app, new_browser, mail_server, alter):
    make_user(app, email="alice@example.com")
    link = _request_reset(new_browser(), mail_server, "alice@example.com")
    forged = RESET + alter(link.removeprefix(RESET))
    assert _refused(new_browser().get(forged))
    assert _refused(new_browser().post(forged, {"password": NEW_PASSWORD}))


def test_reset_link_signed_with_another_key_is_refused(app, new_browser, mail_server):
    user = make_user(app, email="alice@example.com")
    link = _request_reset(new_browser(), mail_server, "alice@example.com")
    payload = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="storia.reset").loads(link.removeprefix(RESET))
    assert payload["u"] == str(user.id)
    forged = RESET + URLSafeTimedSerializer("guessed-secret", salt="storia.reset").dumps(payload)
    assert _refused(new_browser().get(forged))


def test_link_of_another_kind_is_not_a_reset_link(app, new_browser, mail_server):
    """A sign-up confirmation token (same key, other purpose) does not open the reset form."""
    browser = new_browser()
    browser.post("/auth/signup", {"org_name": "Shop", "slug": "some-shop", "name": "Alice Example",
                                  "email": "alice@example.com", "password": PASSWORD})
    token = link_path(mail_server, "alice@example.com", "/auth/signup/confirm/").rsplit("/", 1)[1]
    assert _refused(new_browser().get(RESET + token))


def test_reset_ends_every_existing_session(app, new_browser, mail_server):
    make_user(app, email="alice@example.com")
    laptop, phone = new_browser(), new_browser()
    laptop.login("alice@example.com")
    phone.login("alice@example.com")
    link = _request_reset(new_browser(), mail_server, "alice@example.com")
    new_browser().post(link, {"password": NEW_PASSWORD})
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)


def test_reset_from_a_signed_in_browser_ends_its_old_session_too(app, browser, mail_server):
    make_user(app, email="alice@example.com")
    browser.login("alice@example.com")
    old_cookie = session_cookie(browser)
    browser.post(_request_reset(browser, mail_server, "alice@example.com"), {"password": NEW_PASSWORD})
    assert not is_signed_in(browser_with_cookie(app, old_cookie))
    assert is_signed_in(browser)


def test_reset_request_is_in_the_security_log(app, new_browser, mail_server):
    tenant = make_tenant(app)
    _request_reset(new_browser(ip="198.51.100.40"), mail_server, tenant.owner.email)
    events = security_log(app, tenant, "password_reset_requested")
    assert [(e.user_id, e.ip) for e in events] == [(tenant.owner.id, "198.51.100.40")]


def test_reset_is_in_the_security_log(app, new_browser, mail_server):
    tenant = make_tenant(app)
    link = _request_reset(new_browser(), mail_server, tenant.owner.email)
    new_browser(ip="198.51.100.41").post(link, {"password": NEW_PASSWORD})
    events = security_log(app, tenant, "password_reset")
    assert [(e.user_id, e.ip) for e in events] == [(tenant.owner.id, "198.51.100.41")]


def test_reset_of_an_unknown_email_logs_nothing_and_changes_nothing(app, browser, mail_server):
    tenant = make_tenant(app)
    browser.post("/auth/forgot", {"email": "nobody@example.com"})
    assert security_log(app, tenant, "password_reset_requested") == []
    assert user_by_email(app, "nobody@example.com") is None


def test_reset_emails_are_rate_limited_per_email(app, browser, mail_server):
    make_user(app, email="alice@example.com")
    for _ in range(3):
        assert browser.post("/auth/forgot", {"email": "alice@example.com"}).status_code == 303
    assert browser.post("/auth/forgot", {"email": "alice@example.com"}).status_code == 429
    assert len(mail_server.to("alice@example.com")) == 3


def test_reset_max_age_is_at_most_60_minutes(app):
    assert app.config["PASSWORD_RESET_MAX_AGE"] <= timedelta(minutes=60)
