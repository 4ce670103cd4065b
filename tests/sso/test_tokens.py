"""Every refusal of the provider's answer: forged, replayed or misrouted states, a tampered nonce or PKCE verifier, a
provider's error, and ID tokens with the wrong audience or issuer, expired, not yet valid, badly signed. Each is a
clear 4xx page and a security event; nobody is signed in and nothing is linked."""
import pytest
import requests

from app.sso.flow import FLOWS
from tests.auth.conftest import is_signed_in, security_log
from tests.factories import make_tenant
from tests.helpers import text_of
from tests.sso.conftest import come_back, identities, set_org_provider, sign_in_with, start
from tests.sso.minted import MintingProvider
from tests.sso.oidc import query_of


@pytest.fixture
def minted(app, monkeypatch):
    """ "Google" pointed at a provider whose tokens the test chooses."""
    from app.sso import providers

    provider = MintingProvider().start()
    client_id, secret = provider.register()
    for name, value in (("GOOGLE_CLIENT_ID", client_id), ("GOOGLE_CLIENT_SECRET", secret), ("GOOGLE_ISSUER", provider.issuer)):
        monkeypatch.setitem(app.config, name, value)
    providers.forget_cached()
    yield provider
    provider.stop()
    providers.forget_cached()


def _through(browser, key="google", query=None):
    """Start, let the minting provider answer at once, come back."""
    answer = requests.get(start(browser, key, query), allow_redirects=False, timeout=10)
    return come_back(browser, answer.headers["Location"])


def _refused(response, status, text):
    body = text_of(response.get_data(as_text=True))
    assert response.status_code == status, (response.status_code, body[:300])
    assert text in body, body
    assert "Traceback" not in body


def test_a_good_token_signs_in(app, browser, minted):
    assert _through(browser).status_code == 303
    assert is_signed_in(browser) and len(identities(app)) == 1


@pytest.mark.parametrize("defect, reason", [
    ("wrong_audience", "issued for another application"),
    ("many_audiences", "issued for another application"),
    ("wrong_issuer", "comes from another issuer"),
    ("expired", "has expired"),
    ("issued_in_future", "not valid yet"),
    ("not_before_future", "not valid yet"),
    ("bad_signature", "signature is not valid"),
    ("unknown_key", "signature is not valid"),
    ("alg_none", "signature is not valid"),
    ("alg_hs256", "signature is not valid"),
    ("no_nonce", "does not belong to this sign-in"),
])
def test_a_bad_id_token_is_refused(app, browser, minted, caplog, defect, reason):
    minted.defect = defect
    response = _through(browser)
    _refused(response, 401, reason)
    assert "could not be verified" in text_of(response.get_data(as_text=True))
    assert not is_signed_in(browser) and identities(app) == []
    assert "single sign-on refused" in caplog.text and "via google" in caplog.text


def test_a_forged_state_is_refused(app, browser, google, oidc, caplog):
    authorization = start(browser, "google")
    callback = oidc.sign_in(authorization, oidc.person("forger", email="forger@example.org", email_verified=True))
    forged = callback.replace(f"state={query_of(callback)['state']}", "state=forged-state-value")
    _refused(come_back(browser, forged), 400, "not started in this browser")
    assert not is_signed_in(browser) and identities(app) == []
    assert "single sign-on refused: state via google" in caplog.text


def test_an_answer_from_another_browser_is_refused(app, browser, new_browser, google, oidc):
    """Login CSRF: an attacker's own answer (their code and state) sent to a victim's browser finds no flow there."""
    callback = oidc.sign_in(start(browser, "google"), oidc.person("atk", email="atk@example.org", email_verified=True))
    victim = new_browser()
    _refused(come_back(victim, callback), 400, "not started in this browser")
    assert not is_signed_in(victim)


def test_a_replayed_answer_is_refused(app, browser, google, oidc):
    callback = oidc.sign_in(start(browser, "google"), oidc.person("replay", email="replay@example.org",
                                                                    email_verified=True))
    assert come_back(browser, callback).status_code == 303
    browser.logout()
    _refused(come_back(browser, callback), 400, "already used")
    assert not is_signed_in(browser)


def test_an_answer_is_taken_once_even_when_refused(app, browser, google, oidc):
    """A refused answer (an unverified address) leaves no flow behind: the same answer again finds none."""
    callback = oidc.sign_in(start(browser, "google"), oidc.person("twice", email="twice@example.org",
                                                                    email_verified=False))
    _refused(come_back(browser, callback), 403, "has not verified")
    _refused(come_back(browser, callback), 400, "already used")


def test_an_answer_at_another_providers_address_is_refused(app, browser, google, microsoft, oidc):
    """Mix-up: a flow started with Google answered at Microsoft's callback."""
    callback = oidc.sign_in(start(browser, "google"), oidc.person("mixup", email="mixup@example.org",
                                                                    email_verified=True))
    _refused(come_back(browser, callback.replace("/google/callback", "/microsoft/callback")), 400, "not started")
    assert identities(app) == []


def test_a_tampered_nonce_is_refused(app, browser, google, oidc):
    callback = oidc.sign_in(start(browser, "google"), oidc.person("nonce", email="nonce@example.org",
                                                                    email_verified=True))
    with browser.client.session_transaction() as session:
        flows = session[FLOWS]
        for flow in flows.values():
            flow["n"] = "another-nonce"
        session[FLOWS] = flows
    _refused(come_back(browser, callback), 401, "does not belong to this sign-in")
    assert identities(app) == []


