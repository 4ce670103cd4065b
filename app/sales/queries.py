"""Reading sales documents with rights applied: one document, its chain, a book's list, a customer's summary."""
import uuid
from dataclasses import dataclass
from datetime import date
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, case, func, or_, select, type_coerce

from app.extensions import db
from app.models import SalesDocument, Tenant, ThirdParty, utcnow
from app.models.sales import from_units
from app.pagination import page_of, split_page
from app.permissions import Viewer, only_mine
from app.sales import BOOK_OF, Book, states
from app.tenancy import current_tenant_id
from app.timeline.services import escape_like


def today() -> date:
    """Today in the organisation's time zone: the date its documents carry, whoever validates them from wherever."""
    return utcnow().astimezone(ZoneInfo(db.session.get(Tenant, current_tenant_id()).timezone)).date()


def visible(stmt, viewer: Viewer):
    """Restrict a query on SalesDocument to the customers ``viewer`` may see ("only mine")."""
    condition = only_mine(viewer, SalesDocument.tenant_id, SalesDocument.thirdparty_id)
    return stmt if condition is None else stmt.where(condition)


def get_document(viewer: Viewer, document_id: uuid.UUID, kinds: tuple[str, ...]) -> SalesDocument | None:
    """The document if it is one of ``kinds``, exists in this tenant and ``viewer`` may see its customer."""
    stmt = select(SalesDocument).where(SalesDocument.id == document_id, SalesDocument.kind.in_(kinds))
    return db.session.scalar(visible(stmt, viewer))


def readable(viewer: Viewer, doc: SalesDocument | None) -> bool:
    return doc is not None and viewer.can(BOOK_OF[doc.kind].read)


def derived(doc: SalesDocument) -> list[SalesDocument]:
    """The documents made from ``doc`` (a quote's order and invoices, an invoice's credit notes), oldest first."""
    return db.session.scalars(select(SalesDocument).where(SalesDocument.source_id == doc.id)
                              .order_by(SalesDocument.created_at)).all()


def source_of(doc: SalesDocument) -> SalesDocument | None:
    return db.session.get(SalesDocument, (doc.tenant_id, doc.source_id)) if doc.source_id else None


def thread_of(doc: SalesDocument) -> dict:
    """Where a step of ``doc`` goes on the customer's timeline: the thread of its chain, named after the chain's first
    document (``payload["thread"]`` of the step's event; the timeline groups a page's steps by its ``key``)."""
    first, hops = doc, 0
    while first.source_id and hops < 100 and (up := source_of(first)) is not None:
        first, hops = up, hops + 1
    return {"key": str(first.id), "kind": first.kind, "id": str(first.id), "label": first.number or first.title or "",
            "right": BOOK_OF[first.kind].read}


def chain(viewer: Viewer, doc: SalesDocument) -> list[SalesDocument]:
    """The whole chain ``doc`` is part of, from its first document (quote → order → invoice → credit note, or a
    contract and its invoices), in order: what the viewer may read of it."""
    first = doc
    while first.source_id and (up := source_of(first)) is not None:
        first = up
    found, todo = [], [first]
    while todo and len(found) < 100:
        current = todo.pop(0)
        found.append(current)
        todo.extend(derived(current))
    return [d for d in found if readable(viewer, d)]


@dataclass(frozen=True)
class ListQuery:
    text: str = ""
    state: str = ""
    thirdparty_id: uuid.UUID | None = None
    page: int = 1


def _units(column):
    return type_coerce(column, BigInteger)


def _conditions(book: Book, query: ListQuery) -> list:
    where = [SalesDocument.kind.in_(book.kinds)]
    if query.state in states.FILTERS[book.name]:
        where.append(states.condition(query.state, today()))
    if query.thirdparty_id:
        where.append(SalesDocument.thirdparty_id == query.thirdparty_id)
    if query.text:
        pattern = f"%{escape_like(query.text.lower())}%"
        where.append(or_(*(func.lower(column).like(pattern, escape="\\")
                           for column in (SalesDocument.number, ThirdParty.name, SalesDocument.title))))
    return where


_CUSTOMER = (ThirdParty.tenant_id == SalesDocument.tenant_id) & (ThirdParty.id == SalesDocument.thirdparty_id)


def list_documents(viewer: Viewer, book: Book, query: ListQuery):
    """One page of a book, newest first, with each document's customer name; and whether there is a next page."""
    stmt = visible(select(SalesDocument, ThirdParty.name).join(ThirdParty, _CUSTOMER).where(*_conditions(book, query)), viewer)
    return split_page(db.session.execute(page_of(stmt.order_by(SalesDocument.created_at.desc(), SalesDocument.id.desc()),
                                                 query.page)).all())


