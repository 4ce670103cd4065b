"""PostgreSQL row-level security and privileges, applied by migrations and audited by tests (T5).

Policies read the scope with ``NULLIF(current_setting(..., true), '')``: once a setting has been
touched in a session it reads '' rather than NULL, and a plain cast would fail.
"""
from alembic import op
from flask import current_app
from sqlalchemy.engine import make_url

TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
USER_PREDICATE = "user_id = NULLIF(current_setting('app.user_id', true), '')::uuid"

# Tables without tenant_id, on purpose: looked up before a tenant is known, or account-wide.
GLOBAL_TABLES = frozenset({
    "alembic_version", "tenant", "user_account", "auth_session", "login_attempt", "pending_signup",
    "rate_limit_hit", "two_factor", "recovery_code", "remembered_device", "sso_domain", "sso_identity",
})


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _quote(identifier: str) -> str:
    return op.get_bind().dialect.identifier_preparer.quote(identifier)


def enable_tenant_rls(table: str) -> None:
    """Enable and force RLS on a tenant table: rows of the tenant in scope only, for reads and writes."""
    if not _on_postgresql():
        return
    name = _quote(table)
    op.execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {name} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})")


def allow_reading_own_rows(table: str) -> None:
    """Let a user read their own rows of a tenant table in every tenant (memberships: the switcher)."""
    if not _on_postgresql():
        return
    op.execute(f"CREATE POLICY own_rows_readable ON {_quote(table)} FOR SELECT USING ({USER_PREDICATE})")


def app_role() -> str | None:
    """The role the app connects as, when migrations run as another (the owner); else None."""
    app_url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    owner = current_app.config.get("MIGRATE_DATABASE_URL")
    if not owner or make_url(owner).username == app_url.username:
        return None
    return app_url.username


def grant_app_role() -> None:
    """Give the app role data rights (never ownership) on every table, now and to come."""
    role = app_role() if _on_postgresql() else None
    if role is None:
        return
    role = _quote(role)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {role}")


def make_append_only(table: str) -> None:
    """Take UPDATE and DELETE on ``table`` away from the app role (audit log, timeline)."""
    role = app_role() if _on_postgresql() else None
    if role is None:
        return
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {_quote(table)} FROM {_quote(role)}")


def trigram_index(table: str, column: str, expression: str | None = None) -> None:
    """A trigram index so that ``ILIKE '%text%'`` searches stay fast on large tables (PostgreSQL).

    ``expression`` (SQL, e.g. two columns joined) is indexed instead of ``column``, which then only names the index;
    queries must use the very same expression.
    """
    if not _on_postgresql():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    name = _quote(f"ix_{table}_{column}_trgm")
    indexed = f"({expression})" if expression else _quote(column)
    op.execute(f"CREATE INDEX {name} ON {_quote(table)} USING gin ({indexed} gin_trgm_ops)")


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: trigram indexes are made by hand in migrations, not declared on models."""
    return not (type_ == "index" and reflected and (name or "").endswith("_trgm"))
