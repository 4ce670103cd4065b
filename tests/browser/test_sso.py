"""Single sign-on in Chromium, against the real OpenID provider (tests/sso/provider.mjs), on a phone:
"Sign in with Google" making the account the first time and going straight in the second; an organisation's own
provider set up by its owner, then a newcomer found by work address, confirming by e-mail and joining with the
default role. Nothing is mocked; pages wait for what they show."""
import re

import pytest

from app.sso import providers
from tests.factories import make_tenant, role_id
from tests.sso.conftest import identities, membership, user_named
from tests.sso.oidc import OidcProvider

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def oidc():
    """The test suite's OpenID provider (as in tests/sso), for this module's journeys."""
    provider = OidcProvider()
    provider.start()
    yield provider
    provider.stop()


def _without_the_providers_web_font(page):
    """The provider's development pages import a web font from the internet, which is not reachable here: it is
    answered empty (the app's own pages load nothing from elsewhere, and their CSP would say so)."""
    page.context.route("https://fonts.googleapis.com/**", lambda route: route.fulfill(status=200, content_type="text/css",
                                                                                     body=""))
    return page


def _through_the_provider(page, oidc, login):
    """At the provider's development pages: sign in as ``login`` (when asked) and consent (when asked)."""
    expect(page).to_have_url(re.compile(re.escape(oidc.issuer)))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button.login-submit").click()
    page.locator("button.login-submit").click()  # the consent page


def test_sign_in_with_google_makes_the_account_then_goes_straight_in(app, pages, live_server, oidc, shot, monkeypatch):
    client_id, secret = oidc.register(live_server("/auth/sso/google/callback"))
    for name, value in (("GOOGLE_CLIENT_ID", client_id), ("GOOGLE_CLIENT_SECRET", secret), ("GOOGLE_ISSUER", oidc.issuer)):
        monkeypatch.setitem(app.config, name, value)
    providers.forget_cached()
    oidc.person("grace", email="grace@hopper.example", email_verified=True, name="Grace Hopper")
    page = _without_the_providers_web_font(pages.phone())
    page.goto("/auth/login")
    expect(page.locator("#sso-google")).to_be_visible()
    shot(page, "phone-sso-buttons")
    page.locator("#sso-google").click()
    _through_the_provider(page, oidc, "grace")
    expect(page.locator("h1")).to_have_text("Your organisations")  # signed in; no organisation yet
    assert user_named(app, "grace@hopper.example").name == "Grace Hopper"
    page.locator(".menu-toggle").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#login-form")).to_be_visible()
    page.locator("#sso-google").click()  # the provider remembers Grace and her consent: straight back in
    expect(page.locator("h1")).to_have_text("Your organisations")
    assert len(identities(app)) == 1
    providers.forget_cached()


def test_organisation_single_sign_on_with_confirmation_and_auto_join(app, pages, sign_in, live_server, oidc,
                                                                        mail_server, shot):
    tenant = make_tenant(app, name="Acme")
    client_id, secret = oidc.register(live_server(f"/auth/sso/org-{tenant.slug}/callback"))
    admin = pages.phone()
    sign_in(admin, tenant.owner.email)
    admin.goto(f"/{tenant.slug}/")
    admin.locator(".menu-toggle").click()
    admin.locator(".admin-menu summary").click()
    admin.get_by_role("link", name="Single sign-on").click()
    expect(admin.locator("#sso-redirect-uri")).to_have_text(live_server(f"/auth/sso/org-{tenant.slug}/callback"))
    admin.locator("#issuer").fill(oidc.issuer)
    admin.locator("#client_id").fill(client_id)
    admin.locator("#client_secret").fill(secret)
    admin.locator("#allowed_domains").fill("acme.example")
    admin.locator("#auto_join").check()
    admin.locator("#default_role_id").select_option(label="Support")
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("#flash")).to_contain_text("The single sign-on settings have been saved.")
    expect(admin.locator("#client_secret")).to_have_value("")  # never shown back
    shot(admin, "phone-sso-admin")

    oidc.person("carol", email="carol@acme.example", name="Carol Acme")
    page = _without_the_providers_web_font(pages.phone())
    page.goto("/auth/login")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.locator("#email").fill("carol@acme.example")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue with the single sign-on of Acme").click()
    _through_the_provider(page, oidc, "carol")
    expect(page.locator("h1")).to_have_text("Check your inbox")
    assert identities(app) == []  # nothing is linked before the address is confirmed
    link = mail_server.last_link("carol@acme.example", "/auth/sso/confirm/")
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Confirm your sign-in")
    page.get_by_role("button", name="Yes, sign me in").click()
    expect(page).to_have_url(live_server(f"/{tenant.slug}/"))
    [identity] = identities(app)
    assert membership(app, tenant, identity.user_id).role_id == role_id(app, tenant, "support")
