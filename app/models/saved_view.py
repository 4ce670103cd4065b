"""A person's saved list views: a name for a set of filters ("not contacted for 90 days, VIP")."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow


class SavedView(TenantScoped, Base):
    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "page", "name"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    page: Mapped[str] = mapped_column(String(40))  # which list: "customers"
    name: Mapped[str] = mapped_column(String(60))
    query: Mapped[str] = mapped_column(String(1000))  # the list's URL query, cleaned to its known filters
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
