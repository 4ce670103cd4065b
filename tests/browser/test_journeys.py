"""Whole journeys in a real browser: the live server, real SMTP, the real database, Chromium.

Nothing is mocked. Pages wait for what they show (Playwright's auto-waiting), never for a time.
"""
import re
from pathlib import Path

import pytest

from tests.factories import add_member, make_tenant, make_user, membership_id, role_id
from tests.helpers import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"
NETWORK_ERROR = "The server could not be reached. Nothing was lost: what you typed is still here"
STATUS_422 = r"status of 422 "  # the console line Chromium logs for a form re-rendered with its errors


def mark_document(page) -> None:
    """Tag the current document; a full page load would lose the tag."""
    page.evaluate("window.__storiaSameDocument = true")


def same_document(page) -> bool:
    return page.evaluate("window.__storiaSameDocument === true")


def html_lang(page):
    return expect(page.locator("html"))


def translated(lang: str, text: str) -> str | None:
    """The compiled translation of ``text`` into ``lang``; None while there is no catalogue for it."""
    from babel.support import Translations

    if not (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").exists():
        return None
    result = Translations.load(str(TRANSLATIONS), [lang]).gettext(text)
    return result if result != text else None


# --- (a) the team journey ----------------------------------------------------------------------

def test_team_journey_signup_invite_accept_and_switch(app, pages, live_server, mail_server, shot):
    """Sign up with the e-mailed link, invite a colleague who already has an account and an
    organisation, let them accept, and switch between their two organisations."""
    invitee = make_user(app, email="bruno@example.com", name="Bruno Bianchi")
    make_tenant(app, slug="bianchi-srl", name="Bianchi Srl", owner=invitee)

    # Anna signs up (desktop) and confirms from the e-mail the SMTP server received.
    anna = pages.desktop()
    anna.goto("/auth/signup")
    anna.locator("#org_name").fill("Atelier Rossi")
    anna.locator("#slug").fill("atelier-rossi")
    anna.locator("#name").fill("Anna Rossi")
    anna.locator("#email").fill("anna@example.com")
    anna.locator("#password").fill(PASSWORD)
    anna.locator("#signup-form button[type=submit]").click()
    anna.wait_for_url("**/auth/check-inbox?reason=signup")
    expect(anna.locator("h1")).to_have_text("Check your inbox")

    confirm_link = mail_server.last_link("anna@example.com", "/auth/signup/confirm/")
    assert confirm_link.startswith(live_server.url)
    anna.goto(confirm_link)
    expect(anna.get_by_text("You are about to create Atelier Rossi with the account anna@example.com.")).to_be_visible()
    anna.get_by_role("button", name="Confirm and create").click()
    anna.wait_for_url(live_server("/atelier-rossi/"))
    expect(anna.locator("h1")).to_have_text("Atelier Rossi")
    expect(anna.locator(".org-switch summary")).to_have_text("Atelier Rossi")

    # She invites Bruno as Support from the team page.
    anna.locator("#nav-links .admin-menu summary").click()  # the administration links fold into one menu
    anna.locator("#nav-links").get_by_role("link", name="Team").click()
    anna.wait_for_url(live_server("/atelier-rossi/admin/members"))
    anna.locator("#invite-form #email").fill("bruno@example.com")
    anna.locator("#invite-form #role_id").select_option(label="Support")
    anna.get_by_role("button", name="Send the invitation").click()
    expect(anna.locator("#flash")).to_contain_text("Invitation sent to bruno@example.com.")
    expect(anna.locator(".card-list")).to_contain_text("bruno@example.com · Support")

    # Bruno opens the link on his phone, signs in with his existing account and accepts.
    invite_link = mail_server.last_link("bruno@example.com", "/auth/invite/")
    assert invite_link.startswith(live_server.url)
    bruno = pages.phone()
    bruno.goto(invite_link)
    expect(bruno.locator("h1")).to_have_text("Join Atelier Rossi")
    expect(bruno.get_by_text("You are invited to join Atelier Rossi on Storia as Support.")).to_be_visible()
    bruno.get_by_role("button", name="Sign in to accept").tap()
    bruno.wait_for_url(re.compile(r"/auth/login\?next="))
    bruno.locator("#email").fill("bruno@example.com")
    bruno.locator("#password").fill(PASSWORD)
    bruno.locator("#login-form button[type=submit]").tap()
    bruno.wait_for_url(invite_link)
    bruno.get_by_role("button", name="Accept and join").tap()
    bruno.wait_for_url(live_server("/atelier-rossi/"))
    expect(bruno.locator("#flash")).to_contain_text("Welcome to Atelier Rossi.")
    expect(bruno.locator("h1")).to_have_text("Atelier Rossi")
    # Support has no team administration: the link is not offered.
    expect(bruno.locator("#nav-links").get_by_role("link", name="Team")).to_have_count(0)

    # He switches to his own organisation and back, from the navigation.
    switcher = bruno.locator(".org-switch")
    switcher.locator("summary").tap()
    expect(switcher.get_by_role("link", name="Atelier Rossi")).to_have_attribute("aria-current", "page")
    shot(bruno, "phone-org-switch-open")
    switcher.get_by_role("link", name="Bianchi Srl").tap()
    bruno.wait_for_url(live_server("/bianchi-srl/"))
    expect(bruno.locator("h1")).to_have_text("Bianchi Srl")
    expect(switcher.locator("summary")).to_have_text("Bianchi Srl")
    switcher.locator("summary").tap()
    switcher.get_by_role("link", name="Atelier Rossi").tap()
    bruno.wait_for_url(live_server("/atelier-rossi/"))
    expect(switcher.locator("summary")).to_have_text("Atelier Rossi")

    # Anna sees Bruno in her team with the role she chose, and no open invitation left.
    anna.reload()
    row = anna.locator("#member-table tr", has_text="bruno@example.com")
    expect(row.locator("select option:checked")).to_have_text("Support")
    expect(row.locator(".badge")).to_have_text("Active")
    expect(anna.get_by_text("No open invitations.")).to_be_visible()


# --- (b) the language switch -------------------------------------------------------------------

def test_language_switch_persists_across_pages_and_sign_in(app, pages, sign_in, live_server):
    """The footer switch changes <html lang>, keeps it on later pages, through sign-in, and
    saves it on the account once signed in."""
    tenant = make_tenant(app, slug="maison-dupont", name="Maison Dupont",
                         owner=make_user(app, email="claire@example.com", name="Claire Dupont", locale=None))
    page = pages.desktop()
    page.goto("/auth/login")
    html_lang(page).to_have_attribute("lang", "en")

    with page.expect_navigation():
        page.locator("#lang-select").select_option(label="Français")
    page.wait_for_url(live_server("/auth/login"))
    html_lang(page).to_have_attribute("lang", "fr")
    expect(page.locator("#lang-select")).to_have_value("fr")
    if heading := translated("fr", "Sign in"):
        expect(page.locator("h1")).to_have_text(heading)

    page.goto("/auth/signup")
    html_lang(page).to_have_attribute("lang", "fr")
    page.goto("/auth/forgot")
    html_lang(page).to_have_attribute("lang", "fr")

    sign_in(page, tenant.owner.email)
    page.wait_for_url(live_server("/maison-dupont/"))
    html_lang(page).to_have_attribute("lang", "fr")
    expect(page.locator("#lang-select")).to_have_value("fr")

    # Signed in, the choice is saved on the account.
    with page.expect_navigation():
        page.locator("#lang-select").select_option(label="Italiano")
    page.wait_for_url(live_server("/maison-dupont/"))
    html_lang(page).to_have_attribute("lang", "it")
    if welcome := translated("it", "Welcome, %(name)s."):
        expect(page.get_by_text(welcome % {"name": "Claire Dupont"})).to_be_visible()
    page.goto("/maison-dupont/admin/members")
    html_lang(page).to_have_attribute("lang", "it")

    # Another browser (fresh cookies, English by Accept-Language) gets Italian after signing in.
    other = pages.phone()
    other.goto("/auth/login")
    html_lang(other).to_have_attribute("lang", "en")
    sign_in(other, tenant.owner.email)
    other.wait_for_url(live_server("/maison-dupont/"))
    html_lang(other).to_have_attribute("lang", "it")


# --- (c) inline validation ---------------------------------------------------------------------

def test_signup_form_validates_in_place_and_keeps_typed_values(app, pages, live_server, mail_server):
    make_tenant(app, slug="taken-slug", name="Already There")
    pages.expect_console(STATUS_422)
    page = pages.phone()
    page.goto("/auth/signup")
    mark_document(page)
    slug, feedback = page.locator("#slug"), page.locator("#slug-feedback")

    # The live check answers while typing.
    slug.press_sequentially("taken-slug")
    expect(feedback).to_have_text("This address is already taken; choose another.")
    expect(feedback).to_have_class("field-error")
    slug.fill("admin")
    expect(feedback).to_have_text("This address is reserved; choose another.")
    slug.fill("fresh-name-42")
    expect(feedback).to_have_text("fresh-name-42 is available.")
    expect(feedback).to_have_class("field-ok")
    slug.fill("taken-slug")
    expect(feedback).to_have_text("This address is already taken; choose another.")

    # Submitted with a taken address and a weak password: the form comes back in place.
    page.locator("#org_name").fill("Studio Neri")
    page.locator("#name").fill("Dario Neri")
    page.locator("#email").fill("dario@example.com")
    page.locator("#password").fill("short")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/auth/signup")) as answer:
        page.locator("#signup-form button[type=submit]").tap()
    assert answer.value.status == 422
    form = page.locator("#signup-form")
    expect(form.locator("p.flash-error")).to_have_text("Please correct the fields marked below.")
    expect(feedback).to_have_text("This address is already taken; choose another.")
    expect(slug).to_have_attribute("aria-invalid", "true")
    password_error = page.locator("#password-error")
    expect(password_error).to_have_text("Use at least 10 characters.")
    expect(page.locator("#password")).to_have_attribute("aria-describedby", "password-error")
    for field_id, value in [("org_name", "Studio Neri"), ("slug", "taken-slug"), ("name", "Dario Neri"),
                            ("email", "dario@example.com")]:
        expect(page.locator(f"#{field_id}")).to_have_value(value)
    assert same_document(page), "the form was re-rendered by a full page load"
    _assert_just_below(page.locator("#password"), password_error)
    _assert_just_below(page.locator(".slug-input"), feedback)

    # Corrected, the same form goes through.
    slug.fill("studio-neri")
    expect(feedback).to_have_text("studio-neri is available.")
    page.locator("#password").fill(PASSWORD)
    page.locator("#signup-form button[type=submit]").tap()
    page.wait_for_url("**/auth/check-inbox?reason=signup")
    assert mail_server.last_link("dario@example.com", "/auth/signup/confirm/")


def _assert_just_below(field_locator, message_locator, within: float = 60):
    """The message sits under its field (not elsewhere on the page)."""
    field, message = field_locator.bounding_box(), message_locator.bounding_box()
    assert field and message
    gap = message["y"] - (field["y"] + field["height"])
    assert -12 <= gap <= within, f"message {gap:.0f}px from its field"


# --- (d) the team table ------------------------------------------------------------------------

def test_role_change_and_deactivation_update_the_row_in_place(app, pages, sign_in, live_server):
    tenant = make_tenant(app, slug="verdi-co", name="Verdi & Co")
    carla = add_member(app, tenant, make_user(app, email="carla@example.com", name="Carla Verdi"), role="sales")
    member_id, support_id = membership_id(app, tenant, carla), str(role_id(app, tenant, "support"))
    page = pages.desktop()
    sign_in(page, tenant.owner.email)
    page.goto("/verdi-co/admin/members")
    mark_document(page)
    row = page.locator(f"#member-{member_id}")
    expect(row.locator("select option:checked")).to_have_text("Sales")

    with page.expect_response(lambda r: r.url.endswith(f"/members/{member_id}/role")) as answer:
        row.locator("select").select_option(label="Support")
    assert answer.value.status == 200
    expect(page.locator("#flash")).to_have_text("Carla Verdi is now Support.")
    expect(row.locator("select")).to_have_value(support_id)

    # Deactivation asks first; dismissing sends nothing, accepting updates the row.
    posts = []
    page.on("request", lambda r: r.method == "POST" and "/deactivate" in r.url and posts.append(r.url))
    dialogs = []

    def answer_dialog(dialog, accept):
        dialogs.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer_dialog(d, accept=False))
    row.get_by_role("button", name="Deactivate").click()
    page.once("dialog", lambda d: answer_dialog(d, accept=True))
    with page.expect_response(lambda r: r.url.endswith(f"/members/{member_id}/deactivate")) as answer:
        row.get_by_role("button", name="Deactivate").click()
    assert answer.value.status == 200
    assert dialogs == ["Deactivate Carla Verdi? Their access ends at once."] * 2
    assert len(posts) == 1, "the dismissed confirmation still sent a request"
    expect(row.locator(".badge")).to_have_text("Deactivated")
    expect(row.get_by_role("button", name="Reactivate")).to_be_visible()
    expect(page.locator("#flash")).to_have_text("Carla Verdi no longer has access.")
    assert same_document(page), "the team page was reloaded instead of updating the row"

    # Both changes are stored.
    page.reload()
    expect(row.locator("select")).to_have_value(support_id)
    expect(row.locator(".badge")).to_have_text("Deactivated")


