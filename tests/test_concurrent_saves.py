"""Concurrent saves never crash (issue 13, finding 4): every save of a versioned record, sent by eight signed-in
sessions at the same moment (threads behind a barrier, on PostgreSQL), answers 2xx/303 or 409 — 404 when the save
deleted the record and another one got there first — never 5xx. A 409 shows the other person's value beside the
user's own input; the stored record is one whole submission; the timeline (or the audit log) has one event per save.

The rule behind it (app/editing.py, docs/architecture.md "Concurrent edits"): a save locks its row first. Guarded
here too: every model with a version counter has its cases in ``CASES`` (a new one fails the mapper walk), a write
without the lock fails in tests, and a stale write that slips through in production answers 409, not 500.
"""
import io
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import editing
from app.extensions import db
from app.models import (
    Activity,
    AuditEntry,
    Base,
    Contact,
    Document,
    Note,
    Opportunity,
    Payment,
    Product,
    SalesDocument,
    Shipment,
    ThirdParty,
    ThirdPartyTag,
    TimelineEvent,
)
from app.tenancy import tenant_context
from tests import customers
from tests.customers import form_fields, make_contact, make_tag, make_thirdparty, submit
from tests.documents.support import PDF, documents_of, upload
from tests.helpers import Browser, csrf_from, text_of
from tests.pipeline.support import make_opportunity, stages
from tests.pipeline.support import reload as reload_opportunity
from tests.sales.support import add_line, documents, draft, made_from, make_product, reload, rows_of, show_url, validated
from tests.timeline.support import post_note

N = 8
OK = (200, 303)

# Every model with a version counter, and the tests below that race each of its save paths. The mapper walk at the
# end fails when a versioned model is missing here: a new one cannot be added without its concurrency cases.
CASES = {
    ThirdParty: ("test_customer_edit", "test_customer_archive", "test_customer_bulk_tag"),
    Contact: ("test_contact_edit", "test_contact_move", "test_contact_archive"),
    Note: ("test_note_edit", "test_note_pin"),
    Document: ("test_document_edit", "test_document_trash_and_restore", "test_document_new_version"),
    Activity: ("test_agenda_item_edit", "test_agenda_item_done", "test_agenda_item_cancel"),
    Opportunity: ("test_deal_edit", "test_deal_won_or_lost", "test_deal_move", "test_deal_reopen"),
    Product: ("test_product_edit", "test_product_archive"),
    SalesDocument: ("test_sales_header_edit", "test_sales_lines_added", "test_sales_line_edit", "test_sales_line_delete",
                    "test_sales_validate", "test_sales_lines_and_validation", "test_quote_answer", "test_sales_draft_delete",
                    "test_invoice_payment", "test_order_shipment", "test_contract_renewal"),
}


# --- racing ---

@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    location: str

    @property
    def ok(self) -> bool:
        return self.status in OK

    @property
    def alert(self) -> str:
        """The text of the first alert of the answer (a 409's "what the other person saved")."""
        start = self.body.index('role="alert"')
        return " ".join(text_of(self.body[start:self.body.index("</div>", start)]).split())


tenant, owner = customers.tenant, customers.owner  # the fixtures of tests/customers.py


@pytest.fixture
def sessions(app, tenant):
    """Eight browsers, each signed in with a session of its own (the test client is safe per client, not shared)."""
    browsers = []
    for _ in range(N):
        browser = Browser(app.test_client())
        browser.login(tenant.owner.email)
        browsers.append(browser)
    return browsers


def forms_of(sessions, url: str, form_id: str) -> list[dict]:
    """The edit form as each session was shown it (its own CSRF token; the same version and base)."""
    return [form_fields(browser.get(url).get_data(as_text=True), form_id) for browser in sessions]


def race(sessions, url: str | list[str], forms: list[dict], *, htmx: bool = True, headers=None, **kwargs) -> list[Answer]:
    """Post ``forms[i]`` from ``sessions[i]`` (to ``url``, or to ``url[i]``), all released at once; every answer, in
    session order.

    An exception in a request (the app re-raises them under test) fails the test with it.
    """
    tokens = [browser.csrf() for browser in sessions]
    start = threading.Barrier(len(sessions))
    answers: list = [None] * len(sessions)
    errors = []

    def run(i):
        try:
            data = {"csrf_token": tokens[i], **forms[i]}
            token = data["csrf_token"] if isinstance(data["csrf_token"], str) else data["csrf_token"][0]
            sent = {**(headers or {}), **({"HX-Request": "true", "X-CSRFToken": token} if htmx else {})}
            start.wait(timeout=30)
            response = sessions[i].client.post(url if isinstance(url, str) else url[i], data=data, headers=sent, **kwargs)
            answers[i] = Answer(response.status_code, response.get_data(as_text=True),
                                response.headers.get("HX-Redirect") or response.headers.get("Location") or "")
        except BaseException as error:  # noqa: BLE001 - reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request is stuck (a deadlock?)"
    if errors:
        raise errors[0]
    return answers


