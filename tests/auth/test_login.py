"""Signing in (QUALITY T14): success, no enumeration, no GET credentials, throttling, safe `next`, logging."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import LoginAttempt
from tests.auth.conftest import is_signed_in, security_log, sessions_of, without_csrf
from tests.factories import add_member, make_tenant, make_user
from tests.helpers import PASSWORD

WRONG = "not the right password at all"


def _login(browser, email, password=PASSWORD, **extra):
    return browser.post("/auth/login", {"email": email, "password": password, **extra})


def _fail(browser, email, times):
    for _ in range(times):
        assert _login(browser, email, WRONG).status_code == 422


def _age_login_attempts(app, by: timedelta):
    """Move every recorded attempt ``by`` into the past (instead of waiting for the window to pass)."""
    with app.app_context():
        for attempt in db.session.scalars(select(LoginAttempt)):
            attempt.attempted_at -= by
        db.session.commit()


def _answer(response, email):
    """Status and page, with the CSRF tokens and the typed e-mail blanked, for comparisons."""
    return response.status_code, without_csrf(response.get_data(as_text=True)).replace(email, "EMAIL")


def test_login_redirects_with_303_and_opens_a_session(app, browser):
    user = make_user(app)
    response = _login(browser, user.email)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert is_signed_in(browser)
    assert len(sessions_of(app, user)) == 1


def test_login_email_is_case_and_space_insensitive(app, browser):
    make_user(app, email="casey@example.com")
    assert _login(browser, "  Casey@Example.COM ").status_code == 303
    assert is_signed_in(browser)


def test_wrong_password_and_unknown_email_give_the_same_answer(app, new_browser):
    user = make_user(app, email="alice@example.com")
    wrong_password = _login(new_browser(), user.email, WRONG)
    unknown_email = _login(new_browser(), "nobody@example.com", WRONG)
    assert wrong_password.status_code == 422
    assert _answer(wrong_password, user.email) == _answer(unknown_email, "nobody@example.com")
    assert "Wrong e-mail or password." in wrong_password.get_data(as_text=True)


def test_wrong_password_and_unknown_email_give_the_same_htmx_fragment(app, new_browser):
    user = make_user(app, email="alice@example.com")
    wrong_password = new_browser().post("/auth/login", {"email": user.email, "password": WRONG}, htmx=True)
    unknown_email = new_browser().post("/auth/login", {"email": "nobody@example.com", "password": WRONG}, htmx=True)
    assert wrong_password.status_code == 422
    assert "<html" not in wrong_password.get_data(as_text=True)
    assert _answer(wrong_password, user.email) == _answer(unknown_email, "nobody@example.com")


def test_wrong_password_opens_no_session(app, browser):
    user = make_user(app)
    _login(browser, user.email, WRONG)
    assert not is_signed_in(browser)
    assert sessions_of(app, user) == []


def test_credentials_in_a_get_query_string_never_sign_in(app, browser):
    user = make_user(app)
    response = browser.get("/auth/login", query_string={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200  # the empty form, nothing more
    assert PASSWORD not in response.get_data(as_text=True)
    assert not is_signed_in(browser)
    assert sessions_of(app, user) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_login_without_csrf_token_is_refused(app, client):
    user = make_user(app)
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert sessions_of(app, user) == []


def test_account_throttle_refuses_the_right_password(app, browser):
    user = make_user(app)
    _fail(browser, user.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    response = _login(browser, user.email)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert not is_signed_in(browser)
    assert sessions_of(app, user) == []


def test_account_throttle_allows_the_last_attempt_below_the_limit(app, browser):
    user = make_user(app)
    _fail(browser, user.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] - 1)
    assert _login(browser, user.email).status_code == 303


def test_account_throttle_is_at_most_ten_failures(app):
    assert app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] <= 10
    assert app.config["LOGIN_WINDOW"] >= timedelta(minutes=15)


def test_account_throttle_holds_across_addresses(app, new_browser):
    """Credential stuffing from many IPs: the account's counter is shared by all of them."""
    user = make_user(app)
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        _fail(new_browser(ip=f"198.51.100.{n + 1}"), user.email, 1)
    assert _login(new_browser(ip="203.0.113.7"), user.email).status_code == 429


def test_account_throttle_looks_the_same_for_unknown_emails(app, new_browser):
    user = make_user(app, email="alice@example.com")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    known, unknown = new_browser(ip="198.51.100.1"), new_browser(ip="198.51.100.2")
    _fail(known, user.email, limit)
    _fail(unknown, "nobody@example.com", limit)
    known_answer = _login(known, user.email)
    unknown_answer = _login(unknown, "nobody@example.com")
    assert known_answer.status_code == 429
    assert _answer(known_answer, user.email) == _answer(unknown_answer, "nobody@example.com")


