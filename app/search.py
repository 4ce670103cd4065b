"""Global search: the provider interface the domains register, and the query — look up, apply rights, rank, limit,
merge by kind. Core: imports no domain. See docs/architecture.md, "Global search".

Every lookup reads the index (``search_term``, kept by ``app.search_index``) with conditions PostgreSQL may use on a
btree under row-level security (``=``, ``>=`` and ``<`` on text are leakproof): a word typed is a range of terms,
``term >= 'soc' AND term < 'sod'``. Rights are columns of the index (the record's customer for "only mine", the one
person a private record shows to), so they are applied before the limit; then each provider loads the few records
found, checking the viewer's rights again with the domain's own queries.
"""
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import and_, bindparam, case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from app import domains
from app.extensions import db
from app.models import SearchTerm
from app.permissions import Viewer, only_mine
from app.search_index import CODE, MIN_LENGTH, PHONE, WORDS, after, fold, query_alternatives, words

__all__ = ["CODE", "PHONE", "WORDS", "NAME", "DETAIL", "TEXT", "Entry", "Hit", "Provider", "Results", "suggest", "find"]

NAME, DETAIL, TEXT = 0, 1, 2  # the weight of a field: a record's name or number ranks before its details, then text
MAX_QUERY = 200
PAGE_SIZE = 20


@dataclass(frozen=True)
class Entry:
    """What the index holds of a record: its customer ("only mine" is applied to it; None for a record of no
    customer), the one person who alone may find it (a private note's author), and its texts as
    ``(text, weight, how)`` — how: ``WORDS``, ``CODE`` (also found typed without its spaces) or ``PHONE``."""

    thirdparty_id: uuid.UUID | None
    texts: tuple
    private_to_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Hit:
    """A record found, as it reads in the results: ``context`` says whose it is, ``snippet`` shows the text around
    the match (notes), ``detail_url`` is a second link (a contact's own page beside their customer)."""

    id: uuid.UUID
    title: str
    url: str
    context: str = ""
    snippet: str = ""
    archived: bool = False
    detail_url: str | None = None
    detail_label: str = ""


@dataclass(frozen=True)
class Provider:
    """A kind of record the global search finds, registered by its domain (``Domain.search``).

    * ``key`` names the kind in the index and in URLs (``?kind=``); ``label`` is its heading; ``right`` the right
      that reads these records (the one its list requires); ``private_right`` lifts ``Entry.private_to_id``.
    * ``entries(ids)`` → ``{id: Entry}``: what to index of these records now (a record left out is not indexed: gone,
      in the trash). Select the columns it needs, not whole rows: the migration that built the index runs it too.
    * ``hits(viewer, ids)`` → ``{id: Hit}``: how the records found read, for ``viewer`` (rights checked again).
    * ``every()`` → a select of the ids of every record to index (rebuilding the index).
    * ``watch``: model class → ``f(obj)`` naming the records to index again when an ``obj`` is added, changed or
      deleted (ids, a select of ids, or nothing).
    * ``by_customer``: the records belong to customers, and "only mine" applies through ``Entry.thirdparty_id``.
    """

    key: str
    label: object
    right: str
    entries: Callable
    hits: Callable
    every: Callable
    watch: Mapping = field(default_factory=dict)
    order: int = 100
    by_customer: bool = True
    private_right: str | None = None


@dataclass
class Group:
    provider: Provider
    hits: list
    total: int  # records found for the viewer, up to the look-up's window
    more: bool  # the window was full: there may be more (typing more narrows)


@dataclass
class Results:
    text: str
    groups: list = field(default_factory=list)
    searched: bool = False  # False: nothing long enough to look for
    page: int = 1
    has_next: bool = False

    @property
    def words(self) -> list[str]:
        return [w for w in words(self.text) if len(w) >= MIN_LENGTH]

    @property
    def count(self) -> int:
        return sum(group.total for group in self.groups)

    @property
    def hits(self) -> list:
        return [hit for group in self.groups for hit in group.hits]

    def mark(self, text: str) -> list[tuple[str, bool]]:
        return highlight(text, self.words)

    def excerpt(self, text: str) -> list[tuple[str, bool]]:
        return highlight(snippet(text, self.words), self.words)