# --- (e) T19-lite: the server does not answer --------------------------------------------------

def test_signup_keeps_typed_text_when_the_server_cannot_be_reached(app, pages, live_server, mail_server):
    pages.expect_console(r"net::ERR_FAILED", r"^htmx:(sendError|afterRequest), ")
    page = pages.phone()
    page.route("**/auth/signup", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    page.goto("/auth/signup")
    mark_document(page)
    typed = {"org_name": "Ferri Logistica", "slug": "ferri-logistica", "name": "Elena Ferri",
             "email": "elena@example.com", "password": PASSWORD}
    for field_id, value in typed.items():
        page.locator(f"#{field_id}").fill(value)
    expect(page.locator("#slug-feedback")).to_have_text("ferri-logistica is available.")
    submit = page.locator("#signup-form button[type=submit]")
    submit.tap()

    expect(page.locator("#flash")).to_contain_text(NETWORK_ERROR)
    for field_id, value in typed.items():
        expect(page.locator(f"#{field_id}")).to_have_value(value)
    expect(submit).to_be_enabled()
    assert same_document(page)
    assert mail_server.to("elena@example.com") == []

    # The server answers again: the same typed text goes through, once.
    page.unroute("**/auth/signup")
    submit.tap()
    page.wait_for_url("**/auth/check-inbox?reason=signup")
    assert len(mail_server.to("elena@example.com")) == 1


def test_invitation_keeps_typed_text_when_the_server_cannot_be_reached(app, pages, sign_in, live_server, mail_server):
    pages.expect_console(r"net::ERR_CONNECTION_RESET", r"^htmx:(sendError|afterRequest), ")
    tenant = make_tenant(app, slug="gallo-snc", name="Gallo snc")
    page = pages.desktop()
    sign_in(page, tenant.owner.email)
    page.goto("/gallo-snc/admin/members")
    page.route("**/gallo-snc/admin/invitations", lambda route: route.abort("connectionreset"))
    page.locator("#invite-form #email").fill("franca@example.com")
    page.locator("#invite-form #role_id").select_option(label="Accounting")
    page.get_by_role("button", name="Send the invitation").click()

    expect(page.locator("#flash")).to_contain_text(NETWORK_ERROR)
    expect(page.locator("#invite-form #email")).to_have_value("franca@example.com")
    expect(page.locator("#invite-form #role_id option:checked")).to_have_text("Accounting")
    expect(page.get_by_text("No open invitations.")).to_be_visible()

    page.unroute("**/gallo-snc/admin/invitations")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("#flash")).to_contain_text("Invitation sent to franca@example.com.")
    expect(page.locator(".card-list")).to_contain_text("franca@example.com · Accounting")
    assert len(mail_server.to("franca@example.com")) == 1


