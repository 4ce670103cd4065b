"""What the global search finds of contacts: their name, e-mails and phones, leading to their customer."""
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.customers import visible_contacts
from app.extensions import db
from app.models import Channel, Contact, ThirdParty
from app.search import CODE, DETAIL, NAME, PHONE, WORDS, Entry, Hit, Provider


def _entries(ids) -> dict:
    found = {row.id: (row.thirdparty_id, [(f"{row.first_name} {row.last_name}", NAME, WORDS)])
             for row in db.session.execute(select(Contact.id, Contact.thirdparty_id, Contact.first_name, Contact.last_name)
                                           .where(Contact.id.in_(ids)))}
    for row in db.session.execute(select(Channel.contact_id, Channel.kind, Channel.value).where(Channel.contact_id.in_(ids))):
        if row.contact_id in found:
            found[row.contact_id][1].append((row.value, DETAIL, PHONE if row.kind == "phone" else CODE))
    return {contact_id: Entry(thirdparty_id, tuple(texts)) for contact_id, (thirdparty_id, texts) in found.items()}


def _hits(viewer, ids) -> dict:
    rows = db.session.execute(visible_contacts(
        select(Contact.id, Contact.first_name, Contact.last_name, Contact.job_title, Contact.thirdparty_id,
               Contact.archived_at, ThirdParty.name.label("customer")), viewer).where(Contact.id.in_(ids))).all()
    return {row.id: Hit(row.id, f"{row.first_name} {row.last_name}".strip(),
                        url_for("tenant.thirdparties.show", thirdparty_id=row.thirdparty_id),
                        context=" · ".join(p for p in (row.customer, row.job_title) if p),
                        archived=row.archived_at is not None,
                        detail_url=url_for("tenant.contacts.show", contact_id=row.id), detail_label=_l("Contact page"))
            for row in rows}


PROVIDER = Provider(
    key="contact", label=_l("Contacts"), right="thirdparty.read", order=20,
    entries=_entries, hits=_hits, every=lambda: select(Contact.id),
    watch={Contact: lambda contact: [contact.id],
           Channel: lambda channel: [channel.contact_id] if channel.contact_id else None},
)
