"""Tenant scoping: the request scope, ORM filtering and stamping, PostgreSQL settings, the URL prefix.

Three layers keep tenants apart (docs/architecture.md): composite keys in the schema, the ORM
listeners below, and row-level security on PostgreSQL, fed by ``set_config(..., true)`` per
transaction from the scope held here.
"""
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from flask import Blueprint, abort, g
from flask_login import current_user
from sqlalchemy import Table, Text, cast, event, func, select, text
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.visitors import iterate

from app.extensions import db, login_manager
from app.models import Tenant, TenantScoped


class TenantContextMissing(RuntimeError):
    """A tenant-owned table was queried or written with no tenant in scope."""


@dataclass(frozen=True)
class Scope:
    tenant_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None


_scope: ContextVar[Scope] = ContextVar("storia_scope", default=Scope())  # noqa: B039 (frozen)
_KEEP = object()
_SET_SCOPE_SQL = text(
    "SELECT set_config('app.tenant_id', :tenant_id, true), set_config('app.user_id', :user_id, true)"
)


def current_scope() -> Scope:
    return _scope.get()


def current_tenant_id() -> uuid.UUID | None:
    return _scope.get().tenant_id


_DB_SCOPE = "storia_db_scope"  # Session.info: the scope the open PostgreSQL transaction holds


def _sync(session) -> None:
    """Send the scope to the open PostgreSQL transaction if it holds another one (one statement, every setting).

    Called before every ORM statement and flush, so a scope change is sent once, lazily, with the next statement:
    changes that follow each other (the person, then the organisation) cost one ``set_config`` at most."""
    held = session.info.get(_DB_SCOPE)
    scope = _scope.get()
    if held is not None and held != scope:
        session.connection().execute(_SET_SCOPE_SQL, _scope_params(scope))
        session.info[_DB_SCOPE] = scope


def set_scope(*, tenant_id=_KEEP, user_id=_KEEP) -> None:
    """Set the scope for the rest of this request or job (reset by ``clear_scope``)."""
    scope = _scope.get()
    if tenant_id is not _KEEP:
        scope = replace(scope, tenant_id=tenant_id)
    if user_id is not _KEEP:
        scope = replace(scope, user_id=user_id)
    _scope.set(scope)  # the open transaction gets it before its next statement (_sync)


def clear_scope() -> None:
    _scope.set(Scope())


@contextmanager
def _scoped(**changes):
    previous = _scope.get()
    set_scope(**changes)
    try:
        yield
        db.session.flush()  # rows added inside are written under the scope they were made in
    finally:
        _scope.set(previous)


def tenant_context(tenant_id: uuid.UUID, *, user_id=_KEEP):
    """Run a block as ``tenant_id`` (CLI commands, jobs, services that cross tenants)."""
    return _scoped(tenant_id=tenant_id, user_id=user_id)


def user_context(user_id: uuid.UUID):
    """Run a block that may read ``user_id``'s memberships in every tenant."""
    return _scoped(user_id=user_id)


def _scope_params(scope: Scope) -> dict:
    return {
        "tenant_id": str(scope.tenant_id) if scope.tenant_id else "",
        "user_id": str(scope.user_id) if scope.user_id else "",
    }


@event.listens_for(Session, "after_begin")
def _set_database_scope(session, transaction, connection):
    """Give every PostgreSQL transaction the scope (``set_config(…, true)``: gone at commit or rollback).

    A transaction begins with empty settings (they are transaction-local), so an empty scope sends nothing; later
    changes are sent before the next statement (``_sync``)."""
    if connection.dialect.name == "postgresql":
        scope = _scope.get()
        if scope != Scope():
            connection.execute(_SET_SCOPE_SQL, _scope_params(scope))
        session.info[_DB_SCOPE] = scope


_UNSURE = object()  # what a transaction holds after a savepoint ended: sent again before the next statement


@event.listens_for(Session, "after_transaction_end")
def _forget_database_scope(session, transaction):
    """A transaction's settings end with it; a savepoint rolled back takes back those changed inside it (PostgreSQL
    undoes ``set_config(…, true)`` with the savepoint), so after a savepoint the scope is sent again."""
    if transaction.parent is None:
        session.info.pop(_DB_SCOPE, None)
    elif transaction.nested and _DB_SCOPE in session.info:
        session.info[_DB_SCOPE] = _UNSURE


@event.listens_for(Session, "before_flush")
def _sync_before_flush(session, flush_context, instances):
    _sync(session)


