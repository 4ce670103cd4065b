"""Demo data for ``make run``: two organisations that share a person, so switching can be tried."""
from sqlalchemy import select

from app.audit.services import ClientInfo
from app.auth.passwords import hash_password
from app.demo_history import FRENCH, ITALIAN, load_history
from app.demo_sales import load_sales
from app.extensions import db
from app.models import Membership, Role, Tenant, User
from app.team import add_organisation
from app.tenancy import tenant_context

DEMO_PASSWORD = "Timeline-Demo-2026"
DEMO_USERS = {
    "marie@storia.example": ("Marie Dupont", "fr"),
    "luca@storia.example": ("Luca Rossi", "it"),
    "sophie@storia.example": ("Sophie Martin", "fr"),
}
# organisation slug -> (name, locale, {e-mail: role key}); the first e-mail creates it as owner
DEMO_ORGANISATIONS = {
    "atelier-dupont": ("Atelier Dupont", "fr", {
        "marie@storia.example": "owner", "luca@storia.example": "sales", "sophie@storia.example": "support",
    }),
    "rossi-forniture": ("Rossi Forniture", "it", {
        "luca@storia.example": "owner", "marie@storia.example": "readonly",
    }),
}


def load_demo(password: str = DEMO_PASSWORD) -> list[tuple[str, str, str]]:
    """Create the demo organisations once; return (e-mail, name, roles) for every demo login."""
    client = ClientInfo(ip="127.0.0.1", user_agent="flask demo")
    users = {}
    for email, (name, locale) in DEMO_USERS.items():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, locale=locale, password_hash=hash_password(password))
            db.session.add(user)
        users[email] = user
    db.session.flush()
    for slug, (org_name, locale, members) in DEMO_ORGANISATIONS.items():
        if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
            continue
        owner_email = next(iter(members))
        tenant = add_organisation(users[owner_email], org_name, slug, client, locale=locale)
        with tenant_context(tenant.id):
            roles = {r.key: r for r in db.session.scalars(select(Role))}
            for email, role_key in list(members.items())[1:]:
                db.session.add(Membership(user_id=users[email].id, role_id=roles[role_key].id))
    db.session.commit()
    for slug, data, seed in (("atelier-dupont", FRENCH, 1), ("rossi-forniture", ITALIAN, 2)):
        tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        load_history(tenant_id, data, seed)
        load_sales(tenant_id, DEMO_ORGANISATIONS[slug][1])
    logins = []
    for email, (name, _locale) in DEMO_USERS.items():
        roles = [f"{role} of {DEMO_ORGANISATIONS[slug][0]}" for slug, (_, _, members) in DEMO_ORGANISATIONS.items()
                 for member, role in members.items() if member == email]
        logins.append((email, name, ", ".join(roles)))
    return logins