def assert_answers(answers, *allowed):
    statuses = [a.status for a in answers]
    assert all(s in (*OK, *allowed) for s in statuses), f"answers {statuses}"
    assert any(a.ok for a in answers), f"no save succeeded: {statuses}"


def assert_one_edit_won(answers, typed: list[str], stored: str, form_id: str, field: str) -> int:
    """Exactly one of the competing values was saved; every other answer is a 409 naming it, the input kept."""
    assert_answers(answers, 409)
    winner = typed.index(stored)
    assert [i for i, a in enumerate(answers) if a.ok] == [winner]
    for i, answer in enumerate(answers):
        if i != winner:
            assert answer.status == 409
            assert stored in answer.alert, answer.alert  # theirs
            assert form_fields(answer.body, form_id)[field] == [typed[i]]  # mine, kept in the form
    return winner


def events(app, tenant, kind: str, subject_id=None) -> int:
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(TimelineEvent).where(TimelineEvent.kind == kind)
        if subject_id is not None:
            stmt = stmt.where(TimelineEvent.subject_id == subject_id)
        return len(db.session.scalars(stmt).all())


def audited(app, tenant, entity_id, field: str) -> int:
    """Audit entries that changed ``field`` of the row (one per save that changed it)."""
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_id == entity_id, AuditEntry.action == "update"))
        return sum(1 for row in rows if field in row.changes)


def stored(app, tenant, model, row_id):
    with app.app_context(), tenant_context(tenant.id):
        row = db.session.scalar(select(model).where(model.id == row_id))
        if row is not None:
            db.session.expunge(row)
        return row


def post(sessions, url, data=None, **kwargs):
    """One post, from the first session (a page's setup step)."""
    return sessions[0].post(url, data or {}, **kwargs)


# --- customers and contacts ---

@pytest.mark.postgres
def test_customer_edit(app, tenant, sessions):
    tp = make_thirdparty(app, tenant, "Original SARL")
    url = f"/{tenant.slug}/thirdparties/{tp.id}/edit"
    typed = [f"Name {i}" for i in range(N)]
    forms = [{**form, "name": [typed[i]]} for i, form in enumerate(forms_of(sessions, url, "thirdparty-form"))]
    answers = race(sessions, url, forms)
    name = stored(app, tenant, ThirdParty, tp.id).name
    assert_one_edit_won(answers, typed, name, "thirdparty-form", "name")
    assert events(app, tenant, "thirdparty_updated") == 1 and audited(app, tenant, tp.id, "name") == 1


@pytest.mark.postgres
def test_customer_archive(app, tenant, sessions):
    tp = make_thirdparty(app, tenant)
    answers = race(sessions, f"/{tenant.slug}/thirdparties/{tp.id}/archive", [{}] * N)
    assert_answers(answers)
    assert all(a.ok for a in answers) and stored(app, tenant, ThirdParty, tp.id).archived_at is not None
    assert events(app, tenant, "thirdparty_archived") == 1


@pytest.mark.postgres
def test_customer_bulk_tag(app, tenant, sessions):
    customers = [make_thirdparty(app, tenant, f"Customer {i}") for i in range(3)]
    tag = make_tag(app, tenant, "VIP")
    form = {"action": "tag", "tag_id": str(tag), "rep_id": "", "ids": [str(c.id) for c in customers]}
    answers = race(sessions, f"/{tenant.slug}/thirdparties/bulk", [form] * N)
    assert all(a.ok for a in answers)
    with app.app_context(), tenant_context(tenant.id):
        links = db.session.scalars(select(ThirdPartyTag.thirdparty_id)).all()
    assert sorted(links) == sorted(c.id for c in customers)
    assert events(app, tenant, "thirdparty_updated") == len(customers)  # one per customer tagged, not one per request


