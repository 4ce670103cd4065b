"""The tamper-evident audit log: every change of an audited model, field by field, hash-chained.

Models list their audited columns in ``__audited__``; a ``before_flush`` listener turns the
session's pending changes into ``AuditEntry`` rows in the same transaction, so a change and its
entry commit or roll back together. Entries of a tenant are chained: each one's HMAC covers the
previous hash and every column of the entry, its changes through their digest (never the personal
data itself, so erasing it later keeps the chain verifiable). The chain head is locked while appending.
"""
import hashlib
import hmac
import json
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ONETOMANY, Session

from app.extensions import db
from app.models import AuditEntry, AuditHead, TenantScoped, new_id, utcnow
from app.tenancy import current_scope

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None = None
    ip: str | None = None


_actor: ContextVar[Actor] = ContextVar("storia_audit_actor", default=Actor())  # noqa: B039 (frozen)


def set_actor(user_id: uuid.UUID | None, ip: str | None) -> None:
    """Who the changes of this request or job are made by (cleared with ``clear_actor``)."""
    _actor.set(Actor(user_id, ip))


def clear_actor() -> None:
    _actor.set(Actor())


def _plain(value):
    """A JSON-friendly form of a column value."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    return value


def changes_of(obj, fields) -> dict[str, list]:
    """``{field: [old, new]}`` for the fields of ``obj`` changed in this session (before flush)."""
    state = inspect(obj)
    changes = {}
    for name in fields:
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if _plain(old) != _plain(new):
            changes[name] = [_plain(old), _plain(new)]
    return changes


def _digest(changes: dict) -> str:
    return hashlib.sha256(json.dumps(changes, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _key() -> bytes:
    key = current_app.config.get("AUDIT_KEY") or current_app.config["SECRET_KEY"]
    return hashlib.sha256(f"storia-audit:{key}".encode()).digest()


HASH_VERSION = 2  # what new entries are sealed with; entries keep the version they were written with


def _v1_canonical(entry: AuditEntry) -> str:
    """Entries written before 2026-12 (migration 0020): ``id`` and ``ip`` were outside the hash."""
    return "|".join([
        entry.prev_hash, str(entry.seq), str(entry.tenant_id), entry.occurred_at.isoformat(),
        str(entry.actor_id or ""), entry.action, entry.entity_type, str(entry.entity_id), entry.changes_digest,
    ])


def _v2_canonical(entry: AuditEntry) -> str:
    """Every stored column a reader relies on (the changes through their digest), and the version itself.

    JSON, so that no value can move text across a separator. ``tests/audit/test_tamper.py`` alters each
    column of the table in turn: a column added later and left out of here fails it.
    """
    return json.dumps([
        "v2", entry.prev_hash, entry.seq, str(entry.tenant_id), str(entry.id), entry.occurred_at.isoformat(),
        str(entry.actor_id or ""), entry.action, entry.entity_type, str(entry.entity_id), entry.changes_digest,
        entry.ip or "", entry.hash_version,
    ], ensure_ascii=False)


_CANONICAL = {1: _v1_canonical, 2: _v2_canonical}


def entry_hash(key: bytes, entry: AuditEntry) -> str | None:
    """The HMAC that links ``entry`` to the one before it (None for an unknown hash version)."""
    canonical = _CANONICAL.get(entry.hash_version)
    return hmac.new(key, canonical(entry).encode(), hashlib.sha256).hexdigest() if canonical else None


def head_mac(key: bytes, tenant_id, last_seq: int, last_hash: str) -> str:
    return hmac.new(key, f"head|{tenant_id}|{last_seq}|{last_hash}".encode(), hashlib.sha256).hexdigest()


def new_head(tenant_id) -> AuditHead:
    """The head of an empty chain (made with each organisation)."""
    return AuditHead(tenant_id=tenant_id, last_seq=0, last_hash=GENESIS, head_mac=head_mac(_key(), tenant_id, 0, GENESIS))


def _locked_head(session: Session, tenant_id: uuid.UUID) -> AuditHead:
    """The tenant's chain head, locked until the transaction ends."""
    head = session.scalar(select(AuditHead).with_for_update())
    if head is None:
        head = new_head(tenant_id)
        session.add(head)
    return head


def _pending_changes(session: Session):
    """(action, object, changes) for every audited object the flush will write."""
    _link_new_children(session)
    for obj in list(session.new):
        fields = getattr(obj, "__audited__", None)
        if fields:
            if obj.id is None:
                obj.id = new_id()
            values = {f: _plain(getattr(obj, f)) for f in fields}
            yield "create", obj, {f: [None, v] for f, v in values.items() if v not in (None, "", [], {}, False)}
    for obj in list(session.dirty):
        fields = getattr(obj, "__audited__", None)
        if fields and session.is_modified(obj, include_collections=False):
            changes = changes_of(obj, fields)
            if changes:
                yield "update", obj, changes
    for obj in list(session.deleted) + _orphans(session):
        fields = getattr(obj, "__audited__", None)
        if fields:
            yield "delete", obj, {f: [_plain(getattr(obj, f)), None] for f in fields}


