"""Two-factor sign-in in a real browser: turn it on from a phone by reading the key the page shows (the codes are
computed with pyotp, as an authenticator app would), keep the recovery codes, sign out, sign in with a code; and
the code step on a desktop, where a remembered device skips it next time."""
import time

import pyotp
import pytest

from tests.factories import add_member, make_tenant, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser
STATUS_422 = r"status of 422 "  # the console line Chromium logs for a form re-rendered with its errors


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def sign_out(page) -> None:
    if page.locator(".menu-toggle").is_visible():
        page.locator(".menu-toggle").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def test_turn_on_two_factor_on_a_phone_then_sign_in_with_a_code(app, pages, sign_in, shot):
    tenant = make_tenant(app, slug="bottega-verdi", name="Bottega Verdi")
    user = add_member(app, tenant, make_user(app, email="giulia@example.com", name="Giulia Verdi"))
    pages.expect_console(STATUS_422)
    phone = pages.phone()
    sign_in(phone, user.email)
    phone.wait_for_url("**/bottega-verdi/")

    phone.goto("/auth/account")
    phone.locator("#two-factor").get_by_text("Turn on two-factor sign-in").click()
    phone.wait_for_url("**/auth/account/two-factor")
    expect(phone.locator("img.qr-code")).to_be_visible()
    code = phone.locator("#code")
    expect(code).to_have_attribute("inputmode", "numeric")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    assert no_sideways_scroll(phone), "the setup page scrolls sideways on a phone"
    shot(phone, "phone-two-factor-setup")
    phone.reload()  # the screenshot leaves style="" on the inputs (Playwright hides the caret), which htmx would copy

    authenticator = pyotp.TOTP(phone.locator("#two-factor-key").inner_text().replace(" ", ""))
    code.fill("000000" if authenticator.now() != "000000" else "111111")  # a wrong code first: refused, nothing on
    phone.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(phone.locator("#two-factor-setup-form .field-error")).to_contain_text("This code is not right")
    phone.locator("#code").fill(authenticator.now())
    phone.get_by_role("button", name="Turn on two-factor sign-in").click()
    phone.wait_for_url("**/auth/account/two-factor/recovery-codes**")
    expect(phone.locator("#recovery-codes li")).to_have_count(10)
    expect(phone.locator(".flash-success")).to_have_text("Two-factor sign-in is on.")
    assert no_sideways_scroll(phone), "the recovery codes scroll sideways on a phone"
    shot(phone, "phone-recovery-codes")
    phone.get_by_role("button", name="I have saved them").click()
    phone.wait_for_url("**/auth/account/two-factor")
    expect(phone.get_by_role("button", name="Turn off two-factor sign-in")).to_be_visible()

    sign_out(phone)
    sign_in(phone, user.email)
    phone.wait_for_url("**/auth/two-factor")
    expect(phone.locator("h1")).to_have_text("Two-factor sign-in")
    expect(phone.locator("#code")).to_be_focused()
    assert no_sideways_scroll(phone), "the code step scrolls sideways on a phone"
    shot(phone, "phone-two-factor-sign-in")
    phone.locator("#code").fill(authenticator.at(time.time() + 30))  # the next code: the one used above is spent
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url("**/bottega-verdi/")
    expect(phone.locator("h1")).to_have_text("Bottega Verdi")


def test_remembered_desktop_skips_the_code_step(app, pages, sign_in):
    tenant = make_tenant(app, slug="studio-neri", name="Studio Neri")
    user = add_member(app, tenant, make_user(app, email="paolo@example.com", name="Paolo Neri"))
    from tests.auth.test_two_factor import turn_on

    _secret, codes = turn_on(app, user)
    desk = pages.desktop()
    sign_in(desk, user.email)
    desk.wait_for_url("**/auth/two-factor")
    desk.get_by_text("Use a recovery code instead").click()  # keyboard and pointer: a plain <details>
    desk.locator("#recovery").fill(codes[0].upper())
    desk.get_by_label("Remember this device for 30 days").check()
    desk.get_by_role("button", name="Sign in").click()
    desk.wait_for_url("**/studio-neri/")
    expect(desk.locator(".flash-info")).to_contain_text("Recovery codes left: 9.")
    sign_out(desk)
    sign_in(desk, user.email)
    desk.wait_for_url("**/studio-neri/")  # straight in: this browser is remembered
