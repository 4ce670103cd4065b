"""Concurrent edits (QUALITY T21): never a silent overwrite; merge what does not overlap; never a crash.

An edit form carries the record's version and a snapshot of the values it showed. When the record
changed meanwhile, the fields only this user changed are applied on top of the current record; a
field both changed differently is a conflict, answered with 409, both values and the user's input.

Every save of a versioned row (a model with ``version_id_col``) starts by locking it (``lock``): the
row is read again under ``SELECT … FOR UPDATE``, so a second writer waits for the first, then sees
what the first committed and goes down the same merge-or-409 path. Without the lock, both pass the
"stale?" check and the second one's ``UPDATE … WHERE version = N`` fails with ``StaleDataError``,
often at an autoflush in the middle of the save. The rule is enforced: in tests and in debug, a
flush that writes a versioned row this transaction did not lock raises ``UnlockedWrite``; in
production it is logged, and a ``StaleDataError`` that still happens answers 409 (``app.web``).
See docs/architecture.md, "Concurrent edits".
"""
import json
import logging
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import event, inspect, select, tuple_
from sqlalchemy.orm import Mapper, Session, object_session
from sqlalchemy.orm.exc import StaleDataError

LOCKED = "storia_locked_rows"  # session.info: identity keys of the versioned rows this transaction may write
WRITTEN = "storia_flushed_writes"  # session.info: this transaction has written something (locks come first)
log = logging.getLogger(__name__)


class EditConflict(Exception):
    """Both the user and someone else changed ``fields`` differently: ``{field: (theirs, yours)}``."""

    def __init__(self, fields: dict):
        super().__init__(", ".join(sorted(fields)))
        self.fields = fields


class RecordGone(LookupError):
    """The row to lock was deleted meanwhile (a draft deleted, an item cancelled by someone else): 404."""


class UnlockedWrite(RuntimeError):
    """A versioned row written without ``lock``, or a lock taken after the transaction wrote (a programming error)."""


def lock(obj):
    """Lock ``obj``'s row until the transaction ends and read everything again from what is committed.

    Call it first in a save, before changing anything: a concurrent save of the same row waits here
    until the other commits, and then sees its changes (version, values, children), so the "stale?"
    check and the merge work on the committed state. Returns ``obj``.

    :raise RecordGone: when the row no longer exists.
    """
    return lock_all([obj])[0] if obj is not None else obj


def lock_all(objs: list) -> list:
    """``lock`` for several rows of one model, locked in primary-key order (two such saves cannot deadlock)."""
    if not objs:
        return objs
    session = object_session(objs[0])
    mapper = inspect(objs[0]).mapper
    _check_order(session)
    keys = sorted({tuple(mapper.primary_key_from_instance(o)) for o in objs})
    columns = [mapper.get_property_by_column(c).class_attribute for c in mapper.primary_key]
    mine = {id(o) for o in objs}
    others = [o for o in session.identity_map.values() if id(o) not in mine]
    # The rows, locked and read again (populate_existing: over what this session read before the other save); rows
    # added but not written yet stay unwritten until after the lock (no_autoflush), in the lock order.
    with session.no_autoflush:
        found = session.scalars(select(mapper.class_).where(tuple_(*columns).in_(keys)).order_by(*columns)
                                .with_for_update(of=mapper.class_).execution_options(populate_existing=True)).all()
    if len(found) != len(keys):
        raise RecordGone(mapper.class_.__name__)
    # Everything else is read again when used: a line or a phone the other save changed, the rows' collections.
    for other in others:
        session.expire(other)
    related = [rel.key for rel in mapper.relationships]
    for obj in objs:
        if related:
            session.expire(obj, related)
    session.info.setdefault(LOCKED, set()).update(mapper.identity_key_from_primary_key(list(k)) for k in keys)
    return objs


def _check_order(session: Session) -> None:
    """Locks come before writes: a save holding the audit chain's head (taken by its first flush) and then
    waiting for a row could deadlock with one holding that row and waiting for the head. (Objects only added
    are written after the lock; changed or deleted ones would be read over by it.)"""
    if session.deleted or any(session.is_modified(o) for o in session.dirty):
        _refuse("lock() after changing objects: lock first (the changes would be read over)")
    if session.info.get(WRITTEN):
        _refuse("lock() after this transaction wrote: lock first, then write (lock order, no deadlock)")


def _strict() -> bool:
    return has_app_context() and (current_app.testing or current_app.debug)


def _refuse(message: str) -> None:
    if _strict():
        raise UnlockedWrite(message)
    log.warning("%s", message)


def _versioned(obj) -> bool:
    return inspect(obj).mapper.version_id_col is not None


