"""Tenant-defined coloured tags, shared by third parties and contacts."""
import uuid

from sqlalchemy import func, select

from app.extensions import db
from app.models import TAG_COLOURS, Tag


def list_tags() -> list[Tag]:
    return db.session.scalars(select(Tag).order_by(func.lower(Tag.name))).all()


def get_tag(tag_id: uuid.UUID) -> Tag | None:
    return db.session.scalar(select(Tag).where(Tag.id == tag_id))


def tag_name_taken(name: str, *, except_id: uuid.UUID | None = None) -> bool:
    stmt = select(Tag.id).where(func.lower(Tag.name) == name.strip().lower())
    if except_id:
        stmt = stmt.where(Tag.id != except_id)
    return db.session.scalar(stmt) is not None


def save_tag(tag: Tag | None, name: str, colour: str) -> Tag:
    if tag is None:
        tag = Tag()
        db.session.add(tag)
    tag.name = name.strip()
    tag.colour = colour if colour in TAG_COLOURS else "grey"
    db.session.commit()
    return tag


def delete_tag(tag: Tag) -> None:
    """Delete a tag; it disappears from every record that had it."""
    db.session.delete(tag)
    db.session.commit()
