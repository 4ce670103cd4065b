"""Changing sales documents: drafts and their lines, validation (numbering), a quote's answer, documents made
from others (the chain quote → order → invoice → credit note), and the timeline event of each step."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from app import domains
from app.editing import RecordGone, commit_or_conflict, lock, merge_edit
from app.extensions import db
from app.idempotency import save_once, saved_with
from app.models import SalesDocument, SalesLine, Tenant, ThirdParty, utcnow
from app.numbering import next_code
from app.permissions import Viewer
from app.sales import BOOK_OF, money
from app.sales.queries import thread_of, today
from app.tenancy import current_tenant_id
from app.timeline.services import record_event

QUOTE_DAYS = 30  # a new quote is valid this long, unless its author says otherwise


class SalesError(Exception):
    """A step the document's state does not allow; ``message`` says why, for the person who tried."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def locked(doc: SalesDocument) -> SalesDocument:
    """``doc`` read again under a row lock (``app.editing.lock``): every step that changes a document runs one at a
    time, and a second one sees what the first did (a double tap validates once, then is refused)."""
    return lock(doc)


def record_step(viewer: Viewer, doc: SalesDocument, kind: str, body: str = "", **payload) -> None:
    record_event(thirdparty_id=doc.thirdparty_id, contact_id=doc.contact_id, kind=kind, subject_type=doc.kind,
                 subject_id=doc.id, actor_id=viewer.user_id, title=doc.number or doc.title or "", body=body,
                 payload={"total": str(doc.total_gross), "currency": doc.currency, "thread": thread_of(doc), **payload},
                 required_right=BOOK_OF[doc.kind].read)


def create_document(viewer: Viewer, tp: ThirdParty, kind: str, values: dict, *, idempotency_key: str | None = None,
                    source: SalesDocument | None = None) -> tuple[SalesDocument, bool]:
    """A new draft of ``kind`` for ``tp`` (a copy of ``source``'s lines when made from one); a retried
    submission (same key) returns the first draft and False."""
    def build():
        tenant = db.session.get(Tenant, current_tenant_id())
        doc = SalesDocument(kind=kind, thirdparty_id=tp.id, currency=tenant.currency, created_by_id=viewer.user_id,
                            idempotency_key=idempotency_key, source_id=source.id if source else None, **values)
        if kind == "quote" and doc.valid_until is None:
            doc.valid_until = today() + timedelta(days=QUOTE_DAYS)
        if kind == "invoice" and doc.payment_days is None:
            doc.payment_days = tenant.payment_days
        for position, line in enumerate(source.lines if source else ()):
            doc.lines.append(SalesLine(position=position, product_id=line.product_id, description=line.description,
                                       quantity=line.quantity, unit=line.unit, unit_price=line.unit_price,
                                       discount=line.discount, vat_rate=line.vat_rate, net=line.net, vat=line.vat))
        _set_totals(doc)
        db.session.add(doc)
        db.session.flush()
        record_step(viewer, doc, f"{kind}_created",
                    **({"source": str(source.id), "source_number": source.number} if source else {}))
        return doc

    return save_once(SalesDocument, idempotency_key, build)


def made_with(idempotency_key: str) -> SalesDocument | None:
    """The document a submission with this key already made (a double tap or a retry)."""
    return saved_with(SalesDocument, idempotency_key)


HEADER_FIELDS = ("title", "contact_id", "note")
OWN_HEADER_FIELDS = {"quote": ("valid_until",), "invoice": ("payment_days",), "contract": ("starts_on", "period", "ends_on")}


def header_snapshot(doc: SalesDocument) -> dict:
    """A draft's header as its edit form shows it (for the form's ``base`` and the conflict check)."""
    return {name: getattr(doc, name) for name in (*HEADER_FIELDS, *OWN_HEADER_FIELDS.get(doc.kind, ()))}


def update_document(doc: SalesDocument, submitted: dict, *, version: int, base: dict | None) -> None:
    """Save a draft's header, merged with a concurrent edit of other fields.

    :raise EditConflict: when someone else changed the same fields meanwhile.
    :raise SalesError: when it was validated meanwhile.
    """
    _require_draft(locked(doc))
    current = header_snapshot(doc)
    values = merge_edit(current, {k: v for k, v in submitted.items() if k in current}, stale=version != doc.version, base=base)
    for name, value in values.items():
        setattr(doc, name, value)
    commit_or_conflict(db.session, doc, header_snapshot, submitted)


def delete_draft(doc: SalesDocument) -> None:
    """Drop a draft (nothing was numbered, so nothing is missing from the numbering)."""
    _require_draft(locked(doc))
    db.session.delete(doc)
    db.session.commit()


def _require_draft(doc: SalesDocument) -> None:
    if not doc.is_draft:
        raise SalesError(_l("A validated document cannot be changed any more."))


def _set_totals(doc: SalesDocument) -> None:
    totals = money.totals(doc.lines)
    doc.total_net, doc.total_vat, doc.total_gross = totals.net, totals.vat, totals.gross


def _fill_line(line: SalesLine, values: dict) -> None:
    for name in ("product_id", "description", "quantity", "unit", "unit_price", "discount", "vat_rate"):
        setattr(line, name, values[name])
    amounts = money.line_amounts(line.quantity, line.unit_price, line.discount, line.vat_rate)
    line.net, line.vat = amounts.net, amounts.vat


