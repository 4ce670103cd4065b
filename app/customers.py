"""The customers (third parties) and contacts a viewer may see: the one place "all customers" versus "only mine" is
applied to a query. The core (timeline, search, the card shell) and every domain read customers through here."""
import uuid

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Contact, ThirdParty
from app.permissions import Viewer, only_mine


def visible(stmt, viewer: Viewer):
    """Restrict a query on ThirdParty to what ``viewer`` may see ("all customers" or "only mine")."""
    condition = only_mine(viewer, ThirdParty.tenant_id, ThirdParty.id)
    return stmt if condition is None else stmt.where(condition)


def get_thirdparty(viewer: Viewer, thirdparty_id: uuid.UUID) -> ThirdParty | None:
    """The third party if it exists in this tenant and ``viewer`` may see it."""
    stmt = select(ThirdParty).where(ThirdParty.id == thirdparty_id).options(
        selectinload(ThirdParty.addresses), selectinload(ThirdParty.channels), selectinload(ThirdParty.reps))
    return db.session.scalar(visible(stmt, viewer))


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