def providers_for(viewer: Viewer) -> list[Provider]:
    """The kinds ``viewer`` may search: those whose right they hold, in their order."""
    return sorted((p for p in domains.search_providers() if viewer.can(p.right)), key=lambda p: p.order)


PROBE = 2000  # at most, the entries of a word counted to choose the rarest (a probe reads no more than the look-up)


def _rarity(providers: list[Provider], alternatives: list[tuple], scan: int) -> dict:
    """For a query of several words: how many index entries each word (and the words run together) has in each kind,
    counted up to ``scan`` (what a look-up reads of a range at most) or ``PROBE``: ``{(kind, word): n}``. One
    statement of small index-only probes, each stopping there; empty for a query of one word (nothing to choose)."""
    if all(len(alt) == 1 for alt in alternatives):
        return {}
    pairs = list(dict.fromkeys((p.key, word) for p in providers for alt in alternatives for word in alt))
    params = {"scan": min(scan, PROBE)}
    for n, (kind, word) in enumerate(pairs):
        params.update({f"k{n}": kind, f"lo{n}": word, f"hi{n}": after(word)})
    stmt = _probes(tuple(params[f"hi{n}"] is not None for n in range(len(pairs))))
    return dict(zip(pairs, db.session.execute(stmt, params).one(), strict=True))


@lru_cache(maxsize=64)
def _probes(bounded: tuple):
    """The statement counting, for each (kind, word) of a query, its entries up to ``:scan``, built once per shape
    (how many probes, which have an upper bound): the values are parameters ``k<n>``, ``lo<n>``, ``hi<n>``."""
    counts = []
    for n, upper in enumerate(bounded):
        where = [SearchTerm.kind == bindparam(f"k{n}"), SearchTerm.term >= bindparam(f"lo{n}")]
        if upper:
            where.append(SearchTerm.term < bindparam(f"hi{n}"))
        # In the index's order, so that reading the range from the btree stops at the limit.
        sample = select(SearchTerm.term).where(*where).order_by(SearchTerm.term).limit(bindparam("scan"))
        counts.append(select(func.count()).select_from(sample.subquery()).scalar_subquery().label(f"n{n}"))
    return select(*counts)


def _branch(viewer: Viewer, provider: Provider, alternative: tuple, window: int, scan: int, rarity: dict):
    """The index entries of ``provider``'s records matching every word of ``alternative`` that ``viewer`` may find:
    the first ``window`` of them in term order; None when a word has no entry of the kind at all.

    The rarest word's range (``rarity``; the longest word among those counted to the probe's end) drives: it is read
    from the index in order, at most ``scan`` entries of it, with the rights (private records, "only mine") checked as
    each entry is read; each other word is one probe of that record's terms (``ix_search_term_record``). The read stops at
    the ``window``-th entry kept, so a common word never reads a whole range."""
    counts = {word: rarity.get((provider.key, word), PROBE) for word in alternative}
    if not all(counts.values()):
        return None
    driver, *others = sorted(alternative, key=lambda word: (counts[word], -len(word)))
    mine = provider.by_customer and not viewer.sees_all("thirdparty")
    columns = [SearchTerm.kind, SearchTerm.record_id, SearchTerm.term, SearchTerm.weight]
    if mine or others:
        columns += [SearchTerm.tenant_id, SearchTerm.thirdparty_id]
    stmt = select(*columns).where(SearchTerm.kind == provider.key, *_prefix(SearchTerm.term, driver))
    if not (provider.private_right and viewer.can(provider.private_right)):
        stmt = stmt.where(or_(SearchTerm.private_to_id.is_(None), SearchTerm.private_to_id == viewer.user_id))
    stmt = stmt.order_by(SearchTerm.term, SearchTerm.record_id)
    if not (mine or others):
        return stmt.add_columns(literal(driver).label("driver")).limit(window)
    scanned = stmt.limit(scan).subquery()
    kept = select(scanned.c.kind, scanned.c.record_id, scanned.c.term, scanned.c.weight, literal(driver).label("driver"))
    if mine:
        kept = kept.where(only_mine(viewer, scanned.c.tenant_id, scanned.c.thirdparty_id))
    for word in others:
        other = aliased(SearchTerm)
        # The kind too, though a record's id is enough: PostgreSQL may then read a rare word's whole range
        # (ix_search_term_lookup) to intersect by hash, instead of scanning the table for it. A common word (its probe
        # reached its end) is checked entry by entry on ix_search_term_record: OFFSET 0 keeps the check a correlated
        # subplan, so that no hash of its whole range (50,000 entries at a million customers) is built.
        check = select(other.record_id).where(other.tenant_id == scanned.c.tenant_id, other.record_id == scanned.c.record_id,
                                              other.kind == provider.key, *_prefix(other.term, word))
        if counts[word] >= min(scan, PROBE):
            check = check.offset(0)
        kept = kept.where(check.exists())
    return kept.order_by(scanned.c.term, scanned.c.record_id).limit(window)


