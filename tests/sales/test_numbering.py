"""Numbering of sales documents: FA/PR/AV{yy}{mm}-{n:04}, one counter per kind and tenant, taken when a draft is
validated; gapless and chronological, also when validations race (PostgreSQL) or roll back."""
import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app import numbering
from app.extensions import db
from app.models import Counter, SalesDocument
from app.numbering import next_code
from app.sales import queries, services
from app.tenancy import tenant_context
from tests.customers import _acting, make_thirdparty
from tests.factories import make_tenant
from tests.sales.support import add_line, documents, draft, reload, validate


def expected(prefix: str, doc: SalesDocument, n: int) -> str:
    """The number ``doc`` should have as the ``n``-th of its counter: {yy}{mm} is the month it was validated in
    (its date's; the UTC one is also accepted here, the month-end case is pinned by its own test below)."""
    number = f"{prefix}{doc.issued_on:%y%m}-{n:04}"
    utc = f"{prefix}{doc.validated_at:%y%m}-{n:04}"
    return utc if doc.number == utc else number


def drafted(app, browser, tenant, tp, kind="invoice", lines=1) -> SalesDocument:
    """A new draft with ``lines`` lines, made through the pages; the stored row."""
    before = {d.id for d in documents(app, tenant, kind)}
    assert draft(browser, tenant, tp, kind).status_code == 303
    (doc,) = [d for d in documents(app, tenant, kind) if d.id not in before]
    for _ in range(lines):
        assert add_line(browser, tenant, doc).status_code == 200
    return doc


def validated(app, browser, tenant, doc) -> SalesDocument:
    assert validate(browser, tenant, doc).status_code == 303
    doc = reload(app, tenant, doc)
    assert doc.status == "validated", f"{doc.kind} {doc.id} was not validated"
    return doc


def serial(doc: SalesDocument) -> int:
    return int(doc.number.rsplit("-", 1)[1])


def counter_value(app, tenant, name: str) -> int | None:
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(Counter.next_value).where(Counter.name == name))


# --- on any backend ---

