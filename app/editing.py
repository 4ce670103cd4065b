"""Concurrent edits (QUALITY T21): never a silent overwrite; merge what does not overlap.

An edit form carries the record's version and a snapshot of the values it showed. When the record
changed meanwhile, the fields only this user changed are applied on top of the current record; a
field both changed differently is a conflict, answered with 409, both values and the user's input.
"""
import json

from sqlalchemy.orm.exc import StaleDataError


class EditConflict(Exception):
    """Both the user and someone else changed ``fields`` differently: ``{field: (theirs, yours)}``."""

    def __init__(self, fields: dict):
        super().__init__(", ".join(sorted(fields)))
        self.fields = fields


def encode_snapshot(values: dict) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)


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