@pytest.mark.postgres
def test_contact_edit(app, tenant, sessions):
    company = make_thirdparty(app, tenant)
    person = make_contact(app, tenant, company.id, "Curie", first_name="Marie", job_title="CEO")
    url = f"/{tenant.slug}/contacts/{person.id}/edit"
    typed = [f"Title {i}" for i in range(N)]
    forms = [{**form, "job_title": [typed[i]]} for i, form in enumerate(forms_of(sessions, url, "contact-form"))]
    answers = race(sessions, url, forms)
    assert_one_edit_won(answers, typed, stored(app, tenant, Contact, person.id).job_title, "contact-form", "job_title")
    assert events(app, tenant, "contact_updated") == 1


@pytest.mark.postgres
def test_contact_move(app, tenant, sessions):
    company, target = make_thirdparty(app, tenant, "From"), make_thirdparty(app, tenant, "To")
    person = make_contact(app, tenant, company.id, "Curie")
    answers = race(sessions, f"/{tenant.slug}/contacts/{person.id}/move", [{"thirdparty_id": str(target.id)}] * N)
    assert all(a.ok for a in answers) and stored(app, tenant, Contact, person.id).thirdparty_id == target.id
    assert events(app, tenant, "contact_moved_in") == 1 and events(app, tenant, "contact_moved_out") == 1


@pytest.mark.postgres
def test_contact_archive(app, tenant, sessions):
    person = make_contact(app, tenant, make_thirdparty(app, tenant).id, "Curie")
    answers = race(sessions, f"/{tenant.slug}/contacts/{person.id}/archive", [{}] * N)
    assert all(a.ok for a in answers) and events(app, tenant, "contact_archived") == 1


# --- notes, documents, agenda items ---

def _note(app, tenant, sessions, tp) -> uuid.UUID:
    assert post_note(sessions[0], tenant, tp.id, "First text").status_code == 200
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(Note.id))


@pytest.mark.postgres
def test_note_edit(app, tenant, sessions):
    tp = make_thirdparty(app, tenant)
    note_id = _note(app, tenant, sessions, tp)
    url = f"/{tenant.slug}/timeline/notes/{note_id}/edit"
    typed = [f"Text number {i}" for i in range(N)]
    forms = [{**form, "body": [typed[i]]} for i, form in enumerate(forms_of(sessions, url, "note-editor"))]
    answers = race(sessions, url, forms)
    assert_one_edit_won(answers, typed, stored(app, tenant, Note, note_id).body, "note-editor", "body")
    assert events(app, tenant, "note_edited") == 1


@pytest.mark.postgres
def test_note_pin(app, tenant, sessions):
    note_id = _note(app, tenant, sessions, make_thirdparty(app, tenant))
    answers = race(sessions, f"/{tenant.slug}/timeline/notes/{note_id}/pin", [{}] * N)
    assert all(a.ok for a in answers) and stored(app, tenant, Note, note_id).pinned


def _document(app, tenant, sessions, tp, name="Offer.pdf") -> uuid.UUID:
    assert upload(sessions[0], tp.id, [(name, PDF)], tenant_slug=tenant.slug).status_code in OK
    return documents_of(app, tenant, tp.id)[-1]["id"]


@pytest.mark.postgres
def test_document_edit(app, tenant, sessions):
    tp = make_thirdparty(app, tenant)
    document_id = _document(app, tenant, sessions, tp)
    url = f"/{tenant.slug}/documents/{document_id}/edit"
    typed = [f"Offer {i}.pdf" for i in range(N)]
    forms = [{**form, "name": [typed[i]]} for i, form in enumerate(forms_of(sessions, url, "document-editor"))]
    answers = race(sessions, url, forms)
    assert_one_edit_won(answers, typed, stored(app, tenant, Document, document_id).name, "document-editor", "name")
    assert events(app, tenant, "document_updated") == 1


@pytest.mark.postgres
def test_document_trash_and_restore(app, tenant, sessions):
    document_id = _document(app, tenant, sessions, make_thirdparty(app, tenant))
    assert all(a.ok for a in race(sessions, f"/{tenant.slug}/documents/{document_id}/trash", [{}] * N))
    assert stored(app, tenant, Document, document_id).deleted_at is not None
    assert all(a.ok for a in race(sessions, f"/{tenant.slug}/documents/{document_id}/restore", [{}] * N))
    assert stored(app, tenant, Document, document_id).deleted_at is None
    assert events(app, tenant, "document_deleted") == 1 and events(app, tenant, "document_restored") == 1


