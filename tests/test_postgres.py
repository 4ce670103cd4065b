"""Row-level security on PostgreSQL: posture (T5), fail-closed raw SQL (T6), pooled connections (T7)."""
import threading

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from app import create_app
from app.db_security import GLOBAL_TABLES
from app.extensions import db
from app.tenancy import tenant_context
from tests.conftest import make_config
from tests.factories import add_member, make_tenant, make_user
from tests.helpers import Browser

pytestmark = pytest.mark.postgres

TENANT_TABLES_SQL = text("""
    SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) AS owner
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r'
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
""")


@pytest.fixture
def seeded(app):
    """Two tenants with members, so that every tenant table has rows of both."""
    a, b = make_tenant(app, name="Alpha"), make_tenant(app, name="Beta")
    add_member(app, a)
    add_member(app, b)
    return a, b


def test_every_tenant_table_has_forced_rls_with_using_and_check(app):
    with app.app_context(), db.engine.connect() as conn:
        tables = conn.execute(TENANT_TABLES_SQL).all()
        policies = conn.execute(text(
            "SELECT tablename, policyname, permissive, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public'"
        )).all()
    assert tables, "no tenant tables found"
    for name, enabled, forced, _owner in tables:
        assert enabled and forced, f"{name}: RLS enabled={enabled} forced={forced}"
        full = [p for p in policies if p.tablename == name and p.cmd == "ALL"]
        assert full, f"{name} has no policy for all commands"
        for policy in full:
            assert policy.qual and "app.tenant_id" in policy.qual, f"{name}.{policy.policyname} USING"
            assert policy.with_check and "app.tenant_id" in policy.with_check, f"{name}.{policy.policyname} WITH CHECK"
        for policy in (p for p in policies if p.tablename == name and p.cmd != "ALL"):
            # A permissive policy widens what the tenant policy allows: reads only. A restrictive one can only narrow it.
            assert policy.cmd == "SELECT" or policy.permissive == "RESTRICTIVE", \
                f"{name}.{policy.policyname}: only extra read policies or restrictive ones are allowed"


def test_tables_without_tenant_id_are_the_listed_global_ones(app):
    with app.app_context(), db.engine.connect() as conn:
        names = set(conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )).scalars())
        tenant = {row.relname for row in conn.execute(TENANT_TABLES_SQL)}
    assert names - tenant <= GLOBAL_TABLES