def _prefix(column, word: str) -> list:
    """``column`` begins with ``word``, as a range a btree serves (leakproof comparisons only)."""
    upper = after(word)
    return [column >= word] if upper is None else [column >= word, column < upper]


def _ranked(viewer: Viewer, providers: list[Provider], text: str, *, window: int, scan: int, offset: int, limit: int):
    """Per kind: the records found, best first, from ``offset`` (at most ``limit``); how many; whether more may exist.

    One statement: the branches (kind × alternative) read the index, entries group into records, a record ranks by
    its best entry (a whole word before a beginning, then the weight of its field, then alphabetical)."""
    alternatives = query_alternatives(text)
    rarity = _rarity(providers, alternatives, scan)
    # Each branch a subquery of its own: a member of a UNION may not carry its ORDER BY and LIMIT (SQLite).
    branches = [select(*branch.subquery().c) for p in providers for alt in alternatives
                if (branch := _branch(viewer, p, alt, window, scan, rarity)) is not None]
    if not branches:
        return {}
    found = union_all(*branches).subquery()
    score = case((found.c.term == found.c.driver, 0), else_=1) * 10 + found.c.weight
    records = (select(found.c.kind, found.c.record_id, func.min(score).label("score"), func.min(found.c.term).label("term"),
                      func.count().label("entries"))
               .group_by(found.c.kind, found.c.record_id).subquery())
    ranked = select(records.c.kind, records.c.record_id,
                    func.row_number().over(partition_by=records.c.kind,
                                           order_by=(records.c.score, records.c.term, records.c.record_id)).label("n"),
                    func.count().over(partition_by=records.c.kind).label("total"),
                    func.sum(records.c.entries).over(partition_by=records.c.kind).label("entries")).subquery()
    rows = db.session.execute(select(ranked).where(and_(ranked.c.n > offset, ranked.c.n <= offset + limit))
                              .order_by(ranked.c.kind, ranked.c.n)).all()
    # A kind with nothing on this page still says how many it found.
    totals = {}
    if offset:
        totals = dict(db.session.execute(select(ranked.c.kind, func.max(ranked.c.total)).group_by(ranked.c.kind)).all())
    result: dict = {}
    for row in rows:
        result.setdefault(row.kind, ([], row.total, row.entries >= window))[0].append(row.record_id)
    for kind, total in totals.items():
        result.setdefault(kind, ([], total, False))
    return result


def _groups(viewer: Viewer, providers: list[Provider], found: dict) -> list[Group]:
    groups = []
    for provider in providers:
        if provider.key not in found:
            continue
        ids, total, more = found[provider.key]
        hits = provider.hits(viewer, ids) if ids else {}
        groups.append(Group(provider, [hits[i] for i in ids if i in hits], total, more))
    return groups


