"""The seeded world of the security tests: tenants A and B with one object of every type, every
name and e-mail carrying the tenant's canary; signed-in actors; whole-database snapshots."""
import hashlib
import io
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pyotp
from itsdangerous import URLSafeTimedSerializer
from PIL import Image
from sqlalchemy import select, text, update
from werkzeug.datastructures import FileStorage

from app import customfields
from app.agenda import feeds
from app.agenda import services as agenda_services
from app.audit.services import ClientInfo, record_security_event
from app.auth import twofactor
from app.auth.passwords import hash_password
from app.auth.services import password_reset_token
from app.auth.signin import PENDING_KEY
from app.contacts import services as contact_services
from app.documents import services as document_services
from app.documents.uploads import Limits, store_upload
from app.extensions import db
from app.models import (
    AuthSession,
    Base,
    Contact,
    ContactTag,
    CustomField,
    Document,
    Group,
    GroupMember,
    Invitation,
    Membership,
    Note,
    PendingSignup,
    Product,
    RememberedDevice,
    Reminder,
    Role,
    SalesDocument,
    SavedView,
    ThirdParty,
    TwoFactor,
    User,
    utcnow,
)
from app.models.sales import Fixed, from_units
from app.sales import payments as sales_payments
from app.sales import services as sales_services
from app.storage import get_storage
from app.team import add_organisation
from app.tenancy import tenant_context
from app.timeline import notes
from app.tokens import make_token
from tests.access_spec import GROUP_RIGHTS, Ref
from tests.customers import (
    _acting,
    archive_thirdparty,
    make_contact,
    make_field,
    make_tag,
    make_thirdparty,
    set_code_pattern,
    update_thirdparty,
)
from tests.factories import TenantInfo, UserInfo
from tests.helpers import PASSWORD
from tests.pipeline.seed import seed_pipeline
from tests.sso.seed import confirmation_for_owner, seed_sso

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
    # The customer history (``_seed_history``): ids by (kind, key), codes, versions, choice values.
    objects: dict = field(default_factory=dict)
    secret: str = ""  # only in the private note's text: who lacks note.read_private must never see it


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
    # Authenticator secrets: "target" (A's target member has two-factor sign-in on), "setup" (being set up by A's owner).
    two_factor_secrets: dict = field(default_factory=dict)

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
            "totp": lambda: pyotp.TOTP(self.two_factor_secrets[key]).now(),
            "new_password": lambda: NEW_PASSWORD,
            "fresh_email": lambda: f"new.{self.fresh}@example.com",
            "fresh_slug": lambda: f"new-{self.fresh}",
            "pending_slug": lambda: self.pending_slug,
            "user": lambda: str(side.users[key].id),
            # A fresh stream at every use: a request reads it to its end.
            "file": lambda: (io.BytesIO(FILES[key]), f"upload {side.canary}.{key}"),
        }
        if kind in values:
            return values[kind]()
        found = side.objects[(kind, key)]
        return str(found) if isinstance(found, uuid.UUID) else found

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


def _relabel(app, tenant: TenantInfo, key: str, label: str) -> uuid.UUID:
    """Give a custom field a label of its own (its key, made from the first label, stays)."""
    with _acting(app, tenant, tenant.owner):
        found = db.session.scalar(select(CustomField).where(CustomField.key == key))
        customfields.save_field(found, entity=found.entity, label=label, field_type=found.field_type,
                                choices=found.choices, required=found.required, show_in_list=found.show_in_list)
        return found.id


