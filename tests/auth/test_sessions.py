"""The life of a sign-in session (QUALITY T15): fixation, logout replay, deactivation, password change,
idle and absolute expiry, cookie flags."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuthSession, Invitation
from app.tenancy import tenant_context
from tests.auth.conftest import (
    SESSION_COOKIE,
    browser_with_cookie,
    is_signed_in,
    session_cookie,
    session_token,
    sessions_of,
)
from tests.factories import add_member, make_tenant, make_user, membership_id, role_id
from tests.helpers import PASSWORD, csrf_from

NEW_PASSWORD = "violet lantern mosaic orchard"


def _move_session_back(app, user, *, created=timedelta(0), last_seen=timedelta(0)):
    """Pretend the user's live session began ``created`` earlier and was last used ``last_seen`` earlier."""
    with app.app_context():
        row = db.session.scalar(select(AuthSession).where(AuthSession.user_id == user.id,
                                                          AuthSession.ended_at.is_(None)))
        row.created_at -= created
        row.last_seen_at -= last_seen
        db.session.commit()


def _set_cookie_header(response) -> str:
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{SESSION_COOKIE}=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def test_login_issues_a_new_session_token_every_time(app, new_browser):
    user = make_user(app)
    tokens = []
    for _ in range(5):
        browser = new_browser()
        browser.login(user.email)
        tokens.append(session_token(app, browser))
    assert None not in tokens
    assert len(set(tokens)) == 5
    assert len({row.token_hash for row in sessions_of(app, user)}) == 5


def test_session_table_stores_only_a_hash_of_the_token(app, browser):
    user = make_user(app)
    browser.login(user.email)
    token = session_token(app, browser)
    [row] = sessions_of(app, user)
    assert token not in row.token_hash
    assert len(row.token_hash) == 64


def test_pre_set_cookie_does_not_authenticate_after_login(app, browser):
    """Session fixation: a cookie planted before the victim signs in gives the attacker nothing."""
    user = make_user(app)
    browser.get("/auth/login")  # the anonymous session an attacker could have planted
    planted = session_cookie(browser)
    assert planted is not None
    browser.login(user.email)
    assert session_cookie(browser) != planted
    assert not is_signed_in(browser_with_cookie(app, planted))
    assert is_signed_in(browser)


def test_login_over_an_existing_session_ends_the_old_token(app, browser):
    """Re-authentication gives a new token and ends the previous one (ASVS 7.2.4)."""
    first, second = make_user(app), make_user(app)
    browser.login(first.email)
    old_cookie = session_cookie(browser)
    browser.post("/auth/login", {"email": second.email, "password": PASSWORD})
    assert session_cookie(browser) != old_cookie
    assert not is_signed_in(browser_with_cookie(app, old_cookie))


