"""The French and Italian catalogues: in step with the code, complete, placeholders intact, loadable,
and used by the real pages and e-mails.

The pages need the compiled ``.mo`` files, which are not committed (``make translations`` builds
them): the ``compiled_catalogues`` fixture compiles any that is missing or older than its ``.po``,
so that the suite also passes on a fresh checkout.
"""
import html
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
from tests.customers import (
    archive_thirdparty,
    make_contact,
    make_field,
    make_tag,
    make_thirdparty,
    move_contact,
    update_thirdparty,
)
from tests.factories import add_member, make_tenant, make_user
from tests.helpers import text_of
from tests.timeline.support import notes_of, post_note

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


# Attributes whose text people read or hear: placeholders, screen-reader labels, tooltips, the
# confirmations htmx asks, the texts the page's script shows.
VISIBLE_ATTRIBUTE = re.compile(r'\s(?:placeholder|aria-label|title|alt|hx-confirm|data-[\w-]+)="([^"]*)"')
ANY_PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def visible_text(page: str) -> str:
    """The text of ``page`` and of its visible attributes, on one line."""
    attributes = " ".join(html.unescape(value) for value in VISIBLE_ATTRIBUTE.findall(page))
    return " ".join(f"{text_of(page)} {attributes}".split())


def shown_as(source: str):
    """A pattern of ``source`` as a page shows it (any short text in place of each placeholder).

    None when the words around the placeholders are too few to tell English from a translation.
    """
    pieces = ANY_PLACEHOLDER.split(source.replace("%%", "%"))
    if sum(len(piece.split()) for piece in pieces) < 2:
        return None
    while pieces and not pieces[0].strip():
        pieces.pop(0)
    while pieces and not pieces[-1].strip():
        pieces.pop()
    return re.compile(".{1,80}?".join(re.escape(" ".join(piece.split())) for piece in pieces))


def english_leaks(page: str, locale: str) -> list[str]:
    """Source strings of several words that show up untranslated in ``page`` (text and visible attributes)."""
    text = visible_text(page)
    cat = load(po_path(locale), locale)
    leaks = []
    for m in entries(cat):
        for source, translated in zip(forms(m.id), forms(m.string), strict=False):
            if source == translated:
                continue
            if ANY_PLACEHOLDER.search(source):
                pattern = shown_as(source)
                if pattern is not None and pattern.search(text):
                    leaks.append(source)
            elif " " in source and source in text:
                leaks.append(source)
    return leaks


ANONYMOUS_PAGES = ["/", "/auth/login", "/auth/signup", "/auth/forgot", "/auth/check-inbox",
                   "/auth/check-inbox?reason=reset", "/auth/reset/not-a-token", "/auth/no-such-page"]
MEMBER_PAGES = ["/{slug}/", "/{slug}/admin/members", "/{slug}/admin/roles", "/{slug}/admin/roles/new",
                "/{slug}/admin/groups/new", "/{slug}/admin/security-log", "/{slug}/admin/settings",
                "/auth/account", "/auth/signup", "/orgs",
                # the customer history while the organisation has no customer yet (the empty states)
                "/{slug}/thirdparties/", "/{slug}/thirdparties/new", "/{slug}/contacts/", "/{slug}/admin/catalog",
                "/{slug}/admin/audit"]


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


