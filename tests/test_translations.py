"""The French and Italian catalogues: in step with the code, complete, placeholders intact, loadable,
and used by the real pages and e-mails.

The pages need the compiled ``.mo`` files, which are not committed (``make translations`` builds
them): the ``compiled_catalogues`` fixture compiles any that is missing or older than its ``.po``,
so that the suite also passes on a fresh checkout.
"""
import io
import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from app.config import PROJECT_DIR, Config
from tests.factories import add_member, make_tenant, make_user
from tests.helpers import text_of

TRANSLATIONS = Path(Config.BABEL_TRANSLATION_DIRECTORIES)
POT = TRANSLATIONS / "messages.pot"
LOCALES = ("fr", "it")
# %(name)s, %(n)d… (named printf-style conversions, the only kind the code uses).
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load(path: Path, locale: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def entries(catalog):
    """The catalogue's messages without the header entry."""
    return [m for m in catalog if m.id]


def key(message):
    """A message's identity: its msgid, or (singular, plural) for ngettext."""
    return tuple(message.id) if message.pluralizable else message.id


def forms(value) -> list[str]:
    """The strings of a msgid or msgstr: one, or every plural form."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


@pytest.fixture(scope="module", params=LOCALES)
def catalog(request):
    return request.param, load(po_path(request.param), request.param)


@pytest.fixture(scope="session")
def compiled_catalogues(app):
    """Compile each ``.po`` into the configured directory when its ``.mo`` is missing or stale."""
    for locale in LOCALES:
        po, mo = po_path(locale), po_path(locale).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as f:
                write_mo(f, load(po, locale))
            os.chmod(tmp, 0o644)
            os.replace(tmp, mo)  # atomic: a parallel run never reads half a file
        except BaseException:
            os.unlink(tmp)
            raise
    # Flask-Babel caches the catalogues it loaded (possibly empty ones, before the .mo existed).
    with app.app_context():
        app.extensions["babel"].instance.domain_instance.cache.clear()


# --- the catalogues ------------------------------------------------------------------------------

def test_template_is_up_to_date_with_the_code(tmp_path):
    """Every wrapped string of the code is in messages.pot: run `make babel-update` when this fails."""
    out = tmp_path / "messages.pot"
    # The same options as the Makefile's babel-extract.
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(PROJECT_DIR / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
        "--ignore-dirs", ".* __pycache__ node_modules instance", "--no-location", "--sort-output",
        "-o", str(out), str(PROJECT_DIR),
    ])
    fresh = {key(m) for m in entries(load(out))}
    committed = {key(m) for m in entries(load(POT))}
    assert fresh - committed == set(), "strings missing from messages.pot: run `make babel-update`"
    assert committed - fresh == set(), "strings no longer in the code: run `make babel-update`"


def test_catalogue_matches_the_template(catalog):
    locale, cat = catalog
    template = {key(m) for m in entries(load(POT))}
    ids = {key(m) for m in entries(cat)}
    assert template - ids == set(), f"{locale}: entries missing (run `make babel-update`)"
    assert ids - template == set(), f"{locale}: entries no longer in messages.pot"
    assert not cat.obsolete, f"{locale}: obsolete (#~) entries left: {list(cat.obsolete)}"


def test_every_entry_is_translated_and_not_fuzzy(catalog):
    locale, cat = catalog
    assert cat.num_plurals == 2, f"{locale}: unexpected Plural-Forms {cat.plural_forms}"
    assert not cat.fuzzy, f"{locale}: the header is marked fuzzy"
    problems = []
    for m in entries(cat):
        strings = forms(m.string)
        if m.pluralizable and len(strings) != cat.num_plurals:
            problems.append(f"{m.id!r}: {len(strings)} plural forms, expected {cat.num_plurals}")
        if not all(s.strip() for s in strings):
            problems.append(f"{m.id!r}: not translated")
        if m.fuzzy:
            problems.append(f"{m.id!r}: fuzzy")
    assert problems == [], f"{locale}:\n" + "\n".join(problems)


def test_placeholders_are_kept(catalog):
    locale, cat = catalog
    problems = []
    for m in entries(cat):
        expected = set().union(*(placeholders(s) for s in forms(m.id)))
        for s in forms(m.string):
            if placeholders(s) != expected:
                problems.append(f"{m.id!r}: {sorted(placeholders(s))} instead of {sorted(expected)}")
            # Templates format every string (Jinja's newstyle gettext): a lone % would break the page.
            if "%" in PLACEHOLDER.sub("", s).replace("%%", ""):
                problems.append(f"{m.id!r}: stray % in {s!r}")
    assert problems == [], f"{locale}:\n" + "\n".join(problems)


def test_compiled_catalogue_translates(catalog, tmp_path):
    locale, cat = catalog
    mo_dir = tmp_path / locale / "LC_MESSAGES"
    mo_dir.mkdir(parents=True)
    buffer = io.BytesIO()
    write_mo(buffer, cat)
    (mo_dir / "messages.mo").write_bytes(buffer.getvalue())
    translations = Translations.load(str(tmp_path), [locale])
    assert isinstance(translations, Translations), "the compiled catalogue did not load"
    expected = {
        "fr": ("Se connecter", "Se déconnecter", "membre actif", "membres actifs", "Utilisez au moins 10 caractères."),
        "it": ("Accedi", "Esci", "membro attivo", "membri attivi", "Usa almeno 10 caratteri."),
    }[locale]
    assert translations.gettext("Sign in") == expected[0]
    assert translations.gettext("Sign out") == expected[1]
    assert translations.ngettext("active member", "active members", 1) == expected[2]
    assert translations.ngettext("active member", "active members", 3) == expected[3]
    assert translations.gettext("Use at least %(n)d characters.") % {"n": 10} == expected[4]


# --- the pages -----------------------------------------------------------------------------------

def h1_of(page: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert match, "no <h1> on the page"
    return " ".join(text_of(match.group(1)).split())


@pytest.mark.parametrize(("lang", "landing", "login"), [
    ("fr", "L’historique complet de chaque client, sur une seule chronologie en temps réel.", "Se connecter"),
    ("it", "Tutta la storia di ogni cliente, in un’unica cronologia in tempo reale.", "Accedi"),
], ids=["fr", "it"])
def test_public_pages_follow_accept_language(client, compiled_catalogues, lang, landing, login):
    headers = {"Accept-Language": f"{lang},en;q=0.5"}
    page = client.get("/", headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert h1_of(page) == landing
    page = client.get("/auth/login", headers=headers).get_data(as_text=True)
    assert h1_of(page) == login
    assert "Forgot your password?" not in page


def test_english_stays_the_default(client, compiled_catalogues):
    page = client.get("/auth/login").get_data(as_text=True)
    assert h1_of(page) == "Sign in"


def test_signed_in_pages_use_the_account_language(app, browser, compiled_catalogues):
    owner = make_user(app, locale="fr")
    tenant = make_tenant(app, owner=owner)
    add_member(app, tenant)
    browser.login(owner.email)
    page = browser.get(f"/{tenant.slug}/", headers={"Accept-Language": "it"}).get_data(as_text=True)
    text = " ".join(text_of(page).split())
    assert "Premiers pas" in text
    assert "2 membres actifs" in text  # ngettext, plural form
    assert "Journal de sécurité" in text  # the owner's navigation
    page = browser.get(f"/{tenant.slug}/admin/security-log").get_data(as_text=True)
    assert h1_of(page) == "Journal de sécurité"
    assert ">Connexion</span>" in page  # the translated kind of the owner's sign-in event


def test_form_errors_are_translated(browser, compiled_catalogues):
    response = browser.post("/auth/forgot", {"email": "not an address"}, headers={"Accept-Language": "it"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert h1_of(page) == "Password dimenticata?"
    assert "Correggi i campi evidenziati qui sotto." in page  # the form macro
    assert "Inserisci un indirizzo email valido." in page  # a validator of app/forms.py
    page = browser.post("/auth/forgot", {"email": ""}, headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert "Questo campo è obbligatorio." in page  # WTForms' own messages come from its catalogues


def test_reset_email_is_in_the_account_language(app, browser, mail_server, compiled_catalogues):
    user = make_user(app, locale="it", name="Luca Rossi")
    browser.post("/auth/forgot", {"email": user.email}, headers={"Accept-Language": "fr"})
    [message] = mail_server.to(user.email)
    assert message["Subject"] == "Reimposta la password di Storia"
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Buongiorno Luca Rossi,")


def english_leaks(page: str, locale: str) -> list[str]:
    """Source strings of several words that show up untranslated in ``page``."""
    text = " ".join(text_of(page).split())
    cat = load(po_path(locale), locale)
    leaks = []
    for m in entries(cat):
        for source, translated in zip(forms(m.id), forms(m.string), strict=False):
            if " " in source and "%" not in source and source != translated and source in text:
                leaks.append(source)
    return leaks


ANONYMOUS_PAGES = ["/", "/auth/login", "/auth/signup", "/auth/forgot", "/auth/check-inbox",
                   "/auth/check-inbox?reason=reset", "/auth/reset/not-a-token", "/no-such-organisation/"]
MEMBER_PAGES = ["/{slug}/", "/{slug}/admin/members", "/{slug}/admin/roles", "/{slug}/admin/roles/new",
                "/{slug}/admin/groups/new", "/{slug}/admin/security-log", "/{slug}/admin/settings",
                "/auth/account", "/auth/signup", "/orgs"]


@pytest.mark.parametrize("locale", LOCALES)
def test_whole_pages_are_translated(app, client, browser, compiled_catalogues, locale):
    for url in ANONYMOUS_PAGES:
        response = client.get(url, headers={"Accept-Language": locale})
        page = response.get_data(as_text=True)
        assert response.status_code in (200, 404), url
        assert f'<html lang="{locale}">' in page, url
        assert english_leaks(page, locale) == [], url
    owner = make_user(app, locale=locale)
    tenant = make_tenant(app, owner=owner)
    browser.login(owner.email)
    for url in MEMBER_PAGES:
        response = browser.get(url.format(slug=tenant.slug))
        page = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert f'<html lang="{locale}">' in page, url
        assert english_leaks(page, locale) == [], url