MAX_LINES = 500


def add_line(doc: SalesDocument, values: dict) -> SalesLine:
    _require_draft(locked(doc))  # the lines and totals as the last save left them
    if len(doc.lines) >= MAX_LINES:
        raise SalesError(_l("A document holds at most %(n)d lines.", n=MAX_LINES))
    line = SalesLine(position=max((x.position for x in doc.lines), default=-1) + 1)
    _fill_line(line, values)
    doc.lines.append(line)
    _set_totals(doc)
    db.session.commit()
    return line


def _line(doc: SalesDocument, line_id) -> SalesLine:
    """:raise RecordGone: when the line was deleted meanwhile."""
    line = next((x for x in doc.lines if x.id == line_id), None)
    if line is None:
        raise RecordGone("sales_line")
    return line


def update_line(doc: SalesDocument, line_id, values: dict) -> None:
    _require_draft(locked(doc))
    _fill_line(_line(doc, line_id), values)
    _set_totals(doc)
    db.session.commit()


def delete_line(doc: SalesDocument, line_id) -> None:
    _require_draft(locked(doc))
    doc.lines.remove(_line(doc, line_id))
    _set_totals(doc)
    db.session.commit()


def validate(viewer: Viewer, doc: SalesDocument) -> None:
    """Number and freeze a draft. The number is taken in this transaction (``next_code`` locks its counter), so
    numbers have no gaps and follow the order of the validations; the document's date is the day of it."""
    _require_draft(locked(doc))
    if not doc.lines:
        raise SalesError(_l("Add at least one line before validating."))
    if doc.kind == "credit_note":
        invoice = locked(db.session.get(SalesDocument, (doc.tenant_id, doc.source_id)))
        if doc.total_gross <= 0:
            raise SalesError(_l("A credit note takes an amount off its invoice: its total must be above zero."))
        if doc.total_gross > invoice.balance:
            raise SalesError(_l("A credit note cannot be larger than what is still due on its invoice (%(due)s).",
                                due=invoice.balance))
        invoice.settled += doc.total_gross
    def dated():
        doc.validated_at, doc.issued_on = utcnow(), today()
        return doc.issued_on  # the month in the number is the month of the document's date

    doc.status, doc.number = "validated", next_code(doc.kind, dated)
    if doc.kind == "invoice":
        doc.due_on = doc.issued_on + timedelta(days=doc.payment_days or 0)
    if doc.kind == "contract":
        doc.next_on = doc.starts_on
    record_step(viewer, doc, f"{doc.kind}_validated")
    db.session.commit()


# A quote's answer: which statuses each step starts from, and the status it leads to.
QUOTE_STEPS = {"send": (("validated", "sent"), "sent"), "sign": (("validated", "sent"), "signed"),
               "refuse": (("validated", "sent"), "refused"), "reopen": (("signed", "refused"), "sent")}


def answer_quote(viewer: Viewer, quote: SalesDocument, step: str, reason: str = "") -> None:
    """Mark a validated quote sent, signed or refused (with a reason), or reopen an answered one."""
    starts, status = QUOTE_STEPS[step]
    if locked(quote).status not in starts:
        raise SalesError(_l("This quote cannot take that step in its current state."))
    if step == "sign":  # the quote's deal (the pipeline's, when it is here) is won in this transaction: its rows are
        domains.call("quote_signed", viewer, quote)  # locked after the quote's and before anything is written
    now = utcnow()
    quote.status = status
    if step == "send":
        quote.sent_at = quote.sent_at or now
    elif step == "sign":
        quote.signed_at = now
    elif step == "refuse":
        quote.refused_at, quote.refusal_reason = now, reason[:200]
    else:
        quote.signed_at = quote.refused_at = None
        quote.refusal_reason = ""
    record_step(viewer, quote, f"quote_{'sent' if step in ('send', 'reopen') else status}", body=reason if step == "refuse" else "")
    db.session.commit()


# What each kind of document can be made from (its lines copied, the chain linked), and when.
MADE_FROM = {"order": ("quote",), "invoice": ("quote", "order", "contract"), "credit_note": ("invoice",)}


def can_make(kind: str, source: SalesDocument) -> bool:
    """True when a ``kind`` may be made from ``source`` now: a validated quote not refused, a validated order or
    contract, a validated invoice with something left to correct."""
    if source.kind not in MADE_FROM.get(kind, ()) or source.is_draft:
        return False
    if source.kind == "quote":
        return source.status != "refused"
    if kind == "credit_note":
        return source.balance > 0
    return True


def make_from(viewer: Viewer, source: SalesDocument, kind: str, *, idempotency_key: str | None = None,
              title: str | None = None) -> tuple[SalesDocument, bool]:
    """A draft ``kind`` with ``source``'s customer, contact and lines, linked to it."""
    if not can_make(kind, source):
        raise SalesError(_l("This document cannot be made from that one in its current state."))
    tp = db.session.get(ThirdParty, (source.tenant_id, source.thirdparty_id))
    values = {"title": source.title if title is None else title, "contact_id": source.contact_id,
              "note": source.note if kind != "credit_note" else ""}
    return create_document(viewer, tp, kind, values, source=source, idempotency_key=idempotency_key)
