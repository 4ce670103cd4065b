"""Accepting an invitation: new account or existing one, the wrong account, dead links, reactivation."""
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invitation, Membership, User
from app.tenancy import tenant_context
from tests.auth.conftest import is_signed_in, link_path, membership_of, security_log, user_by_email
from tests.factories import add_member, make_tenant, make_user, membership_id, role_id
from tests.helpers import PASSWORD, text_of

INVITE = "/auth/invite/"
DEAD_LINK = "This link no longer works"


@pytest.fixture
def tenant(app):
    return make_tenant(app, name="Atelier Rossi")


@pytest.fixture
def owner(tenant, new_browser):
    """The owner's browser, signed in."""
    browser = new_browser()
    browser.login(tenant.owner.email)
    return browser


def _invite(app, owner, tenant, mail_server, email, role="support") -> str:
    """Invite ``email`` as the owner would, and return the path of the e-mailed link."""
    response = owner.post(f"/{tenant.slug}/admin/invitations",
                          {"email": email, "role_id": str(role_id(app, tenant, role))}, htmx=True)
    assert response.status_code == 200 and "HX-Redirect" in response.headers, response.status_code
    return link_path(mail_server, email, INVITE)


def _members(app, tenant) -> int:
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(func.count()).select_from(Membership))


def _dead(response) -> bool:
    return response.status_code == 404 and DEAD_LINK in response.get_data(as_text=True)


def test_invitee_without_account_sees_the_account_form(app, tenant, owner, new_browser, mail_server):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")
    page = new_browser().get(link)
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "Create your account for nina@example.com." in text
    assert "Support" in text


def test_invitee_without_account_creates_it_from_the_link(app, tenant, owner, new_browser, mail_server):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")
    response = new_browser().post(link, {"name": "Nina Bianchi", "password": PASSWORD})
    assert response.status_code == 303
    user = user_by_email(app, "nina@example.com")
    assert user.name == "Nina Bianchi"
    new_browser().login("nina@example.com", PASSWORD)


def test_invitee_without_account_joins_with_the_invited_role(app, tenant, owner, new_browser, mail_server):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com", role="accounting")
    new_browser().post(link, {"name": "Nina Bianchi", "password": PASSWORD})
    membership = membership_of(app, tenant, user_by_email(app, "nina@example.com"))
    assert membership.role.key == "accounting"
    assert membership.active


def test_invitee_without_account_lands_signed_in_in_the_tenant(app, tenant, owner, new_browser, mail_server):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")
    invitee = new_browser()
    response = invitee.post(link, {"name": "Nina Bianchi", "password": PASSWORD})
    assert response.headers["Location"] == f"/{tenant.slug}/"
    page = invitee.get(f"/{tenant.slug}/")
    assert page.status_code == 200
    assert "Atelier Rossi" in page.get_data(as_text=True)


def test_invitee_account_form_refuses_a_weak_password(app, tenant, owner, new_browser, mail_server):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")
    response = new_browser().post(link, {"name": "Nina Bianchi", "password": "qwertyuiop"})
    assert response.status_code == 422
    assert 'value="Nina Bianchi"' in response.get_data(as_text=True)
    assert user_by_email(app, "nina@example.com") is None
    assert _members(app, tenant) == 1


def test_invitee_with_account_must_sign_in_first(app, tenant, owner, new_browser, mail_server):
    invitee = make_user(app, email="marco@example.com")
    link = _invite(app, owner, tenant, mail_server, invitee.email)
    anonymous = new_browser()
    page = anonymous.get(link).get_data(as_text=True)
    assert "marco@example.com already has a Storia account: sign in to accept." in text_of(page)
    assert 'name="password"' not in page
    anonymous.post(link, {"name": "Someone Else", "password": "an attacker chosen passphrase"})
    assert membership_of(app, tenant, invitee) is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.email == invitee.email)) == 1


