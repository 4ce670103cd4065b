"""Whole numbers read from a request, bounded in one place: page numbers, the other integers of a URL (and of a
form's own text, such as a list of days), and the offset pagination of the lists (``page_of``, ``split_page``).

A URL is typed, pasted or forged: whatever it holds, a view gets an integer within the bounds it asked for, or its
default. The database never sees a number a column cannot hold (docs/architecture.md, "Bounded numbers").
"""
import re
from collections.abc import Sequence
from functools import partial

from werkzeug.datastructures import MultiDict

PAGE_SIZE = 50
MAX_PAGE = 10_000  # 500,000 rows deep: past it a list is searched or filtered, not paged through
BIGINT_MAX = 2**63 - 1  # a PostgreSQL bigint (sequence numbers of the audit log)
# ASCII digits only: Python's int() also reads "١٢٣", "１２３", "1_000" and padded text, none of which a link of ours writes.
_INTEGER = re.compile(r"-?[0-9]{1,40}")


def bounded_int(value: str | None, *, low: int, high: int, default: int | None = None, clamp: bool = False) -> int | None:
    """The whole number written in ``value`` (ASCII digits, maybe a minus, spaces around) if it lies within
    ``low``..``high``; else ``default`` (or, with ``clamp``, the nearer bound for a number out of range). Blank,
    malformed or unreasonably long text is ``default``."""
    text = (value or "").strip()
    if not _INTEGER.fullmatch(text):
        return default
    number = int(text)
    if low <= number <= high:
        return number
    return min(max(number, low), high) if clamp else default


def url_int(args: MultiDict, name: str, *, low: int, high: int, default: int | None = None, clamp: bool = False) -> int | None:
    """The integer argument ``name`` of a query string (``request.args``; or a form carrying a list's filters),
    bounded as ``bounded_int`` does. Read as a converted value, which the request fuzzer recognises as a number."""
    found = args.get(name, type=partial(bounded_int, low=low, high=high, clamp=clamp))
    return default if found is None else found


def page_number(args: MultiDict) -> int:
    """The page a list URL asks for: 1 when absent, malformed or below 1; ``MAX_PAGE`` when above it (a page past
    the last one is empty, as any page past the data)."""
    return url_int(args, "page", low=1, high=MAX_PAGE, default=1, clamp=True)


def page_of(stmt, page: int):
    """``stmt`` cut to page ``page`` (clamped to 1..MAX_PAGE whoever calls), with one row more than a page: the sign
    that another page follows (``split_page``)."""
    page = min(max(page, 1), MAX_PAGE)
    return stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)


def split_page(rows: Sequence) -> tuple[list, bool]:
    """The rows of a page read through ``page_of``, and whether another page follows."""
    return list(rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE
