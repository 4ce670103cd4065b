"""The global search's index (table ``search_term``): how text becomes terms, and keeping the terms of every record
up to date in the transaction that changes it. See docs/architecture.md, "Global search".

A record's terms are the normalised words of its searchable fields (lower case, accents and ligatures folded:
"Società" → "societa", "Œuvre" → "oeuvre"), each with the weight of the field it came from. The providers
(``app.search.Provider``, registered by each domain) say what to index (``entries``) and which changes touch it
(``watch``); this module notes the records a flush changed and, just before the commit, rewrites their terms
(only the terms that differ), so that the index is never older than the data it points at.
"""
import re
import unicodedata
import uuid
from collections import defaultdict

from sqlalchemy import Select, delete, event, insert, select
from sqlalchemy.orm import Session

from app import domains
from app.models import SearchTerm, new_id
from app.models.search import TERM_LENGTH
from app.tenancy import current_tenant_id, tenant_context

MIN_LENGTH = 2  # shorter words are neither indexed nor searched ("l'" of "l'ordine", "a")
MAX_TERMS = 2000  # per record: a 20,000-character note stays a bounded number of rows
WORDS, CODE, PHONE = "words", "code", "phone"  # how a field is cut into terms (see field_terms)
_WORD = re.compile(r"[^\W_]+")
_NOT_DIGIT = re.compile(r"\D")
_PHONE_LIKE = re.compile(r"^[\d\s+().\-/]+$")
# Letters that Unicode does not decompose into a base letter and an accent.
_FOLD = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "ŀ": "l", "ı": "i", "þ": "th"})
_PENDING = "storia_search_pending"
CHUNK = 500


def fold(text: str) -> str:
    """``text`` in lower case without accents, the way terms are stored and queries read."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD)


def words(text: str) -> list[str]:
    """The normalised words of ``text`` (letters and digits of any script), in order, repeats kept."""
    return _WORD.findall(fold(text))


def _digits(text: str) -> str:
    """A number's digits without its leading zeros ("+33 1 40" and "01 40" both contain "140")."""
    return _NOT_DIGIT.sub("", text).lstrip("0")


def field_terms(text: str, how: str = WORDS) -> set[str]:
    """The terms of one field: its words; for a code (VAT, number, e-mail) also all of it run together, so that
    "FR40303" finds "FR 40 303"; for a phone only its digits, from every position, so that any part of the number
    typed with or without spaces, leading 0 or country code, finds it."""
    if how == PHONE:
        digits = _digits(text)
        return {digits[i:][:TERM_LENGTH].lstrip("0") for i in range(max(0, len(digits) - 2))} - {""}
    found = words(text)
    terms = {w[:TERM_LENGTH] for w in found if len(w) >= MIN_LENGTH}
    if how == CODE and len(found) > 1:
        terms.add("".join(found)[:TERM_LENGTH])
    return terms


def query_alternatives(text: str) -> list[tuple[str, ...]]:
    """What a query looks for: its words (a record must have a term starting with each); and, when typed in pieces,
    the pieces run together ("fr 40 303", "01 40 00 00") — a record matching either is found. Empty when nothing of
    ``text`` is long enough to look for."""
    found = words(text[:200])
    alternatives = []
    kept = tuple(dict.fromkeys(w[:TERM_LENGTH] for w in found if len(w) >= MIN_LENGTH))[:6]
    if kept:
        alternatives.append(kept)
    joined = _digits(text) if _PHONE_LIKE.match(text.strip() or "x") else "".join(found)
    if len(found) > 1 or joined != "".join(found):
        joined = joined[:TERM_LENGTH]
        if len(joined) >= MIN_LENGTH and (joined,) not in alternatives:
            alternatives.append((joined,))
    return alternatives


def after(prefix: str) -> str | None:
    """The first string after every string that begins with ``prefix`` in byte (code point) order, or None."""
    for cut in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[cut]) + 1
        if code == 0xD800:
            code = 0xE000  # no surrogates in text
        if code <= 0x10FFFF:
            return prefix[:cut] + chr(code)
    return None