def _seed_history(app, side: Side) -> Side:
    """One object of every customer-history type, through the builders of tests/customers.py.

    A customer (rep: the "target" member) with an address, a phone, an e-mail, a tag and custom-field
    values; its contact (tagged) and an archived one; a note edited once (one version) and a private
    note, both by the owner; the sales member's own customer; an archived customer; tags, custom fields
    of both entities and a code pattern. Every text carries the canary; the timeline and the audit
    chain fill as the domain functions run.
    """
    c = side.canary
    people = {k: UserInfo(p.id, p.email, p.name) for k, p in side.users.items()}
    tenant = TenantInfo(side.id, side.slug, side.name, people["owner"])
    set_code_pattern(app, tenant, f"{c}-{{n:03}}")
    tag = make_tag(app, tenant, f"Tag {c}", "green")
    make_field(app, tenant, "Sector", "text", show_in_list=True)
    make_field(app, tenant, "Stage", "choice", choices=[f"Lead {c}", f"Won {c}"], show_in_list=True)
    make_field(app, tenant, "Hobby", "text", entity="contact")
    for label, field_type, entity in (("Headcount", "number", "thirdparty"), ("Budget", "money", "thirdparty"),
                                      ("Shoe size", "number", "contact")):  # numbers, which forms and filters read
        make_field(app, tenant, label, field_type, entity=entity, show_in_list=entity == "thirdparty")
    fields = {key: _relabel(app, tenant, key, f"{key.title()} {c}") for key in ("sector", "stage", "hobby")}
    customer = make_thirdparty(
        app, tenant, f"Customer {c}", reps=[people["target"]], vat_number="FR40303265045", website=f"https://{c}.example",
        description=f"About {c}", addresses=[[f"Office {c}", f"1 street {c}", "75001", f"City {c}", "FR"]],
        phones=[[f"Desk {c}", "+33 1 23 45 67 89"]], emails=[[f"Billing {c}", f"billing.{c}@example.com"]],
        tag_ids=[tag], custom={"sector": f"Sector value {c}", "stage": f"Lead {c}"})
    update_thirdparty(app, tenant, customer.id, description=f"Changed {c}")
    own = make_thirdparty(app, tenant, f"Own {c}", reps=[people["sales"]])
    archived = make_thirdparty(app, tenant, f"Archived {c}")
    archive_thirdparty(app, tenant, archived.id)
    person = make_contact(app, tenant, customer.id, f"Person {c}", first_name=f"First {c}", job_title=f"Buyer {c}",
                          phones=[[f"Mobile {c}", "+33 6 00 00 00 00"]], emails=[[f"Work {c}", f"person.{c}@example.com"]],
                          custom={"hobby": f"Hobby value {c}"})
    gone = make_contact(app, tenant, customer.id, f"Gone {c}")
    secret = f"secret{c}"
    with _acting(app, tenant, tenant.owner) as viewer:
        contact_services.set_archived(viewer, db.session.scalar(select(Contact).where(Contact.id == gone.id)), True)
        db.session.add(ContactTag(contact_id=person.id, tag_id=tag))  # after: a save locks its row before anything is written
        note, _ = notes.create_note(viewer, thirdparty_id=customer.id, contact_id=person.id, body=f"First text {c}",
                                    private=False, pinned=True, idempotency_key=None)
        notes.update_note(viewer, note, f"Note {c}", version=note.version, base_body=note.body)
        private, _ = notes.create_note(viewer, thirdparty_id=customer.id, contact_id=None, body=f"Private {c} {secret}",
                                       private=True, pinned=False, idempotency_key=None)
        versions = {
            "thirdparty": db.session.scalar(select(ThirdParty.version).where(ThirdParty.id == customer.id)),
            "contact": db.session.scalar(select(Contact.version).where(Contact.id == person.id)),
            "note": db.session.scalar(select(Note.version).where(Note.id == note.id)),
        }
        note_id, private_id = note.id, private.id
        documents = _seed_documents(viewer, customer.id, c)
        versions["document"] = db.session.scalar(select(Document.version).where(Document.id == documents[("document", "")]))
        due = datetime(2030, 1, 7, 8, tzinfo=UTC)
        task, _ = agenda_services.plan(viewer, thirdparty_id=customer.id, contact_id=person.id, values={
            "kind": "task", "title": f"Task {c}", "body": f"Details {c}", "starts_at": due, "due_at": due, "ends_at": None,
            "all_day": False, "priority": "high", "location": f"Place {c}", "zone": "Europe/Paris", "recurrence": ""},
            assignee_ids=[viewer.user_id], idempotency_key=None)
        task_id = task.id
        versions["activity"] = task.version
        reminder = Reminder(activity_id=task.id, occurrence_at=due, user_id=viewer.user_id, remind_at=due - timedelta(minutes=30))
        db.session.add(reminder)
        db.session.commit()  # a reminder of the task for the owner: what dismissing changes
        db.session.add(SavedView(user_id=viewer.user_id, page="customers", name="Seeded view", query=f"q={c}"))
        db.session.commit()
        feed_token = feeds.new_token(viewer.user_id)
        sales_objects = _seed_sales(viewer, customer.id, person.id, c)
        pipeline_objects = seed_pipeline(viewer, customer.id, person.id, c)
    objects = {
        ("thirdparty", ""): customer.id, ("thirdparty", "own"): own.id, ("thirdparty", "archived"): archived.id,
        ("contact", ""): person.id, ("contact", "archived"): gone.id, ("note", ""): note_id, ("note", "private"): private_id,
        ("tag", ""): tag, ("code", ""): customer.code, ("choice", "lead"): f"Lead {c}", ("choice", "won"): f"Won {c}",
        **{("field", key): field_id for key, field_id in fields.items()},
        **{("version", kind): version for kind, version in versions.items()},
        **documents,
        ("activity", ""): task_id, ("feed", ""): feed_token, ("slug", ""): side.slug, **sales_objects, **pipeline_objects,
        **seed_sso(app, side),
    }
    return replace(side, objects=objects, secret=secret)


