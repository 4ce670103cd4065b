"""Builders for test data. They go through the domain functions (the same tenant stamping,
roles and events as production) and return plain values, because every request of the test
client runs in its own app context and session."""
from dataclasses import dataclass

from sqlalchemy import select

from app.audit.services import ClientInfo
from app.auth.passwords import hash_password
from app.extensions import db
from app.models import Membership, Role, User
from app.team import add_organisation
from app.tenancy import tenant_context
from tests.helpers import PASSWORD

CLIENT = ClientInfo(ip="127.0.0.1", user_agent="pytest")
_counter = iter(range(1, 1_000_000))


@dataclass(frozen=True)
class UserInfo:
    id: object
    email: str
    name: str
    password: str = PASSWORD


@dataclass(frozen=True)
class TenantInfo:
    id: object
    slug: str
    name: str
    owner: UserInfo


def make_user(app, email: str | None = None, name: str | None = None, password: str = PASSWORD,
              locale: str | None = "en") -> UserInfo:
    n = next(_counter)
    email = email or f"user{n}@example.com"
    name = name or f"User {n}"
    with app.app_context():
        user = User(email=email, name=name, password_hash=hash_password(password), locale=locale)
        db.session.add(user)
        db.session.commit()
        return UserInfo(user.id, email, name, password)


def make_tenant(app, slug: str | None = None, name: str | None = None, owner: UserInfo | None = None) -> TenantInfo:
    n = next(_counter)
    slug = slug or f"org-{n}"
    name = name or f"Organisation {n}"
    owner = owner or make_user(app, name=f"Owner of {name}")
    with app.app_context():
        tenant = add_organisation(db.session.get(User, owner.id), name, slug, CLIENT)
        db.session.commit()
        return TenantInfo(tenant.id, slug, name, owner)


def add_member(app, tenant: TenantInfo, user: UserInfo | None = None, role: str = "sales", active: bool = True):
    """Make ``user`` (a new one by default) a member of ``tenant`` with the built-in ``role``."""
    user = user or make_user(app)
    with app.app_context(), tenant_context(tenant.id):
        role_id = db.session.scalar(select(Role.id).where(Role.key == role))
        db.session.add(Membership(user_id=user.id, role_id=role_id, active=active))
        db.session.commit()
    return user


def role_id(app, tenant: TenantInfo, key: str):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(Role.id).where(Role.key == key))


def membership_id(app, tenant: TenantInfo, user: UserInfo):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))
