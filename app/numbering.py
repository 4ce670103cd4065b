"""Per-tenant numbering: the next code of a named counter, formatted by its (editable) pattern.

Numbers are gapless: the counter row stays locked until the caller's transaction ends, so a number taken by a
transaction that rolls back is taken again by the next one, and numbers follow the order of the commits.
"""
import re
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import Counter, new_id, utcnow
from app.tenancy import current_tenant_id

DEFAULT_PATTERNS = {"customer": "CU{yy}{mm}-{n:04}", "quote": "PR{yy}{mm}-{n:04}", "order": "CO{yy}{mm}-{n:04}",
                    "invoice": "FA{yy}{mm}-{n:04}", "contract": "CT{yy}{mm}-{n:04}",
                    "credit_note": "AV{yy}{mm}-{n:04}"}
_FIELDS = re.compile(r"\{(yyyy|yy|mm|dd|n(?::0?\d)?)\}")


def format_code(pattern: str, value: int, when: date | datetime) -> str:
    """Expand ``{yyyy} {yy} {mm} {dd} {n} {n:04}`` in ``pattern``."""
    def expand(match):
        token = match.group(1)
        if token.startswith("n"):
            width = int(token[2:] or 0) if ":" in token else 0
            return str(value).zfill(width)
        return {"yyyy": f"{when:%Y}", "yy": f"{when:%y}", "mm": f"{when:%m}", "dd": f"{when:%d}"}[token]

    return _FIELDS.sub(expand, pattern)


def pattern_problem(pattern: str) -> str | None:
    """Why a pattern cannot number anything (it must contain ``{n}``), or None."""
    if not re.search(r"\{n(?::0?\d)?\}", pattern or ""):
        return "missing_n"
    if len(format_code(pattern, 99999, utcnow())) > 30:
        return "too_long"
    return None


def _counter(name: str) -> Counter:
    """The counter ``name``, locked; made first if missing (two first numbers at once make it once)."""
    counter = db.session.scalar(select(Counter).where(Counter.name == name).with_for_update())
    if counter is None:
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        db.session.execute(insert(Counter).values(tenant_id=current_tenant_id(), id=new_id(), name=name,
                                                  pattern=DEFAULT_PATTERNS[name], next_value=1)
                           .on_conflict_do_nothing(index_elements=["tenant_id", "name"]))
        counter = db.session.scalar(select(Counter).where(Counter.name == name).with_for_update())
    return counter


def next_code(name: str, dated: Callable[[], date] | None = None) -> str:
    """Take the next number of counter ``name`` (locked until the caller's transaction ends).

    ``{yy}{mm}`` are those of now, or of the date ``dated()`` returns: it is called once the counter is locked, so
    a document dated there gets a date (and a time) in the order of its number, however long it waited its turn.
    """
    counter = _counter(name)
    value = counter.next_value
    counter.next_value = value + 1
    return format_code(counter.pattern, value, dated() if dated else utcnow())


def get_pattern(name: str) -> str:
    counter = db.session.scalar(select(Counter).where(Counter.name == name))
    return counter.pattern if counter else DEFAULT_PATTERNS[name]


def set_pattern(name: str, pattern: str) -> None:
    """Number the next codes of counter ``name`` with ``pattern`` (the count goes on)."""
    _counter(name).pattern = pattern
    db.session.commit()
