"""An organisation's own provider: the admin page (discovery checked, secret encrypted and never shown, role rules),
finding it from the sign-in page by work address, and signing in with it (membership, auto-join, domains)."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, SsoDomain
from app.tenancy import tenant_context
from tests.auth.conftest import is_signed_in, link_path, security_log
from tests.factories import add_member, make_tenant, make_user, membership_id, role_id
from tests.helpers import text_of
from tests.sso.conftest import (
    identities,
    membership,
    provider_row,
    set_org_provider,
    sign_in_with,
    start,
)
from tests.sso.oidc import query_of


@pytest.fixture
def form(app, oidc):
    """The admin page's form as an owner fills it, with ``changes``; ``role`` names a built-in role by key."""

    def make(tenant, role="sales", **changes):
        return {"enabled": "y", "issuer": oidc.issuer, "client_id": "storia-client", "client_secret": "s3cret-value-42",
                "allowed_domains": "acme.example, acme-labs.example", "auto_join": "y",
                "default_role_id": str(role_id(app, tenant, role)) if role else "", **changes}

    return make


@pytest.fixture
def owner_browser(app, browser):
    tenant = make_tenant(app)
    browser.login(tenant.owner.email)
    return browser, tenant


class TestAdminPage:
    def test_is_in_the_administration_menu_and_shows_the_redirect_address(self, app, owner_browser):
        browser, tenant = owner_browser
        dashboard = browser.get(f"/{tenant.slug}/").get_data(as_text=True)
        assert f'href="/{tenant.slug}/admin/sso"' in dashboard
        page = browser.get(f"/{tenant.slug}/admin/sso").get_data(as_text=True)
        assert f"http://localhost/auth/sso/org-{tenant.slug}/callback" in page

    def test_saves_the_provider_read_from_its_discovery(self, app, owner_browser, oidc, form):
        browser, tenant = owner_browser
        response = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, allowed_domains="Acme.example @acme-labs.example"))
        assert response.status_code == 303
        row = provider_row(app, tenant)
        assert row.endpoints["token_endpoint"] == f"{oidc.issuer}/token" and row.endpoints["issuer"] == oidc.issuer
        assert row.allowed_domains == ["acme.example", "acme-labs.example"] and row.auto_join and row.enabled
        assert "s3cret-value-42" not in row.client_secret  # encrypted at rest
        with app.app_context():
            assert {d.domain for d in db.session.scalars(select(SsoDomain))} == {"acme.example", "acme-labs.example"}
        [event] = security_log(app, tenant, "sso_settings_changed")
        assert event.detail["fields"] == "allowed_domains auto_join client_id client_secret default_role_id enabled issuer"
        assert "s3cret" not in str(event.detail)

    def test_never_shows_the_secret_and_keeps_it_when_left_empty(self, app, owner_browser, oidc, form):
        browser, tenant = owner_browser
        browser.post(f"/{tenant.slug}/admin/sso", form(tenant))
        stored = provider_row(app, tenant).client_secret
        page = browser.get(f"/{tenant.slug}/admin/sso").get_data(as_text=True)
        assert "s3cret-value-42" not in page and stored not in page
        assert "Leave empty to keep" in page
        refused = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, client_secret="typed-secret-99",
                                                                   allowed_domains="not a domain"))
        assert refused.status_code == 422 and "typed-secret-99" not in refused.get_data(as_text=True)
        kept = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, client_secret="", client_id="renamed"))
        assert kept.status_code == 303
        row = provider_row(app, tenant)
        assert row.client_secret == stored and row.client_id == "renamed"

    def test_a_secret_that_can_no_longer_be_read_must_be_entered_again(self, app, owner_browser, oidc, form):
        """Written under another SECRET_KEY: the provider stops (nobody can sign in with it) and the page says why."""
        browser, tenant = owner_browser
        browser.post(f"/{tenant.slug}/admin/sso", form(tenant))
        with app.app_context(), tenant_context(tenant.id):
            from app.models import SsoProvider

            db.session.scalar(select(SsoProvider)).client_secret = "gAAAAA-written-under-another-key"
            db.session.commit()
        assert browser.get(f"/auth/sso/org-{tenant.slug}/start").status_code == 404
        assert "can no longer be read" in browser.get(f"/{tenant.slug}/admin/sso").get_data(as_text=True)
        refused = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, client_secret=""))
        assert refused.status_code == 422 and "Enter the client secret" in refused.get_data(as_text=True)
        assert browser.post(f"/{tenant.slug}/admin/sso", form(tenant)).status_code == 303
        assert browser.get(f"/auth/sso/org-{tenant.slug}/start").status_code == 302

    @pytest.mark.parametrize("issuer, message", [
        ("http://127.0.0.1:9", "could not be reached"),
        ("ftp://files.example", "Enter the provider's address"),
        ("not a url", "Enter the provider's address"),
    ])
    def test_a_bad_issuer_is_refused_with_the_input_kept(self, app, owner_browser, oidc, issuer, message, form):
        browser, tenant = owner_browser
        response = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, issuer=issuer), htmx=True)
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert message in text_of(body) and f'value="{issuer}"' in body
        assert provider_row(app, tenant) is None

    def test_an_address_that_is_no_openid_provider_is_refused(self, app, owner_browser, oidc, web_page, form):
        browser, tenant = owner_browser
        response = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, issuer=web_page))
        assert response.status_code == 422
        assert "does not lead to an OpenID Connect provider" in text_of(response.get_data(as_text=True))
        assert provider_row(app, tenant) is None

    def test_a_document_naming_another_issuer_is_refused(self, app, owner_browser, oidc, form):
        browser, tenant = owner_browser
        response = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, issuer=f"{oidc.issuer}/elsewhere"))
        assert response.status_code == 422
        assert provider_row(app, tenant) is None

    def test_private_addresses_are_refused_unless_allowed(self, app, owner_browser, oidc, monkeypatch, form):
        monkeypatch.setitem(app.config, "SSO_ALLOW_PRIVATE_ADDRESSES", False)
        browser, tenant = owner_browser
        response = browser.post(f"/{tenant.slug}/admin/sso", form(tenant))
        assert response.status_code == 422 and "must start with https://" in text_of(response.get_data(as_text=True))
        response = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, issuer="https://127.0.0.1:9"))
        assert response.status_code == 422 and "not on the public internet" in text_of(response.get_data(as_text=True))

    def test_a_new_provider_needs_its_secret(self, app, owner_browser, oidc, form):
        browser, tenant = owner_browser
        response = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, client_secret=""))
        assert response.status_code == 422 and "Enter the client secret" in response.get_data(as_text=True)

    def test_public_mail_domains_are_refused(self, app, owner_browser, oidc, form):
        browser, tenant = owner_browser
        response = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, allowed_domains="acme.example, gmail.com"))
        assert response.status_code == 422 and "Anyone can have an address at gmail.com" in response.get_data(as_text=True)

    def test_nobody_joins_as_owner(self, app, owner_browser, oidc, form):
        browser, tenant = owner_browser
        response = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, role="owner"))
        assert response.status_code == 422 and provider_row(app, tenant) is None

    def test_auto_join_needs_a_role(self, app, owner_browser, oidc, form):
        browser, tenant = owner_browser
        response = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, role=None))
        assert response.status_code == 422 and "Choose the role" in response.get_data(as_text=True)

    def test_an_admin_cannot_let_people_join_with_rights_they_lack(self, app, browser, oidc, form):
        tenant = make_tenant(app)
        with app.app_context(), tenant_context(tenant.id):
            settings_only = Role(name="Settings keeper", rights=["admin.settings", "thirdparty.read"])
            db.session.add(settings_only)
            db.session.commit()
            keeper_role = settings_only.id
        keeper = add_member(app, tenant, role="readonly")
        with app.app_context(), tenant_context(tenant.id):
            from app.models import Membership

            db.session.get(Membership, (tenant.id, membership_id(app, tenant, keeper))).role_id = keeper_role
            db.session.commit()
        browser.login(keeper.email)
        refused = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, role="admin"))
        assert refused.status_code == 422 and "only give rights you hold" in refused.get_data(as_text=True)
        assert provider_row(app, tenant) is None
        allowed = browser.post(f"/{tenant.slug}/admin/sso", form(tenant, default_role_id=str(keeper_role)))
        assert allowed.status_code == 303

    def test_needs_the_settings_right(self, app, browser, oidc, form):
        tenant = make_tenant(app)
        sales = add_member(app, tenant, role="sales")
        browser.login(sales.email)
        assert browser.get(f"/{tenant.slug}/admin/sso").status_code == 403
        assert browser.post(f"/{tenant.slug}/admin/sso", form(tenant)).status_code == 403

    def test_disabling_unpublishes_its_domains(self, app, owner_browser, oidc, form):
        browser, tenant = owner_browser
        browser.post(f"/{tenant.slug}/admin/sso", form(tenant))
        browser.post(f"/{tenant.slug}/admin/sso", {k: v for k, v in form(tenant, client_secret="").items()
                                                   if k != "enabled"})
        assert provider_row(app, tenant).enabled is False
        with app.app_context():
            assert db.session.scalars(select(SsoDomain)).all() == []
        assert browser.get(f"/auth/sso/org-{tenant.slug}/start").status_code == 404


