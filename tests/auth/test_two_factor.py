"""Two-factor sign-in (TOTP): setting it up, the code step of every sign-in, replay and drift, recovery codes,
remembered devices, throttling shared with passwords, the pending step, organisations that require it, an
administrator's reset, the security log, and no secret in any log (docs/architecture.md, "Two-factor sign-in")."""
import logging
import re
import time
from datetime import timedelta
from urllib.parse import unquote

import pyotp
import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import func, select, update

from app.auth import twofactor
from app.auth.signin import DEVICE_COOKIE, PENDING_KEY
from app.extensions import db
from app.models import LoginAttempt, Membership, RecoveryCode, RememberedDevice, Role, Tenant, TwoFactor, User, utcnow
from app.tenancy import tenant_context
from tests.auth.conftest import is_signed_in, link_path, mail_text, security_log, sessions_of
from tests.factories import CLIENT, add_member, make_tenant, make_user, membership_id
from tests.helpers import PASSWORD, text_of

SETUP, SIGN_IN, CODES = "/auth/account/two-factor", "/auth/two-factor", "/auth/account/two-factor/recovery-codes"
DISABLE = "/auth/account/two-factor/disable"
NEW_PASSWORD = "violet lantern mosaic orchard"


def code_at(secret: str, offset: int = 0) -> str:
    """The code of the time step ``offset`` steps from now."""
    return pyotp.TOTP(secret).generate_otp(int(time.time() // 30) + offset)


def wrong_code(secret: str) -> str:
    """A code that matches no step the server accepts now (not even by chance)."""
    accepted = {code_at(secret, n) for n in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in accepted)


def turn_on(app, user) -> tuple[str, list[str]]:
    """Give ``user`` a confirmed authenticator (through the domain function); return its secret and recovery codes.
    The code used to confirm it is forgotten, so that a test may sign in with the current code at once."""
    with app.app_context():
        account = db.session.get(User, user.id)
        token = twofactor.new_setup(account)
        secret = twofactor.setup_secret(token, account)
        codes = twofactor.enable(account, token, code_at(secret), CLIENT)
        db.session.execute(update(TwoFactor).where(TwoFactor.user_id == user.id).values(last_used_step=None))
        db.session.commit()
    return secret, codes


def row(app, model, user_id):
    with app.app_context():
        found = db.session.scalars(select(model).where(model.user_id == user_id)).all()
        db.session.expunge_all()
        return found


def password_step(browser, user, next_url=None):
    """Pass the password: the answer must send to the code step, with nobody signed in yet."""
    data = {"email": user.email, "password": PASSWORD} | ({"next": next_url} if next_url else {})
    response = browser.post("/auth/login", data)
    assert response.status_code == 303 and response.headers["Location"] == SIGN_IN
    return response


def code_step(browser, code, **extra):
    return browser.post(SIGN_IN, {"code": code, **extra})


def kinds(app, tenant) -> list[str]:
    return [e.kind for e in security_log(app, tenant)]


@pytest.fixture
def member(app):
    """A member of an organisation (the security log needs one) with two-factor sign-in on."""
    tenant = make_tenant(app)
    user = add_member(app, tenant, role="sales")
    secret, codes = turn_on(app, user)
    return tenant, user, secret, codes


# --- setting it up --------------------------------------------------------------------------------------------------

def _setup_page(browser, url=SETUP):
    page = browser.get(url)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    secret = re.search(r'id="two-factor-key"[^>]*>([A-Z2-7 ]+)<', body).group(1).replace(" ", "")
    token = re.search(r'name="setup" type="hidden" value="([^"]+)"', body).group(1)
    return body, secret, token


def test_setup_page_shows_a_qr_code_and_the_key_and_enables_nothing(app, browser):
    user = make_user(app)
    browser.login(user.email)
    body, secret, token = _setup_page(browser)
    assert re.search(r'<img class="qr-code" src="data:image/png;base64,', body)
    assert len(secret) == 32 and secret not in token  # the hidden field carries it sealed, not readable
    field = re.search(r"<input[^>]*id=\"code\"[^>]*>", body).group(0)
    assert 'inputmode="numeric"' in field and 'autocomplete="one-time-code"' in field
    assert _setup_page(browser)[1] == secret, "a reload must show the same key (the person may have scanned it)"
    assert row(app, TwoFactor, user.id) == [] and row(app, RecoveryCode, user.id) == []


def test_a_wrong_code_enables_nothing_and_keeps_the_input(app, browser):
    user = make_user(app)
    browser.login(user.email)
    _body, secret, token = _setup_page(browser)
    for htmx in (False, True):
        response = browser.post(SETUP, {"setup": token, "code": wrong_code(secret)}, htmx=htmx)
        assert response.status_code == 422
        assert f'value="{wrong_code(secret)}"' in response.get_data(as_text=True)
        assert "This code is not right" in text_of(response.get_data(as_text=True))
    assert row(app, TwoFactor, user.id) == []


def test_a_setup_sealed_for_someone_else_is_refused(app, new_browser):
    alice, mallory = make_user(app), make_user(app)
    a, m = new_browser(), new_browser()
    a.login(alice.email)
    m.login(mallory.email)
    _body, secret, token = _setup_page(m)  # Mallory's secret, which she knows
    response = a.post(SETUP, {"setup": token, "code": code_at(secret)})
    assert response.status_code == 422
    assert row(app, TwoFactor, alice.id) == []


def test_enabling_shows_ten_recovery_codes_once_and_stores_only_hashes(app, browser):
    tenant = make_tenant(app)
    user = add_member(app, tenant)
    browser.login(user.email)
    _body, secret, token = _setup_page(browser)
    response = browser.post(SETUP, {"setup": token, "code": code_at(secret)})
    assert response.status_code == 303 and response.headers["Location"].startswith(CODES)
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page)
    assert len(set(codes)) == 10
    assert "Two-factor sign-in is on." in page
    assert not re.findall(r"<li><code>", browser.get(CODES).get_data(as_text=True)), "shown once only"
    stored = row(app, RecoveryCode, user.id)
    assert len(stored) == 10 and not {c.code_hash for c in stored} & {c.replace("-", "") for c in codes}
    assert kinds(app, tenant).count("two_factor_enabled") == 1


def test_the_secret_is_encrypted_at_rest(app, member):
    _tenant, user, secret, _codes = member
    stored = row(app, TwoFactor, user.id)[0].secret
    assert secret not in stored and secret.lower() not in stored.lower()
    saved = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another key: what someone holding only the database would try"
    try:
        with app.app_context(), pytest.raises(InvalidToken):
            twofactor._fernet("secret").decrypt(stored.encode())
    finally:
        app.config["SECRET_KEY"] = saved


def test_codes_still_work_after_the_secret_key_is_rotated(app, browser, member):
    _tenant, user, secret, codes = member
    saved = app.config["SECRET_KEY"], app.config.get("SECRET_KEY_FALLBACKS")
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = "the new key of the next release", [saved[0]]
    try:
        password_step(browser, user)
        assert code_step(browser, code_at(secret)).status_code == 303
        browser.logout()
        password_step(browser, user)
        assert code_step(browser, codes[0]).status_code == 303, "recovery codes hashed under the old key"
    finally:
        app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = saved


# --- signing in ---------------------------------------------------------------------------------------------------

def test_the_password_alone_does_not_sign_in(app, browser, member):
    _tenant, user, _secret, _codes = member
    password_step(browser, user)
    assert not is_signed_in(browser)
    assert sessions_of(app, user) == []
    page = browser.get(SIGN_IN)
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.get_data(as_text=True)


def test_a_code_signs_in_and_goes_where_the_person_was_going(app, browser, member):
    tenant, user, secret, _codes = member
    password_step(browser, user, next_url=f"/{tenant.slug}/thirdparties/")
    response = code_step(browser, code_at(secret))
    assert response.status_code == 303 and response.headers["Location"] == f"/{tenant.slug}/thirdparties/"
    assert is_signed_in(browser) and len(sessions_of(app, user)) == 1
    assert browser.get(SIGN_IN).headers["Location"] == "/auth/login", "the step is over: nothing pending any more"


def test_a_wrong_code_is_refused_and_counted(app, browser, member):
    tenant, user, secret, _codes = member
    password_step(browser, user)
    for htmx in (False, True):
        response = browser.post(SIGN_IN, {"code": wrong_code(secret)}, htmx=htmx)
        assert response.status_code == 422
        assert "This code is not right" in text_of(response.get_data(as_text=True))
    assert not is_signed_in(browser)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.success.is_(False))) == 2
    assert kinds(app, tenant).count("two_factor_failed") == 2


