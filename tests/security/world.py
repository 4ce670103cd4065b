"""The seeded world of the security tests: tenants A and B with one object of every type, every
name and e-mail carrying the tenant's canary; signed-in actors; whole-database snapshots."""
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, text

from app.admin.services import add_organisation
from app.audit.services import ClientInfo, record_security_event
from app.auth.passwords import hash_password
from app.auth.services import password_reset_token
from app.extensions import db
from app.models import (
    AuthSession,
    Base,
    Group,
    GroupMember,
    Invitation,
    Membership,
    PendingSignup,
    Role,
    User,
    utcnow,
)
from app.tenancy import tenant_context
from app.tokens import make_token
from tests.access_spec import GROUP_RIGHTS, Ref
from tests.helpers import PASSWORD

NEW_PASSWORD = "Quartz-Lantern-Orbit-2931"
CLIENT = ClientInfo(ip="192.0.2.10", user_agent="pytest")
# Members of A: one per built-in role, "grouped" (read-only role, in the group), "target" (whom
# member actions change) and "former" (deactivated). B has the people the spec's references name.
A_MEMBERS = {"owner": "owner", "admin": "admin", "sales": "sales", "support": "support", "accounting": "accounting",
             "readonly": "readonly", "grouped": "readonly", "target": "sales", "former": "sales"}
B_MEMBERS = {"owner": "owner", "sales": "sales", "target": "sales", "former": "sales"}


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    email: str
    name: str


@dataclass(frozen=True)
class Side:
    """One seeded tenant: its people, memberships, roles (built-in keys and ``custom``), group, invitation."""

    id: uuid.UUID
    slug: str
    name: str
    canary: str
    users: dict
    memberships: dict
    roles: dict
    group_id: uuid.UUID
    invitation_id: uuid.UUID


@dataclass(frozen=True)
class World:
    a: Side
    b: Side
    outsider: Person  # a member of no organisation
    joiner: Person  # has an account and an open invitation to A
    tokens: dict  # invitation, joiner_invitation (A), reset (A's sales), signup
    pending_slug: str
    fresh: str
    sessions: dict  # server-side session token of every seeded person: "a.owner", "b.sales", "joiner", ...

    def resolve(self, value, side: Side | None = None):
        """The concrete value of a spec value: a ``Ref`` is looked up in ``side`` (A by default)."""
        side = side or self.a
        if isinstance(value, list):
            return [self.resolve(v, side) for v in value]
        if not isinstance(value, Ref):
            return value
        kind, key = value
        values = {
            "membership": lambda: str(side.memberships[key]),
            "role": lambda: str(side.roles[key]),
            "group": lambda: str(side.group_id),
            "invitation": lambda: str(side.invitation_id),
            "email": lambda: side.users[key].email,
            "token": lambda: self.tokens[key],
            "password": lambda: PASSWORD,
            "new_password": lambda: NEW_PASSWORD,
            "fresh_email": lambda: f"new.{self.fresh}@example.com",
            "fresh_slug": lambda: f"new-{self.fresh}",
            "pending_slug": lambda: self.pending_slug,
        }
        return values[kind]()

    def url(self, route, case, side: Side | None = None, **raw_args) -> str:
        """The URL of ``case`` on ``side``; ``raw_args`` replace URL arguments verbatim (fuzzing)."""
        side = side or self.a
        args = {k: self.resolve(v, side) for k, v in case.args.items()} | raw_args

        def fill(match):
            name = match.group(1)
            return raw_args.get(name, side.slug) if name == "tenant_slug" else str(args[name])

        path = re.sub(r"<(?:[^<>]*:)?(\w+)>", fill, route.rule)
        query = {k: self.resolve(v, side) for k, v in case.query.items()}
        return path + (f"?{urlencode(query)}" if query else "")

    def form(self, case, side: Side | None = None) -> dict:
        return {k: self.resolve(v, side) for k, v in case.form.items()}