@event.listens_for(Session, "before_flush")
def _require_locks(session, flush_context, instances):
    """A versioned row updated or deleted by this flush must have been locked by this transaction."""
    locked = session.info.get(LOCKED, set())
    for obj in [*session.dirty, *session.deleted]:
        if not _versioned(obj) or (obj in session.dirty and not session.is_modified(obj, include_collections=False)):
            continue
        if inspect(obj).identity_key not in locked:
            _refuse(f"{type(obj).__name__} {inspect(obj).identity[1:]} written without app.editing.lock(): "
                    "a concurrent save would fail with StaleDataError (see docs/architecture.md, Concurrent edits)")


@event.listens_for(Session, "after_flush")
def _note_writes(session, flush_context):
    session.info[WRITTEN] = True
    # A row this transaction inserted is its own until it commits: writing it again needs no lock.
    new = [o for o in session.new if _versioned(o)]
    session.info.setdefault(LOCKED, set()).update(inspect(o).mapper.identity_key_from_instance(o) for o in new)


@event.listens_for(Mapper, "load")
def _loaded(obj, context):
    _note_locked_read(obj, context)


@event.listens_for(Mapper, "refresh")
def _refreshed(obj, context, attrs):
    mapper = inspect(obj).mapper
    if mapper.version_id_col is not None and (attrs is None or mapper.get_property_by_column(mapper.version_id_col).key in attrs):
        _note_locked_read(obj, context)


def _note_locked_read(obj, context) -> None:
    """A versioned row read by a ``… FOR UPDATE`` of its table counts as locked: its values are the locked ones.

    Only when the read filled the object in: an object already loaded, returned by such a query without
    ``populate_existing``, keeps its older values (and its older version), and does not count.
    """
    mapper = inspect(obj).mapper
    arg = getattr(context.query, "_for_update_arg", None)
    if mapper.version_id_col is None or arg is None or arg.read:
        return
    name = mapper.local_table.name
    if arg.of and not any(getattr(getattr(of, "table", of), "name", None) == name for of in arg.of):
        return
    context.session.info.setdefault(LOCKED, set()).add(inspect(obj).identity_key)


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction):
    if transaction.parent is None:
        session.info.pop(LOCKED, None)
        session.info.pop(WRITTEN, None)


def _plain(value):
    """How a value reads in a snapshot: a decimal by its value (12.5 and 12.50 are the same price), else its text."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    return str(value)


def encode_snapshot(values: dict) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False, default=_plain)


def decode_snapshot(text: str | None) -> dict | None:
    try:
        value = json.loads(text or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def commit_or_conflict(session, obj, snapshot, submitted: dict) -> None:
    """Commit; when another save landed between our read and our write, raise a conflict instead.

    SQLAlchemy's version counter refuses the UPDATE (``StaleDataError``): the transaction is rolled
    back and the fields that differ from the now-current record are reported.
    """
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        current = snapshot(obj)
        raise EditConflict({f: (current[f], v) for f, v in submitted.items() if current.get(f) != v}) from None


def merge_edit(current: dict, submitted: dict, *, stale: bool, base: dict | None) -> dict:
    """The values to save: ``submitted`` when nothing changed meanwhile, else a field-wise merge.

    :raise EditConflict: when a field this user changed was also changed by someone else.
    """
    if not stale:
        return submitted
    base = base or {}
    normal = json.loads(encode_snapshot({"c": current, "s": submitted, "b": base}))
    cur, sub, bas = normal["c"], normal["s"], normal["b"]
    mine = {f for f in sub if f not in bas or sub[f] != bas[f]}
    theirs = {f for f in cur if f not in bas or cur[f] != bas[f]}
    merged = {f: (submitted[f] if f in mine else current[f]) for f in submitted}
    conflicts = {}
    for f in mine & theirs:
        if cur.get(f) == sub[f]:
            continue
        keys = _merge_keys(cur.get(f), sub[f], bas.get(f))  # custom fields: one field per key
        if keys is None:
            conflicts[f] = (current[f], submitted[f])
        else:
            merged[f] = keys
    if conflicts:
        raise EditConflict(conflicts)
    return merged


def _merge_keys(cur, sub, bas) -> dict | None:
    """Three-way merge of dicts key by key (a missing key is an empty value); None when a key clashes."""
    if not all(isinstance(v, dict) for v in (cur, sub, bas)):
        return None
    result = {}
    for key in {*cur, *sub, *bas}:
        c, s, b = cur.get(key), sub.get(key), bas.get(key)
        if s != b and c != b and c != s:
            return None
        value = s if s != b else c
        if value is not None:
            result[key] = value
    return result