def test_a_code_is_accepted_once(app, new_browser, member):
    """A code seen by someone else (over a shoulder, a phishing page) cannot be used again, nor an older one."""
    _tenant, user, secret, _codes = member
    first, second = new_browser(), new_browser()
    password_step(first, user)
    password_step(second, user)
    ahead = code_at(secret, +1)  # stays acceptable if the clock moves on during the test
    assert code_step(first, ahead).status_code == 303
    assert code_step(second, ahead).status_code == 422, "replayed"
    assert code_step(second, code_at(secret, -1)).status_code == 422, "older than the last one used"
    assert not is_signed_in(second)


def test_clock_drift_of_one_step_is_accepted(app, new_browser, member):
    _tenant, user, secret, _codes = member
    for offset in (+1, -3):  # a step ahead is accepted; three behind is not (whichever way the clock moves meanwhile)
        browser = new_browser()
        password_step(browser, user)
        with app.app_context():
            db.session.execute(update(TwoFactor).values(last_used_step=None))
            db.session.commit()
        assert code_step(browser, code_at(secret, offset)).status_code == (303 if offset == 1 else 422), offset


def test_drift_window_is_exactly_one_step_each_way():
    secret, now = pyotp.random_base32(), 1_800_000_015.0
    step = int(now // 30)
    for offset, expected in ((-2, None), (-1, step - 1), (0, step), (1, step + 1), (2, None)):
        assert twofactor._matching_step(secret, pyotp.TOTP(secret).generate_otp(step + offset), now) == expected, offset
    assert twofactor._matching_step(secret, "12345", now) is None and twofactor._matching_step(secret, "abcdef", now) is None


def test_a_recovery_code_works_once(app, new_browser, member):
    tenant, user, _secret, codes = member
    browser = new_browser()
    password_step(browser, user)
    response = browser.post(SIGN_IN, {"recovery": codes[3].upper().replace("-", " ")})  # as typed from paper
    assert response.status_code == 303
    assert "Recovery codes left: 9." in text_of(browser.get("/", follow_redirects=True).get_data(as_text=True))
    assert is_signed_in(browser)
    again = new_browser()
    password_step(again, user)
    assert again.post(SIGN_IN, {"recovery": codes[3]}).status_code == 422
    assert not is_signed_in(again)
    assert kinds(app, tenant).count("recovery_code_used") == 1


def test_an_empty_answer_is_refused_without_counting(app, browser, member):
    _tenant, user, _secret, _codes = member
    password_step(browser, user)
    assert browser.post(SIGN_IN, {"code": "", "recovery": ""}).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.success.is_(False))) == 0


