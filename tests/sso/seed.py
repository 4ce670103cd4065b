"""Single sign-on in the security tests' seeded world (tests/security/world.py): each organisation's own provider
(its endpoints stored as if read from discovery, so nothing calls it), a linked identity of its owner, and a
confirmation link made in A's owner's browser."""
import hashlib

from sqlalchemy import select

from app.extensions import db
from app.models import AuthSession, Role, SsoIdentity, SsoProvider, utcnow
from app.sso import crypto
from app.sso.flow import Claimed
from app.sso.providers import get_provider, org_key
from app.sso.services import confirmation_token, publish_domains
from app.tenancy import tenant_context


def issuer_of(side) -> str:
    return f"https://idp.{side.canary}.example"


def seed_sso(app, side) -> dict:
    """The organisation's provider and its owner's identity; the references the spec rows use."""
    issuer, domain = issuer_of(side), f"{side.canary}.example"
    with app.app_context():
        with tenant_context(side.id):
            sales = db.session.scalar(select(Role.id).where(Role.key == "sales"))
            db.session.add(SsoProvider(
                issuer=issuer, client_id=f"client-{side.canary}", client_secret=crypto.encrypt(f"secret-{side.canary}"),
                endpoints={"issuer": issuer, "authorization_endpoint": f"{issuer}/authorize", "token_endpoint": f"{issuer}/token",
                           "jwks_uri": f"{issuer}/jwks", "userinfo_endpoint": f"{issuer}/userinfo", "algorithms": ["RS256"],
                           "auth_method": "client_secret_basic", "iss_parameter": False},
                allowed_domains=[domain], auto_join=False, default_role_id=sales, enabled=True))
        publish_domains(side.id, [domain])
        identity = SsoIdentity(issuer=issuer, subject=f"owner-{side.canary}", user_id=side.users["owner"].id,
                               provider_key=org_key(side.slug), label=side.name, email=side.users["owner"].email,
                               last_used_at=utcnow())
        db.session.add(identity)
        db.session.commit()
        return {("sso_key", ""): org_key(side.slug), ("sso_issuer", ""): issuer, ("sso_domain", ""): domain,
                ("sso_email", ""): f"someone@{domain}", ("sso_identity", ""): identity.id}


def confirmation_for_owner(app, side, session_token: str) -> str:
    """An e-mailed link that would link a new identity of ``side``'s provider to its owner's account, made in the
    owner's seeded browser session (where it works)."""
    with app.app_context(), app.test_request_context():
        row = db.session.scalar(select(AuthSession).where(
            AuthSession.token_hash == hashlib.sha256(session_token.encode()).hexdigest()))
        claimed = Claimed(issuer=issuer_of(side), subject=f"new-{side.canary}", email=side.users["owner"].email,
                          email_verified=None, name=side.users["owner"].name)
        return confirmation_token(get_provider(org_key(side.slug), discover=False), claimed, purpose="link",
                                  user_id=side.users["owner"].id, binding=f"s:{row.id}", next_url=None)
