"""Signing in with Google and Microsoft against the real provider: accounts made and found, the linking rules, the
e-mailed confirmation, and the account page's link and unlink."""
from tests.auth.conftest import is_signed_in, link_path, mail_text, security_log
from tests.factories import make_tenant, make_user
from tests.helpers import PASSWORD, text_of
from tests.sso.conftest import come_back, identities, sign_in_with, start, user_named
from tests.sso.oidc import query_of


def test_sign_in_page_shows_the_configured_providers(app, browser, google, microsoft):
    page = browser.get("/auth/login?next=/orgs").get_data(as_text=True)
    assert 'href="/auth/sso/google/start?next=/orgs"' in page
    assert 'href="/auth/sso/microsoft/start?next=/orgs"' in page
    assert "Sign in with Google" in page and "Sign in with Microsoft" in page
    assert 'href="/auth/sso/google/start?next=/auth/signup"' in browser.get("/auth/signup").get_data(as_text=True)


def test_no_button_without_configuration(app, browser):
    page = browser.get("/auth/login").get_data(as_text=True)
    assert "/auth/sso/" not in page
    assert browser.get("/auth/sso/google/start").status_code == 404


def test_start_sends_state_nonce_and_pkce(app, browser, google, oidc):
    query = query_of(start(browser, "google", {"next": "/orgs"}))
    assert query["client_id"] == google and query["response_type"] == "code"
    assert query["redirect_uri"] == "http://localhost/auth/sso/google/callback"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32 and query["state"] != query["nonce"]
    assert set(query["scope"].split()) == {"openid", "email", "profile"}


def test_google_first_sign_in_creates_the_account_then_signs_straight_in(app, browser, new_browser, google, oidc,
                                                                         mail_server):
    login = oidc.person("ada", email="Ada@Example.org", email_verified=True, name="Ada Lovelace")
    response = sign_in_with(browser, oidc, "google", login, {"next": "/orgs"})
    assert response.status_code == 303 and response.headers["Location"] == "/orgs"
    assert is_signed_in(browser)
    user = user_named(app, "ada@example.org")
    assert user is not None and user.name == "Ada Lovelace"
    [identity] = identities(app)
    assert (identity.issuer, identity.subject, identity.user_id) == (oidc.issuer, "ada", user.id)
    # No usable password: the random one nobody knows fails like any wrong password.
    assert new_browser().post("/auth/login", {"email": "ada@example.org", "password": PASSWORD}).status_code == 422
    again = new_browser()
    assert sign_in_with(again, oidc, "google", login).status_code == 303
    assert is_signed_in(again)
    assert len(identities(app)) == 1 and user_named(app, "ada@example.org").id == user.id


def test_google_links_the_existing_account_of_a_verified_address(app, browser, google, oidc, mail_server):
    tenant = make_tenant(app)
    owner = tenant.owner
    login = oidc.person("owner1", email=owner.email.upper(), email_verified=True)
    assert sign_in_with(browser, oidc, "google", login).status_code == 303
    [identity] = identities(app)
    assert identity.user_id == owner.id
    assert [e.detail["provider"] for e in security_log(app, tenant, "sso_linked")] == ["google"]
    notice = mail_text(mail_server.to(owner.email)[-1])
    assert "Google can now sign you in" in notice


def test_unverified_address_is_refused_and_nothing_is_linked(app, browser, google, oidc, caplog):
    make_user(app, email="victim@example.org")
    login = oidc.person("mallory", email="victim@example.org", email_verified=False)
    response = sign_in_with(browser, oidc, "google", login)
    assert response.status_code == 403
    assert "has not verified the address victim@example.org" in text_of(response.get_data(as_text=True))
    assert identities(app) == [] and not is_signed_in(browser)
    assert "single sign-on refused: unverified via google" in caplog.text


def test_missing_address_is_refused(app, browser, google, oidc):
    response = sign_in_with(browser, oidc, "google", oidc.person("nomail"))
    assert response.status_code == 403
    assert "did not give an e-mail address" in text_of(response.get_data(as_text=True))
    assert identities(app) == []


def test_microsoft_address_is_confirmed_by_mail_before_any_link(app, browser, microsoft, oidc, mail_server):
    """nOAuth: Microsoft's ``email`` is not verified. An existing account is never linked silently: its address
    gets a link, the page it opens changes nothing, and only its POST, in the same browser, links and signs in."""
    tenant = make_tenant(app)
    owner = tenant.owner
    login = oidc.person("ms-owner", email=owner.email, name="Someone")
    response = sign_in_with(browser, oidc, "microsoft", login, {"next": "/orgs"})
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    assert identities(app) == [] and not is_signed_in(browser)
    assert [e.detail["provider"] for e in security_log(app, tenant, "sso_confirmation_sent")] == ["microsoft"]
    path = link_path(mail_server, owner.email, "/auth/sso/confirm/")
    page = browser.get(path)
    assert page.status_code == 200 and "Confirm your sign-in" in page.get_data(as_text=True)
    assert identities(app) == [] and not is_signed_in(browser)
    confirmed = browser.post(path)
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/orgs"
    assert is_signed_in(browser)
    [identity] = identities(app)
    assert identity.user_id == owner.id and identity.provider_key == "microsoft"
    assert browser.post(path).status_code == 404  # once
    assert browser.get(path).status_code == 404


