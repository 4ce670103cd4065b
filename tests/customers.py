"""Builders and readers for the customer-history tests (third parties, contacts, their history).

Like ``tests/factories.py`` they go through the domain functions inside
``with app.app_context(), tenant_context(tenant.id):`` and return plain values; readers read the
database back the same way. Also here: a form reader that submits what a browser would, and the
markup check of the XSS tests.
"""
import re
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app import customfields, numbering, tags
from app.audit.chain import clear_actor, set_actor
from app.contacts import services as contact_services
from app.extensions import db
from app.models import (
    Address,
    AuditEntry,
    Channel,
    Contact,
    Counter,
    CustomField,
    Membership,
    SalesRep,
    Tag,
    ThirdParty,
    ThirdPartyTag,
    TimelineEvent,
)
from app.permissions import Viewer, load_viewer
from app.tenancy import tenant_context
from app.thirdparties import services as tp_services
from tests.factories import TenantInfo, UserInfo, make_tenant


@dataclass(frozen=True)
class ThirdPartyInfo:
    id: uuid.UUID
    code: str
    name: str


@dataclass(frozen=True)
class ContactInfo:
    id: uuid.UUID
    name: str
    thirdparty_id: uuid.UUID


@dataclass(frozen=True)
class EventInfo:
    kind: str
    thirdparty_id: uuid.UUID
    contact_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    title: str
    payload: dict


@dataclass(frozen=True)
class AuditInfo:
    action: str
    entity_type: str
    entity_id: uuid.UUID
    actor_id: uuid.UUID | None
    changes: dict


# --- fixtures shared by tests/thirdparties and tests/contacts (re-exported by their conftest) ---

@pytest.fixture
def tenant(app):
    return make_tenant(app, name="Atelier Alpha")


@pytest.fixture
def owner(browser, tenant):
    """The test browser, signed in as the tenant's owner (sees every customer)."""
    browser.login(tenant.owner.email)
    return browser


# --- viewers and scope ---

def viewer_for(app, tenant: TenantInfo, user: UserInfo) -> Viewer:
    """The rights of ``user`` in ``tenant`` (a plain frozen value, usable outside the context)."""
    with app.app_context(), tenant_context(tenant.id):
        viewer = load_viewer(user.id)
    assert viewer is not None, f"{user.email} is not a member of {tenant.slug}"
    return viewer


def membership_of(app, tenant: TenantInfo, user: UserInfo) -> uuid.UUID:
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))


class _acting:
    """App context + tenant scope + audit actor, for builders that write."""

    def __init__(self, app, tenant, user):
        self.app, self.tenant, self.user = app, tenant, user

    def __enter__(self):
        self._app_ctx = self.app.app_context()
        self._app_ctx.push()
        self._scope = tenant_context(self.tenant.id)
        self._scope.__enter__()
        set_actor(self.user.id, "127.0.0.1")
        return load_viewer(self.user.id)

    def __exit__(self, *exc):
        clear_actor()
        try:
            self._scope.__exit__(*exc)
        finally:
            self._app_ctx.pop()


# --- builders ---

def thirdparty_values(name: str, **fields) -> dict:
    """The values ``create_thirdparty`` takes, with defaults (a customer with nothing else)."""
    values = {
        "name": name, "is_customer": True, "is_prospect": False, "is_supplier": False, "vat_number": "", "website": "",
        "description": "", "custom": {}, "addresses": [], "phones": [], "emails": [], "tag_ids": [], "rep_ids": [],
    }
    unknown = set(fields) - set(values)
    assert not unknown, f"unknown third-party fields {unknown}"
    values.update(fields)
    values["tag_ids"] = sorted(str(t) for t in values["tag_ids"])
    values["rep_ids"] = sorted(str(r) for r in values["rep_ids"])
    return values


def make_thirdparty(app, tenant: TenantInfo, name: str = "Dupont SARL", *, reps=(), by: UserInfo | None = None,
                    **fields) -> ThirdPartyInfo:
    """Create a third party through the service, as ``by`` (the owner by default).

    ``reps`` are users (members of ``tenant``) made its sales representatives.
    """
    rep_ids = [membership_of(app, tenant, user) for user in reps]
    with _acting(app, tenant, by or tenant.owner) as viewer:
        tp = tp_services.create_thirdparty(viewer, thirdparty_values(name, rep_ids=rep_ids, **fields))
        return ThirdPartyInfo(tp.id, tp.code, tp.name)