def _seed_side(letter: str, members: dict, password_hash: str) -> Side:
    canary = f"cnry{letter}{uuid.uuid4().hex[:10]}"
    users = {key: User(email=f"{key}.{canary}@example.com", name=f"{key.title()} {canary}",
                       password_hash=password_hash, locale="en") for key in members}
    db.session.add_all(users.values())
    db.session.flush()
    tenant = add_organisation(users["owner"], f"Organisation {canary}", f"{letter}-{uuid.uuid4().hex[:12]}", CLIENT)
    with tenant_context(tenant.id):
        roles = {r.key: r.id for r in db.session.scalars(select(Role))}
        owner_membership = db.session.scalar(select(Membership).where(Membership.user_id == users["owner"].id))
        memberships = {"owner": owner_membership}
        for key, role_key in members.items():
            if key != "owner":
                former = key == "former"
                memberships[key] = Membership(user_id=users[key].id, role_id=roles[role_key], active=not former,
                                              deactivated_at=utcnow() if former else None)
        custom = Role(name=f"Role {canary}", description=f"About {canary}", rights=["thirdparty.read"])
        group = Group(name=f"Group {canary}", description=f"Team {canary}", rights=list(GROUP_RIGHTS))
        invitation = Invitation(email=f"invitee.{canary}@example.com", role_id=roles["sales"],
                                invited_by_id=users["owner"].id, expires_at=utcnow() + timedelta(days=7))
        db.session.add_all([*memberships.values(), custom, group, invitation])
        db.session.flush()
        for key in ("target", "grouped"):
            if key in memberships:
                group.members.append(GroupMember(membership_id=memberships[key].id))
        record_security_event(tenant.id, "login", user_id=users["owner"].id,
                              client=ClientInfo(ip="192.0.2.20", user_agent=f"Agent {canary}"), note=f"Seen {canary}")
    return Side(
        id=tenant.id, slug=tenant.slug, name=tenant.name, canary=canary,
        users={k: Person(u.id, u.email, u.name) for k, u in users.items()},
        memberships={k: m.id for k, m in memberships.items()},
        roles={**roles, "custom": custom.id}, group_id=group.id, invitation_id=invitation.id,
    )


def build_world(app) -> World:
    """Seed tenants A and B, an outsider, an invited account and the tokens of e-mailed links."""
    fresh = uuid.uuid4().hex[:12]
    with app.app_context():
        password_hash = hash_password(PASSWORD)
        a = _seed_side("a", A_MEMBERS, password_hash)
        b = _seed_side("b", B_MEMBERS, password_hash)
        outsider = User(email=f"outsider.{fresh}@example.com", name="Outsider", password_hash=password_hash, locale="en")
        joiner = User(email=f"joiner.{fresh}@example.com", name="Joiner", password_hash=password_hash, locale="en")
        pending = PendingSignup(email=f"pending.{fresh}@example.com", name="Pending Person", password_hash=password_hash,
                                org_name="Pending organisation", slug=f"p-{fresh}", locale="en")
        db.session.add_all([outsider, joiner, pending])
        db.session.flush()
        with tenant_context(a.id):
            joiner_invitation = Invitation(email=joiner.email, role_id=a.roles["support"], invited_by_id=a.users["owner"].id,
                                           expires_at=utcnow() + timedelta(days=7))
            db.session.add(joiner_invitation)
        people = {f"{name}.{key}": person.id for name, side in (("a", a), ("b", b)) for key, person in side.users.items()}
        people |= {"joiner": joiner.id, "outsider": outsider.id}
        sessions = {name: secrets.token_urlsafe(16) for name in people}
        db.session.add_all(AuthSession(user_id=people[name], token_hash=hashlib.sha256(token.encode()).hexdigest(),
                                       ip="192.0.2.30", user_agent="pytest") for name, token in sessions.items())
        tokens = {
            "invitation": make_token("invitation", {"t": str(a.id), "i": str(a.invitation_id)}),
            "joiner_invitation": make_token("invitation", {"t": str(a.id), "i": str(joiner_invitation.id)}),
            "reset": password_reset_token(db.session.get(User, a.users["sales"].id)),
            "signup": make_token("signup", {"p": str(pending.id)}),
        }
        db.session.commit()
        return World(a, b, Person(outsider.id, outsider.email, outsider.name), Person(joiner.id, joiner.email, joiner.name),
                     tokens, pending.slug, fresh, sessions)


def restore(cleaner, state: dict) -> dict:
    """Put the rows of ``state`` (a snapshot) back into empty tables, sessions starting now; return
    the snapshot of the database this leaves (what ``snapshot`` would read back)."""
    engine, tables = cleaner
    now = utcnow()
    restored = {name: dict(rows) for name, rows in state.items()}
    restored["auth_session"] = {k: row | {"created_at": now, "last_seen_at": now}
                                for k, row in state["auth_session"].items()}
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # the rows are consistent: skip foreign-key triggers (superuser)
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for name in reversed(tables):
            if restored[name]:
                conn.execute(Base.metadata.tables[name].insert(), [dict(row) for row in restored[name].values()])
    return restored


