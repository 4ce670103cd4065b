"""What the global search finds of notes: their text, leading to the customer's card. A private note is found only
by its author and by those who may read private notes, as on the card."""
import uuid

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.customers import visible
from app.extensions import db
from app.models import Note, ThirdParty
from app.search import TEXT, WORDS, Entry, Hit, Provider

NOBODY = uuid.UUID(int=0)  # a private note whose author's account is gone: found only with the right to read them


def _entries(ids) -> dict:
    rows = db.session.execute(select(Note.id, Note.thirdparty_id, Note.body, Note.private, Note.author_id)
                              .where(Note.id.in_(ids)))
    return {row.id: Entry(row.thirdparty_id, ((row.body, TEXT, WORDS),),
                          private_to_id=(row.author_id or NOBODY) if row.private else None)
            for row in rows}


def _hits(viewer, ids) -> dict:
    stmt = select(Note.id, Note.body, Note.private, Note.thirdparty_id, ThirdParty.name).join(
        ThirdParty, (ThirdParty.tenant_id == Note.tenant_id) & (ThirdParty.id == Note.thirdparty_id)).where(Note.id.in_(ids))
    if not viewer.can("note.read_private"):
        stmt = stmt.where(or_(Note.private.is_(False), Note.author_id == viewer.user_id))
    return {row.id: Hit(row.id, row.name, url_for("tenant.thirdparties.show", thirdparty_id=row.thirdparty_id),
                        context=str(_l("Private")) if row.private else "", snippet=row.body)
            for row in db.session.execute(visible(stmt, viewer))}


PROVIDER = Provider(
    key="note", label=_l("Notes"), right="thirdparty.read", order=80, private_right="note.read_private",
    entries=_entries, hits=_hits, every=lambda: select(Note.id), watch={Note: lambda note: [note.id]},
)