def test_no_second_factor_no_code_step(app, browser):
    user = make_user(app)
    response = browser.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert is_signed_in(browser)


# --- the pending step -----------------------------------------------------------------------------------------------

def _age_pending(browser, seconds):
    with browser.client.session_transaction() as session:
        pending = session[PENDING_KEY]
        pending["t"] -= seconds
        session[PENDING_KEY] = pending


def test_the_pending_step_expires_after_five_minutes(app, browser, member):
    _tenant, user, secret, _codes = member
    with app.app_context():  # the password is old: only the time can end the step here
        db.session.execute(update(User).where(User.id == user.id).values(password_changed_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    password_step(browser, user)
    _age_pending(browser, 290)
    assert browser.get(SIGN_IN).status_code == 200, "still inside the five minutes"
    _age_pending(browser, 11)
    response = code_step(browser, code_at(secret))
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert not is_signed_in(browser) and sessions_of(app, user) == []
    assert "That took too long" in text_of(browser.get("/auth/login").get_data(as_text=True))
    assert code_step(browser, code_at(secret, 1)).headers["Location"] == "/auth/login", "forgotten, not retried"


def test_the_pending_step_never_opens_tenant_pages(app, browser, member):
    tenant, user, _secret, _codes = member
    password_step(browser, user)
    response = browser.get(f"/{tenant.slug}/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert browser.get("/auth/account").status_code == 302


def test_a_password_reset_meanwhile_ends_the_pending_step(app, browser, member):
    _tenant, user, secret, _codes = member
    password_step(browser, user)
    with app.app_context():
        account = db.session.get(User, user.id)
        from app.auth.services import set_password

        set_password(account, NEW_PASSWORD, CLIENT, kind="password_reset")
    assert code_step(browser, code_at(secret)).headers["Location"] == "/auth/login"
    assert not is_signed_in(browser)


def test_a_password_reset_still_asks_for_the_second_factor(app, browser, mail_server, member):
    _tenant, user, secret, _codes = member
    assert browser.post("/auth/forgot", {"email": user.email}).status_code == 303
    link = link_path(mail_server, user.email, "/auth/reset/")
    response = browser.post(link, {"password": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == SIGN_IN
    assert not is_signed_in(browser)
    assert "Your password has been changed." in text_of(browser.get(SIGN_IN).get_data(as_text=True))
    assert code_step(browser, code_at(secret)).status_code == 303 and is_signed_in(browser)


# --- remembered devices ---------------------------------------------------------------------------------------------

def _cookie_attributes(response, name):
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))
    parts = [p.strip() for p in header.split(";")]
    return {p.split("=")[0].lower(): (p.split("=", 1)[1] if "=" in p else True) for p in parts[1:]}


def _remembered_browser(new_browser, user, secret, offset=1):
    browser = new_browser()
    password_step(browser, user)
    response = code_step(browser, code_at(secret, offset), remember="y")
    assert response.status_code == 303
    browser.logout()
    return browser, response


def test_a_remembered_device_skips_the_code_step(app, new_browser, member):
    _tenant, user, secret, _codes = member
    browser, response = _remembered_browser(new_browser, user, secret)
    attributes = _cookie_attributes(response, DEVICE_COOKIE)
    assert attributes.get("secure") and attributes.get("httponly") and attributes.get("samesite") == "Lax"
    assert int(attributes["max-age"]) == 30 * 24 * 3600 and attributes.get("path") == "/" and "domain" not in attributes
    stored = row(app, RememberedDevice, user.id)
    token = browser.client.get_cookie(DEVICE_COOKIE).value
    assert len(stored) == 1 and token not in stored[0].token_hash
    signed = browser.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert signed.headers["Location"] == "/" and is_signed_in(browser)
    other = new_browser()
    password_step(other, user)  # another browser is still asked


def test_a_remembered_device_does_not_skip_for_another_account(app, new_browser, member):
    tenant, user, secret, _codes = member
    colleague = add_member(app, tenant)
    colleague_secret, _ = turn_on(app, colleague)
    browser, _ = _remembered_browser(new_browser, user, secret)
    password_step(browser, colleague)
    assert code_step(browser, code_at(colleague_secret)).status_code == 303


def test_a_remembered_device_expires(app, new_browser, member):
    _tenant, user, secret, _codes = member
    browser, _ = _remembered_browser(new_browser, user, secret)
    with app.app_context():
        db.session.execute(update(RememberedDevice).values(expires_at=func.current_timestamp()))
        db.session.commit()
    password_step(browser, user)


@pytest.mark.parametrize("how", ["disable", "admin reset", "password reset"])
def test_remembered_devices_are_forgotten(app, new_browser, mail_server, member, how):
    tenant, user, secret, _codes = member
    browser, _ = _remembered_browser(new_browser, user, secret)
    if how == "disable":
        browser.login(user.email)
        assert browser.post(DISABLE, {"password": PASSWORD}).status_code == 303
        browser.logout()
        secret, _ = turn_on(app, user)
    elif how == "admin reset":
        owner = new_browser()
        owner.login(tenant.owner.email)
        url = f"/{tenant.slug}/admin/members/{membership_id(app, tenant, user)}/two-factor/reset"
        assert owner.post(url).status_code == 303
        secret, _ = turn_on(app, user)
    else:
        assert new_browser().post("/auth/forgot", {"email": user.email}).status_code == 303
        reset = new_browser().post(link_path(mail_server, user.email, "/auth/reset/"), {"password": PASSWORD + "!"})
        assert reset.headers["Location"] == SIGN_IN
    assert row(app, RememberedDevice, user.id) == []
    response = browser.post("/auth/login", {"email": user.email,
                                            "password": PASSWORD + ("!" if how == "password reset" else "")})
    assert response.headers["Location"] == SIGN_IN, "the old device cookie no longer skips the step"


# --- throttling -------------------------------------------------------------------------------------------------------

LIMIT = 10  # LOGIN_MAX_FAILURES_PER_ACCOUNT


def test_wrong_codes_are_throttled_like_passwords(app, browser, member):
    tenant, user, secret, _codes = member
    password_step(browser, user)
    for _ in range(LIMIT):
        assert code_step(browser, wrong_code(secret)).status_code == 422
    throttled = code_step(browser, code_at(secret, 1))
    assert throttled.status_code == 429
    assert "Too many attempts. Wait 15 minutes" in text_of(throttled.get_data(as_text=True))
    assert not is_signed_in(browser)
    assert row(app, TwoFactor, user.id)[0].last_used_step is None, "past the limit, no code is checked"
    assert browser.post(SIGN_IN, {"code": wrong_code(secret)}, htmx=True).status_code == 429
    assert browser.post("/auth/login", {"email": user.email, "password": PASSWORD}).status_code == 429, \
        "wrong codes use up the password's budget too"
    assert "two_factor_throttled" in kinds(app, tenant)


def test_wrong_passwords_use_up_the_code_budget(app, new_browser, member):
    _tenant, user, secret, _codes = member
    for _ in range(LIMIT - 1):
        assert new_browser().post("/auth/login", {"email": user.email, "password": "not it at all"}).status_code == 422
    browser = new_browser()
    password_step(browser, user)
    assert code_step(browser, wrong_code(secret)).status_code == 422
    assert code_step(browser, code_at(secret, 1)).status_code == 429


def test_wrong_codes_are_counted_per_address_too(app, new_browser):
    """Many accounts from one address: the address's budget (LOGIN_MAX_FAILURES_PER_ADDRESS) runs out."""
    tenant = make_tenant(app)
    people = [add_member(app, tenant) for _ in range(4)]
    secrets = [turn_on(app, person)[0] for person in people]
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    with app.app_context():
        db.session.add_all(LoginAttempt(email_hash=f"other{n}", ip="192.0.2.99", success=False) for n in range(limit - 1))
        db.session.commit()
    browser = new_browser("192.0.2.99")
    password_step(browser, people[0])
    assert code_step(browser, wrong_code(secrets[0])).status_code == 422
    assert code_step(browser, code_at(secrets[0], 1)).status_code == 429


# --- managing it --------------------------------------------------------------------------------------------------

def test_turning_it_off_needs_the_password_or_a_code(app, browser, member):
    tenant, user, secret, _codes = member
    password_step(browser, user)
    code_step(browser, code_at(secret, 1))
    page = browser.get(SETUP).get_data(as_text=True)
    assert "Turn off two-factor sign-in" in page and "Codes left: 10 of 10." in text_of(page)
    assert browser.post(DISABLE, {}).status_code == 422
    assert browser.post(DISABLE, {"password": "not my password"}, htmx=True).status_code == 422
    assert browser.post(DISABLE, {"code": wrong_code(secret)}).status_code == 422
    assert row(app, TwoFactor, user.id)
    assert browser.post(DISABLE, {"code": code_at(secret, 1)}).status_code == 422, "the code used to sign in"
    response = browser.post(DISABLE, {"password": PASSWORD})
    assert response.status_code == 303
    assert row(app, TwoFactor, user.id) == [] and row(app, RecoveryCode, user.id) == []
    log = kinds(app, tenant)
    assert log.count("two_factor_disabled") == 1 and log.count("two_factor_failed") == 2


def test_turning_it_off_with_a_current_code(app, browser, member):
    _tenant, user, secret, _codes = member
    password_step(browser, user)
    code_step(browser, code_at(secret, -1))
    assert browser.post(DISABLE, {"code": code_at(secret, 1)}).status_code == 303
    assert row(app, TwoFactor, user.id) == []


def test_new_recovery_codes_need_a_code_and_replace_the_old_ones(app, new_browser, member):
    tenant, user, secret, codes = member
    browser = new_browser()
    password_step(browser, user)
    code_step(browser, code_at(secret, -1))
    page = browser.get(CODES).get_data(as_text=True)
    assert "Codes left: 10 of 10." in text_of(page) and "<li><code>" not in page
    assert browser.post(CODES, {"code": wrong_code(secret)}).status_code == 422
    response = browser.post(CODES, {"code": code_at(secret, 1)})
    assert response.status_code == 303
    fresh = re.findall(r"<li><code>([a-z2-9-]{11})</code></li>", browser.get(CODES).get_data(as_text=True))
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    old = new_browser()
    password_step(old, user)
    assert old.post(SIGN_IN, {"recovery": codes[0]}).status_code == 422
    assert old.post(SIGN_IN, {"recovery": fresh[0]}).status_code == 303
    assert "recovery_codes_regenerated" in kinds(app, tenant)


def test_account_page_links_to_two_factor_sign_in(app, browser, member):
    _tenant, user, secret, _codes = member
    other = make_user(app)
    browser.login(other.email)
    page = text_of(browser.get("/auth/account").get_data(as_text=True))
    assert "Two-factor sign-in" in page and "Turn on two-factor sign-in" in page
    assert f'href="{SETUP}"' in browser.get("/auth/account").get_data(as_text=True)


def test_someone_without_it_has_nothing_to_turn_off(app, browser):
    user = make_user(app)
    browser.login(user.email)
    assert browser.post(DISABLE, {"password": PASSWORD}).headers["Location"] == SETUP
    assert browser.get(CODES).headers["Location"] == SETUP


# --- organisations that require it -----------------------------------------------------------------------------------

def test_an_organisation_can_require_it_of_its_members(app, new_browser):
    tenant = make_tenant(app)
    user = add_member(app, tenant, role="support")
    owner = new_browser()
    owner.login(tenant.owner.email)
    saved = owner.post(f"/{tenant.slug}/admin/settings", {"name": tenant.name, "locale": "en", "timezone": "Europe/Paris",
                                                          "require_two_factor": "y"})
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(Tenant, tenant.id).require_two_factor is True
    assert "settings_changed" in kinds(app, tenant)
    # The owner has no second factor either: the next page of the organisation sends them to set it up.
    assert owner.get(f"/{tenant.slug}/admin/settings").headers["Location"].startswith(SETUP)

    browser = new_browser()
    browser.login(user.email)
    wanted = f"/{tenant.slug}/thirdparties/?q=acme"
    response = browser.get(wanted)
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == f"{SETUP}?next={wanted}"
    body, secret, token = _setup_page(browser, response.headers["Location"])
    assert f"{tenant.name} asks its members to use two-factor sign-in" in text_of(body)
    assert browser.get(f"/{tenant.slug}/", headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost{wanted}"}) \
        .headers["HX-Redirect"].startswith(SETUP + "?next=")
    assert browser.post(f"/{tenant.slug}/admin/settings", {"name": "x"}).status_code in (302, 303)
    assert browser.get("/auth/account").status_code == 200, "account pages stay open"

    enabled = browser.post(response.headers["Location"], {"setup": token, "code": code_at(secret), "next": wanted})
    codes_page = browser.get(enabled.headers["Location"]).get_data(as_text=True)
    assert f'href="/{tenant.slug}/thirdparties/?q=acme"' in codes_page, "then back to where they were going"
    assert browser.get(wanted).status_code == 200


def test_without_the_requirement_members_are_not_asked(app, browser):
    tenant = make_tenant(app)
    user = add_member(app, tenant)
    browser.login(user.email)
    assert browser.get(f"/{tenant.slug}/").status_code == 200


# --- an administrator's reset ----------------------------------------------------------------------------------------

def _reset_url(app, tenant, user):
    return f"/{tenant.slug}/admin/members/{membership_id(app, tenant, user)}/two-factor/reset"


def test_an_owner_resets_a_members_second_factor(app, new_browser, mail_server, member):
    tenant, user, secret, _codes = member
    elsewhere = make_tenant(app)
    add_member(app, elsewhere, user)
    _remembered_browser(new_browser, user, secret)
    owner = new_browser()
    owner.login(tenant.owner.email)
    team = owner.get(f"/{tenant.slug}/admin/members").get_data(as_text=True)
    assert re.search(r'hx-post="[^"]*/two-factor/reset"\s+hx-confirm="Reset the two-factor sign-in of ', team)
    response = owner.post(_reset_url(app, tenant, user), htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/{tenant.slug}/admin/members"
    assert row(app, TwoFactor, user.id) == [] and row(app, RecoveryCode, user.id) == []
    assert row(app, RememberedDevice, user.id) == []
    mail = mail_server.to(user.email)[-1]
    assert "reset your two-factor sign-in" in mail_text(mail) and tenant.name in mail_text(mail)
    for organisation in (tenant, elsewhere):  # account-wide: every organisation of the member sees it
        events = security_log(app, organisation, "two_factor_reset")
        assert len(events) == 1 and events[0].user_id == user.id
        assert events[0].detail == {"by": tenant.owner.email, "organisation": tenant.name}
    signed = new_browser().post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert signed.headers["Location"] == "/", "the password alone signs in now"


def test_an_admin_cannot_reset_an_owner(app, new_browser):
    tenant = make_tenant(app)
    admin = add_member(app, tenant, role="admin")
    turn_on(app, tenant.owner)
    browser = new_browser()
    browser.login(admin.email)
    assert "/two-factor/reset" not in browser.get(f"/{tenant.slug}/admin/members").get_data(as_text=True)
    response = browser.post(_reset_url(app, tenant, tenant.owner))
    assert response.status_code == 403
    assert "Only an owner can reset" in text_of(response.get_data(as_text=True))
    assert row(app, TwoFactor, tenant.owner.id)
    assert [e.detail.get("reason") for e in security_log(app, tenant, "access_denied")] == ["two_factor_reset"]


def test_nobody_resets_someone_with_rights_they_do_not_hold(app, new_browser):
    """A member who may manage people (``admin.users``) but holds none of a salesperson's rights."""
    tenant = make_tenant(app)
    manager, seller = make_user(app), add_member(app, tenant, role="sales")
    with app.app_context(), tenant_context(tenant.id):
        people = Role(name="People", rights=["admin.users"])
        db.session.add(people)
        db.session.flush()
        db.session.add(Membership(user_id=manager.id, role_id=people.id))
        db.session.commit()
    turn_on(app, seller)
    browser = new_browser()
    browser.login(manager.email)
    assert "/two-factor/reset" not in browser.get(f"/{tenant.slug}/admin/members").get_data(as_text=True)
    response = browser.post(_reset_url(app, tenant, seller))
    assert response.status_code == 403 and "has rights you do not hold" in text_of(response.get_data(as_text=True))
    assert row(app, TwoFactor, seller.id)


def test_nobody_resets_their_own_second_factor_from_the_team_page(app, new_browser):
    tenant = make_tenant(app)
    secret, _ = turn_on(app, tenant.owner)
    browser = new_browser()
    password_step(browser, tenant.owner)
    code_step(browser, code_at(secret, 1))
    assert browser.post(_reset_url(app, tenant, tenant.owner)).status_code == 403
    assert row(app, TwoFactor, tenant.owner.id)


def test_a_member_without_it_has_nothing_to_reset(app, new_browser):
    tenant = make_tenant(app)
    seller = add_member(app, tenant)
    browser = new_browser()
    browser.login(tenant.owner.email)
    response = browser.post(_reset_url(app, tenant, seller))
    assert response.status_code == 303
    assert "does not use two-factor sign-in" in text_of(browser.get(response.headers["Location"]).get_data(as_text=True))
    assert security_log(app, tenant, "two_factor_reset") == []


def test_a_member_of_another_organisation_is_not_found(app, new_browser, member):
    tenant, user, _secret, _codes = member
    other = make_tenant(app)
    browser = new_browser()
    browser.login(other.owner.email)
    url = f"/{other.slug}/admin/members/{membership_id(app, tenant, user)}/two-factor/reset"
    assert browser.post(url).status_code == 404
    assert row(app, TwoFactor, user.id)


# --- the security log, and what never reaches any log ----------------------------------------------------------------

def test_every_event_is_logged_and_no_secret_reaches_any_log(app, new_browser, mail_server, caplog):
    caplog.set_level(logging.DEBUG)
    tenant = make_tenant(app)
    user = add_member(app, tenant)
    browser = new_browser()
    browser.login(user.email)
    _body, secret, token = _setup_page(browser)
    first = code_at(secret)
    browser.post(SETUP, {"setup": token, "code": first})
    codes = re.findall(r"<li><code>([a-z2-9-]{11})</code></li>", browser.get(CODES).get_data(as_text=True))
    regenerating = code_at(secret, 1)
    browser.post(CODES, {"code": regenerating})
    codes += re.findall(r"<li><code>([a-z2-9-]{11})</code></li>", browser.get(CODES).get_data(as_text=True))
    browser.logout()
    password_step(browser, user)
    wrong = wrong_code(secret)
    code_step(browser, wrong)
    code_step(browser, codes[-1], remember="y")
    device = browser.client.get_cookie(DEVICE_COOKIE).value
    assert browser.post(DISABLE, {"password": PASSWORD}).status_code == 303
    browser.logout()
    secret_again, more = turn_on(app, user)
    owner = new_browser()
    owner.login(tenant.owner.email)
    assert owner.post(_reset_url(app, tenant, user)).status_code == 303
    with app.app_context():  # an address that used up its budget: the code step refuses to check anything
        db.session.add_all(LoginAttempt(email_hash=f"x{n}", ip="192.0.2.7", success=False) for n in range(60))
        db.session.commit()
    turn_on(app, user)
    thrown = new_browser("192.0.2.7")
    with thrown.client.session_transaction() as session:
        session[PENDING_KEY] = {"u": str(user.id), "n": "", "t": time.time()}
    assert code_step(thrown, "123456").status_code == 429

    log = security_log(app, tenant)
    assert {e.kind for e in log} >= {"two_factor_enabled", "recovery_codes_regenerated", "two_factor_failed",
                                     "recovery_code_used", "two_factor_disabled", "two_factor_reset", "two_factor_throttled"}
    secrets_seen = [secret, secret_again, first, regenerating, wrong, device, token, *codes, *more,
                    *(c.replace("-", "") for c in codes)]
    with app.app_context():
        stored = " ".join(str(v) for row_ in db.session.execute(select(LoginAttempt)).all() for v in row_)
    written = " ".join([str([(e.detail, e.user_agent, e.ip) for e in log]), caplog.text, stored,
                        *(m.as_string() for m in mail_server.messages)])
    assert [s for s in secrets_seen if s in written] == []
