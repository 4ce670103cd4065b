"""Contacts: visible through their third party; created, edited, moved and archived with history."""

from sqlalchemy import select

from app.audit.chain import changes_of
from app.customers import list_contacts_of, visible_contacts  # noqa: F401 (the contact pages use both)
from app.editing import commit_or_conflict, lock, merge_edit
from app.extensions import db
from app.models import Channel, Contact, ThirdParty, utcnow
from app.pagination import page_of, split_page
from app.permissions import Viewer
from app.timeline.services import escape_like, record_event

FIELDS = ("first_name", "last_name", "job_title", "preferred_language", "preferred_channel", "consent_email",
          "consent_phone", "description", "custom")


def search_contacts(viewer: Viewer, text: str, *, page: int = 1) -> tuple[list[Contact], bool]:
    """Contacts whose name, e-mail, phone or job matches ``text``, among those ``viewer`` may see."""
    stmt = visible_contacts(select(Contact), viewer).where(Contact.archived_at.is_(None))
    if text:
        stmt = stmt.where(Contact.search_text.like(f"%{escape_like(text.lower())}%", escape="\\"))
    stmt = stmt.order_by(Contact.last_name, Contact.first_name, Contact.id)
    return split_page(db.session.scalars(page_of(stmt, page)).all())


def snapshot(contact: Contact) -> dict:
    return {
        **{f: getattr(contact, f) for f in FIELDS if f != "custom"}, "custom": dict(contact.custom or {}),
        "phones": [[c.label, c.value] for c in contact.phones], "emails": [[c.label, c.value] for c in contact.emails],
    }


def _apply(contact: Contact, values: dict, current: dict | None = None) -> None:
    for name in FIELDS:
        setattr(contact, name, values[name])
    current = current or {}
    if (values["consent_email"], values["consent_phone"]) != (current.get("consent_email"), current.get("consent_phone")):
        contact.consent_updated_at = utcnow()
    if values["phones"] != current.get("phones") or values["emails"] != current.get("emails"):
        rows = [("phone", p) for p in values["phones"]] + [("email", e) for e in values["emails"]]
        contact.channels = [Channel(kind=k, label=label, value=value, position=i) for i, (k, (label, value)) in enumerate(rows)]
    parts = [values["first_name"], values["last_name"], values["job_title"]] + [v for _, v in values["phones"] + values["emails"]]
    contact.search_text = " ".join(p for p in parts if p).lower()
    contact.updated_at = utcnow()


def create_contact(viewer: Viewer, thirdparty: ThirdParty, values: dict) -> Contact:
    contact = Contact(thirdparty_id=thirdparty.id)
    db.session.add(contact)
    _apply(contact, values)
    db.session.flush()
    record_event(thirdparty_id=thirdparty.id, contact_id=contact.id, kind="contact_added", subject_type="contact",
                 subject_id=contact.id, actor_id=viewer.user_id, title=contact.full_name,
                 payload={"job_title": contact.job_title} if contact.job_title else {})
    db.session.commit()
    return contact


def update_contact(viewer: Viewer, contact: Contact, submitted: dict, *, version: int, base: dict | None) -> dict:
    """Save an edit merged with concurrent ones; record what changed.

    :raise EditConflict: when someone else changed the same fields meanwhile.
    """
    current = snapshot(lock(contact))
    values = merge_edit(current, submitted, stale=version != contact.version, base=base)
    _apply(contact, values, current)
    changes = changes_of(contact, FIELDS)
    for key in ("phones", "emails"):
        if values[key] != current[key]:
            changes[key] = [current[key], values[key]]
    if not changes:
        db.session.rollback()
        return {}
    record_event(thirdparty_id=contact.thirdparty_id, contact_id=contact.id, kind="contact_updated", subject_type="contact",
                 subject_id=contact.id, actor_id=viewer.user_id, title=contact.full_name, payload={"changes": changes})
    commit_or_conflict(db.session, contact, snapshot, submitted)
    return changes


def move_contact(viewer: Viewer, contact: Contact, target: ThirdParty) -> None:
    """Move a person to another third party; both timelines record it, earlier events stay where they were."""
    source = lock(contact).thirdparty
    if target.id == source.id:
        return
    contact.thirdparty_id, contact.updated_at = target.id, utcnow()
    payload = {"from": source.name, "to": target.name, "from_id": str(source.id), "to_id": str(target.id)}
    for thirdparty_id, kind in ((source.id, "contact_moved_out"), (target.id, "contact_moved_in")):
        record_event(thirdparty_id=thirdparty_id, contact_id=contact.id, kind=kind, subject_type="contact",
                     subject_id=contact.id, actor_id=viewer.user_id, title=contact.full_name, payload=payload)
    db.session.commit()


def set_archived(viewer: Viewer, contact: Contact, archived: bool) -> None:
    if (lock(contact).archived_at is not None) == archived:
        return
    contact.archived_at = utcnow() if archived else None
    record_event(thirdparty_id=contact.thirdparty_id, contact_id=contact.id,
                 kind="contact_archived" if archived else "contact_restored", subject_type="contact",
                 subject_id=contact.id, actor_id=viewer.user_id, title=contact.full_name)
    db.session.commit()