@pytest.mark.postgres
def test_document_new_version(app, tenant, sessions):
    """Eight uploads of new versions at once: eight versions numbered 2 to 9, none lost."""
    tp = make_thirdparty(app, tenant)
    document_id = _document(app, tenant, sessions, tp)
    forms = [{"idempotency_key": uuid.uuid4().hex, "files": [(io.BytesIO(PDF + str(i).encode()), "Offer.pdf")]}
             for i in range(N)]
    answers = race(sessions, f"/{tenant.slug}/documents/{document_id}/versions", forms, htmx=False,
                   headers={"X-Upload": "1"}, content_type="multipart/form-data")
    assert_answers(answers)
    assert all(a.ok for a in answers), [a.status for a in answers]
    [document] = documents_of(app, tenant, tp.id)
    assert document["versions"] == N + 1
    assert events(app, tenant, "document_version_added") == N


def _planned(app, tenant, sessions, tp) -> uuid.UUID:
    page = sessions[0].get(f"/{tenant.slug}/agenda/customers/{tp.id}/plan").get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', page).group(1)
    response = sessions[0].post(f"/{tenant.slug}/agenda/customers/{tp.id}/plan", {
        "csrf_token": csrf_from(page), "idempotency_key": key, "assignees": [str(tenant.owner.id)], "kind": "task",
        "title": "Call back", "starts": "2030-04-01T10:00", "priority": "normal", "repeat": ""})
    assert response.status_code == 303
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(Activity.id))


@pytest.mark.postgres
def test_agenda_item_edit(app, tenant, sessions):
    item_id = _planned(app, tenant, sessions, make_thirdparty(app, tenant))
    url = f"/{tenant.slug}/agenda/items/{item_id}/edit"
    typed = [f"Call back {i}" for i in range(N)]
    forms = [{**form, "title": [typed[i]]} for i, form in enumerate(forms_of(sessions, url, "plan-form"))]
    answers = race(sessions, url, forms)
    assert_one_edit_won(answers, typed, stored(app, tenant, Activity, item_id).title, "plan-form", "title")
    assert events(app, tenant, "activity_updated") == 1


@pytest.mark.postgres
def test_agenda_item_done(app, tenant, sessions):
    item_id = _planned(app, tenant, sessions, make_thirdparty(app, tenant))
    answers = race(sessions, f"/{tenant.slug}/agenda/items/{item_id}/done", [{}] * N, htmx=False)
    assert all(a.ok for a in answers) and stored(app, tenant, Activity, item_id).done_at is not None
    assert events(app, tenant, "activity_done") == 1


@pytest.mark.postgres
def test_agenda_item_cancel(app, tenant, sessions):
    item_id = _planned(app, tenant, sessions, make_thirdparty(app, tenant))
    answers = race(sessions, f"/{tenant.slug}/agenda/items/{item_id}/cancel", [{}] * N)
    assert_answers(answers, 404)  # cancelled by another session first: it is gone
    assert stored(app, tenant, Activity, item_id) is None
    assert events(app, tenant, "activity_cancelled") == sum(a.ok for a in answers) == 1


# --- the pipeline ---

@pytest.mark.postgres
def test_deal_edit(app, tenant, sessions):
    opp = make_opportunity(app, tenant, make_thirdparty(app, tenant), "Website", "1000")
    url = f"/{tenant.slug}/pipeline/{opp.id}/edit"
    typed = [f"Website {i}" for i in range(N)]
    forms = [{**form, "title": [typed[i]], "amount": [str(1000 + i)]}
             for i, form in enumerate(forms_of(sessions, url, "opportunity-form"))]
    answers = race(sessions, url, forms)
    deal = reload_opportunity(app, tenant, opp)
    winner = assert_one_edit_won(answers, typed, deal.title, "opportunity-form", "title")
    assert deal.amount == Decimal(1000 + winner)  # the winner's whole submission, not a mix
    assert audited(app, tenant, opp.id, "title") == 1


