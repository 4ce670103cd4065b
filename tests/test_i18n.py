"""Choosing the language: the account's choice, then the visitor's choice (POST /lang), then Accept-Language."""
import gettext
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.factories import make_user
from tests.helpers import Browser, text_of

TRANSLATIONS = Path(__file__).resolve().parent.parent / "app" / "translations"


def _lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)">', response.get_data(as_text=True))
    assert match, "no <html lang> on the page"
    return match.group(1)


def _saved_locale(app, email) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.locale).where(User.email == email))


def _choose(browser, lang, next_path="/auth/login", **kwargs):
    return browser.post("/lang", {"lang": lang, "next": next_path}, **kwargs)


@pytest.mark.parametrize(("header", "expected"), [
    ("fr", "fr"),
    ("it", "it"),
    ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
    ("it-IT,it;q=0.9,en-US;q=0.8", "it"),
    ("de-DE, it;q=0.5", "it"),
    ("de, es", "en"),
    ("", "en"),
])
def test_accept_language_picks_the_page_language(app, client, header, expected):
    response = client.get("/auth/login", headers={"Accept-Language": header})
    assert _lang(response) == expected


def test_visitor_choice_is_stored_in_the_session(app, browser):
    response = _choose(browser, "it")
    assert response.status_code == 303
    assert _lang(browser.get("/auth/login")) == "it"


def test_visitor_choice_wins_over_accept_language(app, browser):
    _choose(browser, "fr")
    assert _lang(browser.get("/auth/login", headers={"Accept-Language": "it"})) == "fr"


def test_visitor_choice_belongs_to_that_visitor_only(app, browser, client):
    _choose(browser, "fr")
    assert _lang(client.get("/auth/login", headers={"Accept-Language": "it"})) == "it"


def test_unknown_language_is_ignored(app, browser):
    _choose(browser, "it")
    _choose(browser, "xx")
    assert _lang(browser.get("/auth/login")) == "it"


def test_signed_in_choice_is_saved_on_the_account(app, browser):
    user = make_user(app, locale="en")
    browser.login(user.email)
    _choose(browser, "fr")
    assert _saved_locale(app, user.email) == "fr"


def test_saved_choice_follows_the_user_to_another_browser(app, browser):
    user = make_user(app, locale="en")
    browser.login(user.email)
    _choose(browser, "it")
    other = Browser(app.test_client())
    other.login(user.email)
    assert _lang(other.get("/auth/account", headers={"Accept-Language": "fr"})) == "it"


def test_saved_choice_wins_over_accept_language(app, browser):
    user = make_user(app, locale="it")
    browser.login(user.email)
    assert _lang(browser.get("/auth/account", headers={"Accept-Language": "fr"})) == "it"


def test_saved_choice_wins_over_the_choice_made_before_signing_in(app, browser):
    user = make_user(app, locale="it")
    _choose(browser, "fr")
    browser.login(user.email)
    assert _lang(browser.get("/auth/account")) == "it"


def test_user_without_a_saved_choice_gets_the_session_choice(app, browser):
    user = make_user(app, locale=None)
    _choose(browser, "fr")
    browser.login(user.email)
    assert _lang(browser.get("/auth/account", headers={"Accept-Language": "it"})) == "fr"


def test_visitor_choice_survives_logout(app, browser):
    user = make_user(app, locale="en")
    browser.login(user.email)
    _choose(browser, "it")
    browser.logout()
    assert _lang(browser.get("/auth/login", headers={"Accept-Language": "fr"})) == "it"


def test_language_choice_needs_a_csrf_token(app, client):
    response = client.post("/lang", data={"lang": "fr", "next": "/auth/login"})
    assert response.status_code == 400
    assert _lang(client.get("/auth/login")) == "en"


def test_language_choice_returns_to_a_local_page(app, browser):
    response = _choose(browser, "fr", next_path="/auth/forgot?x=1")
    assert response.headers["Location"] == "/auth/forgot?x=1"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example/", "/\t/evil.example/", "javascript:alert(1)",
])
def test_language_choice_never_redirects_to_another_site(app, browser, target):
    response = _choose(browser, "fr", next_path=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_page_marks_the_chosen_language_in_the_switcher(app, browser):
    _choose(browser, "it")
    page = browser.get("/auth/login").get_data(as_text=True)
    assert '<option value="it" selected>' in page


def _catalogue_translation(lang: str, message: str) -> str:
    """The compiled catalogue's translation of ``message`` (``make setup`` compiles the catalogues; every string has
    its fr and it translation, so a missing one is a failure, not a skip)."""
    compiled = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo"
    if not compiled.exists():
        pytest.fail(f"no compiled {lang} catalogue ({compiled.relative_to(TRANSLATIONS.parent.parent)}): run make setup")
    with compiled.open("rb") as f:
        translated = gettext.GNUTranslations(f).gettext(message)
    assert translated != message, f"{message!r} is not translated in the {lang} catalogue"
    return translated


# Translated text: asserted only when a compiled catalogue exists (the catalogues are written separately).
@pytest.mark.parametrize("lang", ["fr", "it"])
def test_translated_text_follows_the_chosen_language_when_a_catalogue_exists(app, browser, lang):
    expected = _catalogue_translation(lang, "Forgot your password?")
    _choose(browser, lang)
    page = text_of(browser.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert expected in page
    assert "Forgot your password?" not in page
