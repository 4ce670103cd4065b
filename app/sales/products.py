"""The product and service catalogue that quote and invoice lines pick from."""
import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Product, utcnow
from app.timeline.services import escape_like

PAGE_SIZE = 50


@dataclass(frozen=True)
class ProductQuery:
    text: str = ""
    archived: bool = False
    page: int = 1


def list_products(query: ProductQuery) -> tuple[list[Product], bool]:
    """One page of the catalogue by reference, and whether there is a next one."""
    stmt = select(Product).where(Product.archived_at.isnot(None) if query.archived else Product.archived_at.is_(None))
    if query.text:
        pattern = f"%{escape_like(query.text.lower())}%"
        stmt = stmt.where(or_(func.lower(Product.ref).like(pattern, escape="\\"),
                              func.lower(Product.label).like(pattern, escape="\\")))
    rows = db.session.scalars(stmt.order_by(Product.ref).offset((query.page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def active_products() -> list[Product]:
    """What a line may pick from."""
    return db.session.scalars(select(Product).where(Product.archived_at.is_(None)).order_by(Product.ref)).all()


def get_product(product_id: uuid.UUID | None) -> Product | None:
    return db.session.scalar(select(Product).where(Product.id == product_id)) if product_id else None


def ref_taken(ref: str, but: uuid.UUID | None = None) -> bool:
    stmt = select(Product.id).where(func.lower(Product.ref) == ref.lower())
    if but:
        stmt = stmt.where(Product.id != but)
    return db.session.scalar(stmt.limit(1)) is not None


def save_product(product: Product | None, values: dict) -> Product:
    product = product or Product()
    for name, value in values.items():
        setattr(product, name, value)
    db.session.add(product)
    db.session.commit()
    return product


def set_archived(product: Product, archived: bool) -> None:
    product.archived_at = utcnow() if archived else None
    db.session.commit()
