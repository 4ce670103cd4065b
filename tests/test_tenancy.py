"""The ORM layer of tenant isolation: every query filtered, fails closed, new rows stamped (T6, T8, T9)."""
import re

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from app.extensions import db
from app.models import Group, GroupMember, Membership, Role, SecurityEvent
from app.tenancy import TenantContextMissing, current_scope, tenant_context
from tests.factories import add_member, make_tenant, role_id
from tests.helpers import sql_sent


@pytest.fixture
def two_tenants(app):
    a, b = make_tenant(app, name="Alpha"), make_tenant(app, name="Beta")
    add_member(app, a, role="sales")
    add_member(app, b, role="support")
    return a, b


@pytest.mark.parametrize("statement", [
    lambda: select(Role),
    lambda: select(func.count()).select_from(Membership),
    lambda: update(Role).values(description="x"),
    lambda: delete(SecurityEvent),
])
def test_query_on_tenant_table_without_tenant_fails_closed(app, two_tenants, statement):
    with app.app_context(), pytest.raises(TenantContextMissing):
        db.session.execute(statement())


def test_get_by_primary_key_without_tenant_fails_closed(app, two_tenants):
    a, _ = two_tenants
    with app.app_context(), pytest.raises(TenantContextMissing):
        db.session.get(Role, (a.id, role_id(app, a, "owner")))


def test_select_sees_only_the_tenant_in_scope(app, two_tenants):
    a, b = two_tenants
    with app.app_context(), tenant_context(a.id):
        tenants = set(db.session.scalars(select(Membership.tenant_id)).all())
        assert tenants == {a.id}
        assert db.session.scalar(select(func.count()).select_from(Role)) == 6


def test_get_of_another_tenants_row_finds_nothing(app, two_tenants):
    a, b = two_tenants
    b_owner_role = role_id(app, b, "owner")
    with app.app_context(), tenant_context(a.id):
        assert db.session.get(Role, (b.id, b_owner_role)) is None


def test_joins_aliases_and_subqueries_are_filtered(app, two_tenants):
    a, _ = two_tenants
    with app.app_context(), tenant_context(a.id):
        other = aliased(Role)
        joined = db.session.execute(select(Membership, other).join(other, other.id == Membership.role_id)).all()
        assert {m.tenant_id for m, _ in joined} == {a.id} and {r.tenant_id for _, r in joined} == {a.id}
        sub = select(Role.id).where(Role.key == "owner").scalar_subquery()
        owners = db.session.scalars(select(Membership).where(Membership.role_id == sub)).all()
        assert len(owners) == 1 and owners[0].tenant_id == a.id


def test_eager_loads_stay_in_the_tenant(app, two_tenants):
    a, _ = two_tenants
    with app.app_context(), tenant_context(a.id):
        group = Group(name="Leads", rights=["thirdparty.read_all"])
        db.session.add(group)
        db.session.flush()
        for member in db.session.scalars(select(Membership)):
            group.members.append(GroupMember(membership_id=member.id))
        db.session.commit()
        db.session.expunge_all()
        loaded = db.session.scalars(select(Group).options(selectinload(Group.members))).all()
        assert [len(g.members) for g in loaded] == [2]
        assert {m.membership.tenant_id for m in loaded[0].members} == {a.id}


def test_bulk_update_and_delete_touch_only_the_tenant_in_scope(app, two_tenants):
    a, b = two_tenants
    with app.app_context(), tenant_context(a.id):
        db.session.execute(update(Role).values(description="changed in A"))
        db.session.execute(delete(SecurityEvent))
        db.session.commit()
    with app.app_context(), tenant_context(b.id):
        assert db.session.scalars(select(Role.description).distinct()).all() != ["changed in A"]
        assert db.session.scalar(select(func.count()).select_from(SecurityEvent)) > 0


def test_new_rows_are_stamped_with_the_tenant_in_scope(app, two_tenants):
    a, _ = two_tenants
    with app.app_context(), tenant_context(a.id):
        role = Role(name="Interns", rights=[])
        db.session.add(role)
        db.session.commit()
        assert role.tenant_id == a.id


def test_new_row_without_tenant_in_scope_is_refused(app, two_tenants):
    with app.app_context():
        db.session.add(Role(name="Orphan", rights=[]))
        with pytest.raises(TenantContextMissing):
            db.session.flush()
        db.session.rollback()


def test_new_row_for_another_tenant_is_refused(app, two_tenants):
    a, b = two_tenants
    with app.app_context(), tenant_context(a.id):
        db.session.add(Role(tenant_id=b.id, name="Smuggled", rights=[]))
        with pytest.raises(TenantContextMissing):
            db.session.flush()
        db.session.rollback()


def test_moving_a_row_to_another_tenant_is_refused(app, two_tenants):
    a, b = two_tenants
    with app.app_context(), tenant_context(a.id):
        role = db.session.scalar(select(Role).where(Role.key == "sales"))
        role.tenant_id = b.id
        with pytest.raises(TenantContextMissing):
            db.session.flush()
        db.session.rollback()


def test_database_refuses_a_reference_into_another_tenant(app, two_tenants):
    """Composite foreign keys: a membership of A cannot point at B's role, whatever the ORM does."""
    a, b = two_tenants
    b_role = role_id(app, b, "admin")
    with app.app_context(), tenant_context(a.id):
        member = db.session.scalar(select(Membership).where(Membership.role.has(Role.key == "sales")))
        member.role_id = b_role
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_scope_is_empty_after_every_request(app, client, two_tenants):
    a, _ = two_tenants
    client.get(f"/{a.slug}/")
    assert current_scope().tenant_id is None and current_scope().user_id is None


def test_every_orm_statement_on_tenant_tables_carries_the_tenant_predicate(app, two_tenants):
    """T8: capture the SQL of a query corpus; each statement on a tenant table filters by tenant_id."""
    a, _ = two_tenants
    tenant_tables = ("role", "membership", "user_group", "group_member", "invitation", "security_event")
    with sql_sent(app) as captured, app.app_context(), tenant_context(a.id):
        db.session.scalars(select(Membership)).all()
        db.session.scalars(select(Role).where(Role.key == "owner")).all()
        db.session.execute(select(Membership, Role).join(Role, Role.id == Membership.role_id)).all()
        db.session.scalars(select(Group).options(selectinload(Group.members))).all()
        db.session.scalar(select(func.count()).select_from(SecurityEvent))
        db.session.execute(update(Role).where(Role.key == "readonly").values(description="ro"))
        db.session.execute(delete(GroupMember))
        db.session.rollback()
    checked = 0
    for sql in captured:
        lowered = sql.lower()
        if not lowered.lstrip().startswith(("select", "update", "delete")):
            continue
        for table in tenant_tables:
            if re.search(rf"\b(from|join|update)\s+{table}\b", lowered):
                checked += 1
                # A comparison with a bound parameter: the criteria, not a join condition.
                assert re.search(rf"\b{table}(_\d+)?\.tenant_id = (\?|%\(\w+\)s)", lowered), f"{table} unfiltered in: {sql}"
    assert checked >= 8