def update_thirdparty(app, tenant: TenantInfo, thirdparty_id, *, by: UserInfo | None = None, **changes) -> dict:
    """Save ``changes`` over the current values through the service (a fresh, non-stale edit)."""
    with _acting(app, tenant, by or tenant.owner) as viewer:
        tp = db.session.scalar(select(ThirdParty).where(ThirdParty.id == thirdparty_id))
        current = tp_services.snapshot(tp)
        return tp_services.update_thirdparty(viewer, tp, {**current, **changes}, version=tp.version, base=current)


def archive_thirdparty(app, tenant: TenantInfo, thirdparty_id, archived: bool = True) -> None:
    with _acting(app, tenant, tenant.owner) as viewer:
        tp = db.session.scalar(select(ThirdParty).where(ThirdParty.id == thirdparty_id))
        tp_services.set_archived(viewer, tp, archived)


def contact_values(last_name: str, **fields) -> dict:
    values = {
        "first_name": "", "last_name": last_name, "job_title": "", "preferred_language": "", "preferred_channel": "any",
        "consent_email": False, "consent_phone": False, "description": "", "custom": {}, "phones": [], "emails": [],
    }
    unknown = set(fields) - set(values)
    assert not unknown, f"unknown contact fields {unknown}"
    values.update(fields)
    return values


def make_contact(app, tenant: TenantInfo, thirdparty_id, last_name: str = "Martin", *, by: UserInfo | None = None,
                 **fields) -> ContactInfo:
    with _acting(app, tenant, by or tenant.owner) as viewer:
        tp = db.session.scalar(select(ThirdParty).where(ThirdParty.id == thirdparty_id))
        contact = contact_services.create_contact(viewer, tp, contact_values(last_name, **fields))
        return ContactInfo(contact.id, contact.full_name, tp.id)


def move_contact(app, tenant: TenantInfo, contact_id, target_id) -> None:
    with _acting(app, tenant, tenant.owner) as viewer:
        contact = db.session.scalar(select(Contact).where(Contact.id == contact_id))
        target = db.session.scalar(select(ThirdParty).where(ThirdParty.id == target_id))
        contact_services.move_contact(viewer, contact, target)


def make_tag(app, tenant: TenantInfo, name: str, colour: str = "blue") -> uuid.UUID:
    with _acting(app, tenant, tenant.owner):
        return tags.save_tag(None, name, colour).id


def make_field(app, tenant: TenantInfo, label: str, field_type: str, *, entity: str = "thirdparty", choices=(),
               required: bool = False, show_in_list: bool = False) -> str:
    """Add a custom field; return its key (the form field is ``cf_<key>``)."""
    with _acting(app, tenant, tenant.owner):
        return customfields.save_field(None, entity=entity, label=label, field_type=field_type, choices=list(choices),
                                       required=required, show_in_list=show_in_list).key


def set_code_pattern(app, tenant: TenantInfo, pattern: str) -> None:
    with _acting(app, tenant, tenant.owner):
        numbering.set_pattern("customer", pattern)


def add_event(app, tenant: TenantInfo, thirdparty_id, kind: str = "thirdparty_updated", **fields) -> None:
    """Record one more timeline event directly (to fill a timeline past one page)."""
    from app.timeline.services import record_event

    with _acting(app, tenant, tenant.owner):
        record_event(thirdparty_id=thirdparty_id, kind=kind, subject_type="thirdparty", subject_id=thirdparty_id,
                     actor_id=tenant.owner.id, **fields)
        db.session.commit()


# --- readers ---

def read_thirdparty(app, tenant: TenantInfo, thirdparty_id) -> dict | None:
    """The stored values of a third party (its snapshot plus code, version and archived flag)."""
    with app.app_context(), tenant_context(tenant.id):
        tp = db.session.scalar(select(ThirdParty).where(ThirdParty.id == thirdparty_id))
        if tp is None:
            return None
        return {**tp_services.snapshot(tp), "code": tp.code, "version": tp.version, "archived": tp.archived_at is not None}


