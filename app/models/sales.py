"""Sales: the product catalogue, quotes, invoices and credit notes (one table, ``kind`` tells them apart), their
lines, and payments shared out over invoices. Amounts are exact decimals (``Fixed``), see docs/sales.md."""
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Index, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.user import User

# What a sales document is; each kind is numbered by its own counter when validated.
SALES_KINDS = ("quote", "order", "invoice", "credit_note", "contract")
CONTRACT_PERIODS = ("monthly", "quarterly", "yearly")
PAYMENT_METHODS = ("transfer", "card", "cheque", "cash", "direct_debit", "other")


class Fixed(TypeDecorator):
    """An exact decimal with ``scale`` digits after the point, stored as a scaled integer.

    Integers are exact on every backend (SQLite has no decimal type and would go through floats), and sums in
    SQL stay exact: ``SUM(amount)`` is read back with ``from_units``.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 2):
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int(Decimal(value).scaleb(self.scale).to_integral_exact())

    def process_result_value(self, value, dialect):
        return None if value is None else from_units(value, self.scale)


def from_units(value, scale: int = 2) -> Decimal:
    """A scaled integer read from SQL (a sum, say) as the decimal it stands for."""
    return Decimal(int(value or 0)).scaleb(-scale).quantize(Decimal(1).scaleb(-scale))


class Product(TenantScoped, Base):
    """A product or service of the catalogue; lines copy its values, so changing it never changes a document."""

    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("tenant_id", "ref"),)
    __audited__ = ("ref", "label", "description", "is_service", "unit_price", "vat_rate", "unit", "archived_at")

    ref: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_service: Mapped[bool] = mapped_column(default=False)
    unit_price: Mapped[Decimal] = mapped_column(Fixed(4))
    vat_rate: Mapped[Decimal] = mapped_column(Fixed(2))
    unit: Mapped[str] = mapped_column(String(20), default="")
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class SalesDocument(TenantScoped, Base):
    """A quote, an invoice or a credit note of a customer: a draft until validated, then numbered and frozen.

    ``source_id`` links the chain: the quote an invoice was made from, the invoice a credit note corrects.
    Totals are computed from the lines on the server (``app/sales/money.py``) and stored with them.
    """

    __tablename__ = "sales_document"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"]),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"]),
        ForeignKeyConstraint(["tenant_id", "source_id"], ["sales_document.tenant_id", "sales_document.id"]),
        ForeignKeyConstraint(["tenant_id", "opportunity_id"], ["opportunity.tenant_id", "opportunity.id"]),
        UniqueConstraint("tenant_id", "kind", "number"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_sales_document_thirdparty", "tenant_id", "thirdparty_id", "kind", "created_at"),
        Index("ix_sales_document_list", "tenant_id", "kind", "created_at", "id"),
        # Invoices with their credit notes are two kinds: newest first over both, without sorting the whole book.
        Index("ix_sales_document_recent", "tenant_id", "created_at", "id"),
        Index("ix_sales_document_source", "tenant_id", "source_id"),
        Index("ix_sales_document_opportunity", "tenant_id", "opportunity_id"),
    )
    __audited__ = ("kind", "number", "status", "thirdparty_id", "contact_id", "issued_on", "valid_until", "due_on",
                   "title", "note", "total_net", "total_vat", "total_gross", "sent_at", "signed_at", "refused_at",
                   "refusal_reason", "period", "starts_on", "ends_on", "next_on")

    kind: Mapped[str] = mapped_column(String(12))
    number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    thirdparty_id: Mapped[uuid.UUID]
    contact_id: Mapped[uuid.UUID | None]
    source_id: Mapped[uuid.UUID | None]
    opportunity_id: Mapped[uuid.UUID | None]  # the opportunity a quote answers (the board links to its quotes)
    title: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3))
    issued_on: Mapped[date | None]  # a quote's or an invoice's date: the day it was validated
    valid_until: Mapped[date | None]  # quotes
    payment_days: Mapped[int | None]  # invoices: due this many days after their date
    due_on: Mapped[date | None]
    # Contracts: the service runs from ``starts_on`` (to ``ends_on`` if it ends), invoiced every ``period``;
    # ``next_on`` is the start of the next period to invoice (renewing makes that invoice and moves it on).
    period: Mapped[str | None] = mapped_column(String(10))
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    next_on: Mapped[date | None]
    total_net: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal(0))
    total_vat: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal(0))
    total_gross: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal(0))
    # Invoices: what payments and credit notes have settled so far (kept with each payment).
    settled: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal(0))
    validated_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    refused_at: Mapped[datetime | None]
    refusal_reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    # Loaded when a page shows them (a document's page, its PDF), not with every list, lock or job that reads documents.
    created_by: Mapped[User | None] = relationship()
    lines: Mapped[list["SalesLine"]] = relationship(
        primaryjoin="and_(SalesLine.tenant_id == SalesDocument.tenant_id, foreign(SalesLine.document_id) == SalesDocument.id)",
        order_by="SalesLine.position", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def balance(self) -> Decimal:
        """What is still to be paid on an invoice (0 for anything else)."""
        return self.total_gross - self.settled if self.kind == "invoice" and not self.is_draft else Decimal(0)


class SalesLine(TenantScoped, Base):
    """One line: a product or free text, a quantity at a unit price, less a discount, plus VAT; its amounts
    are rounded once, here, and the document's totals are their sums."""

    __tablename__ = "sales_line"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "document_id"], ["sales_document.tenant_id", "sales_document.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["product.tenant_id", "product.id"]),
        Index("ix_sales_line_document", "tenant_id", "document_id", "position"),
    )
    __audited__ = ("document_id", "product_id", "description", "quantity", "unit_price", "discount", "vat_rate",
                   "net", "vat")

    document_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(default=0)
    product_id: Mapped[uuid.UUID | None]
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Fixed(3))
    unit: Mapped[str] = mapped_column(String(20), default="")
    unit_price: Mapped[Decimal] = mapped_column(Fixed(4))
    discount: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal(0))  # per cent
    vat_rate: Mapped[Decimal] = mapped_column(Fixed(2))  # per cent
    net: Mapped[Decimal] = mapped_column(Fixed(2))
    vat: Mapped[Decimal] = mapped_column(Fixed(2))