def suggest(viewer: Viewer, text: str, *, per_kind: int = 4) -> Results:
    """What the search box shows as one types: a few of each kind, best first."""
    text = (text or "").strip()[:MAX_QUERY]
    results = Results(text)
    if query_alternatives(text):
        providers = providers_for(viewer)
        results.searched = True
        results.groups = _groups(viewer, providers, _ranked(viewer, providers, text, window=50, scan=1000, offset=0,
                                                            limit=per_kind))
    return results


def find(viewer: Viewer, text: str, *, kind: str | None = None, page: int = 1, per_kind: int = 5) -> tuple[Results, list]:
    """The results page: every kind (a few of each, how many each found) or one ``kind``, page by page; and the
    kinds offered as filters with their counts ``[(provider, total, more)]``."""
    text = (text or "").strip()[:MAX_QUERY]
    results = Results(text, page=page)
    if not query_alternatives(text):
        return results, []
    results.searched = True
    providers = providers_for(viewer)
    overview = _ranked(viewer, providers, text, window=200, scan=2000, offset=0, limit=per_kind)
    filters = [(p, overview[p.key][1], overview[p.key][2]) for p in providers if p.key in overview]
    chosen = [p for p in providers if p.key == kind]
    if not chosen:
        results.groups = _groups(viewer, providers, overview)
        return results, filters
    offset = (max(page, 1) - 1) * PAGE_SIZE
    found = _ranked(viewer, chosen, text, window=1000, scan=10000, offset=offset, limit=PAGE_SIZE + 1)
    results.groups = _groups(viewer, chosen, found)
    if results.groups and len(results.groups[0].hits) > PAGE_SIZE:
        results.groups[0].hits, results.has_next = results.groups[0].hits[:PAGE_SIZE], True
    return results, filters


_WORD = re.compile(r"[^\W_]+")


def highlight(text: str, query_words: list[str]) -> list[tuple[str, bool]]:
    """``text`` in pieces, each with whether it is the beginning of a word that a query word starts (the templates
    mark those: ``templates/search/_macros.html``)."""
    text = unicodedata.normalize("NFC", text or "")
    out, last = [], 0
    for match in _WORD.finditer(text):
        word, folded = match.group(0), fold(match.group(0))
        wanted = max((len(q) for q in query_words if folded.startswith(q)), default=0)
        if not wanted:
            continue
        cut = next((k for k in range(1, len(word) + 1) if len(fold(word[:k])) >= wanted), len(word))
        if match.start() > last:
            out.append((text[last:match.start()], False))
        out.append((word[:cut], True))
        last = match.start() + cut
    if last < len(text):
        out.append((text[last:], False))
    return out


def snippet(text: str, query_words: list[str], width: int = 160) -> str:
    """About ``width`` characters of ``text`` around its first word a query word starts (the start if none)."""
    text = " ".join(unicodedata.normalize("NFC", text or "").split())
    if len(text) <= width:
        return text
    start = next((m.start() for m in _WORD.finditer(text) if any(fold(m.group(0)).startswith(q) for q in query_words)), 0)
    begin = max(0, start - width // 3)
    if begin:
        begin = text.rfind(" ", 0, begin) + 1
    end = min(len(text), begin + width)
    if end < len(text):
        end = text.rfind(" ", begin, end) if " " in text[begin + width // 2:end] else end
    return ("… " if begin else "") + text[begin:end].strip() + (" …" if end < len(text) else "")


def changed(obj, *names: str) -> bool:
    """True when a flush writes a new value of one of the attributes ``names`` of ``obj`` (for ``Provider.watch``:
    records that show another record's field, such as the customer's name on an invoice)."""
    from sqlalchemy import inspect

    state = inspect(obj)
    return state.deleted or any(state.attrs[name].history.has_changes() for name in names)