@pytest.mark.postgres
def test_deal_won_or_lost(app, tenant, sessions):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website", "1000")
    outcomes = ["won" if i % 2 else "lost" for i in range(N)]
    reasons = [f"Reason {i}" for i in range(N)]
    answers = race(sessions, [f"/{tenant.slug}/pipeline/{opp.id}/{outcome}" for outcome in outcomes],
                   [{"reason": reason} for reason in reasons])
    deal = reload_opportunity(app, tenant, opp)
    winner = reasons.index(deal.close_reason)
    assert deal.status == outcomes[winner]
    assert_answers(answers, 409)
    assert [i for i, a in enumerate(answers) if a.ok] == [winner]
    for i, answer in enumerate(answers):
        if i != winner:
            assert answer.status == 409 and f"Why: {reasons[winner]}" in answer.alert  # theirs
            assert f'value="{reasons[i]}"' in answer.body  # mine, in the form
    assert events(app, tenant, f"opportunity_{deal.status}") == 1
    assert events(app, tenant, "opportunity_won") + events(app, tenant, "opportunity_lost") == 1


@pytest.mark.postgres
def test_deal_move(app, tenant, sessions):
    opp = make_opportunity(app, tenant, make_thirdparty(app, tenant), stage=0)
    target = stages(app, tenant)[2]
    answers = race(sessions, f"/{tenant.slug}/pipeline/{opp.id}/move", [{"stage_id": str(target.id), "back": "show"}] * N)
    assert all(a.ok for a in answers) and reload_opportunity(app, tenant, opp).stage_id == target.id
    assert events(app, tenant, "opportunity_moved") == 1


@pytest.mark.postgres
def test_deal_reopen(app, tenant, sessions):
    opp = make_opportunity(app, tenant, make_thirdparty(app, tenant))
    assert post(sessions, f"/{tenant.slug}/pipeline/{opp.id}/won", {"reason": "Signed"}).status_code == 303
    answers = race(sessions, f"/{tenant.slug}/pipeline/{opp.id}/reopen", [{}] * N)
    assert all(a.ok for a in answers) and reload_opportunity(app, tenant, opp).status == "open"
    assert events(app, tenant, "opportunity_reopened") == 1


# --- the catalogue and the sales documents ---

@pytest.mark.postgres
def test_product_edit(app, tenant, sessions):
    product = make_product(app, tenant)
    url = f"/{tenant.slug}/sales/products/{product.id}/edit"
    typed = [f"Consulting {i}" for i in range(N)]
    forms = [{**form, "label": [typed[i]], "unit_price": [f"9{i}.5"]}
             for i, form in enumerate(forms_of(sessions, url, "product-form"))]
    answers = race(sessions, url, forms)
    saved = stored(app, tenant, Product, product.id)
    winner = assert_one_edit_won(answers, typed, saved.label, "product-form", "label")
    assert saved.unit_price == Decimal(f"9{winner}.5")
    assert audited(app, tenant, product.id, "label") == 1


@pytest.mark.postgres
def test_product_archive(app, tenant, sessions):
    product = make_product(app, tenant)
    answers = race(sessions, f"/{tenant.slug}/sales/products/{product.id}/archive", [{}] * N)
    assert all(a.ok for a in answers) and stored(app, tenant, Product, product.id).archived_at is not None
    assert audited(app, tenant, product.id, "archived_at") == 1


def _drafted(app, tenant, sessions, tp, kind, **fields) -> SalesDocument:
    before = {d.id for d in documents(app, tenant, kind)}
    assert draft(sessions[0], tenant, tp, kind, **fields).status_code == 303
    (doc,) = [d for d in documents(app, tenant, kind) if d.id not in before]
    return doc


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["quote", "invoice", "contract"])
def test_sales_header_edit(app, tenant, sessions, kind):
    tp = make_thirdparty(app, tenant)
    extra = {"starts_on": str(date(2030, 1, 1)), "period": "monthly", "ends_on": ""} if kind == "contract" else {}
    doc = _drafted(app, tenant, sessions, tp, kind, title="Original", **extra)
    url = f"/{tenant.slug}/sales/{show_url(tenant, doc).split('/sales/')[1]}/edit"
    typed = [f"Subject {i}" for i in range(N)]
    forms = [{**form, "title": [typed[i]], "note": [f"Note {i}"]} for i, form in enumerate(forms_of(sessions, url, "header-form"))]
    answers = race(sessions, url, forms)
    saved = reload(app, tenant, doc)
    winner = assert_one_edit_won(answers, typed, saved.title, "header-form", "title")
    assert saved.note == f"Note {winner}"
    assert audited(app, tenant, doc.id, "title") == 1