def test_invitee_with_account_is_sent_back_to_the_invitation_after_signing_in(app, tenant, owner, new_browser,
                                                                               mail_server):
    invitee = make_user(app, email="marco@example.com")
    link = _invite(app, owner, tenant, mail_server, invitee.email)
    browser = new_browser()
    page = browser.get(link).get_data(as_text=True)
    assert "/auth/login?next=" in page
    response = browser.post(f"/auth/login?next={link}", {"email": invitee.email, "password": PASSWORD,
                                                          "next": link})
    assert response.headers["Location"] == link


def test_invitee_with_account_accepts_once_signed_in(app, tenant, owner, new_browser, mail_server):
    invitee = make_user(app, email="marco@example.com")
    link = _invite(app, owner, tenant, mail_server, invitee.email, role="readonly")
    browser = new_browser()
    browser.login(invitee.email)
    assert "Accept and join" in browser.get(link).get_data(as_text=True)
    assert membership_of(app, tenant, invitee) is None  # opening the link joins nothing
    response = browser.post(link)
    assert response.headers["Location"] == f"/{tenant.slug}/"
    assert membership_of(app, tenant, invitee).role.key == "readonly"
    assert browser.get(f"/{tenant.slug}/").status_code == 200


def test_invitation_opened_by_another_account_says_to_sign_out(app, tenant, owner, new_browser, mail_server):
    make_user(app, email="marco@example.com")
    intruder = make_user(app, email="eve@example.com")
    link = _invite(app, owner, tenant, mail_server, "marco@example.com")
    browser = new_browser()
    browser.login(intruder.email)
    text = text_of(browser.get(link).get_data(as_text=True))
    assert "This invitation is for marco@example.com, but you are signed in as eve@example.com." in text


def test_invitation_posted_by_another_account_joins_nothing(app, tenant, owner, new_browser, mail_server):
    intruder = make_user(app, email="eve@example.com")
    link = _invite(app, owner, tenant, mail_server, "marco@example.com")
    browser = new_browser()
    browser.login(intruder.email)
    response = browser.post(link, {"name": "Eve", "password": PASSWORD})
    assert response.status_code == 200
    assert membership_of(app, tenant, intruder) is None
    assert _members(app, tenant) == 1
    assert browser.get(f"/{tenant.slug}/").status_code == 404


def test_used_invitation_link_no_longer_works(app, tenant, owner, new_browser, mail_server):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")
    new_browser().post(link, {"name": "Nina Bianchi", "password": PASSWORD})
    assert _dead(new_browser().get(link))
    assert _dead(new_browser().post(link, {"name": "Nina Again", "password": "another fresh passphrase"}))


def test_revoked_invitation_link_no_longer_works(app, tenant, owner, new_browser, mail_server):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")
    with app.app_context(), tenant_context(tenant.id):
        invitation_id = db.session.scalar(select(Invitation.id))
    assert owner.post(f"/{tenant.slug}/admin/invitations/{invitation_id}/revoke", htmx=True).status_code == 200
    assert _dead(new_browser().get(link))
    assert _dead(new_browser().post(link, {"name": "Nina Bianchi", "password": PASSWORD}))
    assert user_by_email(app, "nina@example.com") is None


def test_expired_invitation_link_no_longer_works(app, tenant, owner, new_browser, mail_server):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")
    with app.app_context(), tenant_context(tenant.id):
        invitation = db.session.scalar(select(Invitation))
        invitation.expires_at = invitation.created_at - timedelta(minutes=1)
        db.session.commit()
    assert _dead(new_browser().get(link))
    assert _dead(new_browser().post(link, {"name": "Nina Bianchi", "password": PASSWORD}))


def test_invitation_link_older_than_its_max_age_no_longer_works(app, tenant, owner, new_browser, mail_server):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")

    class IssuedEarlier(TimestampSigner):
        def get_timestamp(self):
            return int(time.time() - (app.config["INVITATION_MAX_AGE"] + timedelta(minutes=1)).total_seconds())

    key, salt = app.config["SECRET_KEY"], "storia.invitation"
    payload = URLSafeTimedSerializer(key, salt=salt).loads(link.removeprefix(INVITE))
    aged = INVITE + URLSafeTimedSerializer(key, salt=salt, signer=IssuedEarlier).dumps(payload)
    assert _dead(new_browser().get(aged))