def test_account_throttle_does_not_lock_other_accounts(app, browser):
    victim, other = make_user(app), make_user(app)
    _fail(browser, victim.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    assert _login(browser, other.email).status_code == 303


def test_address_throttle_refuses_logins_from_that_address(app, new_browser):
    """Password spraying from one IP over many accounts (each below its own limit)."""
    user = make_user(app)
    sprayer = new_browser(ip="198.51.100.66")
    per_account = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] - 1
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        _fail(sprayer, f"target{n // per_account}@example.com", 1)
    assert _login(sprayer, user.email).status_code == 429
    assert sessions_of(app, user) == []


def test_address_throttle_leaves_other_addresses_alone(app, new_browser):
    user = make_user(app)
    sprayer = new_browser(ip="198.51.100.66")
    per_account = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] - 1
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        _fail(sprayer, f"target{n // per_account}@example.com", 1)
    assert _login(new_browser(ip="203.0.113.9"), user.email).status_code == 303


def test_throttle_lifts_once_the_window_has_passed(app, browser):
    user = make_user(app)
    _fail(browser, user.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    _age_login_attempts(app, app.config["LOGIN_WINDOW"] + timedelta(minutes=1))
    assert _login(browser, user.email).status_code == 303


def test_throttle_still_holds_just_inside_the_window(app, browser):
    user = make_user(app)
    _fail(browser, user.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    _age_login_attempts(app, app.config["LOGIN_WINDOW"] - timedelta(minutes=1))
    assert _login(browser, user.email).status_code == 429


def test_throttled_attempts_do_not_extend_or_feed_the_counter(app, browser):
    """Refused attempts are not counted, so the lock ends when the window passes, whatever is tried meanwhile."""
    user = make_user(app)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    _fail(browser, user.email, limit)
    for _ in range(5):
        assert _login(browser, user.email, WRONG).status_code == 429
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == limit


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "javascript:alert(1)",
    "http:/evil.example/",
    " //evil.example/",
])
def test_login_next_refuses_other_sites(app, browser, target):
    user = make_user(app)
    response = _login(browser, user.email, next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example/", "//evil.example/", "https://evil.example/"])
def test_login_next_refuses_other_sites_for_htmx(app, browser, target):
    user = make_user(app)
    response = browser.post("/auth/login", {"email": user.email, "password": PASSWORD, "next": target}, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/"


def test_login_next_follows_a_local_path(app, browser):
    tenant = make_tenant(app)
    response = _login(browser, tenant.owner.email, next=f"/{tenant.slug}/admin/members?tab=1")
    assert response.headers["Location"] == f"/{tenant.slug}/admin/members?tab=1"


def test_login_next_from_the_query_string_is_kept_through_the_form(app, browser):
    tenant = make_tenant(app)
    page = browser.get(f"/auth/login?next=/{tenant.slug}/").get_data(as_text=True)
    assert f'value="/{tenant.slug}/"' in page
    assert _login(browser, tenant.owner.email, next=f"/{tenant.slug}/").headers["Location"] == f"/{tenant.slug}/"


def test_failed_login_is_logged_in_every_tenant_of_the_user(app, new_browser):
    first = make_tenant(app)
    second = make_tenant(app)
    user = add_member(app, second, first.owner, role="sales")
    _login(new_browser(ip="198.51.100.23"), user.email, WRONG)
    for tenant in (first, second):
        events = security_log(app, tenant, "login_failed")
        assert [(e.user_id, e.ip) for e in events] == [(user.id, "198.51.100.23")]


def test_throttled_login_is_logged_in_every_tenant_of_the_user(app, new_browser):
    first = make_tenant(app)
    second = make_tenant(app)
    user = add_member(app, second, first.owner, role="sales")
    attacker = new_browser(ip="198.51.100.24")
    _fail(attacker, user.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    _login(attacker, user.email)
    for tenant in (first, second):
        events = security_log(app, tenant, "login_throttled")
        assert [(e.user_id, e.ip) for e in events] == [(user.id, "198.51.100.24")]


def test_failed_login_is_not_logged_in_tenants_the_user_is_not_in(app, browser):
    user_tenant, other_tenant = make_tenant(app), make_tenant(app)
    _login(browser, user_tenant.owner.email, WRONG)
    assert len(security_log(app, user_tenant, "login_failed")) == 1
    assert security_log(app, other_tenant, "login_failed") == []


def test_successful_login_is_logged(app, new_browser):
    tenant = make_tenant(app)
    _login(new_browser(ip="198.51.100.25"), tenant.owner.email)
    events = security_log(app, tenant, "login")
    assert [(e.user_id, e.ip) for e in events] == [(tenant.owner.id, "198.51.100.25")]


def test_signed_in_get_of_login_refuses_other_sites(app, browser):
    tenant = make_tenant(app)
    browser.login(tenant.owner.email)
    response = browser.get("/auth/login", query_string={"next": "/\t/evil.example/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
