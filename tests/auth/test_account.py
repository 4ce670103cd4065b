"""The user's own settings (name, language, time zone) and password change."""
import pytest

from tests.auth.conftest import security_log, user_by_email
from tests.factories import make_tenant, make_user
from tests.helpers import PASSWORD, text_of

NEW_PASSWORD = "violet lantern mosaic orchard"


@pytest.fixture
def user(app):
    return make_user(app, email="paola@example.com", name="Paola Conti")


@pytest.fixture
def signed_in(user, browser):
    browser.login(user.email)
    return browser


def _settings(**overrides):
    data = {"name": "Paola Conti-Ferri", "locale": "it", "timezone": "Europe/Rome"}
    data.update(overrides)
    return data


def test_account_page_needs_a_signed_in_user(app, client):
    response = client.get("/auth/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_account_settings_are_saved(app, user, signed_in):
    response = signed_in.post("/auth/account", _settings())
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/account"
    saved = user_by_email(app, user.email)
    assert (saved.name, saved.locale, saved.timezone) == ("Paola Conti-Ferri", "it", "Europe/Rome")


def test_account_settings_over_htmx_answer_hx_redirect(app, user, signed_in):
    response = signed_in.post("/auth/account", _settings(), htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/auth/account"
    assert user_by_email(app, user.email).timezone == "Europe/Rome"


@pytest.mark.parametrize("field, value", [
    ("name", ""),
    ("name", "x" * 121),
    ("locale", "de"),
    ("timezone", "Mars/Olympus_Mons"),
])
def test_invalid_account_settings_are_refused_with_422(app, user, signed_in, field, value):
    response = signed_in.post("/auth/account", _settings(**{field: value}))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    saved = user_by_email(app, user.email)
    assert (saved.name, saved.locale, saved.timezone) == ("Paola Conti", "en", "Europe/Paris")


def test_invalid_account_settings_keep_what_was_typed(app, signed_in):
    page = signed_in.post("/auth/account", _settings(timezone="Mars/Olympus_Mons")).get_data(as_text=True)
    assert 'value="Paola Conti-Ferri"' in page
    assert '<option selected value="it">' in page


def test_invalid_account_settings_over_htmx_answer_the_form_fragment(app, signed_in):
    response = signed_in.post("/auth/account", _settings(name=""), htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in page
    assert 'id="account-form"' in page
    assert '<option selected value="Europe/Rome">' in page


def test_account_settings_cannot_change_the_email(app, user, signed_in):
    signed_in.post("/auth/account", _settings(email="attacker@example.com"))
    assert user_by_email(app, user.email) is not None
    assert user_by_email(app, "attacker@example.com") is None


def test_password_change_needs_the_current_password(app, user, signed_in, new_browser):
    response = signed_in.post("/auth/account/password", {"current_password": "not my password at all",
                                                         "password": NEW_PASSWORD})
    assert response.status_code == 422
    assert "This is not your current password." in text_of(response.get_data(as_text=True))
    new_browser().login(user.email, PASSWORD)
    assert new_browser().post("/auth/login", {"email": user.email, "password": NEW_PASSWORD}).status_code == 422


def test_password_change_with_the_current_password_sets_the_new_one(app, user, signed_in, new_browser):
    response = signed_in.post("/auth/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})
    assert response.status_code == 303
    new_browser().login(user.email, NEW_PASSWORD)
    assert new_browser().post("/auth/login", {"email": user.email, "password": PASSWORD}).status_code == 422


@pytest.mark.parametrize("password", ["short", "password123", "paola-conti-2024"])
def test_password_change_refuses_a_weak_password(app, user, signed_in, new_browser, password):
    response = signed_in.post("/auth/account/password", {"current_password": PASSWORD, "password": password})
    assert response.status_code == 422
    assert 'id="password-error"' in response.get_data(as_text=True)
    new_browser().login(user.email, PASSWORD)


def test_password_change_never_echoes_the_passwords(app, signed_in):
    page = signed_in.post("/auth/account/password", {"current_password": "not my password at all",
                                                     "password": NEW_PASSWORD}).get_data(as_text=True)
    assert "not my password at all" not in page
    assert NEW_PASSWORD not in page


def test_password_change_needs_a_signed_in_user(app, browser, user):
    response = browser.post("/auth/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})
    assert response.status_code == 302
    browser.login(user.email, PASSWORD)


def test_password_change_is_in_the_security_log(app, new_browser):
    tenant = make_tenant(app)
    browser = new_browser(ip="198.51.100.60")
    browser.login(tenant.owner.email)
    browser.post("/auth/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})
    events = security_log(app, tenant, "password_changed")
    assert [(e.user_id, e.ip) for e in events] == [(tenant.owner.id, "198.51.100.60")]


def test_wrong_current_password_is_not_logged_as_a_change(app, new_browser):
    tenant = make_tenant(app)
    browser = new_browser()
    browser.login(tenant.owner.email)
    browser.post("/auth/account/password", {"current_password": "not my password at all", "password": NEW_PASSWORD})
    assert security_log(app, tenant, "password_changed") == []
