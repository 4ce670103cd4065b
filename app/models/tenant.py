"""The tenant (an organisation): a global table, looked up by slug before any tenant scope exists."""
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, new_id, utcnow


class Tenant(Base):
    __tablename__ = "tenant"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(String(5), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Folders every customer's documents start with; None: the defaults, named in the tenant's language.
    document_folders: Mapped[list | None]
    # Outcomes offered when a call is logged; None: the usual ones, in the person's language.
    call_outcomes: Mapped[list | None]
    # Timeline kinds (document uploaded, later quote sent, invoice validated…) also shown in the agenda.
    agenda_kinds: Mapped[list | None]
    # Agenda reminders: how many minutes before an item starts or is due, unless a person or the item says otherwise.
    reminder_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    # Sales: the currency of its quotes and invoices (ISO 4217) and how many days after its date an invoice is due.
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    payment_days: Mapped[int] = mapped_column(default=30, server_default="30")
    # Late-payment reminders: days after an invoice's due date; None: 7, 15 and 30 days. An empty list: none.
    dunning_days: Mapped[list | None]
    # What its quotes and invoices print under its name: address, registration and VAT numbers, bank details.
    legal_details: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Its logo on quotes and invoices: a small PNG made from what an admin uploaded (read only when printing).
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # Bumped by every transaction that writes the tenant's data (app.freshness): cached pages are keyed by it.
    data_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Members must use two-factor sign-in: one without it is sent to set it up before any page of the organisation.
    require_two_factor: Mapped[bool] = mapped_column(default=False, server_default=false())

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"