def test_a_wrong_pkce_verifier_is_refused_by_the_provider(app, browser, google, oidc):
    callback = oidc.sign_in(start(browser, "google"), oidc.person("pkce", email="pkce@example.org",
                                                                    email_verified=True))
    with browser.client.session_transaction() as session:
        flows = session[FLOWS]
        for flow in flows.values():
            flow["v"] = "x" * 64
        session[FLOWS] = flows
    _refused(come_back(browser, callback), 401, "refused to complete this sign-in")
    assert identities(app) == []


def test_an_answer_naming_another_issuer_is_refused(app, browser, google, oidc):
    callback = oidc.sign_in(start(browser, "google"), oidc.person("iss", email="iss@example.org", email_verified=True))
    forged = callback.replace("iss=http%3A%2F%2F127.0.0.1", "iss=https%3A%2F%2Fevil.example%2Fx")
    assert forged != callback
    _refused(come_back(browser, forged), 401, "comes from another issuer")


def test_an_expired_flow_is_refused(app, browser, google, oidc):
    callback = oidc.sign_in(start(browser, "google"), oidc.person("slow", email="slow@example.org", email_verified=True))
    with browser.client.session_transaction() as session:
        flows = session[FLOWS]
        for flow in flows.values():
            flow["t"] -= 3600
        session[FLOWS] = flows
    _refused(come_back(browser, callback), 400, "took too long")


def test_a_cancelled_sign_in_is_refused_clearly(app, browser, google, oidc):
    callback = oidc.sign_in(start(browser, "google"), "anyone", cancel=True)
    assert query_of(callback)["error"] == "access_denied"
    _refused(come_back(browser, callback), 400, "cancelled at Google")


def test_a_providers_error_is_shown_as_a_code_only(app, browser, google, oidc):
    state = query_of(start(browser, "google"))["state"]
    response = browser.get("/auth/sso/google/callback", query_string={
        "state": state, "iss": oidc.issuer, "error": "server_error<script>", "error_description": "<b>boom</b>"})
    _refused(response, 400, "its answer: server_errorscript")
    assert "<b>boom" not in response.get_data(as_text=True)


def test_an_answer_without_the_issuer_its_provider_always_sends_is_refused(app, browser, google, oidc):
    """RFC 9207: the test provider announces ``authorization_response_iss_parameter_supported``."""
    callback = oidc.sign_in(start(browser, "google"), oidc.person("noiss", email="noiss@example.org",
                                                                    email_verified=True))
    without = callback.replace(f"&iss={query_of(callback)['iss'].replace(':', '%3A').replace('/', '%2F')}", "")
    assert "iss=" not in without
    _refused(come_back(browser, without), 401, "comes from another issuer")


def test_a_reload_of_the_callback_goes_back_to_sign_in(app, browser, google):
    response = browser.get("/auth/sso/google/callback")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"


def test_an_unreachable_provider_is_a_clear_page(app, browser, monkeypatch):
    from app.sso import providers

    monkeypatch.setitem(app.config, "GOOGLE_CLIENT_ID", "x")
    monkeypatch.setitem(app.config, "GOOGLE_CLIENT_SECRET", "y")
    monkeypatch.setitem(app.config, "GOOGLE_ISSUER", "http://127.0.0.1:9")
    providers.forget_cached()
    response = browser.get("/auth/sso/google/start")
    _refused(response, 502, "could not be reached")


def test_a_flow_started_from_another_site_is_refused(app, browser, google):
    response = browser.get("/auth/sso/google/start", headers={"Sec-Fetch-Site": "cross-site"})
    _refused(response, 403, "Start signing in from the Storia sign-in page")
    assert browser.get("/auth/sso/google/start", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 302


def test_refusals_of_an_organisations_provider_go_to_its_log(app, browser, oidc):
    tenant = make_tenant(app)
    set_org_provider(app, oidc, tenant, domains=["acme.example"])
    login = oidc.person("stranger", email="stranger@elsewhere.example")
    _refused(sign_in_with(browser, oidc, f"org-{tenant.slug}", login), 403, "for addresses at acme.example only")
    [event] = security_log(app, tenant, "sso_refused")
    assert event.detail == {"reason": "domain", "provider": f"org-{tenant.slug}"}


def test_a_refusal_of_a_signed_in_person_goes_to_their_accounts_log(app, browser, google, oidc):
    tenant = make_tenant(app)
    browser.login(tenant.owner.email)
    response = browser.get("/auth/sso/google/callback", query_string={"state": "forged", "code": "x"})
    _refused(response, 400, "not started in this browser")
    [event] = security_log(app, tenant, "sso_refused")
    assert event.user_id == tenant.owner.id and event.detail["reason"] == "state"


class TestMicrosoftsCommonEndpoint:
    """Microsoft's multi-tenant issuer is a template: the token's ``iss`` must be it, filled with its own ``tid``."""

    @pytest.fixture
    def entra(self, app, monkeypatch):
        from app.sso import providers

        provider = MintingProvider(templated=True).start()
        client_id, secret = provider.register()
        for name, value in (("MICROSOFT_CLIENT_ID", client_id), ("MICROSOFT_CLIENT_SECRET", secret),
                            ("MICROSOFT_ISSUER", provider.issuer)):
            monkeypatch.setitem(app.config, name, value)
        providers.forget_cached()
        yield provider
        provider.stop()
        providers.forget_cached()

    def test_a_token_of_its_directory_is_accepted(self, app, browser, entra, mail_server):
        response = _through(browser, "microsoft")
        assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
        assert mail_server.to("minted@example.org")  # Microsoft's address is confirmed by e-mail first

    @pytest.mark.parametrize("defect", ["other_tenant", "no_tenant"])
    def test_an_issuer_not_matching_its_tid_is_refused(self, app, browser, entra, defect):
        entra.defect = defect
        _refused(_through(browser, "microsoft"), 401, "comes from another issuer")
