"""The customers (third parties) and contacts a viewer may see: the one place "all customers" versus "only mine" is
applied to a query. The core (timeline, search, the card shell) and every domain read customers through here."""
import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Contact, ThirdParty
from app.permissions import Viewer, only_mine
from app.web_errors import NotFoundBecause


def visible(stmt, viewer: Viewer):
    """Restrict a query on ThirdParty to what ``viewer`` may see ("all customers" or "only mine")."""
    condition = only_mine(viewer, ThirdParty.tenant_id, ThirdParty.id)
    return stmt if condition is None else stmt.where(condition)


def get_thirdparty(viewer: Viewer, thirdparty_id: uuid.UUID) -> ThirdParty | None:
    """The third party if it exists in this tenant and ``viewer`` may see it, with its addresses, channels and reps in
    the same statement (joined: a customer has a handful of each, so the rows they multiply into stay few)."""
    stmt = select(ThirdParty).where(ThirdParty.id == thirdparty_id).options(
        joinedload(ThirdParty.addresses), joinedload(ThirdParty.channels), joinedload(ThirdParty.reps))
    return db.session.execute(visible(stmt, viewer)).unique().scalar_one_or_none()


def is_visible(viewer: Viewer, thirdparty_id: uuid.UUID) -> bool:
    """Whether the third party exists in this tenant and ``viewer`` may see it (one small query, nothing loaded)."""
    return db.session.scalar(visible(select(ThirdParty.id).where(ThirdParty.id == thirdparty_id), viewer)) is not None


def visible_contacts(stmt, viewer: Viewer):
    """Restrict a query on Contact to the contacts of customers ``viewer`` may see."""
    return visible(stmt.join(ThirdParty, (ThirdParty.tenant_id == Contact.tenant_id)
                             & (ThirdParty.id == Contact.thirdparty_id)), viewer)


def get_contact(viewer: Viewer, contact_id: uuid.UUID) -> Contact | None:
    """The contact if it exists here and ``viewer`` may see its third party."""
    return db.session.scalar(visible_contacts(select(Contact).where(Contact.id == contact_id), viewer))


def list_contacts_of(thirdparty_id: uuid.UUID, *, archived: bool = False) -> list[Contact]:
    stmt = select(Contact).where(Contact.thirdparty_id == thirdparty_id)
    stmt = stmt.where(Contact.archived_at.is_not(None) if archived else Contact.archived_at.is_(None))
    return db.session.scalars(stmt.order_by(Contact.last_name, Contact.first_name)).all()


OUTSIDE_ASSIGNMENT = _l("This customer is not among those assigned to you, so you cannot open it. An administrator can "
                        "make you one of its sales representatives.")


def customer_or_404(viewer: Viewer, thirdparty_id: uuid.UUID) -> ThirdParty:
    """:raise 404: unless ``viewer`` may see the customer — saying so (without its name) when it exists in their own
    organisation but is outside their assignment ("only mine")."""
    return _found_or_404(viewer, get_thirdparty(viewer, thirdparty_id), ThirdParty.id == thirdparty_id)


def contact_or_404(viewer: Viewer, contact_id: uuid.UUID) -> Contact:
    """:raise 404: unless ``viewer`` may see the contact's customer (saying why, as ``customer_or_404``)."""
    return _found_or_404(viewer, get_contact(viewer, contact_id), Contact.id == contact_id)


def _found_or_404(viewer: Viewer, found, exists_where):
    """``found``, or the 404 that says why: outside the viewer's assignment when a row ``exists_where`` in their
    organisation but "only mine" hides it; a plain one otherwise (nothing about a row they may not see)."""
    if found is not None:
        return found
    if not viewer.sees_all("thirdparty") and db.session.scalar(select(exists().where(exists_where))):
        raise NotFoundBecause(OUTSIDE_ASSIGNMENT)
    raise NotFoundBecause(None)