def test_runtime_role_owns_nothing_and_cannot_bypass_rls(app):
    with app.app_context(), db.engine.connect() as conn:
        role = conn.execute(text(
            "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )).one()
        owned = conn.execute(text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
        )).scalar()
    assert not role.rolsuper and not role.rolbypassrls and not role.rolcreaterole and not role.rolcreatedb
    assert owned == 0


def test_no_views_or_security_definer_functions_over_tenant_tables(app):
    with app.app_context(), db.engine.connect() as conn:
        views = conn.execute(text(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')"
        )).all()
        definers = conn.execute(text(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.prosecdef"
        )).scalars().all()
    assert all("security_invoker=true" in (v.reloptions or []) for v in views), views
    assert definers == []


def test_app_role_cannot_switch_rls_off(app):
    with app.app_context(), db.engine.connect() as conn:
        with pytest.raises(ProgrammingError):
            conn.execute(text("ALTER TABLE membership DISABLE ROW LEVEL SECURITY"))


def test_raw_sql_without_tenant_sees_no_rows(app, seeded):
    with app.app_context(), db.engine.connect() as conn:
        names = [row.relname for row in conn.execute(TENANT_TABLES_SQL)]
        for name in names:
            assert conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() == 0, name  # noqa: S608 (catalogue names)


def test_raw_sql_in_a_tenant_sees_that_tenant_only(app, seeded):
    a, _ = seeded
    with app.app_context(), tenant_context(a.id):
        tenants = set(db.session.execute(text("SELECT DISTINCT tenant_id FROM membership")).scalars())
        roles = db.session.execute(text("SELECT count(*) FROM role")).scalar()
    assert tenants == {a.id}
    assert roles == 6


def test_insert_for_another_tenant_is_refused_by_the_database(app, seeded):
    a, b = seeded
    with app.app_context(), tenant_context(a.id):
        with pytest.raises(DBAPIError) as caught:
            db.session.execute(text(
                "INSERT INTO user_group (tenant_id, id, name, description, rights, created_at) "
                "VALUES (:t, gen_random_uuid(), 'smuggled', '', '[]', now())"
            ), {"t": b.id})
        db.session.rollback()
    assert caught.value.orig.sqlstate == "42501"


def test_moving_a_row_to_another_tenant_is_refused_by_the_database(app, seeded):
    a, b = seeded
    with app.app_context(), tenant_context(a.id):
        with pytest.raises(DBAPIError) as caught:
            db.session.execute(text("UPDATE role SET tenant_id = :b WHERE key = 'sales'"), {"b": b.id})
        db.session.rollback()
    assert caught.value.orig.sqlstate == "42501"


def test_update_and_delete_without_tenant_touch_nothing(app, seeded, database_urls):
    with app.app_context(), db.engine.begin() as conn:
        assert conn.execute(text("UPDATE role SET description = 'hacked'")).rowcount == 0
        assert conn.execute(text("DELETE FROM security_event")).rowcount == 0


def test_membership_of_own_user_is_readable_across_tenants_but_not_writable(app, seeded):
    """The switcher reads a user's memberships everywhere; the extra policy must not allow writes."""
    a, b = seeded
    shared = make_user(app)
    add_member(app, a, shared)
    add_member(app, b, shared)
    with app.app_context(), tenant_context(a.id, user_id=shared.id):
        visible = set(db.session.execute(text("SELECT tenant_id FROM membership WHERE user_id = :u"), {"u": shared.id}).scalars())
        changed = db.session.execute(text("UPDATE membership SET active = false WHERE tenant_id = :b"), {"b": b.id}).rowcount
        db.session.rollback()
    assert visible == {a.id, b.id}
    assert changed == 0


def test_pooled_connections_never_carry_a_tenant_between_requests(database_urls, mail_server):
    """T7 (short form): 300 interleaved requests of three tenants on a pool of two connections."""
    app = create_app(make_config(database_urls, mail_server, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": 2, "max_overflow": 0, "pool_pre_ping": True,
    }))
    tenants = [make_tenant(app, name=f"Canary{i}-{name}") for i, name in enumerate(("red", "green", "blue"))]
    stale = []
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "checkout")
        def check_setting(dbapi_connection, record, proxy):
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('app.tenant_id', true), current_setting('app.user_id', true)")
                values = cursor.fetchone()
            dbapi_connection.rollback()
            if any(values):
                stale.append(values)

    # Each thread has its own signed-in client per tenant (test clients are not thread-safe).
    clients = {}
    for worker in range(3):
        for tenant in tenants:
            browser = Browser(app.test_client())
            browser.login(tenant.owner.email)
            clients[worker, tenant.slug] = browser
    errors = []

    def run(worker: int):
        try:
            for i in range(50):
                tenant = tenants[(worker + i) % 3]
                browser = clients[worker, tenant.slug]
                other = tenants[(worker + i + 1) % 3]
                page = browser.get(f"/{tenant.slug}/admin/members").get_data(as_text=True)
                if tenant.name not in page or any(t.name in page for t in tenants if t is not tenant):
                    errors.append(("members", tenant.name))
                if browser.get(f"/{other.slug}/").status_code != 404:  # refused, logged, rolled back
                    errors.append(("probe", tenant.name))
                if i % 10 == 0 and browser.post(f"/{tenant.slug}/admin/settings", {"name": ""}).status_code != 422:
                    errors.append(("form", tenant.name))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(("exception", repr(error)))

    threads = [threading.Thread(target=run, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app.extensions["storia_live"].stop()
    with app.app_context():
        db.engine.dispose()
    assert errors == []
    assert stale == [], f"connections came out of the pool with a tenant set: {stale[:3]}"
