"""A tenant's data version: one number that changes whenever anything of the tenant is written.

Every transaction that writes a tenant's rows (ORM objects, or ``insert``/``update``/``delete``
statements run through the session) bumps ``tenant.data_version`` in the same transaction, just
before it commits; a rolled-back transaction bumps nothing. The page cache (``app.pagecache``)
keys rendered pages by it, so a page can never outlive a change it shows.

Writes made outside the session (``psql``, bulk loaders on a raw connection) do not bump it: after
those, restart the web processes or run any write, as for any cache.
"""
from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from app.models import Membership, Tenant, TenantScoped, User
from app.tenancy import current_tenant_id

_WRITTEN = "storia_written_tenants"
SHOWN_USER_FIELDS = ("name", "email")  # not the sign-in bookkeeping: a login changes no page


def _changed(obj, fields) -> bool:
    state = inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


def _written(session: Session) -> set:
    return session.info.setdefault(_WRITTEN, set())


@event.listens_for(Session, "after_flush")
def _note_flushed(session, flush_context):
    # Still the pre-flush lists here: what this flush wrote.
    written = _written(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not getattr(obj, "__shown_on_cached_pages__", True):
            continue
        if isinstance(obj, TenantScoped) and obj.tenant_id is not None:
            written.add(obj.tenant_id)
        elif isinstance(obj, Tenant) and session.is_modified(obj) and obj.id is not None:
            written.add(obj.id)
        elif isinstance(obj, User) and obj.id is not None and _changed(obj, SHOWN_USER_FIELDS):
            written.add(("user", obj.id))  # their name shows in every organisation they belong to


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState):
    if (state.is_insert or state.is_update or state.is_delete) and not state.execution_options.get("data_version"):
        tenant_id = current_tenant_id()
        if tenant_id is not None:
            _written(state.session).add(tenant_id)


@event.listens_for(Session, "before_commit")
def _bump(session):
    session.flush()  # what is still pending is written now, so that it is counted
    written = session.info.pop(_WRITTEN, None)
    if not written:
        return
    tenant_ids = [item for item in written if not isinstance(item, tuple)]
    user_ids = [item[1] for item in written if isinstance(item, tuple)]
    where = [Tenant.id.in_(tenant_ids)] if tenant_ids else []
    if user_ids:  # a person's organisations: those of their memberships the database lets this transaction see
        where.append(Tenant.id.in_(select(Membership.tenant_id).where(Membership.user_id.in_(user_ids))))
    session.execute(update(Tenant).where(or_(*where)).values(data_version=Tenant.data_version + 1)
                    .execution_options(synchronize_session=False, data_version=True, all_tenants=True))


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_WRITTEN, None)
