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
from sqlalchemy import Table, event, select, text
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


def _apply_to_open_transaction() -> None:
    """Push the scope into the transaction already open on ``db.session`` (PostgreSQL only)."""
    session = db.session()
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_SET_SCOPE_SQL, _scope_params(_scope.get()))


def set_scope(*, tenant_id=_KEEP, user_id=_KEEP) -> None:
    """Set the scope for the rest of this request or job (reset by ``clear_scope``)."""
    scope = _scope.get()
    if tenant_id is not _KEEP:
        scope = replace(scope, tenant_id=tenant_id)
    if user_id is not _KEEP:
        scope = replace(scope, user_id=user_id)
    if scope != _scope.get():  # the open transaction already holds an unchanged scope: no round trip
        _scope.set(scope)
        _apply_to_open_transaction()


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
        if _scope.get() != previous:
            _scope.set(previous)
            _apply_to_open_transaction()


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
    """Give every PostgreSQL transaction the scope (``SET LOCAL``: gone at commit or rollback)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_SET_SCOPE_SQL, _scope_params(_scope.get()))


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState):
    """Add ``tenant_id = current tenant`` to every ORM query on tenant tables; fail closed."""
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
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    tenant = get_tenant_by_slug(values.pop("tenant_slug"))
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