def _seed_sales(viewer, customer_id, contact_id, c) -> dict:
    """A product; a draft and a validated quote; a draft and a validated invoice (partly paid), each with a line."""
    product = Product(ref=f"REF-{c}", label=f"Product {c}", unit_price=Decimal("80"), vat_rate=Decimal("20"), unit="hour")
    db.session.add(product)
    db.session.commit()
    customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == customer_id))
    line = {"product_id": product.id, "description": f"Line {c}", "quantity": Decimal(2), "unit": "hour",
            "unit_price": Decimal("80"), "discount": Decimal(0), "vat_rate": Decimal(20)}
    made = {}
    for kind in ("quote", "order", "invoice", "contract"):
        for state in ("draft", ""):
            values = {"title": f"{kind.title()} {c}", "contact_id": contact_id, "note": f"Note {c}"}
            if kind == "contract":
                values |= {"starts_on": date(2030, 1, 1), "period": "monthly", "ends_on": date(2030, 12, 31)}
            doc, _ = sales_services.create_document(viewer, customer, kind, values)
            made[(kind, state)] = doc.id
            made[("line", kind if state == "draft" else f"{kind}_validated")] = sales_services.add_line(doc, line).id
            if state == "":
                sales_services.validate(viewer, doc)
    invoice = db.session.scalar(select(SalesDocument).where(SalesDocument.id == made[("invoice", "")]))
    sales_payments.record_payment(viewer, customer, amount=Decimal(50), received_on=invoice.issued_on, method="transfer",
                                  reference=f"Ref {c}", shares={invoice.id: Decimal(50)})
    version = db.session.scalar(select(Product.version).where(Product.id == product.id))
    drafts = {("version", kind): db.session.scalar(select(SalesDocument.version).where(SalesDocument.id == made[(kind, "draft")]))
              for kind in ("quote", "order", "invoice", "contract")}  # what a header edit form carries
    return {("product", ""): product.id, ("version", "product"): version, **drafts, **made}


