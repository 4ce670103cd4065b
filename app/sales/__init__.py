"""Sales: the product catalogue, quotes, invoices, credit notes and payments of a customer."""
from dataclasses import dataclass

from flask import Blueprint, url_for

bp = Blueprint("sales", __name__, url_prefix="/sales")


@dataclass(frozen=True)
class Book:
    """A family of documents sharing pages and rights: quotes, or invoices with their credit notes."""

    name: str  # the URL segment and the endpoints' prefix
    kinds: tuple[str, ...]
    read: str
    create: str
    validate: str

    @property
    def kind(self) -> str:
        """The kind a new document of this book is."""
        return self.kinds[0]


QUOTES = Book("quotes", ("quote",), "quote.read", "quote.create", "quote.validate")
ORDERS = Book("orders", ("order",), "order.read", "order.create", "order.create")
INVOICES = Book("invoices", ("invoice", "credit_note"), "invoice.read", "invoice.create", "invoice.validate")
CONTRACTS = Book("contracts", ("contract",), "contract.read", "contract.create", "contract.create")
BOOKS = (QUOTES, ORDERS, INVOICES, CONTRACTS)
BOOK_OF = {kind: book for book in BOOKS for kind in book.kinds}


def document_url(doc=None, *, kind: str = "", document_id=None) -> str:
    """The page of a quote, order, invoice, credit note or contract (a document, or its kind and id)."""
    kind, document_id = (doc.kind, doc.id) if doc is not None else (kind, document_id)
    return url_for(f"tenant.sales.{BOOK_OF[kind].name}_show", document_id=document_id)