class ServerError(AssertionError):
    """A request raised: in production this is a 500 page (TESTING lets exceptions through)."""


class Actor:
    """One browser session: signs in, sends CSRF tokens, and reports a server error as a failure."""

    def __init__(self, app, user_agent: str = "pytest"):
        self.app = app
        self.client = app.test_client()
        self.user_agent = user_agent
        self._token = None

    def csrf(self) -> str:
        """This session's CSRF token, made as Flask-WTF's ``generate_csrf`` does (no page fetch needed)."""
        if self._token is None:
            config = self.app.config
            with self.client.session_transaction() as session:
                raw = session.setdefault(config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), secrets.token_hex(20))
            secret = config.get("WTF_CSRF_SECRET_KEY") or self.app.secret_key
            self._token = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)
        return self._token

    def send(self, method: str, url: str, data=None, *, htmx=False, csrf=True, headers=None, **kwargs):
        headers = {"User-Agent": self.user_agent, **(headers or {})}
        unsafe = method not in ("GET", "HEAD", "OPTIONS")
        if htmx:
            headers["HX-Request"] = "true"
        if unsafe and csrf:
            if htmx:
                headers["X-CSRFToken"] = self.csrf()
            else:
                data = {"csrf_token": self.csrf(), **(data or {})}
        try:
            response = self.client.open(url, method=method, data=data, headers=headers, **kwargs)
        except Exception as error:
            raise ServerError(f"{method} {url} raised {type(error).__name__}: {str(error)[:300]}") from error
        if unsafe and url.startswith("/auth/"):
            self._token = None  # signing in and out starts a new session
        return response

    def get(self, url, **kwargs):
        return self.send("GET", url, **kwargs)

    def post(self, url, data=None, **kwargs):
        return self.send("POST", url, data, **kwargs)

    def resume(self, token: str) -> "Actor":
        """Carry the cookie of a seeded server-side session (what signing in would have set)."""
        with self.client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = token, True
        return self

    def login(self, email: str, password: str = PASSWORD) -> "Actor":
        response = self.post("/auth/login", {"email": email, "password": password})
        assert response.status_code == 303, f"sign-in of {email} failed: {response.status_code}"
        return self


@dataclass(frozen=True)
class Change:
    table: str
    kind: str  # "+" inserted, "-" deleted, "~" updated
    key: tuple
    row: dict  # the row after (inserted, updated) or before (deleted)
    columns: frozenset = frozenset()


def snapshot(cleaner) -> dict:
    """Every row of every table, read by the superuser (row-level security does not hide any)."""
    engine, tables = cleaner
    state = {}
    with engine.connect() as conn:
        for name in tables:
            table = Base.metadata.tables[name]
            keys = [c.name for c in table.primary_key.columns]
            state[name] = {tuple(row[k] for k in keys): dict(row) for row in conn.execute(select(table)).mappings()}
    return state


def diff(before: dict, after: dict) -> list[Change]:
    changes = []
    for table in after:
        old, new = before[table], after[table]
        changes += [Change(table, "+", k, new[k]) for k in new.keys() - old.keys()]
        changes += [Change(table, "-", k, old[k]) for k in old.keys() - new.keys()]
        for key in old.keys() & new.keys():
            columns = frozenset(c for c in new[key] if new[key][c] != old[key][c])
            if columns:
                changes.append(Change(table, "~", key, new[key], columns))
    return changes


def outside(changes: list[Change], writes) -> list[str]:
    """The changes that ``writes`` (table → columns, + and -) does not allow, described."""
    problems = []
    for change in changes:
        allowed = writes.get(change.table, set())
        if change.kind in "+-" and change.kind not in allowed:
            problems.append(f"{change.kind}{change.table} {change.row}")
        if change.kind == "~" and not change.columns <= allowed:
            problems.append(f"~{change.table}.{sorted(change.columns - allowed)}")
    return problems


def ids_of_tenant(state: dict, tenant_id) -> set[str]:
    """Every id that belongs to ``tenant_id``: its rows, and the accounts only it has."""
    ids = {str(tenant_id)}
    for rows in state.values():
        for row in rows.values():
            if row.get("tenant_id") == tenant_id:
                ids.add(str(row["id"]))
    members = {}
    for row in state["membership"].values():
        members.setdefault(row["user_id"], set()).add(row["tenant_id"])
    ids |= {str(user) for user, tenants in members.items() if tenants == {tenant_id}}
    return ids
