"""Reading the audit chain back, checking it, and tampering with it as someone with database access would."""
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from app.audit.chain import verify_chain
from app.extensions import db
from app.models import AuditEntry, AuditHead
from app.tenancy import tenant_context
from tests.factories import TenantInfo

ENTRY = AuditEntry.__table__
HEAD = AuditHead.__table__


@dataclass(frozen=True)
class Entry:
    seq: int
    action: str
    entity_type: str
    entity_id: uuid.UUID
    actor_id: uuid.UUID | None
    ip: str | None
    changes: dict


def entries(app, tenant: TenantInfo, *, entity_type: str | None = None) -> list[Entry]:
    """The tenant's audit entries in chain order."""
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(AuditEntry).order_by(AuditEntry.seq)
        if entity_type:
            stmt = stmt.where(AuditEntry.entity_type == entity_type)
        return [Entry(e.seq, e.action, e.entity_type, e.entity_id, e.actor_id, e.ip, e.changes) for e in db.session.scalars(stmt)]


def problems(app, tenant: TenantInfo) -> list[str]:
    with app.app_context(), tenant_context(tenant.id):
        return verify_chain()


def run_verify(app, *args: str):
    """``flask audit verify [args]``."""
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


# --- tampering, with the superuser connection of the ``cleaner`` fixture (bypasses row-level security) ---

def _row(conn, tenant_id, seq):
    return conn.execute(select(ENTRY).where(ENTRY.c.tenant_id == tenant_id, ENTRY.c.seq == seq)).one()


def _last_seq(conn, tenant_id) -> int:
    return max(conn.execute(select(ENTRY.c.seq).where(ENTRY.c.tenant_id == tenant_id)).scalars())


def _set(conn, tenant_id, which, **values):
    conn.execute(update(ENTRY).where(ENTRY.c.tenant_id == tenant_id, ENTRY.c.seq == which).values(**values))


def edit_changes(conn, tenant_id):
    """Rewrite what an entry says was changed."""
    _set(conn, tenant_id, 2, changes={"name": [None, "Forged name"]})


def edit_changes_and_digest(conn, tenant_id):
    """Rewrite the changes and recompute their plain digest (the HMAC key is not in the database)."""
    from app.audit.chain import _digest

    forged = {"name": [None, "Forged name"]}
    _set(conn, tenant_id, 2, changes=forged, changes_digest=_digest(forged))


def edit_actor(conn, tenant_id):
    """Blame someone else."""
    _set(conn, tenant_id, 2, actor_id=uuid.uuid4())


def replace_hash(conn, tenant_id):
    _set(conn, tenant_id, 2, entry_hash="f" * 64)


def delete_middle(conn, tenant_id):
    assert _last_seq(conn, tenant_id) > 3, "entry 3 must be in the middle: make at least four entries"
    conn.execute(delete(ENTRY).where(ENTRY.c.tenant_id == tenant_id, ENTRY.c.seq == 3))


def swap_two(conn, tenant_id):
    """Reorder: entries 2 and 3 exchange their sequence numbers."""
    _set(conn, tenant_id, 2, seq=-1)
    _set(conn, tenant_id, 3, seq=2)
    _set(conn, tenant_id, -1, seq=3)


def delete_last(conn, tenant_id):
    """Truncate the tail."""
    conn.execute(delete(ENTRY).where(ENTRY.c.tenant_id == tenant_id, ENTRY.c.seq == _last_seq(conn, tenant_id)))


def append_forged(conn, tenant_id):
    """Insert an entry at the end that links to the real last one (without the key, its own hash is a guess)."""
    last = _row(conn, tenant_id, _last_seq(conn, tenant_id))
    conn.execute(insert(ENTRY).values(
        tenant_id=tenant_id, id=uuid.uuid4(), seq=last.seq + 1, occurred_at=last.occurred_at, actor_id=None,
        action="delete", entity_type="thirdparty", entity_id=uuid.uuid4(), changes={}, changes_digest="0" * 64,
        ip=None, prev_hash=last.entry_hash, entry_hash="e" * 64,
    ))
    conn.execute(update(HEAD).where(HEAD.c.tenant_id == tenant_id).values(last_seq=last.seq + 1, last_hash="e" * 64))


def delete_last_and_rewind_head(conn, tenant_id):
    """Truncate the tail and point the head at the new last entry (its hash is in the database: no key needed)."""
    delete_last(conn, tenant_id)
    last = _row(conn, tenant_id, _last_seq(conn, tenant_id))
    conn.execute(update(HEAD).where(HEAD.c.tenant_id == tenant_id).values(last_seq=last.seq, last_hash=last.entry_hash))


TAMPERING = {
    "changes edited": edit_changes,
    "changes and digest rewritten": edit_changes_and_digest,
    "actor rewritten": edit_actor,
    "hash replaced": replace_hash,
    "middle entry deleted": delete_middle,
    "two entries swapped": swap_two,
    "last entry deleted": delete_last,
    "forged entry appended": append_forged,
}


def tamper(cleaner, tenant: TenantInfo, how) -> None:
    engine, _tables = cleaner
    with engine.begin() as conn:
        how(conn, tenant.id)


def reseal_as_version_1(app, cleaner, tenant: TenantInfo, *, upto: int) -> None:
    """Rewrite entries 1..``upto`` as the first hash version sealed them (before migration 0020), with the key,
    relinking the entries after them and the head: the chain an upgraded database holds."""
    from app.audit.chain import _key, entry_hash, head_mac

    engine, _tables = cleaner
    with app.app_context(), engine.begin() as conn:
        key, prev = _key(), None
        rows = conn.execute(select(ENTRY).where(ENTRY.c.tenant_id == tenant.id).order_by(ENTRY.c.seq)).all()
        for row in rows:
            values = dict(row._mapping)
            values["hash_version"] = 1 if row.seq <= upto else values["hash_version"]
            if prev is not None:
                values["prev_hash"] = prev
            entry = AuditEntry(**values)
            values["entry_hash"] = entry_hash(key, entry)
            conn.execute(update(ENTRY).where(ENTRY.c.tenant_id == tenant.id, ENTRY.c.seq == row.seq).values(
                hash_version=values["hash_version"], prev_hash=values["prev_hash"], entry_hash=values["entry_hash"]))
            prev = values["entry_hash"]
        conn.execute(update(HEAD).where(HEAD.c.tenant_id == tenant.id).values(
            last_hash=prev, head_mac=head_mac(key, tenant.id, rows[-1].seq, prev)))
