"""What the global search finds of quotes, orders, invoices (with credit notes) and contracts: their number, title
and customer's name. One provider per book, each read with its book's right."""
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import SalesDocument, ThirdParty
from app.sales import BOOKS, Book, document_url
from app.sales.labels import BOOK_TITLES, KIND_LABELS
from app.sales.queries import visible
from app.search import CODE, DETAIL, NAME, WORDS, Entry, Hit, Provider, changed

_CUSTOMER = (ThirdParty.tenant_id == SalesDocument.tenant_id) & (ThirdParty.id == SalesDocument.thirdparty_id)


def _provider(book: Book, key: str, order: int) -> Provider:
    def entries(ids) -> dict:
        rows = db.session.execute(select(SalesDocument.id, SalesDocument.thirdparty_id, SalesDocument.number,
                                         SalesDocument.title, ThirdParty.name).join(ThirdParty, _CUSTOMER)
                                  .where(SalesDocument.id.in_(ids), SalesDocument.kind.in_(book.kinds)))
        return {row.id: Entry(row.thirdparty_id, ((row.number or "", NAME, CODE), (row.title, DETAIL, WORDS),
                                                  (row.name, DETAIL, WORDS)))
                for row in rows}

    def hits(viewer, ids) -> dict:
        rows = db.session.execute(visible(select(SalesDocument.id, SalesDocument.kind, SalesDocument.number,
                                                 SalesDocument.title, ThirdParty.name).join(ThirdParty, _CUSTOMER)
                                          .where(SalesDocument.id.in_(ids), SalesDocument.kind.in_(book.kinds)), viewer))
        return {row.id: Hit(row.id, f"{KIND_LABELS[row.kind]} {row.number or _('Draft')}",
                            document_url(kind=row.kind, document_id=row.id),
                            context=" · ".join(p for p in (row.name, row.title) if p))
                for row in rows}

    def renamed_customer(tp):
        """The book's documents of a customer whose name changed (the index holds it with each document)."""
        if not changed(tp, "name"):
            return None
        return select(SalesDocument.id).where(SalesDocument.thirdparty_id == tp.id, SalesDocument.kind.in_(book.kinds))

    return Provider(
        key=key, label=BOOK_TITLES[book.name], right=book.read, order=order, entries=entries, hits=hits,
        every=lambda: select(SalesDocument.id).where(SalesDocument.kind.in_(book.kinds)),
        watch={SalesDocument: lambda doc: [doc.id] if doc.kind in book.kinds else None, ThirdParty: renamed_customer},
    )


PROVIDERS = tuple(_provider(book, book.kind, 30 + n) for n, book in enumerate(BOOKS))
