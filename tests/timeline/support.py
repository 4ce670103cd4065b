"""Helpers of the customer-history tests: writing notes over HTTP, filling timelines, reading them back.

Third parties and contacts come from ``tests/customers.py``; what is specific to notes, timelines and
the audit log is here. Readers open their own app context and return plain values.
"""
import html
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Group, GroupMember, Membership, Note, NoteVersion, TimelineEvent
from app.tenancy import tenant_context
from app.timeline.services import record_event
from tests.factories import TenantInfo, UserInfo
from tests.helpers import Browser

EVENT_ID = re.compile(r'<li class="event [^"]*" id="ev-([0-9a-f-]{36})"')
# A day's heading; today's is marked (and hidden while its group is empty: "day-empty", not a heading then).
DAY_HEADER = re.compile(r'<li class="day-header(?: day-today)?"(?: id="[^"]*")?><h3>([^<]*)</h3></li>')
LOAD_MORE = re.compile(r'<li class="load-more" hx-get="([^"]+)"')


@dataclass(frozen=True)
class NoteRow:
    id: uuid.UUID
    body: str
    private: bool
    pinned: bool
    version: int
    author_id: uuid.UUID | None
    contact_id: uuid.UUID | None


@dataclass(frozen=True)
class EventRow:
    id: uuid.UUID
    kind: str
    title: str
    body: str
    subject_id: uuid.UUID | None
    private_to_id: uuid.UUID | None
    occurred_at: datetime


# --- people ---

def signed_in(app, user: UserInfo, **client_kwargs) -> Browser:
    """A fresh browser of ``app`` signed in as ``user``."""
    browser = Browser(app.test_client(**client_kwargs))
    browser.login(user.email)
    return browser


def grant_by_group(app, tenant: TenantInfo, user: UserInfo, *rights: str) -> None:
    """Give ``user`` extra rights through a group (their role stays as it is)."""
    with app.app_context(), tenant_context(tenant.id):
        membership_id = db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))
        group = Group(name=f"Extra {uuid.uuid4().hex[:6]}", rights=list(rights))
        db.session.add(group)
        db.session.flush()
        db.session.add(GroupMember(group_id=group.id, membership_id=membership_id))
        db.session.commit()


# --- notes over HTTP ---

def notes_url(tenant: TenantInfo, thirdparty_id) -> str:
    return f"/{tenant.slug}/timeline/thirdparties/{thirdparty_id}/notes"


def post_note(browser: Browser, tenant: TenantInfo, thirdparty_id, body: str, *, key: str | None = None,
              private: bool = False, pinned: bool = False, contact_id=None, htmx: bool = True):
    """Send the note composer as a browser does (htmx by default)."""
    data = {"body": body, "idempotency_key": key if key is not None else uuid.uuid4().hex,
            "contact_id": str(contact_id or "")}
    if private:
        data["private"] = "y"
    if pinned:
        data["pinned"] = "y"
    return browser.post(notes_url(tenant, thirdparty_id), data, htmx=htmx)


# --- filling a timeline ---

def add_events(app, tenant: TenantInfo, thirdparty_id, moments: list[datetime], *, kind: str = "thirdparty_updated",
               titles: list[str] | None = None, subject_type: str = "thirdparty", subject_id=None, actor_id=None,
               **fields) -> list[uuid.UUID]:
    """Record one event per moment through ``record_event``, all in one transaction; return their ids."""
    with app.app_context(), tenant_context(tenant.id):
        events = [
            record_event(thirdparty_id=thirdparty_id, kind=kind, subject_type=subject_type,
                         subject_id=subject_id or thirdparty_id, actor_id=actor_id,
                         title=titles[i] if titles else f"Event {i}", occurred_at=moment, **fields)
            for i, moment in enumerate(moments)
        ]
        db.session.commit()
        return [e.id for e in events]


# --- readers ---

def notes_of(app, tenant: TenantInfo, thirdparty_id=None) -> list[NoteRow]:
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(Note).order_by(Note.created_at, Note.id)
        if thirdparty_id is not None:
            stmt = stmt.where(Note.thirdparty_id == thirdparty_id)
        return [NoteRow(n.id, n.body, n.private, n.pinned, n.version, n.author_id, n.contact_id) for n in db.session.scalars(stmt)]


def events_about(app, tenant: TenantInfo, subject_id) -> list[EventRow]:
    """The timeline events whose subject is ``subject_id``, oldest first."""
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(TimelineEvent).where(TimelineEvent.subject_id == subject_id)
        return [EventRow(e.id, e.kind, e.title, e.body, e.subject_id, e.private_to_id, e.occurred_at)
                for e in db.session.scalars(stmt.order_by(TimelineEvent.occurred_at, TimelineEvent.id))]


def count_events(app, tenant: TenantInfo, **where) -> int:
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(func.count()).select_from(TimelineEvent)
        for name, value in where.items():
            stmt = stmt.where(getattr(TimelineEvent, name) == value)
        return db.session.scalar(stmt)


def versions_of(app, tenant: TenantInfo, note_id) -> list[str]:
    """The earlier texts of a note, oldest first."""
    with app.app_context(), tenant_context(tenant.id):
        return list(db.session.scalars(select(NoteVersion.body).where(NoteVersion.note_id == note_id)
                                       .order_by(NoteVersion.edited_at, NoteVersion.id)))


# --- pages ---

def event_ids(page: str) -> list[uuid.UUID]:
    """The timeline events on a page or fragment, in document order."""
    return [uuid.UUID(i) for i in EVENT_ID.findall(page)]


def day_headers(page: str) -> list[str]:
    return [html.unescape(h) for h in DAY_HEADER.findall(page)]


def older_link(page: str) -> str | None:
    """The URL of the "older events" row, if the page has one."""
    match = LOAD_MORE.search(page)
    return html.unescape(match.group(1)) if match else None


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, f"no input {name!r} on the page"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


def textarea_text(page: str, name: str = "body") -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(?:\r?\n)?(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {name!r} on the page"
    return html.unescape(match.group(1)).replace("\r\n", "\n")