def _seed_documents(viewer, customer_id, c) -> dict:
    """A PDF (two versions) in a folder, an image (with its thumbnail) and a document in the trash."""
    customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == customer_id))
    limits = Limits(max_bytes=10 * 1024 * 1024, quota_bytes=1024 * 1024 * 1024)

    def put(name, content, folder=""):
        return store_upload(viewer, get_storage(), FileStorage(io.BytesIO(content), name), thirdparty=customer, contact=None,
                            folder=folder, limits=limits)

    put(f"Doc {c}.pdf", FILES["pdf"], f"Folder {c}")
    pdf = put(f"Doc {c}.pdf", FILES["pdf"] + b"%v2", f"Folder {c}")
    image = put(f"Image {c}.png", FILES["png"])
    trashed = put(f"Trashed {c}.pdf", FILES["pdf"])
    document_services.move_to_trash(viewer, trashed.document)
    return {("document", ""): pdf.document.id, ("docversion", ""): pdf.version.id, ("document", "image"): image.document.id,
            ("docversion", "image"): image.version.id, ("document", "trashed"): trashed.document.id}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


# Files the seeding and the upload cases of the spec send (``Ref("file", kind)``).
FILES = {"pdf": b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "png": _png(),
         "ics": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:security-suite@example.com\r\n"
                b"DTSTAMP:20260101T000000Z\r\nDTSTART:20300108T090000Z\r\nDTEND:20300108T100000Z\r\n"
                b"SUMMARY:Invitation\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"}


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
        outsider, joiner = (Person(u.id, u.email, u.name) for u in (outsider, joiner))
        pending_slug = pending.slug
        secrets_2fa, tokens["two_factor_setup"] = _seed_two_factor(a)  # commits: after the tenant-scoped rows are read
    a, b = _seed_history(app, a), _seed_history(app, b)
    tokens["sso_confirm"] = confirmation_for_owner(app, a, sessions["a.owner"])
    return World(a, b, outsider, joiner, tokens, pending_slug, fresh, sessions, secrets_2fa)


