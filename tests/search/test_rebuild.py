"""`flask search rebuild` and `flask demo`: records that exist without their index terms (made before the index, or
loaded in bulk past the ORM) become searchable; a rebuild of an index that is up to date writes nothing."""
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import SearchTerm, Tenant, ThirdParty
from app.tenancy import tenant_context
from tests.factories import TenantInfo, UserInfo
from tests.search.support import found


def _first_customer(app, slug):
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        with tenant_context(tenant.id):
            name = db.session.scalar(select(ThirdParty.name).order_by(ThirdParty.name).limit(1))
        return TenantInfo(tenant.id, slug, tenant.name, UserInfo(None, "", "")), name


def test_demo_data_is_searchable_and_a_rebuild_restores_a_lost_index(app, cleaner):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "--password", "Demo-Password-2026"]).exit_code == 0
    with app.app_context():
        slug = db.session.scalar(select(Tenant.slug).order_by(Tenant.slug).limit(1))
    tenant, name = _first_customer(app, slug)
    owner = _owner(app, tenant)
    word = name.split()[0]
    assert found(app, tenant, owner, word).get("customer"), word

    engine, _tables = cleaner
    with engine.begin() as conn:  # the index lost (or never built), the records kept
        conn.execute(text("DELETE FROM search_term"))
    assert "customer" not in found(app, tenant, owner, word)
    result = runner.invoke(args=["search", "rebuild", "--slug", slug])
    assert result.exit_code == 0, result.output
    assert found(app, tenant, owner, word).get("customer"), word

    assert runner.invoke(args=["search", "rebuild"]).exit_code == 0  # the other organisation's, lost too
    again = runner.invoke(args=["search", "rebuild"])
    assert again.exit_code == 0 and "search index: 0 terms written" in again.output
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.scalar(select(func.count()).select_from(SearchTerm)) > 0


def _owner(app, tenant):
    from app.models import Membership, Role, User

    with app.app_context(), tenant_context(tenant.id):
        user_id = db.session.scalar(select(Membership.user_id).join(
            Role, (Role.tenant_id == Membership.tenant_id) & (Role.id == Membership.role_id)).where(Role.key == "owner"))
        user = db.session.get(User, user_id)
        return UserInfo(user.id, user.email, user.name)