def entry_rows(entry) -> dict[str, tuple]:
    """The rows an ``Entry`` makes: term → (weight, thirdparty_id, private_to_id), the lightest weight of a term."""
    rows: dict[str, tuple] = {}
    for text, weight, how in entry.texts:
        for term in field_terms(text or "", how):
            if term not in rows or weight < rows[term][0]:
                rows[term] = (weight, entry.thirdparty_id, entry.private_to_id)
    if len(rows) > MAX_TERMS:
        rows = dict(sorted(rows.items(), key=lambda item: (item[1][0], len(item[0]), item[0]))[:MAX_TERMS])
    return rows


def reindex(session: Session, provider, ids) -> int:
    """Make the index hold exactly what ``provider`` says of the records ``ids`` now (none for a record gone or no
    longer searchable), in the tenant in scope; write only the rows that differ. Returns the rows written."""
    written = 0
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        wanted = {(record_id, term): row for record_id, entry in provider.entries(chunk).items()
                  for term, row in entry_rows(entry).items()}
        stale = []
        for row in session.execute(select(SearchTerm.id, SearchTerm.record_id, SearchTerm.term, SearchTerm.weight,
                                          SearchTerm.thirdparty_id, SearchTerm.private_to_id)
                                   .where(SearchTerm.kind == provider.key, SearchTerm.record_id.in_(chunk))):
            key = (row.record_id, row.term)
            if wanted.get(key) == (row.weight, row.thirdparty_id, row.private_to_id):
                del wanted[key]
            else:
                stale.append(row.id)
        if stale:
            session.execute(delete(SearchTerm).where(SearchTerm.id.in_(stale)), execution_options={"synchronize_session": False})
        if wanted:
            tenant_id = current_tenant_id()
            session.execute(insert(SearchTerm), [
                {"tenant_id": tenant_id, "id": new_id(), "kind": provider.key, "record_id": record_id, "term": term,
                 "weight": weight, "thirdparty_id": thirdparty_id, "private_to_id": private_to_id}
                for (record_id, term), (weight, thirdparty_id, private_to_id) in wanted.items()])
        written += len(stale) + len(wanted)
    return written


def rebuild(session: Session, kinds=None, echo=None) -> int:
    """Index every record of the tenant in scope again (after a bulk load, or to repair); returns the rows written."""
    written = 0
    for provider in domains.search_providers():
        if kinds and provider.key not in kinds:
            continue
        ids = list(session.scalars(provider.every()))
        written += reindex(session, provider, ids)
        if echo:
            echo(f"  {provider.key}: {len(ids)} records")
    return written


@domains.cached
def _watchers() -> dict:
    """Model class → the providers that index something of it, with the function naming the records concerned."""
    found = defaultdict(list)
    for provider in domains.search_providers():
        for model, concerned in provider.watch.items():
            found[model].append((provider, concerned))
    return dict(found)


@event.listens_for(Session, "after_flush")
def _note_changes(session, flush_context):
    # Still the pre-flush lists and attribute histories here: what this flush wrote, and what it changed.
    watchers = _watchers()
    if not watchers:
        return
    pending = None
    for obj in (*session.new, *session.dirty, *session.deleted):
        for provider, concerned in watchers.get(type(obj), ()):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            records = concerned(obj)
            if records is None or (not isinstance(records, Select) and not records):
                continue
            pending = pending if pending is not None else session.info.setdefault(_PENDING, defaultdict(list))
            pending[(obj.tenant_id, provider.key)].append(records)


@event.listens_for(Session, "before_commit", insert=True)
def _update_index(session):
    """Rewrite the terms of the records this transaction changed, in it (before the data version is counted)."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # what is still unflushed (a delete just before the commit) is noted by _note_changes
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    providers = {provider.key: provider for provider in domains.search_providers()}
    for (tenant_id, key), found in pending.items():
        with tenant_context(tenant_id):
            ids = []
            for records in found:
                ids.extend(session.scalars(records) if isinstance(records, Select) else records)
            reindex(session, providers[key], [i for i in ids if isinstance(i, uuid.UUID)])


@event.listens_for(Session, "after_transaction_end")
def _forget_changes(session, transaction):
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