# --- (f) the phone navigation ------------------------------------------------------------------

def test_phone_navigation_opens_behind_the_menu_button(app, pages, sign_in, live_server, shot):
    tenant = make_tenant(app, slug="moretti", name="Moretti Design")
    page = pages.phone()
    page.goto("/")
    # The menu is a <details>: its summary says whether it is open (no aria-expanded to keep in step by script).
    menu, toggle, links = page.locator(".site-menu"), page.locator(".menu-toggle"), page.locator("#nav-links")
    expect(toggle).to_be_visible()
    expect(links).to_be_hidden()
    expect(menu).not_to_have_attribute("open", "")
    toggle.tap()
    expect(links).to_be_visible()
    expect(menu).to_have_attribute("open", "")
    expect(links.get_by_role("link", name="Sign in")).to_be_visible()
    toggle.tap()
    expect(links).to_be_hidden()
    expect(menu).not_to_have_attribute("open", "")

    sign_in(page, tenant.owner.email)
    page.wait_for_url(live_server("/moretti/"))
    expect(page.locator(".org-switch summary")).to_be_visible()
    expect(links).to_be_hidden()
    toggle.tap()
    expect(links.get_by_role("link", name="Customers")).to_be_visible()
    links.locator(".admin-menu summary").tap()
    expect(links.get_by_role("link", name="Security log")).to_be_visible()
    shot(page, "phone-nav-open")
    links.get_by_role("link", name="Team").tap()
    page.wait_for_url(live_server("/moretti/admin/members"))
    expect(links).to_be_hidden()  # a new page starts with the menu closed

    # On a desktop the links are shown and the menu button is not.
    desk = pages.desktop()
    sign_in(desk, tenant.owner.email)
    expect(desk.locator(".menu-toggle")).to_be_hidden()
    expect(desk.locator("#nav-links").get_by_role("link", name="Customers")).to_be_visible()
    desk.locator("#nav-links .admin-menu summary").click()
    expect(desk.locator("#nav-links").get_by_role("link", name="Team")).to_be_visible()
