"""The product and service catalogue that quote and invoice lines pick from."""
import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.editing import commit_or_conflict, lock, merge_edit
from app.extensions import db
from app.models import Product, utcnow
from app.pagination import page_of, split_page
from app.timeline.services import escape_like


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
    return split_page(db.session.scalars(page_of(stmt.order_by(Product.ref), query.page)).all())


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


EDITABLE = ("ref", "label", "description", "is_service", "unit_price", "vat_rate", "unit")


def snapshot(product: Product) -> dict:
    """The values the edit form shows (its ``base``, and what a conflict is checked against)."""
    return {name: getattr(product, name) for name in EDITABLE}


def save_product(product: Product | None, values: dict) -> Product:
    """Add a product to the catalogue."""
    product = product or Product()
    for name, value in values.items():
        setattr(product, name, value)
    db.session.add(product)
    db.session.commit()
    return product


def update_product(product: Product, submitted: dict, *, version: int, base: dict | None) -> None:
    """Save an edit, merged with a concurrent edit of other fields.

    :raise EditConflict: when someone else changed the same fields meanwhile.
    """
    values = merge_edit(snapshot(lock(product)), submitted, stale=version != product.version, base=base)
    for name, value in values.items():
        setattr(product, name, value)
    commit_or_conflict(db.session, product, snapshot, submitted)


def set_archived(product: Product, archived: bool) -> None:
    if (lock(product).archived_at is not None) != archived:
        product.archived_at = utcnow() if archived else None
    db.session.commit()
