"""Third parties (customers, prospects, suppliers), their addresses, phones, e-mails and sales reps."""
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow


class ThirdParty(TenantScoped, Base):
    """A company or person the business deals with; may be customer, prospect and supplier at once."""

    __tablename__ = "thirdparty"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        # The list sorted by name, searched and filtered on the index alone (migration 0005).
        Index("ix_thirdparty_list", "tenant_id", "name", "id", postgresql_include=["search_text", "archived_at"]),
    )
    __audited__ = ("code", "name", "is_customer", "is_prospect", "is_supplier", "vat_number", "website",
                   "description", "custom", "archived_at")

    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    is_customer: Mapped[bool] = mapped_column(default=True)
    is_prospect: Mapped[bool] = mapped_column(default=False)
    is_supplier: Mapped[bool] = mapped_column(default=False)
    vat_number: Mapped[str] = mapped_column(String(32), default="")
    website: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    custom: Mapped[dict] = mapped_column(default=dict)
    # Lower-cased name, code, e-mails, phones and cities: what the list search looks in.
    search_text: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    addresses: Mapped[list["Address"]] = relationship(
        primaryjoin="and_(Address.tenant_id == ThirdParty.tenant_id, foreign(Address.thirdparty_id) == ThirdParty.id)",
        order_by="Address.position", cascade="all, delete-orphan",
    )
    channels: Mapped[list["Channel"]] = relationship(
        primaryjoin="and_(Channel.tenant_id == ThirdParty.tenant_id, foreign(Channel.thirdparty_id) == ThirdParty.id)",
        order_by="Channel.position", cascade="all, delete-orphan",
    )
    reps: Mapped[list["SalesRep"]] = relationship(
        primaryjoin="and_(SalesRep.tenant_id == ThirdParty.tenant_id, foreign(SalesRep.thirdparty_id) == ThirdParty.id)",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def kinds(self) -> list[str]:
        return [k for k, on in (("customer", self.is_customer), ("prospect", self.is_prospect),
                                ("supplier", self.is_supplier)) if on]

    @property
    def emails(self) -> list["Channel"]:
        return [c for c in self.channels if c.kind == "email"]

    @property
    def phones(self) -> list["Channel"]:
        return [c for c in self.channels if c.kind == "phone"]


class Address(TenantScoped, Base):
    __tablename__ = "address"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"], ondelete="CASCADE"),
        Index("ix_address_thirdparty", "tenant_id", "thirdparty_id"),
    )

    __audited__ = ("label", "street", "postcode", "city", "country")

    thirdparty_id: Mapped[uuid.UUID]
    label: Mapped[str] = mapped_column(String(40), default="")
    street: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    position: Mapped[int] = mapped_column(default=0)

    def one_line(self) -> str:
        return ", ".join(p for p in (self.street.replace("\n", ", "), f"{self.postcode} {self.city}".strip(), self.country) if p)


class Channel(TenantScoped, Base):
    """A phone number or e-mail address of a third party or of a contact, with a label."""

    __tablename__ = "channel"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"], ondelete="CASCADE"),
        CheckConstraint("(thirdparty_id IS NULL) <> (contact_id IS NULL)", name="one_owner"),
        CheckConstraint("kind IN ('email', 'phone')", name="kind"),
        Index("ix_channel_thirdparty", "tenant_id", "thirdparty_id"),
        Index("ix_channel_contact", "tenant_id", "contact_id"),
    )

    __audited__ = ("thirdparty_id", "contact_id", "kind", "label", "value")

    thirdparty_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(40), default="")
    value: Mapped[str] = mapped_column(String(254))
    position: Mapped[int] = mapped_column(default=0)


class SalesRep(TenantScoped, Base):
    """A member assigned to a third party (the "only mine" right sees these)."""

    __tablename__ = "sales_rep"
    __table_args__ = (
        UniqueConstraint("tenant_id", "thirdparty_id", "membership_id"),
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "membership_id"], ["membership.tenant_id", "membership.id"], ondelete="CASCADE"),
        Index("ix_sales_rep_membership", "tenant_id", "membership_id"),
    )

    __audited__ = ("thirdparty_id", "membership_id")

    thirdparty_id: Mapped[uuid.UUID]
    membership_id: Mapped[uuid.UUID]
