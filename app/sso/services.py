"""Single sign-on's rules: who an identity signs in, when it may be linked, joining an organisation through it.

An identity is ``(issuer, subject)``. A known one signs its account in. An unknown one is linked (or its account
created) only after the e-mail address it claims is proven: at once when the provider is trusted for e-mail
(Google, with ``email_verified: true``), otherwise by a signed link e-mailed to that address and confirmed in the
browser that signed in (``confirmation``). An organisation's provider signs in its members, and, with auto-join,
people of its allowed domains, who join with its default role. Domain functions: they take the provider, the
person and the client and never read the request.
"""
import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from authlib.common.security import generate_token
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app import ratelimit
from app.audit.services import ClientInfo, record_account_event, record_security_event
from app.auth.passwords import hash_password
from app.auth.services import get_user_by_email, normalise_email
from app.extensions import db
from app.models import Membership, Role, SsoDomain, SsoIdentity, Tenant, User, utcnow
from app.sso.flow import Claimed
from app.sso.providers import Provider
from app.sso.refusals import Refused, log
from app.tenancy import tenant_context
from app.tokens import make_token, read_token

CONFIRMATION_MAX_AGE = timedelta(minutes=30)
CONFIRMATIONS_PER_ADDRESS = 3  # e-mails per address per 15 minutes


@dataclass(frozen=True)
class Decision:
    """What a checked answer leads to: ``signed_in`` (``user``), ``linked`` (to ``user``, who is signed in already),
    or ``confirm`` (an e-mail to ``email`` carrying ``token``)."""

    kind: str
    user: User | None = None
    email: str | None = None
    token: str | None = None
    linked_now: bool = False  # the identity was linked by this answer (its owner is told by e-mail)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def find_identity(issuer: str, subject: str) -> SsoIdentity | None:
    return db.session.scalar(select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject))


def identities_of(user_id: uuid.UUID) -> list[SsoIdentity]:
    return db.session.scalars(select(SsoIdentity).where(SsoIdentity.user_id == user_id)
                              .order_by(SsoIdentity.created_at)).all()