@pytest.mark.postgres
def test_sales_lines_added(app, tenant, sessions):
    """Eight lines added at once: all kept, numbered in turn, and the totals are their sum (none read a stale list)."""
    doc = _drafted(app, tenant, sessions, make_thirdparty(app, tenant), "invoice")
    forms = [{"product_id": "", "description": f"Line {i}", "quantity": "1", "unit_price": str(10 * (i + 1)), "discount": "",
              "vat_rate": "20"} for i in range(N)]
    answers = race(sessions, f"{show_url(tenant, doc)}/lines", forms)
    assert all(a.ok for a in answers)
    saved = reload(app, tenant, doc)
    assert sorted(line.description for line in saved.lines) == sorted(f"Line {i}" for i in range(N))
    assert sorted(line.position for line in saved.lines) == list(range(N))
    assert saved.total_net == sum(Decimal(10 * (i + 1)) for i in range(N)) == sum(line.net for line in saved.lines)


@pytest.mark.postgres
def test_sales_line_edit(app, tenant, sessions):
    doc = _drafted(app, tenant, sessions, make_thirdparty(app, tenant), "quote")
    assert add_line(sessions[0], tenant, doc, unit_price="100").status_code == 200
    [line] = reload(app, tenant, doc).lines
    forms = [{"product_id": "", "description": "Consulting", "quantity": str(i + 1), "unit_price": "100", "discount": "",
              "vat_rate": "20"} for i in range(N)]
    answers = race(sessions, f"{show_url(tenant, doc)}/lines/{line.id}", forms)
    assert all(a.ok for a in answers)
    saved = reload(app, tenant, doc)
    [line] = saved.lines
    assert line.quantity in {Decimal(i + 1) for i in range(N)}
    assert saved.total_net == line.net == line.quantity * 100  # the document's totals are its line's, whichever won


@pytest.mark.postgres
def test_sales_line_delete(app, tenant, sessions):
    doc = _drafted(app, tenant, sessions, make_thirdparty(app, tenant), "quote")
    assert add_line(sessions[0], tenant, doc).status_code == 200
    [line] = reload(app, tenant, doc).lines
    answers = race(sessions, f"{show_url(tenant, doc)}/lines/{line.id}/delete", [{}] * N)
    assert_answers(answers, 404)
    saved = reload(app, tenant, doc)
    assert saved.lines == [] and saved.total_gross == 0


@pytest.mark.postgres
def test_sales_validate(app, tenant, sessions):
    doc = _drafted(app, tenant, sessions, make_thirdparty(app, tenant), "invoice")
    assert add_line(sessions[0], tenant, doc).status_code == 200
    answers = race(sessions, f"{show_url(tenant, doc)}/validate", [{}] * N)
    assert all(a.ok for a in answers)  # one validates, the others are told it is validated already
    assert reload(app, tenant, doc).number and events(app, tenant, "invoice_validated") == 1


@pytest.mark.postgres
def test_sales_lines_and_validation(app, tenant, sessions):
    """Lines added while the invoice is validated: each is either in before it is numbered, or refused (409) — a
    validated invoice never changes, and its totals are its lines'."""
    doc = _drafted(app, tenant, sessions, make_thirdparty(app, tenant), "invoice")
    assert add_line(sessions[0], tenant, doc, description="First").status_code == 200
    line = {"product_id": "", "quantity": "1", "unit_price": "10", "discount": "", "vat_rate": "20"}
    urls = [f"{show_url(tenant, doc)}/{'validate' if i % 2 else 'lines'}" for i in range(N)]
    answers = race(sessions, urls, [{} if i % 2 else {**line, "description": f"Line {i}"} for i in range(N)])
    assert_answers(answers, 409)
    saved = reload(app, tenant, doc)
    added = {f"Line {i}" for i in range(0, N, 2) if answers[i].ok}
    assert saved.status == "validated" and {x.description for x in saved.lines} == {"First", *added}
    assert saved.total_net == sum(x.net for x in saved.lines) and events(app, tenant, "invoice_validated") == 1
    for i in range(0, N, 2):
        if not answers[i].ok:
            assert answers[i].status == 409 and "validated document" in text_of(answers[i].body)  # read before or after the lock


@pytest.mark.postgres
def test_quote_answer(app, tenant, sessions):
    quote = validated(app, sessions[0], tenant, make_thirdparty(app, tenant), "quote")
    answers = race(sessions, f"/{tenant.slug}/sales/quotes/{quote.id}/sign", [{}] * N)
    assert all(a.ok for a in answers) and reload(app, tenant, quote).status == "signed"
    assert events(app, tenant, "quote_signed") == 1