def test_logged_out_cookie_no_longer_authenticates(app, browser):
    """Logout replay: the cookie captured before logout is refused afterwards."""
    tenant = make_tenant(app)
    browser.login(tenant.owner.email)
    captured = session_cookie(browser)
    assert browser_with_cookie(app, captured).get(f"/{tenant.slug}/").status_code == 200
    browser.logout()
    replay = browser_with_cookie(app, captured)
    response = replay.get(f"/{tenant.slug}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert not is_signed_in(replay)


def test_logged_out_cookie_is_refused_for_htmx_requests(app, browser):
    tenant = make_tenant(app)
    browser.login(tenant.owner.email)
    captured = session_cookie(browser)
    browser.logout()
    response = browser_with_cookie(app, captured).get(f"/{tenant.slug}/admin/members", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/auth/login")
    assert "invite-form" not in response.get_data(as_text=True)


def test_logged_out_cookie_cannot_post_even_with_its_csrf_token(app, browser):
    tenant = make_tenant(app)
    browser.login(tenant.owner.email)
    token = csrf_from(browser.get(f"/{tenant.slug}/").get_data(as_text=True))
    captured = session_cookie(browser)  # now holding the session's CSRF secret too
    browser.logout()
    replay = browser_with_cookie(app, captured)
    response = replay.client.post(f"/{tenant.slug}/admin/invitations", headers={"HX-Request": "true"}, data={
        "email": "stranger@example.com", "role_id": str(role_id(app, tenant, "admin")), "csrf_token": token})
    assert response.headers["HX-Redirect"].startswith("/auth/login")
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.scalars(select(Invitation)).all() == []


def test_logout_ends_the_server_side_session(app, browser):
    user = make_user(app)
    browser.login(user.email)
    browser.logout()
    [row] = sessions_of(app, user)
    assert row.ended_at is not None


def test_logout_ends_only_the_current_session(app, new_browser):
    user = make_user(app)
    laptop, phone = new_browser(), new_browser()
    laptop.login(user.email)
    phone.login(user.email)
    laptop.logout()
    assert not is_signed_in(laptop)
    assert is_signed_in(phone)


def test_deactivated_member_loses_access_to_that_tenant_at_once(app, new_browser):
    tenant = make_tenant(app)
    member = add_member(app, tenant, role="sales")
    member_browser, owner_browser = new_browser(), new_browser()
    member_browser.login(member.email)
    assert member_browser.get(f"/{tenant.slug}/").status_code == 200
    owner_browser.login(tenant.owner.email)
    response = owner_browser.post(f"/{tenant.slug}/admin/members/{membership_id(app, tenant, member)}/deactivate",
                                  htmx=True)
    assert response.status_code == 200
    assert member_browser.get(f"/{tenant.slug}/").status_code == 403
    assert member_browser.get(f"/{tenant.slug}/", headers={"HX-Request": "true"}).status_code == 403


def test_deactivated_member_keeps_their_other_tenants(app, new_browser):
    first, second = make_tenant(app), make_tenant(app)
    member = add_member(app, first, role="sales")
    add_member(app, second, member, role="sales")
    member_browser, owner_browser = new_browser(), new_browser()
    member_browser.login(member.email)
    owner_browser.login(first.owner.email)
    owner_browser.post(f"/{first.slug}/admin/members/{membership_id(app, first, member)}/deactivate", htmx=True)
    assert member_browser.get(f"/{first.slug}/").status_code == 403
    assert member_browser.get(f"/{second.slug}/").status_code == 200


def test_deactivated_member_is_refused_on_admin_actions(app, new_browser):
    tenant = make_tenant(app)
    member = add_member(app, tenant, role="admin")
    member_browser, owner_browser = new_browser(), new_browser()
    member_browser.login(member.email)
    owner_browser.login(tenant.owner.email)
    owner_browser.post(f"/{tenant.slug}/admin/members/{membership_id(app, tenant, member)}/deactivate", htmx=True)
    response = member_browser.post(f"/{tenant.slug}/admin/invitations", htmx=True, data={
        "email": "new@example.com", "role_id": str(role_id(app, tenant, "sales"))})
    assert response.status_code == 403
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.scalars(select(Invitation)).all() == []


def test_password_change_ends_the_other_sessions(app, new_browser):
    user = make_user(app)
    current, other = new_browser(), new_browser()
    current.login(user.email)
    other.login(user.email)
    response = current.post("/auth/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})
    assert response.status_code == 303
    assert not is_signed_in(other)


def test_password_change_keeps_the_current_session(app, new_browser):
    user = make_user(app)
    current, other = new_browser(), new_browser()
    current.login(user.email)
    other.login(user.email)
    current.post("/auth/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})
    assert is_signed_in(current)


def test_idle_session_expires_after_the_idle_timeout(app, browser):
    user = make_user(app)
    browser.login(user.email)
    _move_session_back(app, user, last_seen=app.config["SESSION_IDLE_TIMEOUT"] + timedelta(minutes=1))
    assert not is_signed_in(browser)
    [row] = sessions_of(app, user)
    assert row.ended_at is not None


def test_session_used_just_inside_the_idle_timeout_still_works(app, browser):
    user = make_user(app)
    browser.login(user.email)
    _move_session_back(app, user, last_seen=app.config["SESSION_IDLE_TIMEOUT"] - timedelta(minutes=1))
    assert is_signed_in(browser)


def test_activity_restarts_the_idle_timer(app, browser):
    user = make_user(app)
    browser.login(user.email)
    almost_idle = app.config["SESSION_IDLE_TIMEOUT"] - timedelta(minutes=1)
    _move_session_back(app, user, last_seen=almost_idle)
    assert is_signed_in(browser)  # this request is the activity
    _move_session_back(app, user, last_seen=almost_idle)  # idle twice over, had it not been reset
    assert is_signed_in(browser)


def test_session_expires_after_the_absolute_lifetime_even_when_active(app, browser):
    user = make_user(app)
    browser.login(user.email)
    _move_session_back(app, user, created=app.config["SESSION_ABSOLUTE_TIMEOUT"] + timedelta(minutes=1))
    assert not is_signed_in(browser)


def test_session_just_inside_the_absolute_lifetime_still_works(app, browser):
    user = make_user(app)
    browser.login(user.email)
    _move_session_back(app, user, created=app.config["SESSION_ABSOLUTE_TIMEOUT"] - timedelta(minutes=1))
    assert is_signed_in(browser)


def test_expired_session_stays_ended_when_the_clock_is_moved_back(app, browser):
    """An ended session is never revived, even if its timestamps would allow it again."""
    user = make_user(app)
    browser.login(user.email)
    _move_session_back(app, user, last_seen=app.config["SESSION_IDLE_TIMEOUT"] + timedelta(minutes=1))
    cookie = session_cookie(browser)
    assert not is_signed_in(browser)
    with app.app_context():
        row = db.session.scalar(select(AuthSession).where(AuthSession.user_id == user.id))
        row.last_seen_at = row.created_at
        db.session.commit()
    assert not is_signed_in(browser_with_cookie(app, cookie))


def test_session_timeouts_are_configured_within_bounds(app):
    assert timedelta(minutes=5) <= app.config["SESSION_IDLE_TIMEOUT"] <= timedelta(hours=24)
    assert app.config["SESSION_IDLE_TIMEOUT"] < app.config["SESSION_ABSOLUTE_TIMEOUT"] <= timedelta(days=30)


@pytest.mark.parametrize("flag", ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"])
def test_session_cookie_carries_the_security_flags(app, browser, flag):
    user = make_user(app)
    header = _set_cookie_header(browser.login(user.email))
    assert flag in [part.strip() for part in header.split(";")]


def test_session_cookie_uses_the_host_prefix_without_a_domain(app, browser):
    user = make_user(app)
    header = _set_cookie_header(browser.login(user.email))
    assert header.startswith("__Host-")
    assert "domain=" not in header.lower()