def _link_new_children(session: Session) -> None:
    """Give new audited rows added to a parent's collection their parent's key now.

    The flush would set it only after their entry is written, and a created phone or sales rep
    would not say whose it is.
    """
    for parent in list(session.new) + list(session.dirty):
        state = inspect(parent)
        for rel in state.mapper.relationships:
            if rel.direction is not ONETOMANY:
                continue
            for child in state.attrs[rel.key].history.added or ():
                if not getattr(child, "__audited__", None):
                    continue
                for parent_column, child_column in rel.synchronize_pairs:
                    child_key = inspect(child).mapper.get_property_by_column(child_column).key
                    if getattr(child, child_key) is not None:
                        continue
                    parent_key = state.mapper.get_property_by_column(parent_column).key
                    if parent_key == "id" and parent.id is None:
                        parent.id = new_id()
                    setattr(child, child_key, getattr(parent, parent_key))


def _orphans(session: Session) -> list:
    """Audited rows taken out of a delete-orphan collection (a replaced phone list, a removed rep).

    The flush deletes them, but they are not in ``session.deleted`` before it starts.
    """
    removed, kept = [], set()
    for parent in list(session.dirty):
        state = inspect(parent)
        for rel in state.mapper.relationships:
            if rel.cascade.delete_orphan:
                history = state.attrs[rel.key].history
                removed += [c for c in history.deleted or () if inspect(c).persistent]
                kept.update(id(c) for c in history.added or ())
    result, seen = [], set()
    for child in removed:
        if id(child) not in kept and id(child) not in seen and child not in session.deleted:
            seen.add(id(child))
            result.append(child)
    return result


@event.listens_for(Session, "before_flush")
def _record_changes(session, flush_context, instances):
    pending = list(_pending_changes(session))
    if not pending:
        return
    tenant_id = current_scope().tenant_id
    actor = _actor.get()
    key = _key()
    with session.no_autoflush:
        head = _locked_head(session, tenant_id)
        for action, obj, changes in pending:
            if isinstance(obj, TenantScoped) and obj.tenant_id not in (None, tenant_id):
                raise ValueError("audited change outside the tenant in scope")
            entry = AuditEntry(
                tenant_id=tenant_id, id=new_id(), seq=head.last_seq + 1, occurred_at=utcnow(),
                actor_id=actor.user_id, action=action, entity_type=obj.__tablename__, entity_id=obj.id,
                changes=changes, changes_digest=_digest(changes), ip=actor.ip, prev_hash=head.last_hash,
                hash_version=HASH_VERSION,
            )
            entry.entry_hash = entry_hash(key, entry)
            head.last_seq, head.last_hash = entry.seq, entry.entry_hash
            session.add(entry)
        head.head_mac = head_mac(key, tenant_id, head.last_seq, head.last_hash)


def verify_chain(session: Session | None = None, key: bytes | None = None) -> list[str]:
    """Check the chain of the tenant in scope; return the problems found (empty: intact), in the request's language.

    Detects an edited entry (hash or digest mismatch), a deleted or reordered one (gap or broken
    link), a truncated tail (the head names a later entry than the last one present), and an entry
    written after the upgrade to the full hash that claims the older, weaker one.
    """
    session = session or db.session
    key = key or _key()
    problems = []
    expected_prev, expected_seq, newest_version = GENESIS, 1, 1
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
        if entry.hash_version < newest_version:
            problems.append(_("entry %(n)d claims an older seal than the entries before it", n=entry.seq))
        newest_version = max(newest_version, entry.hash_version or 0)
        if entry.seq != expected_seq:
            problems.append(_("entry %(n)d missing or out of order (found %(found)d)", n=expected_seq, found=entry.seq))
        if entry.prev_hash != expected_prev:
            problems.append(_("entry %(n)d does not follow the previous entry", n=entry.seq))
        if entry.changes_digest != _digest(entry.changes):
            problems.append(_("entry %(n)d changes were altered", n=entry.seq))
        if entry.entry_hash != entry_hash(key, entry):
            problems.append(_("entry %(n)d was altered", n=entry.seq))
        expected_prev, expected_seq = entry.entry_hash, entry.seq + 1
    head = session.scalar(select(AuditHead))
    last_seq = expected_seq - 1
    if head is not None and (head.last_seq != last_seq or head.last_hash != expected_prev):
        problems.append(_("the chain ends at entry %(last)d but its head records entry %(head)d: entries were removed",
                           last=last_seq, head=head.last_seq))
    if head is None and last_seq:
        problems.append(_("the chain head is missing"))
    if head is not None and head.head_mac != head_mac(key, head.tenant_id, head.last_seq, head.last_hash):
        problems.append(_("the chain head was rewritten without the key: entries were removed or replaced"))
    return problems
