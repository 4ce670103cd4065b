"""Team administration: roles of members, deactivation, invitations sent from the team page."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Invitation, Membership, SecurityEvent
from app.tenancy import tenant_context
from tests.factories import add_member, make_user, membership_id, role_id
from tests.helpers import Browser, text_of


def _events(app, tenant, kind):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind)).all()


def test_team_page_lists_members_with_their_roles(app, owner, tenant):
    add_member(app, tenant, make_user(app, name="Bruno Bianchi"), role="support")
    page = text_of(owner.get(f"/{tenant.slug}/admin/members").get_data(as_text=True))
    assert "Bruno Bianchi" in page and "Support" in page


def test_invite_form_defaults_to_the_sales_role(app, owner, tenant):
    page = owner.get(f"/{tenant.slug}/admin/members").get_data(as_text=True)
    form = page[page.index('id="invite-form"'):page.index("</form>", page.index('id="invite-form"'))]
    assert re.search(rf'<option selected value="{role_id(app, tenant, "sales")}"', form)


def test_changing_a_role_answers_the_updated_row(app, owner, tenant):
    member = add_member(app, tenant, role="sales")
    mid = membership_id(app, tenant, member)
    response = owner.post(f"/{tenant.slug}/admin/members/{mid}/role",
                          {"role_id": str(role_id(app, tenant, "accounting"))}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="member-{mid}"') and "<html" not in body
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.get(Membership, (tenant.id, mid)).role.key == "accounting"
    [event] = _events(app, tenant, "member_role_changed")
    assert event.detail == {"member": member.email, "old": "sales", "new": "accounting"}


def test_an_admin_cannot_make_anyone_owner(app, browser, tenant):
    admin = add_member(app, tenant, role="admin")
    member = add_member(app, tenant, role="sales")
    browser.login(admin.email)
    response = browser.post(f"/{tenant.slug}/admin/members/{membership_id(app, tenant, member)}/role",
                            {"role_id": str(role_id(app, tenant, "owner"))}, htmx=True)
    assert response.status_code == 422
    assert "Only an owner" in response.get_data(as_text=True)
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.scalar(select(Membership).where(Membership.user_id == member.id)).role.key == "sales"


def test_the_last_owner_cannot_be_demoted(app, owner, tenant):
    mid = membership_id(app, tenant, tenant.owner)
    response = owner.post(f"/{tenant.slug}/admin/members/{mid}/role",
                          {"role_id": str(role_id(app, tenant, "admin"))}, htmx=True)
    assert response.status_code == 422
    assert "at least one active owner" in response.get_data(as_text=True)


def test_deactivating_a_member_ends_their_access_at_once(app, owner, tenant):
    member = add_member(app, tenant, role="sales")
    theirs = Browser(app.test_client())
    theirs.login(member.email)
    assert theirs.get(f"/{tenant.slug}/").status_code == 200
    response = owner.post(f"/{tenant.slug}/admin/members/{membership_id(app, tenant, member)}/deactivate", htmx=True)
    assert response.status_code == 200 and "Deactivated" in response.get_data(as_text=True)
    assert theirs.get(f"/{tenant.slug}/").status_code == 403
    assert len(_events(app, tenant, "member_deactivated")) == 1


def test_reactivating_restores_access(app, owner, tenant):
    member = add_member(app, tenant, role="sales", active=False)
    owner.post(f"/{tenant.slug}/admin/members/{membership_id(app, tenant, member)}/reactivate", htmx=True)
    theirs = Browser(app.test_client())
    theirs.login(member.email)
    assert theirs.get(f"/{tenant.slug}/").status_code == 200


def test_nobody_can_deactivate_themselves(app, owner, tenant):
    response = owner.post(f"/{tenant.slug}/admin/members/{membership_id(app, tenant, tenant.owner)}/deactivate", htmx=True)
    assert response.status_code == 422
    assert owner.get(f"/{tenant.slug}/").status_code == 200


def test_invitation_is_mailed_listed_and_logged(app, owner, tenant, mail_server):
    response = owner.post(f"/{tenant.slug}/admin/invitations",
                          {"email": "New.Person@Example.com", "role_id": str(role_id(app, tenant, "support"))})
    assert response.status_code == 303
    assert "/auth/invite/" in mail_server.last_link("new.person@example.com", "/auth/invite/")
    page = text_of(owner.get(f"/{tenant.slug}/admin/members").get_data(as_text=True))
    assert "new.person@example.com" in page
    [event] = _events(app, tenant, "invitation_sent")
    assert event.detail["email"] == "new.person@example.com" and event.detail["role"] == "support"


def test_invalid_invitation_re_renders_the_form_with_the_input(app, owner, tenant):
    response = owner.post(f"/{tenant.slug}/admin/invitations",
                          {"email": "not-an-address", "role_id": str(role_id(app, tenant, "sales"))}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="not-an-address"' in body and "valid e-mail" in body and "<html" not in body


def test_inviting_an_active_member_is_refused(app, owner, tenant):
    member = add_member(app, tenant)
    response = owner.post(f"/{tenant.slug}/admin/invitations",
                          {"email": member.email, "role_id": str(role_id(app, tenant, "sales"))})
    assert response.status_code == 422
    assert "already a member" in response.get_data(as_text=True)


def test_inviting_again_replaces_the_open_invitation(app, owner, tenant, mail_server):
    data = {"email": "twice@example.com", "role_id": str(role_id(app, tenant, "sales"))}
    owner.post(f"/{tenant.slug}/admin/invitations", data)
    first = mail_server.last_link("twice@example.com", "/auth/invite/")
    owner.post(f"/{tenant.slug}/admin/invitations", data)
    assert owner.get(first.split("localhost", 1)[1]).status_code == 404
    with app.app_context(), tenant_context(tenant.id):
        open_ones = db.session.scalars(select(Invitation).where(Invitation.revoked_at.is_(None))).all()
    assert len(open_ones) == 1


def test_revoking_an_invitation_kills_its_link(app, owner, tenant, mail_server):
    owner.post(f"/{tenant.slug}/admin/invitations", {"email": "gone@example.com", "role_id": str(role_id(app, tenant, "sales"))})
    link = mail_server.last_link("gone@example.com", "/auth/invite/").split("localhost", 1)[1]
    with app.app_context(), tenant_context(tenant.id):
        invitation_id = db.session.scalar(select(Invitation.id))
    assert owner.post(f"/{tenant.slug}/admin/invitations/{invitation_id}/revoke").status_code == 303
    assert owner.get(link).status_code == 404
    assert len(_events(app, tenant, "invitation_revoked")) == 1


def test_settings_change_name_language_and_time_zone(app, owner, tenant):
    response = owner.post(f"/{tenant.slug}/admin/settings", {"name": "Atelier Renamed", "locale": "it", "timezone": "Europe/Rome"})
    assert response.status_code == 303
    page = owner.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert "Atelier Renamed" in page
    [event] = _events(app, tenant, "settings_changed")
    assert event.detail["fields"] == "locale name timezone"


def test_invalid_settings_keep_the_input(app, owner, tenant):
    response = owner.post(f"/{tenant.slug}/admin/settings", {"name": "", "locale": "de", "timezone": "Mars/Base"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not a valid choice" in body or "valid choice" in body


def test_the_invitation_says_what_each_role_sees_and_how_to_give_a_customer(app, owner, tenant):
    """Issue 14: a Sales member found no customer and a bare "Not found"; the inviting admin was never told."""
    page = owner.get(f"/{tenant.slug}/admin/members").get_data(as_text=True)
    form = re.search(r'<form id="invite-form".*?</form>', page, re.S).group(0)
    text = " ".join(text_of(form).split())
    assert "Sales sees only the customers they represent (“only mine”)" in text  # beside the role choice
    guide = {" ".join(text_of(dt).split()) for dt in re.findall(r"<dt>(.*?)</dt>", form, re.S)}
    assert "Sales Only their customers (“only mine”)" in guide
    for role in ("Owner", "Administrator", "Support", "Accounting", "Read-only"):
        assert f"{role} All customers" in guide, role
    assert "tick them under Sales representatives" in text and "Assign to" in text


def test_the_role_guide_describes_exactly_the_roles_offered(app, tenant):
    """The guide beside the role choice describes the roles the choice offers (those the inviter may give), no other."""
    admin = add_member(app, tenant, role="admin")
    browser = Browser(app.test_client())
    browser.login(admin.email)
    page = browser.get(f"/{tenant.slug}/admin/members").get_data(as_text=True)
    form = re.search(r'<form id="invite-form".*?</form>', page, re.S).group(0)
    guide = [text_of(label.split("<span", 1)[0]).strip() for label in re.findall(r"<dt>(.*?)</dt>", form, re.S)]
    select = re.search(r'<select[^>]*name="role_id".*?</select>', form, re.S).group(0)
    offered = [text_of(option).strip() for option in re.findall(r"<option[^>]*>(.*?)</option>", select, re.S)]
    assert guide == offered and "Sales" in guide
