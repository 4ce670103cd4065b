"""Saved list views: a person names the filters of a list (kept as its URL query) and finds them again.

One place for every list that offers it (the customer list first); each list says which of its URL
parameters a view keeps, so a saved view never carries a page number or anything else.
"""
import uuid
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import delete, select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import SavedView

MAX_VIEWS = 20  # per person and list


def clean_query(args: MultiDict | str, keeps: Callable[[str], bool]) -> str:
    """The URL query of ``args`` (a MultiDict, or a query string as a form sent it) with only the parameters
    ``keeps`` accepts, non-empty, in order."""
    if isinstance(args, str):
        args = MultiDict(parse_qsl(args[:2000]))
    pairs = sorted((key, value[:200]) for key, values in args.lists() if keeps(key) for value in values if value)
    return urlencode(pairs)[:1000]


def submitted_query(form: MultiDict, fallback: str, keeps: Callable[[str], bool], marker: str) -> str:
    """The filters a "save this view" form sent: the list's filter fields when htmx included them (``marker``
    is a field that form always has), else the page's own query (without script the page is always current)."""
    return clean_query(form if marker in form else fallback, keeps)


def list_views(user_id: uuid.UUID, page: str) -> list[SavedView]:
    stmt = select(SavedView).where(SavedView.user_id == user_id, SavedView.page == page)
    return db.session.scalars(stmt.order_by(SavedView.name)).all()


def save_view(user_id: uuid.UUID, page: str, name: str, query: str) -> SavedView:
    """Save (or update, by name) a view; the oldest goes when a person has MAX_VIEWS already."""
    views = list_views(user_id, page)
    view = next((v for v in views if v.name.lower() == name.lower()), None)
    if view is None:
        if len(views) >= MAX_VIEWS:
            db.session.delete(min(views, key=lambda v: v.created_at))
            db.session.flush()
        view = SavedView(user_id=user_id, page=page, name=name)
        db.session.add(view)
    view.name, view.query = name, query
    db.session.commit()
    return view


def delete_view(user_id: uuid.UUID, page: str, name: str) -> bool:
    """Delete the person's view of that name; False when they have none."""
    done = db.session.execute(delete(SavedView).where(SavedView.user_id == user_id, SavedView.page == page,
                                                      SavedView.name == name)).rowcount
    db.session.commit()
    return bool(done)