def test_invoices_are_numbered_in_order_of_validation(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Rossi Srl")
    first, second, third = (drafted(app, browser, tenant, tp) for _ in range(3))
    assert (first.number, second.number, third.number) == (None, None, None)  # a draft has no number
    numbers = []
    for doc in (second, third, first):  # the order of validation, not of creation
        doc = validated(app, browser, tenant, doc)
        numbers.append((doc.number, expected("FA", doc, len(numbers) + 1)))
        assert doc.issued_on is not None and doc.due_on is not None
    assert [number for number, _ in numbers] == [want for _, want in numbers]
    assert counter_value(app, tenant, "invoice") == 4


def test_a_draft_deleted_before_validation_leaves_no_gap(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    dropped, kept = drafted(app, browser, tenant, tp), drafted(app, browser, tenant, tp)
    assert browser.post(f"/{tenant.slug}/sales/invoices/{dropped.id}/delete", {}).status_code == 303
    assert [d.id for d in documents(app, tenant, "invoice")] == [kept.id]
    kept = validated(app, browser, tenant, kept)
    assert kept.number == expected("FA", kept, 1)


def test_a_draft_without_lines_is_refused_and_takes_no_number(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    empty = drafted(app, browser, tenant, tp, lines=0)
    assert validate(browser, tenant, empty).status_code == 303
    assert reload(app, tenant, empty).number is None
    assert counter_value(app, tenant, "invoice") is None
    full = validated(app, browser, tenant, drafted(app, browser, tenant, tp))
    assert full.number == expected("FA", full, 1)


def test_quotes_and_invoices_have_their_own_counters(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    quote = validated(app, browser, tenant, drafted(app, browser, tenant, tp, "quote"))
    invoice = validated(app, browser, tenant, drafted(app, browser, tenant, tp))
    second_quote = validated(app, browser, tenant, drafted(app, browser, tenant, tp, "quote"))
    second_invoice = validated(app, browser, tenant, drafted(app, browser, tenant, tp))
    assert quote.number == expected("PR", quote, 1) and second_quote.number == expected("PR", second_quote, 2)
    assert invoice.number == expected("FA", invoice, 1) and second_invoice.number == expected("FA", second_invoice, 2)
    assert {name: counter_value(app, tenant, name) for name in ("quote", "invoice")} == {"quote": 3, "invoice": 3}


def test_credit_notes_are_numbered_av_by_their_own_counter(app, browser, tenant, owner):
    # On PostgreSQL the invoice is locked with FOR UPDATE OF its own table (a plain FOR UPDATE over the joined
    # author would be refused).
    tp = make_thirdparty(app, tenant)
    invoice = validated(app, browser, tenant, drafted(app, browser, tenant, tp))
    assert browser.post(f"/{tenant.slug}/sales/invoices/{invoice.id}/credit", {}).status_code == 303
    (note,) = documents(app, tenant, "credit_note")
    assert note.source_id == invoice.id and note.number is None and len(note.lines) == 1
    note = validated(app, browser, tenant, note)
    assert note.number == expected("AV", note, 1)
    assert reload(app, tenant, invoice).balance == 0  # the credit note settled the whole invoice

    later = validated(app, browser, tenant, drafted(app, browser, tenant, tp))
    assert later.number == expected("FA", later, 2)  # the credit note took nothing from the invoices' counter
    assert {name: counter_value(app, tenant, name) for name in ("invoice", "credit_note")} == {"invoice": 3, "credit_note": 2}


def test_the_number_carries_the_month_of_the_documents_date(app, browser, tenant, owner, monkeypatch):
    tp = make_thirdparty(app, tenant)
    doc = drafted(app, browser, tenant, tp)
    moment = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)  # already 1 March in Paris, the organisation's zone
    monkeypatch.setattr(numbering, "utcnow", lambda: moment)
    monkeypatch.setattr(services, "utcnow", lambda: moment)
    monkeypatch.setattr(queries, "utcnow", lambda: moment)
    with _acting(app, tenant, tenant.owner) as viewer:
        services.validate(viewer, db.session.scalar(select(SalesDocument).where(SalesDocument.id == doc.id)))
    doc = reload(app, tenant, doc)
    assert doc.issued_on == date(2026, 3, 1)
    assert doc.number == "FA2603-0001"


def test_each_organisation_numbers_its_own_invoices(app, browser, tenant, owner):
    other = make_tenant(app, name="Atelier Beta")
    mine = validated(app, browser, tenant, drafted(app, browser, tenant, make_thirdparty(app, tenant)))
    browser.logout()
    browser.login(other.owner.email)
    theirs = validated(app, browser, other, drafted(app, browser, other, make_thirdparty(app, other)))
    assert mine.number == expected("FA", mine, 1) and theirs.number == expected("FA", theirs, 1)


@pytest.mark.parametrize("counter_exists", [False, True], ids=["first-number", "counter-in-use"])
def test_a_validation_that_rolls_back_gives_its_number_back(app, browser, tenant, owner, monkeypatch, counter_exists):
    tp = make_thirdparty(app, tenant)
    offset = 1 if counter_exists else 0
    if counter_exists:
        validated(app, browser, tenant, drafted(app, browser, tenant, tp))
    failing, next_one = drafted(app, browser, tenant, tp), drafted(app, browser, tenant, tp)
    taken = []

    def take_then_fail(name, dated=None):  # the number is taken and written in the transaction, then something breaks
        taken.append(next_code(name, dated))
        db.session.flush()
        raise RuntimeError("something failed after the number was taken")

    with _acting(app, tenant, tenant.owner) as viewer:
        doc = db.session.scalar(select(SalesDocument).where(SalesDocument.id == failing.id))
        monkeypatch.setattr(services, "next_code", take_then_fail)
        with pytest.raises(RuntimeError):
            services.validate(viewer, doc)
        db.session.rollback()
        monkeypatch.undo()
        assert doc.number is None and doc.is_draft
    assert taken and taken[0].endswith(f"-{offset + 1:04}")
    assert counter_value(app, tenant, "invoice") == (offset + 1 if counter_exists else None)  # nothing kept, not even a first row

    next_one = validated(app, browser, tenant, next_one)
    assert next_one.number == expected("FA", next_one, offset + 1)  # the number given back
    failing = validated(app, browser, tenant, failing)
    assert failing.number == expected("FA", failing, offset + 2)


def test_a_number_taken_then_rolled_back_is_taken_again(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    validated(app, browser, tenant, drafted(app, browser, tenant, tp))
    with _acting(app, tenant, tenant.owner):
        taken = [next_code("invoice"), next_code("invoice")]
        assert [code[:2] + code[-5:] for code in taken] == ["FA-0002", "FA-0003"]
        db.session.rollback()
    assert counter_value(app, tenant, "invoice") == 2
    second = validated(app, browser, tenant, drafted(app, browser, tenant, tp))
    assert second.number == expected("FA", second, 2)


# --- PostgreSQL: validations at the same moment ---

def _run_threads(*targets) -> list[BaseException]:
    """Run each target in its own thread; the exceptions they raised."""
    errors: list[BaseException] = []

    def guarded(target):
        def run():
            try:
                target()
            except BaseException as error:  # noqa: B036 - reported to the test
                errors.append(error)
        return run

    threads = [threading.Thread(target=guarded(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return errors


def _validate_at_once(app, tenant, drafts, start: threading.Barrier):
    def worker(draft_id):
        def run():
            with _acting(app, tenant, tenant.owner) as viewer:
                doc = db.session.scalar(select(SalesDocument).where(SalesDocument.id == draft_id))
                start.wait(timeout=30)
                services.validate(viewer, doc)
        return run

    return [worker(doc.id) for doc in drafts]


@pytest.mark.postgres
@pytest.mark.parametrize("counter_exists", [False, True], ids=["first-numbers", "counter-in-use"])
def test_invoices_validated_at_the_same_moment_get_distinct_gapless_numbers(app, browser, tenant, owner, counter_exists):
    tp = make_thirdparty(app, tenant)
    already = [validated(app, browser, tenant, drafted(app, browser, tenant, tp))] if counter_exists else []
    n = 6
    drafts = [drafted(app, browser, tenant, tp) for _ in range(n)]

    assert _run_threads(*_validate_at_once(app, tenant, drafts, threading.Barrier(n))) == []

    rows = sorted((d for d in documents(app, tenant, "invoice") if d.id not in {a.id for a in already}), key=serial)
    assert len(rows) == n and all(d.status == "validated" for d in rows)
    numbers = [d.number for d in rows]
    assert len(set(numbers)) == n
    offset = len(already)
    assert [serial(d) for d in rows] == list(range(offset + 1, offset + n + 1))
    assert numbers == [expected("FA", d, offset + i + 1) for i, d in enumerate(rows)]
    # chronological: a later number was validated later (it waited for the earlier one's commit)
    assert [d.issued_on for d in rows] == sorted(d.issued_on for d in rows)
    assert [d.validated_at for d in rows] == sorted(d.validated_at for d in rows)
    assert counter_value(app, tenant, "invoice") == offset + n + 1


@pytest.mark.postgres
@pytest.mark.parametrize("counter_exists", [False, True], ids=["first-number", "counter-in-use"])
def test_a_validation_waiting_behind_one_that_rolls_back_gets_its_number(app, browser, tenant, owner, counter_exists):
    tp = make_thirdparty(app, tenant)
    already = [validated(app, browser, tenant, drafted(app, browser, tenant, tp))] if counter_exists else []
    waiting = drafted(app, browser, tenant, tp)
    taken, give_back, done = threading.Event(), threading.Event(), threading.Event()

    def holder():  # takes the next number, holds the counter, then rolls back
        with _acting(app, tenant, tenant.owner):
            next_code("invoice")
            taken.set()
            give_back.wait(timeout=30)
            db.session.rollback()

    def validator():
        assert taken.wait(timeout=30)
        with _acting(app, tenant, tenant.owner) as viewer:
            doc = db.session.scalar(select(SalesDocument).where(SalesDocument.id == waiting.id))
            services.validate(viewer, doc)
        done.set()

    def referee():
        assert taken.wait(timeout=30)
        time.sleep(0.5)
        blocked = not done.is_set()  # the validator must wait for the counter
        give_back.set()
        assert blocked, "a second validation went ahead while the counter was held"

    assert _run_threads(holder, validator, referee) == []
    doc = reload(app, tenant, waiting)
    assert doc.number == expected("FA", doc, len(already) + 1)
    assert counter_value(app, tenant, "invoice") == len(already) + 2


@pytest.mark.postgres
def test_a_race_of_quotes_and_invoices_keeps_each_counter_gapless(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    drafts = [drafted(app, browser, tenant, tp, kind) for kind in ("quote", "invoice") * 3]
    assert _run_threads(*_validate_at_once(app, tenant, drafts, threading.Barrier(len(drafts)))) == []
    for kind, prefix in (("quote", "PR"), ("invoice", "FA")):
        rows = sorted(documents(app, tenant, kind), key=serial)
        assert [d.number for d in rows] == [expected(prefix, d, i + 1) for i, d in enumerate(rows)]
