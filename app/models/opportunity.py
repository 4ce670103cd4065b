"""The opportunities pipeline: an organisation's stages, and the deals of its customers moving through them."""
import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.sales import Fixed
from app.models.user import User

OPPORTUNITY_STATUSES = ("open", "won", "lost")


class PipelineStage(TenantScoped, Base):
    """A column of the board: its name, its place (``position``, smallest first) and the probability (per cent)
    an opportunity takes when it enters it."""

    __tablename__ = "pipeline_stage"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    __audited__ = ("name", "position", "probability")

    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)
    probability: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Opportunity(TenantScoped, Base):
    """A deal with a customer: what it is worth (``amount`` in ``currency``, the organisation's), how likely it
    is (``probability`` per cent, from its stage unless someone set it), when it should close, whose it is.

    Open while it moves through the stages; won or lost (``closed_at``, ``close_reason``) until reopened.
    ``version`` refuses a stale save (SQLAlchemy's version counter).
    """

    __tablename__ = "opportunity"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "thirdparty_id"], ["thirdparty.tenant_id", "thirdparty.id"]),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"]),
        ForeignKeyConstraint(["tenant_id", "stage_id"], ["pipeline_stage.tenant_id", "pipeline_stage.id"]),
        UniqueConstraint("tenant_id", "idempotency_key"),  # a double tap makes one opportunity
        Index("ix_opportunity_board", "tenant_id", "status", "stage_id"),
        Index("ix_opportunity_thirdparty", "tenant_id", "thirdparty_id", "status"),
    )
    __audited__ = ("thirdparty_id", "contact_id", "title", "amount", "probability", "expected_close_on", "owner_id",
                   "stage_id", "status", "closed_at", "close_reason")

    thirdparty_id: Mapped[uuid.UUID]
    contact_id: Mapped[uuid.UUID | None]
    stage_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3))
    probability: Mapped[int] = mapped_column(default=0)
    expected_close_on: Mapped[date | None]
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(8), default="open")
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(200))  # None while open; may be None when won
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def weighted(self) -> Decimal:
        """The amount times the probability, to the cent."""
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