def list_totals(viewer: Viewer, book: Book, query: ListQuery) -> dict:
    """The count and totals of everything a book's filters select, one line per currency (amounts of different
    currencies are never added up); a credit note takes its amount off. It reads every selected row, so the list
    loads it after its first page (``…/totals``)."""
    due = (SalesDocument.kind == "invoice") & (SalesDocument.status == "validated")
    sign = case((SalesDocument.kind == "credit_note", -1), else_=1)
    sums = (select(SalesDocument.currency, func.count(), func.sum(sign * _units(SalesDocument.total_net)),
                   func.sum(sign * _units(SalesDocument.total_gross)),
                   func.sum(_units(SalesDocument.total_gross) - _units(SalesDocument.settled)).filter(due))
            .where(*_conditions(book, query)).group_by(SalesDocument.currency).order_by(SalesDocument.currency))
    if query.text:  # the customer's name is searched too
        sums = sums.join(ThirdParty, _CUSTOMER)
    totals = [{"currency": currency, "count": count, "net": from_units(net), "gross": from_units(gross), "due": from_units(left)}
              for currency, count, net, gross, left in db.session.execute(visible(sums, viewer)).all()]
    return {"count": sum(t["count"] for t in totals), "by_currency": totals}


def card_kinds(viewer: Viewer) -> list[str]:
    """The kinds of sales documents the viewer may read (none: the card shows no sales box)."""
    return [kind for kind, book in BOOK_OF.items() if viewer.can(book.read)]


def card_box(viewer: Viewer, thirdparty_id: uuid.UUID, summary_rows=None) -> dict:
    """What the customer card shows of sales: the facts and the latest documents the viewer may read.
    ``summary_rows``: ``summary_query``'s rows when already read (with the card's other facts)."""
    kinds = card_kinds(viewer)
    if not kinds:
        return {"sales_summary": None}
    recent = db.session.scalars(select(SalesDocument).where(SalesDocument.thirdparty_id == thirdparty_id,
                                                            SalesDocument.kind.in_(kinds))
                                .order_by(SalesDocument.created_at.desc()).limit(6)).all()
    summary = customer_summary(viewer, thirdparty_id) if summary_rows is None else summary_of(viewer, summary_rows)
    return {"sales_summary": summary, "sales_recent": recent, "sales_state": partial(states.state, on=today())}


def summary_query(thirdparty_id: uuid.UUID):
    """A customer's figures by currency: quotes awaiting an answer, orders to ship, unpaid invoices, the amount due
    and overdue invoices (a select; ``summary_of`` reads its rows)."""
    on = today()
    awaiting = (SalesDocument.kind == "quote") & or_(states.condition("validated", on), states.condition("sent", on))
    to_ship = (SalesDocument.kind == "order") & SalesDocument.status.in_(("validated", "partial"))
    unpaid = states.condition("due", on)
    return select(
        SalesDocument.currency, func.count().filter(awaiting), func.count().filter(to_ship), func.count().filter(unpaid),
        func.sum(_units(SalesDocument.total_gross) - _units(SalesDocument.settled)).filter(unpaid),
        func.count().filter(states.condition("overdue", on)),
    ).where(SalesDocument.thirdparty_id == thirdparty_id).group_by(SalesDocument.currency)


def summary_of(viewer: Viewer, rows) -> dict:
    """``summary_query``'s rows as the card reads them; None for what the viewer may not read."""
    rows = [tuple(row) for row in rows or []]
    invoices = viewer.can("invoice.read")
    balance = {currency: from_units(due) for currency, _a, _s, unpaid_count, due, _o in rows if unpaid_count}
    return {"quotes_awaiting": sum(r[1] for r in rows) if viewer.can("quote.read") else None,
            "orders_to_ship": sum(r[2] for r in rows) if viewer.can("order.read") else None,
            "unpaid": sum(r[3] for r in rows) if invoices else None,
            "balance": balance if invoices else None,  # currency → amount due (none when nothing is due)
            "overdue": sum(r[5] for r in rows) if invoices else None}


def customer_summary(viewer: Viewer, thirdparty_id: uuid.UUID) -> dict:
    """A customer's quotes awaiting an answer, orders to ship, unpaid and overdue invoices and the balance due
    (one query); None for what the viewer may not read."""
    return summary_of(viewer, db.session.execute(summary_query(thirdparty_id)).all())


def quotes_for(viewer: Viewer, opportunity_id: uuid.UUID) -> list[SalesDocument]:
    """The quotes made for an opportunity (none without the right to read quotes), oldest first."""
    if not viewer.can("quote.read"):
        return []
    return db.session.scalars(visible(select(SalesDocument).where(SalesDocument.opportunity_id == opportunity_id,
                                                                  SalesDocument.kind == "quote"), viewer)
                              .order_by(SalesDocument.created_at)).all()