class TestFindingTheProvider:
    def test_the_work_address_leads_to_its_organisation(self, app, browser, oidc):
        tenant = make_tenant(app, name="Acme")
        set_org_provider(app, oidc, tenant, domains=["acme.example"])
        assert 'href="/auth/sso/"' in browser.get("/auth/login").get_data(as_text=True)
        response = browser.post("/auth/sso/", {"email": "Bob@Acme.example"})
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert f"/auth/sso/org-{tenant.slug}/start?hint=Bob@Acme.example" in body
        assert "single sign-on of Acme" in text_of(body)
        query = query_of(start(browser, f"org-{tenant.slug}", {"hint": "bob@acme.example"}))
        assert query["login_hint"] == "bob@acme.example"

    def test_several_organisations_are_offered_to_choose(self, app, browser, oidc):
        first, second = make_tenant(app, name="Acme East"), make_tenant(app, name="Acme West")
        for tenant in (first, second):
            set_org_provider(app, oidc, tenant, domains=["acme.example"])
        body = browser.post("/auth/sso/", {"email": "bob@acme.example"}).get_data(as_text=True)
        assert "Choose your organisation" in body
        assert f"org-{first.slug}/start" in body and f"org-{second.slug}/start" in body

    def test_no_provider_gives_the_same_page_whatever_exists(self, app, browser, oidc):
        """A domain nobody has, and one whose organisation exists with its provider turned off: the same answer."""
        tenant = make_tenant(app)
        set_org_provider(app, oidc, tenant, domains=["hidden.example"], enabled=False)
        nobody = browser.post("/auth/sso/", {"email": "bob@nowhere.example"})
        disabled = browser.post("/auth/sso/", {"email": "bob@hidden.example"})
        assert nobody.status_code == disabled.status_code == 422
        assert _masked(nobody, "bob@nowhere.example") == _masked(disabled, "bob@hidden.example")
        assert "No organisation signs in this address" in nobody.get_data(as_text=True)