def enter_request_scope(tenant_slug: str, session_token_hash: str) -> Scope:
    """Scope the request to the organisation ``tenant_slug`` and the person of the live session ``session_token_hash``
    in ONE statement: on PostgreSQL it sets both settings of the transaction (the organisation only when the session
    is live), elsewhere it only reads the two ids. The caller still checks the session (lifetimes) and the membership;
    an unknown slug or a dead session leaves that part of the scope empty."""
    from app.models import AuthSession

    user_id = select(AuthSession.user_id).where(AuthSession.token_hash == session_token_hash,
                                                AuthSession.ended_at.is_(None)).scalar_subquery()
    tenant_id = select(Tenant.id).where(Tenant.slug == tenant_slug, user_id.is_not(None)).scalar_subquery()
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        empty = text("''")
        stmt = select(func.set_config("app.tenant_id", func.coalesce(cast(tenant_id, Text), empty), True),
                      func.set_config("app.user_id", func.coalesce(cast(user_id, Text), empty), True))
    else:
        stmt = select(cast(tenant_id, Text), cast(user_id, Text))
    found_tenant, found_user = session.execute(stmt).one()
    scope = Scope(tenant_id=uuid.UUID(found_tenant) if found_tenant else None,
                  user_id=uuid.UUID(found_user) if found_user else None)
    _scope.set(scope)
    if _DB_SCOPE in session.info:
        session.info[_DB_SCOPE] = scope
    return scope


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState):
    """Add ``tenant_id = current tenant`` to every ORM query on tenant tables; fail closed."""
    _sync(state.session)
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Relationship and column loads inherit the criteria of the query that loaded the parent
    # (SQLAlchemy's filter_public recipe); lazy loads of rows added in this session follow
    # composite foreign keys, which cannot cross tenants.
    if state.is_column_load or state.is_relationship_load:
        return
    if state.execution_options.get("all_tenants"):
        return
    tenant_id = _scope.get().tenant_id
    if tenant_id is None:
        if _touches_tenant_table(state):
            raise TenantContextMissing("query on a tenant table without a tenant in scope")
        return
    # Added even when no tenant entity is selected: `select(func.count()).select_from(Model)`
    # names no mapper in its columns, yet the criteria still reach the FROM clause.
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    )


def _touches_tenant_table(state: ORMExecuteState) -> bool:
    if any(issubclass(m.class_, TenantScoped) for m in state.all_mappers):
        return True
    return any(isinstance(element, Table) and "tenant_id" in element.c for element in iterate(state.statement))


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session, flush_context, instances):
    """Stamp new tenant rows with the current tenant; refuse rows of, or moves to, another."""
    tenant_id = _scope.get().tenant_id
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if tenant_id is None:
            raise TenantContextMissing(f"new {type(obj).__name__} without a tenant in scope")
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenantContextMissing(f"new {type(obj).__name__} for another tenant")
    for obj in session.dirty:
        if isinstance(obj, TenantScoped) and db.inspect(obj).attrs.tenant_id.history.deleted:
            raise TenantContextMissing(f"{type(obj).__name__} moved to another tenant")


# Slugs: DESIGN "Decided". Every top-level URL segment is reserved (a test checks the URL map).
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")
RESERVED_SLUGS = frozenset({
    "static", "api", "health", "admin", "auth", "login", "logout", "signup", "invite", "www",
    "app", "help", "docs", "status", "lang", "orgs", "account", "favicon.ico", "robots.txt", "calendar",
})


def slug_problem(slug: str) -> str | None:
    """Return why ``slug`` cannot name a new tenant (a message key), or None."""
    if not SLUG_RE.match(slug or ""):
        return "format"
    if slug in RESERVED_SLUGS:
        return "reserved"
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        return "taken"
    return None


def get_tenant_by_slug(slug: str) -> Tenant | None:
    if not SLUG_RE.match(slug):  # no tenant has a malformed slug; NUL would even be a database error
        return None
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def _pull_tenant(endpoint, values):
    """Load the tenant named by the URL and scope the request to it; 404 when unknown.

    A visitor who is not signed in is sent to sign in before the slug is even looked up, whether an
    organisation has it or not: the answer (and its timing) must not tell which organisations exist.
    """
    slug = values.pop("tenant_slug")
    g.tenant_slug = slug  # the session loader reads the organisation and the viewer with the session (auth.sessions)
    signed_in = current_user.is_authenticated
    g.pop("tenant_slug", None)  # for this request's session loader only
    if not signed_in:
        abort(login_manager.unauthorized())
    tenant = g.pop("loaded_tenant", None)
    if tenant is None or tenant.slug != slug:
        tenant = get_tenant_by_slug(slug)
    if tenant is None:
        abort(404)
    g.tenant = tenant
    set_scope(tenant_id=tenant.id)


def _add_tenant(endpoint, values):
    if "tenant_slug" not in values and "tenant" in g:
        values["tenant_slug"] = g.tenant.slug


def make_tenant_blueprint(guard, children) -> Blueprint:
    """Return the ``/<tenant_slug>`` parent blueprint that every tenant page hangs off.

    Made per app (a module-level parent would collect its children again on every
    ``create_app``); ``guard`` runs before every tenant view (membership, see permissions).
    """
    bp = Blueprint("tenant", __name__, url_prefix="/<tenant_slug>")
    bp.url_value_preprocessor(_pull_tenant)
    bp.url_defaults(_add_tenant)
    bp.before_request(guard)
    for child in children:
        bp.register_blueprint(child)
    return bp