class Payment(TenantScoped, Base):
    """Money received from a customer, shared out over one or more of its invoices (``PaymentShare``)."""

    __tablename__ = "payment"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"]),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_payment_thirdparty", "tenant_id", "thirdparty_id", "received_on"),
    )
    __audited__ = ("thirdparty_id", "amount", "received_on", "method", "reference")

    thirdparty_id: Mapped[uuid.UUID]
    amount: Mapped[Decimal] = mapped_column(Fixed(2))
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(80), default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship(lazy="joined")
    shares: Mapped[list["PaymentShare"]] = relationship(
        primaryjoin="and_(PaymentShare.tenant_id == Payment.tenant_id, foreign(PaymentShare.payment_id) == Payment.id)",
        cascade="all, delete-orphan", lazy="selectin")


class PaymentShare(TenantScoped, Base):
    """The part of a payment that settles one invoice."""

    __tablename__ = "payment_share"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "payment_id"], ["payment.tenant_id", "payment.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["sales_document.tenant_id", "sales_document.id"]),
        Index("ix_payment_share_invoice", "tenant_id", "invoice_id"),
    )
    __audited__ = ("payment_id", "invoice_id", "amount")

    payment_id: Mapped[uuid.UUID]
    invoice_id: Mapped[uuid.UUID]
    amount: Mapped[Decimal] = mapped_column(Fixed(2))


class Shipment(TenantScoped, Base):
    """What left for the customer on one day, against an order: a quantity of some of its lines."""

    __tablename__ = "shipment"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "order_id"], ["sales_document.tenant_id", "sales_document.id"]),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_shipment_order", "tenant_id", "order_id", "shipped_on"),
    )
    __audited__ = ("order_id", "shipped_on", "reference")

    order_id: Mapped[uuid.UUID]
    shipped_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(80), default="")  # carrier, tracking number, delivery note
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship(lazy="joined")
    lines: Mapped[list["ShipmentLine"]] = relationship(
        primaryjoin="and_(ShipmentLine.tenant_id == Shipment.tenant_id, foreign(ShipmentLine.shipment_id) == Shipment.id)",
        cascade="all, delete-orphan", lazy="selectin")


class ShipmentLine(TenantScoped, Base):
    __tablename__ = "shipment_line"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "shipment_id"], ["shipment.tenant_id", "shipment.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "line_id"], ["sales_line.tenant_id", "sales_line.id"]),
        Index("ix_shipment_line_line", "tenant_id", "line_id"),
    )
    __audited__ = ("shipment_id", "line_id", "quantity")

    shipment_id: Mapped[uuid.UUID]
    line_id: Mapped[uuid.UUID]  # the order's line
    quantity: Mapped[Decimal] = mapped_column(Fixed(3))


class PaymentReminder(TenantScoped, Base):
    """A late-payment reminder sent for an invoice at one of the organisation's levels (days after the due date).

    One row per invoice and level, made by ``INSERT … ON CONFLICT DO NOTHING`` before the e-mail goes: a second
    run, or a second worker, sends nothing.
    """

    __tablename__ = "payment_reminder"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["sales_document.tenant_id", "sales_document.id"]),
        UniqueConstraint("tenant_id", "invoice_id", "level"),
    )

    invoice_id: Mapped[uuid.UUID]
    level: Mapped[int]  # days after the due date
    sent_to: Mapped[str] = mapped_column(String(254), default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
