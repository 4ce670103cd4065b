"""Per-tenant numbering (customer codes now, gapless invoice numbers later)."""
from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped


class Counter(TenantScoped, Base):
    """The next value of a named sequence and the pattern that formats it (``CU{yy}{mm}-{n:04}``)."""

    __tablename__ = "counter"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(40))
    pattern: Mapped[str] = mapped_column(String(60))
    next_value: Mapped[int] = mapped_column(default=1)