@pytest.mark.postgres
def test_sales_draft_delete(app, tenant, sessions):
    doc = _drafted(app, tenant, sessions, make_thirdparty(app, tenant), "quote")
    answers = race(sessions, f"{show_url(tenant, doc)}/delete", [{}] * N)
    assert_answers(answers, 404)  # deleted by another session first: it is gone
    assert documents(app, tenant, "quote") == []


@pytest.mark.postgres
def test_invoice_payment(app, tenant, sessions):
    """Eight payments of 30 on an invoice of 120: four settle it, the others are refused; never more than is due."""
    tp = make_thirdparty(app, tenant)
    invoice = validated(app, sessions[0], tenant, tp, "invoice", [{"description": "Service", "unit_price": "100"}])
    url = f"/{tenant.slug}/sales/customers/{tp.id}/payments"
    forms = [{**form, "amount": ["30"], "reference": [f"VIR-{i}"], f"share-{invoice.id}": ["30"]}
             for i, form in enumerate(forms_of(sessions, f"{url}/new", "payment-form"))]
    answers = race(sessions, url, forms)
    assert_answers(answers, 422)  # the invoice was paid in full meanwhile: the form again, with the reason
    assert sum(a.ok for a in answers) == 4 == len(rows_of(app, tenant, Payment))
    assert reload(app, tenant, invoice).settled == Decimal("120.00") and events(app, tenant, "payment_received") == 4


@pytest.mark.postgres
def test_order_shipment(app, tenant, sessions):
    tp = make_thirdparty(app, tenant)
    quote = validated(app, sessions[0], tenant, tp, "quote", [{"description": "Chair", "quantity": "5", "unit_price": "80"}])
    order = made_from(app, sessions[0], tenant, quote, "Make it an order")
    assert post(sessions, f"{show_url(tenant, order)}/validate").status_code == 303
    [line] = reload(app, tenant, order).lines
    url = f"/{tenant.slug}/sales/orders/{order.id}/ship"
    forms = [{**form, f"qty-{line.id}": ["1"], "reference": [f"Truck {i}"]} for i, form in enumerate(forms_of(sessions, url, "ship-form"))]
    answers = race(sessions, url, forms)
    assert_answers(answers, 422)  # nothing left to ship: the form again, with the reason
    assert sum(a.ok for a in answers) == 5 == len(rows_of(app, tenant, Shipment))
    assert reload(app, tenant, order).status == "shipped" and events(app, tenant, "order_shipped") == 5


@pytest.mark.postgres
def test_contract_renewal(app, tenant, sessions):
    """Eight renewals at once invoice eight successive periods, each once."""
    tp = make_thirdparty(app, tenant)
    contract = validated(app, sessions[0], tenant, tp, "contract", [{"description": "Maintenance"}], title="Care",
                         starts_on=str(date(2030, 1, 1)), period="monthly", ends_on="")
    forms = [{"idempotency_key": uuid.uuid4().hex} for _ in range(N)]
    answers = race(sessions, f"/{tenant.slug}/sales/contracts/{contract.id}/renew", forms, htmx=False)
    assert all(a.ok for a in answers)
    invoices = documents(app, tenant, "invoice")
    assert len(invoices) == N == len({i.title for i in invoices}) == events(app, tenant, "contract_renewed")
    assert reload(app, tenant, contract).next_on == date(2030, 1 + N, 1)


# --- the rule's guards ---

def test_every_versioned_model_has_its_concurrency_cases():
    """A model given a version counter must bring its races here (and a lock in each of its saves)."""
    versioned = {m.class_ for m in Base.registry.mappers if m.version_id_col is not None}
    missing = sorted(model.__name__ for model in versioned - set(CASES))
    assert not missing, f"versioned models without concurrency cases in tests/test_concurrent_saves.py: {missing}"
    for model, names in CASES.items():
        for name in names:
            assert callable(globals().get(name)), f"{model.__name__}: no test named {name}"


def test_a_versioned_write_without_the_lock_fails_in_tests(app, tenant):
    tp = make_thirdparty(app, tenant)
    with app.app_context(), tenant_context(tenant.id):
        db.session.get(ThirdParty, (tenant.id, tp.id)).website = "https://example.com"
        with pytest.raises(editing.UnlockedWrite, match="without app.editing.lock"):
            db.session.flush()
        db.session.rollback()
        editing.lock(db.session.get(ThirdParty, (tenant.id, tp.id))).website = "https://example.com"
        db.session.commit()