def _masked(response, email):
    from tests.auth.conftest import without_csrf

    return without_csrf(response.get_data(as_text=True)).replace(email, "EMAIL")


class TestSigningInWithIt:
    def test_a_member_confirms_once_then_signs_straight_in(self, app, browser, new_browser, oidc, mail_server):
        tenant = make_tenant(app)
        member = add_member(app, tenant, make_user(app, email="bob@acme.example"))
        set_org_provider(app, oidc, tenant, domains=["acme.example"])
        login = oidc.person("bob", email="bob@acme.example", email_verified=True)
        first = sign_in_with(browser, oidc, f"org-{tenant.slug}", login)
        assert first.status_code == 200 and identities(app) == []  # an organisation's provider is never trusted alone
        path = link_path(mail_server, member.email, "/auth/sso/confirm/")
        assert browser.post(path).status_code == 303 and is_signed_in(browser)
        assert identities(app)[0].user_id == member.id
        again = new_browser()
        assert sign_in_with(again, oidc, f"org-{tenant.slug}", login).status_code == 303 and is_signed_in(again)
        assert [e.detail["provider"] for e in security_log(app, tenant, "sso_linked")] == [f"org-{tenant.slug}"]

    def test_auto_join_makes_a_member_with_the_default_role(self, app, browser, oidc, mail_server):
        tenant = make_tenant(app)
        set_org_provider(app, oidc, tenant, domains=["acme.example"], auto_join=True, role="support")
        sign_in_with(browser, oidc, f"org-{tenant.slug}", oidc.person("carol", email="carol@acme.example"))
        assert browser.post(link_path(mail_server, "carol@acme.example", "/auth/sso/confirm/")).status_code == 303
        [identity] = identities(app)
        joined = membership(app, tenant, identity.user_id)
        assert joined.active and joined.role_id == role_id(app, tenant, "support")
        [event] = security_log(app, tenant, "sso_joined")
        assert event.user_id == identity.user_id
        assert browser.get(f"/{tenant.slug}/").status_code == 200

    def test_without_auto_join_a_stranger_is_refused(self, app, browser, oidc, mail_server):
        tenant = make_tenant(app)
        set_org_provider(app, oidc, tenant, domains=["acme.example"])
        response = sign_in_with(browser, oidc, f"org-{tenant.slug}", oidc.person("dave", email="dave@acme.example"))
        assert response.status_code == 403 and "not a member of" in text_of(response.get_data(as_text=True))
        assert mail_server.to("dave@acme.example") == [] and identities(app) == []
        assert [e.detail["reason"] for e in security_log(app, tenant, "sso_refused")] == ["not_member"]

    def test_an_address_outside_its_domains_is_refused(self, app, browser, oidc):
        tenant = make_tenant(app)
        set_org_provider(app, oidc, tenant, domains=["acme.example"], auto_join=True)
        response = sign_in_with(browser, oidc, f"org-{tenant.slug}", oidc.person("eve", email="eve@evil.example"))
        assert response.status_code == 403 and identities(app) == []
        assert "for addresses at acme.example only" in text_of(response.get_data(as_text=True))

    def test_a_hostile_provider_cannot_take_over_an_account(self, app, browser, new_browser, oidc, mail_server):
        """An organisation's admin points its provider at a server that claims anyone's address, with
        ``email_verified: true``: the victim's account is not linked; the victim only gets an e-mail, whose link
        does nothing in their own browser."""
        victim_org = make_tenant(app)
        victim = victim_org.owner
        hostile = make_tenant(app)
        domain = victim.email.split("@")[1]
        set_org_provider(app, oidc, hostile, domains=[domain], auto_join=True)
        claim = oidc.person("evil", email=victim.email, email_verified=True)
        response = sign_in_with(browser, oidc, f"org-{hostile.slug}", claim)
        assert response.status_code == 200 and not is_signed_in(browser) and identities(app) == []
        path = link_path(mail_server, victim.email, "/auth/sso/confirm/")
        victims_browser = new_browser()
        victims_browser.login(victim.email)
        assert victims_browser.post(path).status_code == 403
        assert identities(app) == [] and membership(app, hostile, victim.id) is None

    def test_a_deactivated_member_stays_deactivated(self, app, browser, oidc, mail_server):
        tenant = make_tenant(app)
        former = add_member(app, tenant, make_user(app, email="fred@acme.example"), active=False)
        set_org_provider(app, oidc, tenant, domains=["acme.example"], auto_join=True)
        sign_in_with(browser, oidc, f"org-{tenant.slug}", oidc.person("fred", email=former.email))
        assert browser.post(link_path(mail_server, former.email, "/auth/sso/confirm/")).status_code == 303
        assert membership(app, tenant, former.id).active is False
        assert browser.get(f"/{tenant.slug}/").status_code == 403

    def test_a_deleted_default_role_stops_auto_join_clearly(self, app, browser, oidc, mail_server):
        tenant = make_tenant(app)
        with app.app_context(), tenant_context(tenant.id):
            temporary = Role(name="Temporary", rights=["thirdparty.read"])
            db.session.add(temporary)
            db.session.commit()
            temporary_id = temporary.id
        set_org_provider(app, oidc, tenant, domains=["acme.example"], auto_join=True, role=None)
        with app.app_context(), tenant_context(tenant.id):
            from app.models import SsoProvider

            db.session.scalar(select(SsoProvider)).default_role_id = temporary_id
            db.session.delete(db.session.get(Role, (tenant.id, temporary_id)))
            db.session.commit()
        sign_in_with(browser, oidc, f"org-{tenant.slug}", oidc.person("gina", email="gina@acme.example"))
        response = browser.post(link_path(mail_server, "gina@acme.example", "/auth/sso/confirm/"))
        assert response.status_code == 403 and "not fully set up" in text_of(response.get_data(as_text=True))
        assert identities(app) == []
        owner = new_browser_signed_in(app, tenant.owner.email)
        assert "no longer exists" in owner.get(f"/{tenant.slug}/admin/sso").get_data(as_text=True)


def new_browser_signed_in(app, email):
    from tests.helpers import Browser

    browser = Browser(app.test_client())
    browser.login(email)
    return browser