def test_confirmation_link_works_only_in_the_browser_that_signed_in(app, browser, new_browser, microsoft, oidc,
                                                                     mail_server):
    """Someone signing in with a provider that claims the victim's address cannot have the victim confirm it: the
    link opened in the victim's browser links nothing."""
    victim = make_user(app, email="victim@example.org")
    sign_in_with(browser, oidc, "microsoft", oidc.person("attacker", email=victim.email))
    path = link_path(mail_server, victim.email, "/auth/sso/confirm/")
    elsewhere = new_browser()
    elsewhere.login(victim.email)
    for response in (elsewhere.get(path), elsewhere.post(path)):
        assert response.status_code == 403
        assert "only in the browser where you signed in" in text_of(response.get_data(as_text=True))
    assert identities(app) == []


def test_microsoft_first_sign_in_creates_the_account_after_confirmation(app, browser, microsoft, oidc, mail_server):
    login = oidc.person("newcomer", email="newcomer@example.org", name="New Comer")
    sign_in_with(browser, oidc, "microsoft", login)
    assert user_named(app, "newcomer@example.org") is None
    path = link_path(mail_server, "newcomer@example.org", "/auth/sso/confirm/")
    assert browser.post(path).status_code == 303
    assert user_named(app, "newcomer@example.org").name == "New Comer"
    assert len(identities(app)) == 1


def test_confirmation_mails_are_limited_per_address(app, browser, microsoft, oidc, mail_server):
    login = oidc.person("spammer", email="target@example.org")
    for _ in range(3):
        assert sign_in_with(browser, oidc, "microsoft", login).status_code == 200
    refused = sign_in_with(browser, oidc, "microsoft", login)
    assert refused.status_code == 429
    assert len(mail_server.to("target@example.org")) == 3


def test_link_and_unlink_from_the_account_page(app, browser, google, oidc, mail_server):
    tenant = make_tenant(app)
    owner = tenant.owner
    browser.login(owner.email)
    account = browser.get("/auth/account").get_data(as_text=True)
    assert 'href="/auth/sso/google/link"' in account
    login = oidc.person("owner-link", email=owner.email, email_verified=True)
    response = come_back(browser, oidc.sign_in(_location(browser.get("/auth/sso/google/link")), login))
    assert response.status_code == 302 and response.headers["Location"] == "/auth/account"
    [identity] = identities(app)
    assert identity.user_id == owner.id
    page = browser.get("/auth/account").get_data(as_text=True)
    assert f"/auth/sso/identities/{identity.id}/unlink" in page and 'href="/auth/sso/google/link"' not in page
    removed = browser.post(f"/auth/sso/identities/{identity.id}/unlink")
    assert removed.status_code == 303 and identities(app) == []
    assert [e.detail["provider"] for e in security_log(app, tenant, "sso_unlinked")] == ["google"]


def test_linking_an_account_of_another_address_is_refused(app, browser, google, oidc):
    owner = make_user(app, email="me@example.org")
    browser.login(owner.email)
    login = oidc.person("someone-else", email="other@example.org", email_verified=True)
    response = come_back(browser, oidc.sign_in(_location(browser.get("/auth/sso/google/link")), login))
    assert response.status_code == 403
    assert "is not the one of your Storia account" in text_of(response.get_data(as_text=True))
    assert identities(app) == []


def test_someone_elses_identity_cannot_be_unlinked(app, browser, google, oidc):
    sign_in_with(browser, oidc, "google", oidc.person("first", email="first@example.org", email_verified=True))
    [identity] = identities(app)
    other = make_user(app)
    intruder = browser
    intruder.logout()
    intruder.login(other.email)
    assert intruder.post(f"/auth/sso/identities/{identity.id}/unlink").status_code == 404
    assert len(identities(app)) == 1


def test_an_identity_linked_to_another_account_is_not_linked_again(app, browser, new_browser, google, oidc):
    login = oidc.person("shared", email="shared@example.org", email_verified=True)
    sign_in_with(browser, oidc, "google", login)
    other = make_user(app, email="other@example.org")
    second = new_browser()
    second.login(other.email)
    response = come_back(second, oidc.sign_in(_location(second.get("/auth/sso/google/link")), login))
    assert response.status_code == 403
    assert "already linked to another Storia account" in text_of(response.get_data(as_text=True))


def _location(response) -> str:
    assert response.status_code == 302
    return response.headers["Location"]