def customer_history(app, tenant, browser) -> list[str]:
    """Give ``tenant`` a customer with everything its pages show; return those pages, first the one with the flashes.

    Built as the customer-history tests build it (``tests/customers.py``); notes are written and
    edited by ``browser`` (the owner) as a person would, and the last two actions leave flashes.
    """
    slug = tenant.slug
    vip = make_tag(app, tenant, "VIP", "purple")
    sector = make_field(app, tenant, "Secteur", "choice", choices=("Commerce", "Industrie"), show_in_list=True)
    make_field(app, tenant, "Partenaire", "checkbox")
    make_field(app, tenant, "Anniversaire", "date", entity="contact")
    customer = make_thirdparty(
        app, tenant, "Dupont SARL", is_prospect=True, is_supplier=True, vat_number="FR40303265045",
        website="https://dupont.example", description="Client depuis 2019.", custom={sector: "Commerce"},
        addresses=[["", "12 rue Oberkampf", "75011", "Paris", "FR"]], phones=[["", "+33 1 23 45 67 89"]],
        emails=[["", "contact@dupont.example"]], tag_ids=[vip], reps=[tenant.owner])
    other = make_thirdparty(app, tenant, "Rossi SpA", is_customer=False, is_supplier=True)
    archived = make_thirdparty(app, tenant, "Ancien Client")
    archive_thirdparty(app, tenant, archived.id)
    update_thirdparty(app, tenant, customer.id, name="Dupont & Fils", website="https://dupont-fils.example")
    jeanne = make_contact(app, tenant, customer.id, "Martin", first_name="Jeanne", job_title="Gérante",
                          preferred_channel="email", consent_email=True, phones=[["", "+33 6 12 34 56 78"]])
    luc = make_contact(app, tenant, other.id, "Lefèvre", first_name="Luc")
    move_contact(app, tenant, luc.id, customer.id)

    post_note(browser, tenant, customer.id, "Rappeler lundi.", contact_id=jeanne.id)
    post_note(browser, tenant, customer.id, "Remise de 5 %.", private=True, pinned=True)
    note = notes_of(app, tenant, customer.id)[0]
    catalog = browser.get(f"/{slug}/admin/catalog").get_data(as_text=True)
    field_pages = sorted(set(re.findall(rf'href="(/{slug}/admin/fields/[0-9a-f-]+/edit)"', catalog)))
    assert len(field_pages) == 3

    # Two plain form posts with the token a page carries (fetching a token would show the flashes).
    token = browser.csrf()
    edited = browser.client.post(f"/{slug}/timeline/notes/{note.id}/edit", data={
        "body": "Rappeler mardi.", "version": str(note.version), "base_body": note.body, "csrf_token": token})
    assert edited.status_code == 303  # flash: the note was saved
    bulk = browser.client.post(f"/{slug}/thirdparties/bulk", data={
        "ids": [str(customer.id), str(other.id)], "action": "tag", "tag_id": str(vip), "csrf_token": token})
    assert bulk.status_code == 303  # flash: one line updated (ngettext: Rossi SpA gets the tag, Dupont has it)
    return [
        f"/{slug}/thirdparties/{customer.id}",
        f"/{slug}/", f"/{slug}/thirdparties/", f"/{slug}/thirdparties/?status=all&sort=-updated",
        f"/{slug}/thirdparties/?q=nobody-by-that-name", f"/{slug}/thirdparties/{customer.id}/edit",
        f"/{slug}/thirdparties/{customer.id}?kind=notes", f"/{slug}/thirdparties/{archived.id}",
        f"/{slug}/contacts/", f"/{slug}/contacts/?q=nobody-by-that-name", f"/{slug}/contacts/{jeanne.id}",
        f"/{slug}/contacts/{luc.id}", f"/{slug}/contacts/{jeanne.id}/edit", f"/{slug}/contacts/new?thirdparty={customer.id}",
        f"/{slug}/contacts/{jeanne.id}/move?q=Rossi", f"/{slug}/contacts/{jeanne.id}/move?q=nobody-by-that-name",
        f"/{slug}/timeline/notes/{note.id}/versions", f"/{slug}/timeline/notes/{note.id}/edit",
        f"/{slug}/timeline/notes/{notes_of(app, tenant, customer.id)[1].id}/versions",
        f"/{slug}/admin/catalog", *field_pages, f"/{slug}/admin/audit", f"/{slug}/admin/audit?entity=thirdparty",
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_customer_history_pages_are_translated(app, browser, compiled_catalogues, locale):
    owner = make_user(app, locale=locale)
    tenant = make_tenant(app, owner=owner)
    browser.login(owner.email)
    pages = customer_history(app, tenant, browser)
    flashes = {"fr": ("La note a été enregistrée.", "1 ligne mise à jour."),
               "it": ("La nota è stata salvata.", "1 riga aggiornata.")}[locale]
    for url in pages:
        response = browser.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert f'<html lang="{locale}">' in page, url
        assert english_leaks(page, locale) == [], url
        if url == pages[0]:
            assert all(flash in text_of(page) for flash in flashes), url
    check = browser.get(f"/{tenant.slug}/admin/audit/verify", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert english_leaks(check, locale) == []
    assert {"fr": "Le journal est intact", "it": "Il registro è integro"}[locale] in check


@pytest.mark.parametrize(("locale", "message"), [
    ("fr", "La base de données ne répond pas ; rien n’a été enregistré"),
    ("it", "Il database non risponde; non è stato salvato nulla"),
], ids=["fr", "it"])
def test_the_database_outage_page_is_translated(app, browser, compiled_catalogues, monkeypatch, locale, message):
    from sqlalchemy.exc import OperationalError

    from app.thirdparties import services

    owner = make_user(app, locale=locale)
    tenant = make_tenant(app, owner=owner)
    browser.login(owner.email)

    def database_down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(services, "list_thirdparties", database_down)
    response = browser.get(f"/{tenant.slug}/thirdparties/")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert message.replace(" ;", "\u00a0;") in page
    assert english_leaks(page, locale) == []