def read_contact(app, tenant: TenantInfo, contact_id) -> dict | None:
    with app.app_context(), tenant_context(tenant.id):
        contact = db.session.scalar(select(Contact).where(Contact.id == contact_id))
        if contact is None:
            return None
        return {**contact_services.snapshot(contact), "thirdparty_id": contact.thirdparty_id, "version": contact.version,
                "archived": contact.archived_at is not None, "consent_updated_at": contact.consent_updated_at}


def all_codes(app, tenant: TenantInfo) -> list[str]:
    with app.app_context(), tenant_context(tenant.id):
        return sorted(db.session.scalars(select(ThirdParty.code)))


def events_of(app, tenant: TenantInfo, *, thirdparty_id=None, contact_id=None, kind: str | None = None) -> list[EventInfo]:
    """Timeline events, oldest first, optionally of one third party, one contact, one kind."""
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(TimelineEvent).order_by(TimelineEvent.occurred_at, TimelineEvent.id)
        if thirdparty_id is not None:
            stmt = stmt.where(TimelineEvent.thirdparty_id == thirdparty_id)
        if contact_id is not None:
            stmt = stmt.where(TimelineEvent.contact_id == contact_id)
        if kind is not None:
            stmt = stmt.where(TimelineEvent.kind == kind)
        return [EventInfo(e.kind, e.thirdparty_id, e.contact_id, e.actor_id, e.title, e.payload)
                for e in db.session.scalars(stmt)]


def audit_of(app, tenant: TenantInfo, *, entity_type: str | None = None, entity_id=None) -> list[AuditInfo]:
    """Audit entries in chain order, optionally of one entity."""
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(AuditEntry).order_by(AuditEntry.seq)
        if entity_type is not None:
            stmt = stmt.where(AuditEntry.entity_type == entity_type)
        if entity_id is not None:
            stmt = stmt.where(AuditEntry.entity_id == entity_id)
        return [AuditInfo(a.action, a.entity_type, a.entity_id, a.actor_id, a.changes) for a in db.session.scalars(stmt)]


_CUSTOMER_MODELS = (ThirdParty, Address, Channel, SalesRep, ThirdPartyTag, Tag, CustomField, Counter, Contact,
                    TimelineEvent, AuditEntry)


def customer_rows(app, tenant: TenantInfo) -> dict[str, list[tuple]]:
    """Every customer-history row of ``tenant``, all columns, in a stable order (to diff before/after)."""
    result = {}
    with app.app_context(), tenant_context(tenant.id):
        for model in _CUSTOMER_MODELS:
            columns = [c.key for c in model.__mapper__.column_attrs]
            rows = db.session.scalars(select(model)).all()
            result[model.__tablename__] = sorted(
                (tuple(repr(getattr(row, c)) for c in columns) for row in rows), key=repr)
    return result


# --- pages ---