def _seed_two_factor(a: Side) -> tuple[dict, str]:
    """A's target member uses two-factor sign-in (recovery codes and a remembered device too); A's owner is setting
    it up. Returns both secrets, and the sealed setup the owner's browser holds."""
    target = db.session.get(User, a.users["target"].id)
    sealed = twofactor.new_setup(target)
    secret = twofactor.setup_secret(sealed, target)
    twofactor.enable(target, sealed, pyotp.TOTP(secret).now(), CLIENT)
    db.session.execute(update(TwoFactor).values(last_used_step=None))  # its current code is still to be used
    db.session.add(RememberedDevice(user_id=target.id, token_hash=hashlib.sha256(b"seeded device").hexdigest(),
                                    expires_at=utcnow() + timedelta(days=30)))
    db.session.commit()
    owner = db.session.get(User, a.users["owner"].id)
    setup = twofactor.new_setup(owner)
    return {"target": secret, "setup": twofactor.setup_secret(setup, owner)}, setup


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
            if response.mimetype == "text/event-stream":
                # A live stream: read it to its end (LIVE_STREAM_SECONDS, shortened by the tests, bounds it),
                # so its first events are in the body and it leaves no subscription open.
                response.get_data()
                response.close()
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

    def at_second_factor(self, user_id) -> "Actor":
        """A browser where ``user_id`` has just passed the password and is asked for a code (app/auth/signin.py)."""
        with self.client.session_transaction() as session:
            session[PENDING_KEY] = {"u": str(user_id), "n": "", "t": time.time()}
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
    """Every row of every table, read by the superuser (row-level security does not hide any).

    On PostgreSQL one round trip of plain SELECTs read by psycopg itself (ten times faster than
    SQLAlchemy's result processing, same values: psycopg gives UUIDs, aware datetimes, JSON, bools).
    """
    engine, tables = cleaner
    state = {}
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            cursor = conn.connection.driver_connection.cursor()
            cursor.execute("; ".join(f'SELECT * FROM "{name}"' for name in tables))  # noqa: S608 (our metadata)
            for name in tables:
                columns = [d.name for d in cursor.description]
                keys = [columns.index(c.name) for c in Base.metadata.tables[name].primary_key.columns]
                state[name] = {tuple(row[i] for i in keys): dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
                cursor.nextset()
            return state
        for name in tables:
            table = Base.metadata.tables[name]
            keys = [c.name for c in table.primary_key.columns]
            state[name] = {tuple(row[k] for k in keys): dict(row) for row in conn.execute(select(table)).mappings()}
    return state


def revert(cleaner, before: dict, after: dict) -> None:
    """Undo every change from ``before`` to ``after`` (two snapshots): the database is ``before`` again."""
    changes = diff(before, after)
    if not changes:
        return
    engine, tables = cleaner  # children first
    order = {name: i for i, name in enumerate(tables)}
    with engine.begin() as conn:
        raw = conn.dialect.name == "postgresql"  # snapshot() read psycopg's own values there
        if raw:  # the end state is consistent: skip foreign-key triggers (superuser)
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for change in sorted(changes, key=lambda c: ("+~-".index(c.kind), order[c.table] * (-1 if c.kind == "-" else 1))):
            table = Base.metadata.tables[change.table]
            where = [column == value for column, value in zip(table.primary_key.columns, change.key, strict=True)]
            values = before[change.table].get(change.key)
            if values is not None and raw:
                values = _as_model_values(table, values)
            if change.kind == "+":
                conn.execute(table.delete().where(*where))
            elif change.kind == "~":  # a counter of writes only moves on (a cached page keyed by an old value)
                values = {k: v for k, v in values.items() if (change.table, k) not in BOOKKEEPING}
                conn.execute(table.update().where(*where).values(values))
            else:
                conn.execute(table.insert().values(values))
        # Written behind the app's back: move every tenant's data version on, as the app's own writes do.
        tenant = Base.metadata.tables["tenant"]
        conn.execute(tenant.update().values(data_version=tenant.c.data_version + 1))


def _as_model_values(table, row: dict) -> dict:
    """Stored values as the models give them: a scaled integer of a ``Fixed`` column back to its decimal (binding
    it goes through ``Fixed`` again)."""
    return {name: from_units(value, table.c[name].type.scale) if isinstance(table.c[name].type, Fixed) and value is not None
            else value for name, value in row.items()}


def refresh_sessions(cleaner, state: dict) -> dict:
    """Make the seeded sessions start now (no idle expiry, no last-seen touch during a test); return the new state."""
    engine, _ = cleaner
    now = utcnow()
    table = Base.metadata.tables["auth_session"]
    with engine.begin() as conn:
        conn.execute(table.update().values(created_at=now, last_seen_at=now))
    return state | {"auth_session": {k: row | {"created_at": now, "last_seen_at": now}
                                     for k, row in state["auth_session"].items()}}


# Not data: a counter every write moves (app.freshness), so that cached pages are never stale.
BOOKKEEPING = {("tenant", "data_version")}
# Not data either: the global search's index (app/search_index.py), rewritten from the records in the transaction that
# changes them; a write to a record shows in the record's own table. Its rows of the other tenant cannot be written
# (RLS WITH CHECK), and tests/search proves it follows the records.
DERIVED = {"search_term"}


def diff(before: dict, after: dict) -> list[Change]:
    changes = []
    for table in after.keys() - DERIVED:
        old, new = before[table], after[table]
        changes += [Change(table, "+", k, new[k]) for k in new.keys() - old.keys()]
        changes += [Change(table, "-", k, old[k]) for k in old.keys() - new.keys()]
        for key in old.keys() & new.keys():
            if new[key] == old[key]:  # most rows: compared at C speed (the fuzzer diffs after every saved value)
                continue
            columns = frozenset(c for c in new[key] if new[key][c] != old[key][c] and (table, c) not in BOOKKEEPING)
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