def _membership(tenant_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
    with tenant_context(tenant_id, user_id=user_id):
        return db.session.scalar(select(Membership).where(Membership.user_id == user_id))


def _may_join(provider: Provider, user: User | None, email: str) -> bool:
    """An organisation's provider lets in its members (active or not: deactivation is checked on every page) and,
    with auto-join, people whose proven address is in one of its domains."""
    if user is not None and _membership(provider.tenant_id, user.id) is not None:
        return True
    return provider.auto_join and email_domain(email) in provider.allowed_domains


def decide(provider: Provider, claimed: Claimed, *, purpose: str, actor: User | None, binding: str,
           next_url: str | None, client: ClientInfo, locale: str) -> Decision:
    """Apply the linking rules to a checked answer (the module's doc). :raise Refused: when they refuse it."""
    identity = find_identity(claimed.issuer, claimed.subject)
    if identity is not None:
        user = db.session.get(User, identity.user_id)
        if purpose == "link":
            if user.id != actor.id:
                raise Refused("taken", user=actor)
            return Decision("linked", user=user)
        if provider.tenant_id is not None:
            _join(provider, user, client)  # a member, or joins now (auto-join), or refused
        identity.last_used_at = utcnow()
        db.session.commit()
        return Decision("signed_in", user=user)
    if not claimed.email:
        raise Refused("no_email", user=actor)
    if claimed.email_verified is False:
        raise Refused("unverified", user=actor, email=claimed.email)
    if provider.tenant_id is not None and email_domain(claimed.email) not in provider.allowed_domains:
        raise Refused("domain", user=actor, domains=", ".join(provider.allowed_domains))
    if purpose == "link" and claimed.email != actor.email:
        raise Refused("other_address", user=actor, email=claimed.email)
    owner = actor if purpose == "link" else get_user_by_email(claimed.email)
    if provider.tenant_id is not None and not _may_join(provider, owner, claimed.email):
        raise Refused("not_member", user=actor)
    if provider.trusts_email and claimed.email_verified is True:
        user = attach(provider, claimed, client, user=owner, locale=locale)
        return Decision("linked" if purpose == "link" else "signed_in", user=user, linked_now=True)
    if not ratelimit.allow(ratelimit.bucket("sso-confirm", claimed.email), CONFIRMATIONS_PER_ADDRESS,
                           timedelta(minutes=15)):
        raise Refused("too_many", user=actor, email=claimed.email)
    token = confirmation_token(provider, claimed, purpose=purpose, user_id=actor.id if purpose == "link" else None,
                               binding=binding, next_url=next_url)
    _record_confirmation_sent(provider, owner, claimed.email, client)
    return Decision("confirm", email=claimed.email, token=token)


def _record_confirmation_sent(provider: Provider, owner: User | None, email: str, client: ClientInfo) -> None:
    if provider.tenant_id is not None:
        record_security_event(provider.tenant_id, "sso_confirmation_sent", user_id=owner.id if owner else None,
                              client=client, provider=provider.key)
    elif owner is not None:
        record_account_event(owner, "sso_confirmation_sent", client, provider=provider.key)
    log.info("single sign-on confirmation e-mailed for %s via %s", "an account" if owner else "a new address",
             provider.key)
    db.session.commit()


def attach(provider: Provider, claimed: Claimed, client: ClientInfo, *, user: User | None, locale: str = "en") -> User:
    """Link the identity to ``user`` (the account of its address, made now if there is none), join the organisation
    when its provider lets them, log it and commit. :raise Refused: ``conflict`` when it was linked meanwhile."""
    user = user or get_user_by_email(claimed.email) or _new_account(claimed, locale)
    if provider.tenant_id is not None:
        _join(provider, user, client)
    db.session.add(SsoIdentity(issuer=claimed.issuer, subject=claimed.subject, user_id=user.id, provider_key=provider.key,
                               label=provider.label[:160], email=claimed.email or user.email, last_used_at=utcnow()))
    try:
        db.session.flush()
        record_account_event(user, "sso_linked", client, provider=provider.key)
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Refused("conflict") from error
    log.info("single sign-on identity linked to user %s via %s", user.id, provider.key)
    return user


def _new_account(claimed: Claimed, locale: str) -> User:
    """An account for a proven address, with no usable password (a random one nobody knows; "forgot password" sets
    one). Hashed like any other, so that signing in to it with a password costs the usual time and fails."""
    user = User(email=normalise_email(claimed.email), name=claimed.name or claimed.email.split("@")[0][:120],
                password_hash=hash_password(generate_token(40)), locale=locale)
    db.session.add(user)
    db.session.flush()
    return user


def _join(provider: Provider, user: User, client: ClientInfo) -> None:
    """Make ``user`` a member of the provider's organisation with its default role, when auto-join lets them and they
    are not one yet (a deactivated member stays deactivated). :raise Refused: when it cannot."""
    with tenant_context(provider.tenant_id, user_id=user.id):
        if db.session.scalar(select(Membership.id).where(Membership.user_id == user.id)) is not None:
            return
        if not (provider.auto_join and email_domain(user.email) in provider.allowed_domains):
            raise Refused("not_member", user=user)
        role = db.session.scalar(select(Role).where(Role.id == provider.default_role_id)) \
            if provider.default_role_id else None
        if role is None or role.is_owner:
            raise Refused("setup", user=user)
        db.session.add(Membership(user_id=user.id, role_id=role.id))
        record_security_event(provider.tenant_id, "sso_joined", user_id=user.id, client=client, role=role.name)


# --- the e-mailed confirmation ----------------------------------------------------------------------------------------

def binding_digest(binding: str) -> str:
    return hashlib.sha256(f"storia.sso.binding:{binding}".encode()).hexdigest()[:32]


def confirmation_token(provider: Provider, claimed: Claimed, *, purpose: str, user_id, binding: str,
                       next_url: str | None) -> str:
    """A signed link that proves the address when opened (``CONFIRMATION_MAX_AGE``), bound to the browser that
    signed in (``binding``: its session) and to the account for a link made from the account page."""
    return make_token("sso-confirm", {
        "k": provider.key, "i": claimed.issuer, "s": claimed.subject, "e": claimed.email, "n": claimed.name,
        "p": purpose, "u": str(user_id) if user_id else "", "b": binding_digest(binding), "x": next_url or "",
    })


@dataclass(frozen=True)
class Confirmation:
    provider_key: str
    claimed: Claimed
    purpose: str
    user_id: str
    binding: str
    next_url: str

    def binds(self, binding: str) -> bool:
        return self.binding == binding_digest(binding)


def read_confirmation(token: str) -> Confirmation | None:
    """The confirmation a link carries, or None when forged, expired, or already used (its identity is linked)."""
    payload = read_token("sso-confirm", token, CONFIRMATION_MAX_AGE)
    fields = ("k", "i", "s", "e", "n", "p", "u", "b", "x")
    if payload is None or not all(isinstance(payload.get(f), str) for f in fields):
        return None
    claimed = Claimed(issuer=payload["i"], subject=payload["s"], email=payload["e"], email_verified=None,
                      name=payload["n"])
    if find_identity(claimed.issuer, claimed.subject) is not None:
        return None
    return Confirmation(payload["k"], claimed, payload["p"], payload["u"], payload["b"], payload["x"])


# --- the account page -------------------------------------------------------------------------------------------------

def unlink(user: User, identity_id: uuid.UUID, client: ClientInfo) -> SsoIdentity | None:
    """Remove one of ``user``'s identities (None when it is not theirs); log it and commit."""
    identity = db.session.scalar(select(SsoIdentity).where(SsoIdentity.id == identity_id,
                                                           SsoIdentity.user_id == user.id))
    if identity is None:
        return None
    db.session.delete(identity)
    record_account_event(user, "sso_unlinked", client, provider=identity.provider_key)
    db.session.commit()
    return identity


def organisations_for(email: str) -> list[Tenant]:
    """The organisations whose enabled provider signs in ``email``'s domain, by name."""
    return db.session.scalars(select(Tenant).join(SsoDomain, SsoDomain.organisation_id == Tenant.id)
                              .where(SsoDomain.domain == email_domain(normalise_email(email)))
                              .order_by(Tenant.name)).all()


def any_organisation_provider() -> bool:
    return db.session.scalar(select(SsoDomain.domain).limit(1)) is not None


def linkable_organisations(organisations) -> list[Tenant]:
    """Those of ``organisations`` (the user's) with an enabled provider."""
    ids = {t.id for t in organisations}
    enabled = set(db.session.scalars(select(SsoDomain.organisation_id).where(SsoDomain.organisation_id.in_(ids))))
    return [t for t in organisations if t.id in enabled]


def publish_domains(tenant_id: uuid.UUID, domains) -> None:
    """Make the sign-in page find ``tenant_id``'s provider by exactly ``domains`` (caller commits)."""
    db.session.execute(delete(SsoDomain).where(SsoDomain.organisation_id == tenant_id))
    db.session.add_all(SsoDomain(domain=d, organisation_id=tenant_id) for d in sorted(set(domains)))
