"""Every main page at phone size (390×844), plus the desktop home and team pages.

Each page must load without a console error or CSP violation and must not scroll sideways on a
phone. The screenshots land in test-artifacts/screenshots/ for a human to look at.
"""
from dataclasses import dataclass

import pytest

from app.admin.services import get_role, invite_member
from app.extensions import db
from app.models import utcnow
from app.permissions import load_viewer
from app.tenancy import tenant_context
from tests.factories import CLIENT, add_member, make_tenant, make_user, role_id

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

SLUG = "bottega-lunga"
PHONE_WIDTH = 390


@dataclass(frozen=True)
class Screen:
    name: str           # the screenshot is <device>-<name>.png
    path: str
    heading: str        # the page's <h1>, to know it is the page we meant
    signed_in: bool = True
    status: int = 200


SCREENS = [
    Screen("landing", "/", "Every customer's whole story, on one live timeline.", signed_in=False),
    Screen("signup", "/auth/signup", "Create your organisation", signed_in=False),
    Screen("signin", "/auth/login", "Sign in", signed_in=False),
    Screen("forgot-password", "/auth/forgot", "Forgot your password?", signed_in=False),
    Screen("check-inbox", "/auth/check-inbox?reason=signup", "Check your inbox", signed_in=False),
    Screen("account", "/auth/account", "My account"),
    Screen("organisations", "/orgs", "Your organisations"),
    Screen("home", f"/{SLUG}/", "Bottega Lunga dei Fratelli Montagnani e Figli"),
    Screen("team", f"/{SLUG}/admin/members", "Team"),
    Screen("roles", f"/{SLUG}/admin/roles", "Roles"),
    Screen("role-form", f"/{SLUG}/admin/roles/new", "New role"),
    Screen("group-form", f"/{SLUG}/admin/groups/new", "New group"),
    Screen("security-log", f"/{SLUG}/admin/security-log", "Security log"),
    Screen("settings", f"/{SLUG}/admin/settings", "Organisation settings"),
    Screen("404", "/no-such-organisation/", "Not found", signed_in=False, status=404),
]


@pytest.fixture
def organisation(app):
    """An organisation with long names (the usual cause of sideways scrolling), a few members,
    an open invitation and a second organisation for the chooser."""
    owner = make_user(app, email="margherita.montagnani-dellarovere@bottega-lunga.example.com",
                      name="Margherita Montagnani della Rovere")
    tenant = make_tenant(app, slug=SLUG, name="Bottega Lunga dei Fratelli Montagnani e Figli", owner=owner)
    make_tenant(app, slug="seconda-sede", name="Seconda Sede", owner=owner)
    add_member(app, tenant, make_user(app, email="giovanni.battista.serafini@bottega-lunga.example.com",
                                      name="Giovanni Battista Serafini"), role="accounting")
    add_member(app, tenant, make_user(app, email="lucia@example.com", name="Lucia Bassi"), role="support", active=False)
    support = role_id(app, tenant, "support")
    with app.app_context(), tenant_context(tenant.id, user_id=owner.id):
        invite_member(load_viewer(owner.id), "new.colleague.with.a.long.address@bottega-lunga.example.com",
                      get_role(support), utcnow() + app.config["INVITATION_MAX_AGE"], CLIENT)
        db.session.commit()
    return tenant


def _check(page, screen: Screen, shot, device: str):
    expect(page.locator("h1")).to_have_text(screen.heading)
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    shot(page, f"{device}-{screen.name}")
    assert width <= viewport, f"{screen.path} scrolls sideways at {viewport}px: {width}px wide"


@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_phone_page(screen, organisation, pages, sign_in, shot):
    if screen.status != 200:
        pages.expect_console(rf"status of {screen.status} ")
    page = pages.phone()
    if screen.signed_in:
        sign_in(page, organisation.owner.email)
    response = page.goto(screen.path)
    assert response.status == screen.status
    _check(page, screen, shot, "phone")


@pytest.mark.parametrize("name", ["home", "team"])
def test_desktop_page(name, organisation, pages, sign_in, shot):
    screen = next(s for s in SCREENS if s.name == name)
    page = pages.desktop()
    sign_in(page, organisation.owner.email)
    assert page.goto(screen.path).status == 200
    _check(page, screen, shot, "desktop")
