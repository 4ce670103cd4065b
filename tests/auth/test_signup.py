"""Signing up (QUALITY T14): e-mail confirmation over real SMTP, slugs, no enumeration, password policy, rate limit."""
import pytest
from sqlalchemy import func, select

from app.auth.passwords import password_problem
from app.extensions import db
from app.models import Membership, PendingSignup, Role, Tenant, User
from app.permissions import BUILTIN_ROLES
from app.tenancy import tenant_context
from tests.auth.conftest import is_signed_in, link_path, mail_text, membership_of, user_by_email, without_csrf
from tests.factories import make_tenant, make_user
from tests.helpers import PASSWORD, text_of

CONFIRM = "/auth/signup/confirm/"


def _form(**overrides):
    data = {"org_name": "Boulangerie Martin", "slug": "boulangerie-martin", "name": "Claire Martin",
            "email": "claire@example.com", "password": PASSWORD}
    data.update(overrides)
    return data


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _tenant(app, slug):
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        db.session.expunge_all()
        return tenant


def _sign_up(browser, mail_server, **overrides):
    """Sign up and return the path of the confirmation link that was e-mailed."""
    data = _form(**overrides)
    response = browser.post("/auth/signup", data)
    assert response.status_code == 303, response.status_code
    return link_path(mail_server, data["email"], CONFIRM)