@pytest.mark.parametrize("alter", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
    lambda token: token.rsplit(".", 1)[0],
    lambda token: "forged",
])
def test_forged_invitation_link_no_longer_works(app, tenant, owner, new_browser, mail_server, alter):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")
    forged = INVITE + alter(link.removeprefix(INVITE))
    assert _dead(new_browser().get(forged))
    assert _dead(new_browser().post(forged, {"name": "Nina Bianchi", "password": PASSWORD}))


def test_invitation_for_another_tenant_cannot_be_redirected(app, tenant, owner, new_browser, mail_server):
    """The link names its tenant; pointing it at another tenant's id (re-signed with a guessed key) fails."""
    other = make_tenant(app)
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")
    payload = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="storia.invitation").loads(
        link.removeprefix(INVITE))
    payload["t"] = str(other.id)
    forged = INVITE + URLSafeTimedSerializer("guessed-secret", salt="storia.invitation").dumps(payload)
    assert _dead(new_browser().get(forged))


def test_new_invitation_replaces_the_open_one(app, tenant, owner, new_browser, mail_server):
    first = _invite(app, owner, tenant, mail_server, "nina@example.com", role="support")
    second = _invite(app, owner, tenant, mail_server, "nina@example.com", role="sales")
    assert _dead(new_browser().get(first))
    new_browser().post(second, {"name": "Nina Bianchi", "password": PASSWORD})
    assert membership_of(app, tenant, user_by_email(app, "nina@example.com")).role.key == "sales"


def test_reinviting_a_deactivated_member_reactivates_them_with_the_new_role(app, tenant, owner, new_browser,
                                                                            mail_server):
    member = add_member(app, tenant, role="sales")
    member_id = membership_id(app, tenant, member)
    owner.post(f"/{tenant.slug}/admin/members/{member_id}/deactivate", htmx=True)
    assert not membership_of(app, tenant, member).active
    link = _invite(app, owner, tenant, mail_server, member.email, role="support")
    browser = new_browser()
    browser.login(member.email)
    assert browser.get(f"/{tenant.slug}/").status_code == 403
    browser.post(link)
    membership = membership_of(app, tenant, member)
    assert (membership.id, membership.active, membership.role.key) == (member_id, True, "support")
    assert browser.get(f"/{tenant.slug}/").status_code == 200


def test_active_member_cannot_be_invited_again(app, tenant, owner, mail_server):
    member = add_member(app, tenant, role="sales")
    response = owner.post(f"/{tenant.slug}/admin/invitations",
                          {"email": member.email, "role_id": str(role_id(app, tenant, "admin"))}, htmx=True)
    assert response.status_code == 422
    assert mail_server.to(member.email) == []


def test_accepted_invitation_is_in_the_security_log(app, tenant, owner, new_browser, mail_server):
    link = _invite(app, owner, tenant, mail_server, "nina@example.com")
    new_browser(ip="198.51.100.50").post(link, {"name": "Nina Bianchi", "password": PASSWORD})
    user = user_by_email(app, "nina@example.com")
    events = security_log(app, tenant, "invitation_accepted")
    assert [(e.user_id, e.ip, e.detail["email"]) for e in events] == [(user.id, "198.51.100.50", "nina@example.com")]


def test_signed_in_invitee_signing_out_then_in_as_the_right_account_can_accept(app, tenant, owner, new_browser,
                                                                               mail_server):
    make_user(app, email="marco@example.com")
    intruder = make_user(app, email="eve@example.com")
    link = _invite(app, owner, tenant, mail_server, "marco@example.com")
    browser = new_browser()
    browser.login(intruder.email)
    browser.logout()
    browser.login("marco@example.com")
    assert browser.post(link).headers["Location"] == f"/{tenant.slug}/"
    assert is_signed_in(browser)
