"""The global search's index: one row per word (or number) of each searchable record (docs/architecture.md, "Global
search"). Written only by ``app.search`` in the transaction that changes the record; read with leakproof range
conditions so that PostgreSQL serves it from a btree under row-level security."""
import uuid

from sqlalchemy import Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped

TERM_LENGTH = 40
# Byte order ("C"): every term beginning with a prefix sorts between the prefix and the prefix with its last letter
# moved one up, whatever the database's default collation (a linguistic one skips punctuation and breaks that).
TermType = String(TERM_LENGTH).with_variant(String(TERM_LENGTH, collation="C"), "postgresql")


class SearchTerm(TenantScoped, Base):
    """A normalised word (lower case, no accents) of a record of ``kind`` (a search provider's key).

    ``thirdparty_id`` is the customer the record belongs to ("only mine" is checked on it) and ``private_to_id`` the one
    person who may find it (a private note's author), so that rights are applied on the index itself, before any limit.
    ``weight`` ranks the field the word came from: 0 a name or number, 1 another detail, 2 free text.
    """

    __tablename__ = "search_term"
    __table_args__ = (
        # Lookups: a kind's words from a prefix, in order (LIMIT stops the scan), rights read from the index.
        Index("ix_search_term_lookup", "tenant_id", "kind", "term", "record_id",
              postgresql_include=["weight", "thirdparty_id", "private_to_id"]),
        # A record's words: the other words of a query, and keeping the index up to date.
        Index("ix_search_term_record", "tenant_id", "record_id", "term"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    term: Mapped[str] = mapped_column(TermType)
    weight: Mapped[int] = mapped_column(SmallInteger, default=0)
    thirdparty_id: Mapped[uuid.UUID | None]
    private_to_id: Mapped[uuid.UUID | None]