def test_signup_emails_a_confirmation_link(app, browser, mail_server):
    response = browser.post("/auth/signup", _form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-inbox?reason=signup"
    [message] = mail_server.to("claire@example.com")
    assert message["Subject"] == "Confirm your Storia sign-up"
    assert CONFIRM in mail_text(message)


def test_signup_creates_nothing_before_confirmation(app, browser, mail_server):
    _sign_up(browser, mail_server)
    assert _count(app, User) == 0
    assert _count(app, Tenant) == 0
    assert not is_signed_in(browser)


def test_confirming_creates_the_user(app, new_browser, mail_server):
    link = _sign_up(new_browser(), mail_server)
    response = new_browser().post(link, {"slug": "boulangerie-martin"})
    assert response.status_code == 303
    user = user_by_email(app, "claire@example.com")
    assert user.name == "Claire Martin"
    assert _count(app, PendingSignup) == 0


def test_confirming_creates_the_tenant_with_the_builtin_roles(app, new_browser, mail_server):
    link = _sign_up(new_browser(), mail_server)
    new_browser().post(link, {"slug": "boulangerie-martin"})
    tenant = _tenant(app, "boulangerie-martin")
    assert tenant.name == "Boulangerie Martin"
    with app.app_context(), tenant_context(tenant.id):
        keys = set(db.session.scalars(select(Role.key)).all())
    assert keys == set(BUILTIN_ROLES)


def test_confirming_makes_the_user_the_owner(app, new_browser, mail_server):
    link = _sign_up(new_browser(), mail_server)
    new_browser().post(link, {"slug": "boulangerie-martin"})
    tenant, user = _tenant(app, "boulangerie-martin"), user_by_email(app, "claire@example.com")
    membership = membership_of(app, tenant, user)
    assert membership.role.key == "owner"
    assert membership.active
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 1


def test_confirming_signs_in_and_opens_the_new_organisation(app, new_browser, mail_server):
    link = _sign_up(new_browser(), mail_server)
    confirming = new_browser()
    response = confirming.post(link, {"slug": "boulangerie-martin"})
    assert response.headers["Location"] == "/boulangerie-martin/"
    page = confirming.get("/boulangerie-martin/")
    assert page.status_code == 200
    assert "Boulangerie Martin" in page.get_data(as_text=True)


def test_confirmed_account_signs_in_with_the_chosen_password(app, new_browser, mail_server):
    link = _sign_up(new_browser(), mail_server)
    new_browser().post(link, {"slug": "boulangerie-martin"})
    new_browser().login("claire@example.com", PASSWORD)


def test_get_of_the_confirmation_link_creates_nothing(app, new_browser, mail_server):
    """Link scanners and mail previews fetch links with GET: only the POST confirms."""
    link = _sign_up(new_browser(), mail_server)
    scanner = new_browser()
    response = scanner.get(link)
    assert response.status_code == 200
    assert "boulangerie-martin" in response.get_data(as_text=True)
    assert _count(app, User) == 0
    assert _count(app, Tenant) == 0
    assert _count(app, PendingSignup) == 1
    assert not is_signed_in(scanner)


def test_confirmation_link_works_once(app, new_browser, mail_server):
    link = _sign_up(new_browser(), mail_server)
    new_browser().post(link, {"slug": "boulangerie-martin"})
    again = new_browser().post(link, {"slug": "boulangerie-deux"})
    assert again.status_code == 404
    assert "This link no longer works" in again.get_data(as_text=True)
    assert _count(app, Tenant) == 1


def test_forged_confirmation_link_is_refused(app, new_browser, mail_server):
    link = _sign_up(new_browser(), mail_server)
    forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    response = new_browser().post(forged, {"slug": "boulangerie-martin"})
    assert response.status_code == 404
    assert _count(app, Tenant) == 0


def test_confirming_when_the_address_was_taken_meanwhile_asks_for_another(app, new_browser, mail_server):
    link = _sign_up(new_browser(), mail_server)
    make_tenant(app, slug="boulangerie-martin")
    confirming = new_browser()
    response = confirming.post(link, {"slug": "boulangerie-martin"})
    assert response.status_code == 422
    assert "This address is already taken" in text_of(response.get_data(as_text=True))
    assert confirming.post(link, {"slug": "boulangerie-martin-2"}).headers["Location"] == "/boulangerie-martin-2/"


@pytest.mark.parametrize(("slug", "message"), [
    ("admin", "This address is reserved"),
    ("auth", "This address is reserved"),
    ("static", "This address is reserved"),
    ("signup", "This address is reserved"),
    ("ab", "Use 3 to 40 lower-case letters"),
    ("-bakery", "Use 3 to 40 lower-case letters"),
    ("bakery-", "Use 3 to 40 lower-case letters"),
    ("bäckerei", "Use 3 to 40 lower-case letters"),
    ("my_bakery", "Use 3 to 40 lower-case letters"),
    ("../etc", "Use 3 to 40 lower-case letters"),
    ("x" * 41, "Use 3 to 40 lower-case letters"),
])
def test_unusable_slug_is_refused_with_a_clear_message(app, browser, mail_server, slug, message):
    response = browser.post("/auth/signup", _form(slug=slug))
    assert response.status_code == 422
    assert message in text_of(response.get_data(as_text=True))
    assert mail_server.messages == []


def test_taken_slug_is_refused_with_a_clear_message(app, browser, mail_server):
    make_tenant(app, slug="boulangerie-martin")
    response = browser.post("/auth/signup", _form())
    assert response.status_code == 422
    assert "This address is already taken; choose another." in text_of(response.get_data(as_text=True))
    assert mail_server.messages == []


def test_taken_slug_is_refused_whatever_its_case(app, browser):
    make_tenant(app, slug="boulangerie-martin")
    assert browser.post("/auth/signup", _form(slug=" Boulangerie-MARTIN ")).status_code == 422


def test_refused_signup_keeps_what_the_user_typed(app, browser):
    response = browser.post("/auth/signup", _form(slug="admin", org_name="Épicerie d'Anna", name="Anna Rossi",
                                                  email="anna@example.com"))
    page = response.get_data(as_text=True)
    assert 'value="Épicerie d&#39;Anna"' in page
    assert 'value="Anna Rossi"' in page
    assert 'value="anna@example.com"' in page
    assert 'value="admin"' in page
    assert PASSWORD not in page  # never echoed back


def test_refused_signup_over_htmx_answers_the_form_fragment(app, browser):
    response = browser.post("/auth/signup", _form(slug="admin"), htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in page
    assert 'id="signup-form"' in page
    assert "This address is reserved" in text_of(page)


def test_slug_check_answers_the_fragment_only(app, client):
    response = client.get("/auth/signup/slug?slug=fresh-bakery", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in page and "<form" not in page
    assert page.strip().startswith('<small id="slug-feedback"')
    assert "fresh-bakery is available." in page


def test_slug_check_reports_a_taken_slug(app, client):
    make_tenant(app, slug="boulangerie-martin")
    response = client.get("/auth/signup/slug?slug=boulangerie-martin", headers={"HX-Request": "true"})
    assert "This address is already taken; choose another." in text_of(response.get_data(as_text=True))
    assert "field-error" in response.get_data(as_text=True)


@pytest.mark.parametrize(("slug", "message"), [("api", "reserved"), ("a_b", "Use 3 to 40")])
def test_slug_check_reports_unusable_slugs(app, client, slug, message):
    response = client.get("/auth/signup/slug", query_string={"slug": slug}, headers={"HX-Request": "true"})
    assert message in text_of(response.get_data(as_text=True))


def test_slug_check_escapes_what_it_echoes(app, client):
    response = client.get("/auth/signup/slug", query_string={"slug": "<img src=x onerror=alert(1)>"},
                          headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert "<img" not in page


def test_slug_check_without_htmx_answers_the_fragment_too(app, client):
    response = client.get("/auth/signup/slug?slug=fresh-bakery")
    assert response.status_code == 200
    assert "fresh-bakery is available." in response.get_data(as_text=True)


def test_signup_with_a_registered_email_answers_like_a_new_one(app, new_browser, mail_server):
    make_user(app, email="taken@example.com")
    answers = []
    for email, slug in (("taken@example.com", "first-bakery"), ("fresh@example.com", "second-bakery")):
        browser = new_browser()
        response = browser.post("/auth/signup", _form(email=email, slug=slug))
        page = browser.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], response.get_data(as_text=True),
                        page.status_code, without_csrf(page.get_data(as_text=True))))
    assert answers[0] == answers[1]


def test_signup_with_a_registered_email_sends_the_existing_account_mail(app, browser, mail_server):
    make_user(app, email="taken@example.com")
    browser.post("/auth/signup", _form(email="Taken@Example.com"))
    [message] = mail_server.to("taken@example.com")
    assert message["Subject"] == "You already have a Storia account"
    assert CONFIRM not in mail_text(message)
    assert "/auth/forgot" in mail_text(message)
    assert _count(app, PendingSignup) == 0
    assert _count(app, Tenant) == 0


def test_signed_in_user_creates_another_organisation_directly(app, browser, mail_server):
    tenant = make_tenant(app)
    browser.login(tenant.owner.email)
    assert 'name="password"' not in browser.get("/auth/signup").get_data(as_text=True)
    response = browser.post("/auth/signup", {"org_name": "Second Shop", "slug": "second-shop"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/second-shop/"
    assert mail_server.messages == []
    second = _tenant(app, "second-shop")
    assert membership_of(app, second, tenant.owner).role.key == "owner"
    assert browser.get("/second-shop/").status_code == 200


def test_signed_in_user_is_refused_an_unusable_slug(app, browser):
    tenant = make_tenant(app)
    browser.login(tenant.owner.email)
    response = browser.post("/auth/signup", {"org_name": "Second Shop", "slug": tenant.slug})
    assert response.status_code == 422
    assert 'value="Second Shop"' in response.get_data(as_text=True)
    assert _count(app, Tenant) == 1


@pytest.mark.parametrize("password", [
    "short1234",            # under 10 characters
    "password123",          # in the breach corpora
    "qwertyuiop",
    "1q2w3e4r5t",
    "PASSWORD123",          # the same, in capitals
    "aaaaaaaaaaaaaaa",      # too few different characters
    "claire-is-my-name",    # contains the e-mail's local part
    "claire martin 2024",   # contains the name
])
def test_weak_password_is_refused(app, browser, mail_server, password):
    response = browser.post("/auth/signup", _form(password=password))
    assert response.status_code == 422
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert mail_server.messages == []
    assert _count(app, PendingSignup) == 0


def test_no_top_3000_breached_password_is_accepted(app):
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    top = FREQUENCY_LISTS["passwords"][:3000]  # ordered by frequency in the breach corpora
    with app.test_request_context():
        accepted = [p for p in top if password_problem(p) is None or password_problem(p.capitalize()) is None]
    assert accepted == []


def test_signup_rate_limit_answers_429(app, browser, mail_server):
    for n in range(10):
        assert browser.post("/auth/signup", _form(email=f"person{n}@example.com", slug=f"shop-{n}")).status_code == 303
    response = browser.post("/auth/signup", _form(email="one-more@example.com", slug="shop-more"))
    assert response.status_code == 429
    assert mail_server.to("one-more@example.com") == []


def test_signup_rate_limit_is_per_address(app, new_browser):
    crowded = new_browser(ip="198.51.100.10")
    for n in range(10):
        crowded.post("/auth/signup", _form(email=f"person{n}@example.com", slug=f"shop-{n}"))
    assert crowded.post("/auth/signup", _form(email="late@example.com", slug="shop-late")).status_code == 429
    other = new_browser(ip="198.51.100.11")
    assert other.post("/auth/signup", _form(email="other@example.com", slug="shop-other")).status_code == 303
