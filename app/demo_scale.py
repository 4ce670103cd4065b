"""A large organisation for benchmarks: many customers, a million events, one very deep customer.

Rows are written with bulk INSERTs in batches (not through the services), so generated data has
timeline events but no audit entries; it exists to measure reading speed.
"""
import random
import uuid
from datetime import timedelta

from sqlalchemy import insert, select

from app.audit.services import ClientInfo
from app.auth.passwords import hash_password
from app.extensions import db
from app.models import Channel, Membership, SalesRep, Tenant, ThirdParty, TimelineEvent, User, new_id, utcnow
from app.team import add_organisation
from app.tenancy import tenant_context

BATCH = 5000
NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Rossi",
         "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"]
TRADES = ["Boulangerie", "Garage", "Cabinet", "Atelier", "Pharmacie", "Hôtel", "Forno", "Officina", "Studio", "Enoteca"]
CITIES = ["Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux", "Milano", "Roma", "Torino", "Napoli", "Firenze"]
NOTES = ["Appel de suivi, rappeler la semaine prochaine.", "Chiamata: interessato al preventivo.",
         "Rendez-vous sur place, devis à envoyer.", "Preferisce essere contattato via e-mail.",
         "Litige réglé par un avoir.", "Ha confermato l'ordine."]


def _owner(email: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name="Bench Owner", password_hash=hash_password(password), locale="en")
        db.session.add(user)
        db.session.flush()
    return user


def generate(*, slug: str, customers: int, events: int, deep_events: int, password: str, seed: int = 7, echo=print) -> dict:
    """Create organisation ``slug`` with the given volumes; return ids useful to the benchmark."""
    rng = random.Random(seed)
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise ValueError(f"/{slug} already exists")
    owner = _owner(f"owner@{slug}.example", password)
    tenant = add_organisation(owner, f"Bench {slug}", slug, ClientInfo(ip="127.0.0.1", user_agent="flask demo"))
    db.session.commit()
    now = utcnow()
    with tenant_context(tenant.id):
        membership_id = db.session.scalar(select(Membership.id))
        ids = []
        for start in range(0, customers, BATCH):
            rows, channels, reps = [], [], []
            for n in range(start, min(customers, start + BATCH)):
                tp_id = new_id()
                name = f"{rng.choice(TRADES)} {rng.choice(NAMES)} {n}"
                city = rng.choice(CITIES)
                email = f"contact{n}@example.com"
                rows.append({"tenant_id": tenant.id, "id": tp_id, "code": f"CU{n:07d}", "name": name, "is_customer": True,
                             "is_prospect": False, "is_supplier": n % 10 == 0, "vat_number": "", "website": "", "description": "",
                             "custom": {}, "search_text": f"{name} cu{n:07d} {city} {email}".lower(), "created_at": now,
                             "updated_at": now, "version": 1})
                channels.append({"tenant_id": tenant.id, "id": new_id(), "thirdparty_id": tp_id, "kind": "email", "label": "",
                                 "value": email, "position": 0})
                if n % 3 == 0:
                    reps.append({"tenant_id": tenant.id, "id": new_id(), "thirdparty_id": tp_id, "membership_id": membership_id})
                ids.append(tp_id)
            db.session.execute(insert(ThirdParty), rows)
            db.session.execute(insert(Channel), channels)
            if reps:
                db.session.execute(insert(SalesRep), reps)
            db.session.commit()
            echo(f"  customers: {min(customers, start + BATCH)}/{customers}")
        # One customer with the deep history, one with exactly 100 events (a page must cost the same on both).
        deep_id, hundred_id = ids[0], ids[1 % len(ids)]
        _events(tenant.id, [deep_id], deep_events, owner.id, rng, now, echo, "deep customer events")
        _events(tenant.id, [hundred_id], 100, owner.id, rng, now, echo, "events of the 100-event customer")
        _events(tenant.id, ids[2:] or ids, max(0, events - deep_events - 100), owner.id, rng, now, echo, "events")
    return {"tenant_id": tenant.id, "slug": slug, "deep_thirdparty_id": deep_id, "hundred_thirdparty_id": hundred_id,
            "owner": owner.email}


def _events(tenant_id: uuid.UUID, targets: list, count: int, actor_id, rng, now, echo, label):
    written = 0
    while written < count:
        rows = []
        for _ in range(min(BATCH, count - written)):
            when = now - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
            body = rng.choice(NOTES)
            kind = "note_added" if rng.random() < .7 else "thirdparty_updated"
            rows.append({"tenant_id": tenant_id, "id": new_id(), "thirdparty_id": rng.choice(targets), "contact_id": None,
                         "occurred_at": when, "kind": kind, "subject_type": "note" if kind == "note_added" else "thirdparty",
                         "subject_id": None, "actor_id": actor_id, "title": body if kind == "note_added" else "",
                         "body": body if kind == "note_added" else "", "required_right": None, "private_to_id": None,
                         "payload": {} if kind == "note_added" else {"changes": {"website": ["", "https://example.com"]}}})
        db.session.execute(insert(TimelineEvent), rows)
        db.session.commit()
        written += len(rows)
        if written % (BATCH * 20) == 0 or written == count:
            echo(f"  {label}: {written}/{count}")
