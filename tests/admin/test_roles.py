"""Roles and groups: custom roles, editable built-in roles, groups that add rights."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Group, Role, SecurityEvent
from app.permissions import ALL_RIGHTS
from app.tenancy import tenant_context
from tests.factories import add_member, membership_id, role_id
from tests.helpers import Browser, text_of


def _role(app, tenant, **where):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(Role).filter_by(**where))


def test_roles_page_lists_builtin_roles_and_counts(app, owner, tenant):
    add_member(app, tenant, role="support")
    page = text_of(owner.get(f"/{tenant.slug}/admin/roles").get_data(as_text=True))
    for label in ("Owner", "Administrator", "Sales", "Support", "Accounting", "Read-only"):
        assert label in page


def test_create_a_custom_role_with_rights(app, owner, tenant):
    response = owner.post(f"/{tenant.slug}/admin/roles/new",
                          {"name": "Interns", "description": "Summer help", "rights": ["thirdparty.read", "note.create"]})
    assert response.status_code == 303
    role = _role(app, tenant, name="Interns")
    assert role.rights == ["note.create", "thirdparty.read"] and role.key is None


def test_unknown_rights_are_dropped(app, owner, tenant):
    owner.post(f"/{tenant.slug}/admin/roles/new", {"name": "Odd", "rights": ["thirdparty.read"]})
    role = _role(app, tenant, name="Odd")
    response = owner.post(f"/{tenant.slug}/admin/roles/{role.id}/edit",
                          {"name": "Odd", "rights": ["thirdparty.read", "root.everything"]})
    assert response.status_code == 422  # a choice outside the catalogue is refused, nothing saved
    assert _role(app, tenant, name="Odd").rights == ["thirdparty.read"]


def test_duplicate_role_name_is_refused_with_the_input_kept(app, owner, tenant):
    owner.post(f"/{tenant.slug}/admin/roles/new", {"name": "Interns", "rights": []})
    response = owner.post(f"/{tenant.slug}/admin/roles/new", {"name": "interns", "description": "again"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "already exists" in body and 'value="again"' in body


def test_builtin_role_rights_are_editable_but_its_name_is_not(app, owner, tenant):
    sales = role_id(app, tenant, "sales")
    response = owner.post(f"/{tenant.slug}/admin/roles/{sales}/edit",
                          {"name": "Renamed", "description": "Field team", "rights": ["thirdparty.read", "thirdparty.read_all"]})
    assert response.status_code == 303
    role = _role(app, tenant, key="sales")
    assert role.name == "sales" and role.rights == ["thirdparty.read", "thirdparty.read_all"]


def test_owner_role_cannot_be_edited(app, owner, tenant):
    response = owner.post(f"/{tenant.slug}/admin/roles/{role_id(app, tenant, 'owner')}/edit", {"name": "x", "rights": []})
    assert response.status_code == 422
    assert "every right" in response.get_data(as_text=True)


def test_changed_rights_apply_at_the_next_request(app, owner, tenant):
    member = add_member(app, tenant, role="readonly")
    theirs = Browser(app.test_client())
    theirs.login(member.email)
    assert theirs.get(f"/{tenant.slug}/admin/members").status_code == 403
    readonly = _role(app, tenant, key="readonly")
    owner.post(f"/{tenant.slug}/admin/roles/{readonly.id}/edit", {"name": "readonly", "rights": [*readonly.rights, "admin.users"]})
    assert theirs.get(f"/{tenant.slug}/admin/members").status_code == 200


def test_a_role_in_use_cannot_be_deleted(app, owner, tenant):
    owner.post(f"/{tenant.slug}/admin/roles/new", {"name": "Temp", "rights": []})
    role = _role(app, tenant, name="Temp")
    member = add_member(app, tenant, role="sales")
    owner.post(f"/{tenant.slug}/admin/members/{membership_id(app, tenant, member)}/role", {"role_id": str(role.id)}, htmx=True)
    owner.post(f"/{tenant.slug}/admin/roles/{role.id}/delete")
    assert _role(app, tenant, name="Temp") is not None


def test_an_unused_custom_role_is_deleted_and_logged(app, owner, tenant):
    owner.post(f"/{tenant.slug}/admin/roles/new", {"name": "Temp", "rights": []})
    role = _role(app, tenant, name="Temp")
    assert owner.post(f"/{tenant.slug}/admin/roles/{role.id}/delete").status_code == 303
    assert _role(app, tenant, name="Temp") is None
    with app.app_context(), tenant_context(tenant.id):
        kinds = db.session.scalars(select(SecurityEvent.kind)).all()
    assert {"role_created", "role_deleted"} <= set(kinds)


def test_group_gives_its_rights_to_its_members(app, owner, tenant):
    member = add_member(app, tenant, role="readonly")
    theirs = Browser(app.test_client())
    theirs.login(member.email)
    assert theirs.get(f"/{tenant.slug}/admin/security-log").status_code == 403
    response = owner.post(f"/{tenant.slug}/admin/groups/new", {
        "name": "Auditors", "rights": ["admin.security_log"], "members": [str(membership_id(app, tenant, member))],
    })
    assert response.status_code == 303
    assert theirs.get(f"/{tenant.slug}/admin/security-log").status_code == 200


def test_removing_someone_from_a_group_takes_its_rights_away(app, owner, tenant):
    member = add_member(app, tenant, role="readonly")
    mid = str(membership_id(app, tenant, member))
    owner.post(f"/{tenant.slug}/admin/groups/new", {"name": "Auditors", "rights": ["admin.security_log"], "members": [mid]})
    with app.app_context(), tenant_context(tenant.id):
        group_id = db.session.scalar(select(Group.id))
    page = owner.get(f"/{tenant.slug}/admin/groups/{group_id}/edit").get_data(as_text=True)
    assert re.search(rf'value="{mid}"[^>]*checked|checked[^>]*value="{mid}"', page)
    owner.post(f"/{tenant.slug}/admin/groups/{group_id}/edit", {"name": "Auditors", "rights": ["admin.security_log"]})
    theirs = Browser(app.test_client())
    theirs.login(member.email)
    assert theirs.get(f"/{tenant.slug}/admin/security-log").status_code == 403


def test_deleting_a_group_keeps_members_and_their_role(app, owner, tenant):
    member = add_member(app, tenant, role="support")
    owner.post(f"/{tenant.slug}/admin/groups/new", {"name": "Temp", "rights": ["invoice.read"],
                                                    "members": [str(membership_id(app, tenant, member))]})
    with app.app_context(), tenant_context(tenant.id):
        group_id = db.session.scalar(select(Group.id))
    assert owner.post(f"/{tenant.slug}/admin/groups/{group_id}/delete").status_code == 303
    theirs = Browser(app.test_client())
    theirs.login(member.email)
    assert theirs.get(f"/{tenant.slug}/").status_code == 200


def test_owner_always_has_every_right(app, tenant):
    from app.permissions import load_viewer

    with app.app_context(), tenant_context(tenant.id):
        viewer = load_viewer(tenant.owner.id)
    assert viewer.rights == frozenset(ALL_RIGHTS)