def test_a_lock_comes_before_any_write(app, tenant):
    tp, other = make_thirdparty(app, tenant, "One"), make_thirdparty(app, tenant, "Two")
    with app.app_context(), tenant_context(tenant.id):
        editing.lock(db.session.get(ThirdParty, (tenant.id, tp.id))).website = "https://example.com"
        db.session.flush()  # holds the audit chain's head now
        with pytest.raises(editing.UnlockedWrite, match="lock first"):
            editing.lock(db.session.get(ThirdParty, (tenant.id, other.id)))
        db.session.rollback()


def test_a_lock_reads_what_was_committed_meanwhile(app, tenant):
    tp = make_thirdparty(app, tenant, "Before")
    with app.app_context(), tenant_context(tenant.id):
        mine = db.session.get(ThirdParty, (tenant.id, tp.id))
        assert mine.name == "Before"
        _elsewhere(app, tenant, lambda: setattr(editing.lock(db.session.get(ThirdParty, (tenant.id, tp.id))), "name", "After"))
        assert mine.name == "Before"  # as read before the other save
        assert editing.lock(mine).name == "After" and mine.version == 2
        db.session.rollback()


def test_a_row_deleted_meanwhile_is_gone(app, tenant):
    product = make_product(app, tenant)
    with app.app_context(), tenant_context(tenant.id):
        mine = db.session.get(Product, (tenant.id, product.id))
        _elsewhere(app, tenant, lambda: db.session.delete(editing.lock(db.session.get(Product, (tenant.id, product.id)))))
        with pytest.raises(editing.RecordGone):
            editing.lock(mine)
        db.session.rollback()


def test_a_stale_write_that_slips_through_answers_409_not_500(app, tenant, owner, monkeypatch):
    """The backstop, as in production (no strict check) with a save that forgot its lock: 409, the form kept."""
    from app.thirdparties import services

    tp = make_thirdparty(app, tenant, "Original")
    url = f"/{tenant.slug}/thirdparties/{tp.id}/edit"
    form = form_fields(owner.get(url).get_data(as_text=True), "thirdparty-form")
    monkeypatch.setattr(services, "lock", lambda obj: obj)  # the forgotten lock
    monkeypatch.setattr(editing, "_strict", lambda: False)
    fired = []

    def meanwhile(session, flush_context, instances):  # another save commits between our read and our write
        if not fired:
            fired.append(session)
            _elsewhere(app, tenant, lambda: setattr(editing.lock(db.session.get(ThirdParty, (tenant.id, tp.id))), "name",
                                                    "Theirs"))

    event.listen(Session, "before_flush", meanwhile, insert=True)  # before the audit chain reads its head
    try:
        answer = submit(owner, url, {**form, "name": ["Mine"]}, htmx=True)
    finally:
        event.remove(Session, "before_flush", meanwhile)
    assert fired and answer.status_code == 409 and answer.headers["HX-Retarget"] == "#flash"  # the form stays as typed
    assert "This record has moved on meanwhile" in text_of(answer.get_data(as_text=True))
    assert stored(app, tenant, ThirdParty, tp.id).name == "Theirs"


def _elsewhere(app, tenant, change) -> None:
    """Another session (a nested app context has its own) makes ``change`` and commits: a save by someone else."""
    with app.app_context(), tenant_context(tenant.id):
        change()
        db.session.commit()


# --- creations that collide on a unique name (never a 500 either) ---

@pytest.mark.postgres
def test_same_tag_created_at_once(app, tenant, sessions):
    """Eight people create the tag "VIP" at the same moment: one tag, the others told it exists (409), no 5xx."""
    answers = race(sessions, f"/{tenant.slug}/admin/tags", [{"name": "VIP", "colour": "blue"}] * N)
    assert all(a.status in (*OK, 409, 422) for a in answers), [a.status for a in answers]
    assert sum(a.ok for a in answers) == 1
    with app.app_context(), tenant_context(tenant.id):
        from app.models import Tag

        assert db.session.scalars(select(Tag.name)).all() == ["VIP"]
    refused = [a for a in answers if a.status == 409]
    assert all("meanwhile, so nothing was saved" in text_of(a.body) for a in refused)