class _FormReader(HTMLParser):
    """The fields of one form as a browser would submit them (no submitter button)."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside = form_id, False
        self.found = False
        self.pairs: list[tuple[str, str]] = []
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            self.found = self.found or self.inside
            return
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((name, a.get("value") or "on"))
                return
            self.pairs.append((name, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in a, "options": []}
        elif tag == "option" and self._select is not None:
            self._select["options"].append([a.get("value"), "selected" in a, ""])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data
        elif self._select is not None and self._select["options"]:
            self._select["options"][-1][2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            name, value = self._textarea
            value = value.replace("\r\n", "\n").replace("\r", "\n")
            value = value[1:] if value.startswith("\n") else value  # a newline right after <textarea> is not content
            value = value.replace("\n", "\r\n")  # browsers submit CRLF line breaks
            self.pairs.append((name, value))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            options = [(v if v is not None else text.strip(), sel) for v, sel, text in self._select["options"]]
            chosen = [v for v, sel in options if sel]
            if not chosen and options and not self._select["multiple"]:
                chosen = [options[0][0]]
            self.pairs.extend((self._select["name"], v) for v in (chosen if self._select["multiple"] else chosen[-1:]))
            self._select = None


def form_fields(page: str, form_id: str) -> dict[str, list[str]]:
    """What submitting the form ``form_id`` of ``page`` would send: ``{name: [values]}``."""
    reader = _FormReader(form_id)
    reader.feed(page)
    reader.close()
    assert reader.found, f"no form with id {form_id!r} on the page"
    fields: dict[str, list[str]] = {}
    for name, value in reader.pairs:
        fields.setdefault(name, []).append(value)
    return fields


def submit(browser, url: str, data: dict, *, htmx: bool = False):
    """Post a form read from a page; its own CSRF token also goes in the htmx header (no extra request)."""
    token = (data.get("csrf_token") or [None])[0]
    if token is None:
        return browser.post(url, data, htmx=htmx)
    return browser.client.post(url, data=data, headers={"HX-Request": "true", "X-CSRFToken": token} if htmx else {})


def fragment(client_or_browser, url: str, **kwargs):
    """GET ``url`` as htmx does (``HX-Request: true``)."""
    return client_or_browser.get(url, headers={"HX-Request": "true"}, **kwargs)


def listed_ids(page: str) -> list[str]:
    """The third parties on a list page, in order (the ids of its selection boxes)."""
    return re.findall(r'<input type="checkbox" name="ids" value="([0-9a-f-]+)"', page)


def element_ids(page: str) -> list[str]:
    """The ``id`` attributes on ``page`` in document order."""
    class _Ids(HTMLParser):
        def __init__(self):
            super().__init__()
            self.ids = []

        def handle_starttag(self, tag, attrs):
            self.ids += [v for k, v in attrs if k == "id"]

    parser = _Ids()
    parser.feed(page)
    return parser.ids


def links_to(page: str, path_prefix: str) -> list[str]:
    """Every ``href`` on the page that starts with ``path_prefix``."""
    class _Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs = []

        def handle_starttag(self, tag, attrs):
            self.hrefs += [v for k, v in attrs if k == "href" and v and v.startswith(path_prefix)]

    parser = _Links()
    parser.feed(page)
    return parser.hrefs


class _MarkupAudit(HTMLParser):
    """Collects what user text must never become: scripts, handlers, htmx attributes, script URLs."""

    URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcdoc", "background")

    def __init__(self, marker: str):
        super().__init__(convert_charrefs=True)
        self.marker = marker
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "base", "svg", "math", "img", "style", "meta", "link") \
                and self._mentions(attrs):
            self.problems.append(f"<{tag}> element carrying user text: {attrs}")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                self.problems.append(f"inline or foreign <script>: {attrs}")
            self._in_script = True
        if tag in ("iframe", "object", "embed", "base", "svg", "math", "img", "style") and not self._mentions(attrs) \
                and not self._app_icon(tag, attrs):
            # the app's own pages use none of these but its icons: any of them comes from user text
            self.problems.append(f"unexpected <{tag}> element: {attrs}")
        if tag == "use" and not (dict(attrs).get("href") or "").startswith("/static/vendor/icons.svg#"):
            self.problems.append(f"<use> of something else than the app's icons: {attrs}")
        for name, value in attrs:
            value = value or ""
            if self.marker in name:
                self.problems.append(f"attribute name made from user text: {name}")
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {name}={value!r} on <{tag}>")
            if name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"htmx handler attribute {name}={value!r}")
            if name.startswith(("hx-", "data-hx-", "sse-")) and self.marker in value and name != "hx-confirm":
                self.problems.append(f"htmx attribute {name} carries user text: {value!r}")
            if name in self.URL_ATTRS and value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                self.problems.append(f"script URL in {name} of <{tag}>: {value!r}")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"script content: {data[:80]!r}")

    def _mentions(self, attrs) -> bool:
        return any(self.marker in (v or "") or self.marker in k for k, v in attrs)

    @staticmethod
    def _app_icon(tag, attrs) -> bool:
        """An icon as app/icons.py draws it: <svg class="icon icon-name"> with accessibility attributes only."""
        found = dict(attrs)
        return tag == "svg" and re.fullmatch(r"icon icon-[a-z0-9-]+", found.get("class") or "") is not None \
            and set(found) <= {"class", "aria-hidden", "role", "aria-label", "focusable"}


def markup_problems(page: str, marker: str) -> list[str]:
    """Why ``page`` would run or inject something that came from user text containing ``marker``."""
    audit = _MarkupAudit(marker)
    audit.feed(page)
    audit.close()
    return audit.problems
