"""Per-tenant numbering: the next code of a named counter, formatted by its (editable) pattern."""
import re
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Counter, utcnow

DEFAULT_PATTERNS = {"customer": "CU{yy}{mm}-{n:04}"}
_FIELDS = re.compile(r"\{(yyyy|yy|mm|dd|n(?::0?\d)?)\}")


def format_code(pattern: str, value: int, when: datetime) -> str:
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
    counter = db.session.scalar(select(Counter).where(Counter.name == name).with_for_update())
    if counter is None:
        counter = Counter(name=name, pattern=DEFAULT_PATTERNS[name], next_value=1)
        db.session.add(counter)
        db.session.flush()
    return counter


def next_code(name: str) -> str:
    """Take the next number of counter ``name`` (locked until the caller's transaction ends)."""
    counter = _counter(name)
    value = counter.next_value
    counter.next_value = value + 1
    return format_code(counter.pattern, value, utcnow())


def get_pattern(name: str) -> str:
    counter = db.session.scalar(select(Counter).where(Counter.name == name))
    return counter.pattern if counter else DEFAULT_PATTERNS[name]


def set_pattern(name: str, pattern: str) -> None:
    """Number the next codes of counter ``name`` with ``pattern`` (the count goes on)."""
    _counter(name).pattern = pattern
    db.session.commit()
