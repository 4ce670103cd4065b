"""What the global search finds of customers (and suppliers): name, code, VAT number, e-mails, phones, cities."""
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.customers import visible
from app.extensions import db
from app.models import Address, Channel, ThirdParty
from app.search import CODE, DETAIL, NAME, PHONE, WORDS, Entry, Hit, Provider


def _entries(ids) -> dict:
    found = {row.id: [(row.name, NAME, WORDS), (row.code, DETAIL, CODE), (row.vat_number, DETAIL, CODE)]
             for row in db.session.execute(select(ThirdParty.id, ThirdParty.name, ThirdParty.code, ThirdParty.vat_number)
                                           .where(ThirdParty.id.in_(ids)))}
    for row in db.session.execute(select(Channel.thirdparty_id, Channel.kind, Channel.value).where(Channel.thirdparty_id.in_(ids))):
        if row.thirdparty_id in found:
            found[row.thirdparty_id].append((row.value, DETAIL, PHONE if row.kind == "phone" else CODE))
    for row in db.session.execute(select(Address.thirdparty_id, Address.city, Address.postcode).where(Address.thirdparty_id.in_(ids))):
        if row.thirdparty_id in found:
            found[row.thirdparty_id] += [(row.city, DETAIL, WORDS), (row.postcode, DETAIL, CODE)]
    return {tp_id: Entry(tp_id, tuple(texts)) for tp_id, texts in found.items()}


def _hits(viewer, ids) -> dict:
    rows = db.session.execute(visible(select(ThirdParty.id, ThirdParty.name, ThirdParty.code, ThirdParty.archived_at)
                                      .where(ThirdParty.id.in_(ids)), viewer)).all()
    cities = {}
    for tp_id, city in db.session.execute(select(Address.thirdparty_id, Address.city).where(Address.thirdparty_id.in_(ids))
                                          .order_by(Address.position)):
        cities.setdefault(tp_id, city)
    return {row.id: Hit(row.id, row.name, url_for("tenant.thirdparties.show", thirdparty_id=row.id),
                        context=" · ".join(p for p in (row.code, cities.get(row.id, "")) if p),
                        archived=row.archived_at is not None)
            for row in rows}


PROVIDER = Provider(
    key="customer", label=_l("Customers"), right="thirdparty.read", order=10,
    entries=_entries, hits=_hits, every=lambda: select(ThirdParty.id),
    watch={ThirdParty: lambda tp: [tp.id],
           Channel: lambda channel: [channel.thirdparty_id] if channel.thirdparty_id else None,
           Address: lambda address: [address.thirdparty_id]},
)
