"""The access spec: one row per URL rule of the app, the single source the security tests iterate.

Each row says who may call the route (login, tenant membership, the right it needs) and how to
make one valid request to it (``Case``: URL arguments, query, form body, the actor, and which
tables and columns that request may change). Values are references into the seeded test world
(``Ref``), resolved against tenant A, or tenant B for cross-tenant probes. A test builds the
route list from ``app.url_map`` and fails when a rule has no row or a row no rule (QUALITY T1),
so adding a route without saying who may call it fails the suite.
"""
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from app.admin.catalog_forms import CustomFieldForm, NumberingForm, TagForm
from app.admin.forms import GroupForm, InviteForm, MemberRoleForm, RoleForm, SettingsForm
from app.agenda.forms import InteractionForm, PlanEditForm, PlanForm, ReminderSettingsForm
from app.auth.forms import (
    AccountForm,
    ChangePasswordForm,
    ConfirmSlugForm,
    ForgotPasswordForm,
    JoinForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
)
from app.auth.twofactor_forms import DisableForm, RegenerateCodesForm, SetupForm, SignInCodeForm
from app.contacts.forms import ContactForm
from app.documents.forms import DocumentForm, UploadForm
from app.forms import SavedViewForm
from app.sales.forms import HeaderForm, LineForm, PaymentForm, ProductForm, RefuseForm, ShipmentForm
from app.thirdparties.forms import BulkForm, ThirdPartyForm
from app.timeline.forms import NoteEditForm, NoteForm


class Ref(NamedTuple):
    """A value taken from the seeded world: ``kind`` and ``key`` (see ``tests/security/world.py``)."""

    kind: str
    key: str = ""


def member(key):
    return Ref("membership", key)


def role(key):
    return Ref("role", key)


def email(key):
    return Ref("email", key)


def token(kind):
    return Ref("token", kind)


def user(key):
    return Ref("user", key)


def thirdparty(key=""):
    return Ref("thirdparty", key)


def contact(key=""):
    return Ref("contact", key)


def note(key=""):
    return Ref("note", key)


def document(key=""):
    return Ref("document", key)


def docversion(key=""):
    return Ref("docversion", key)


def activity(key=""):
    return Ref("activity", key)


def custom_field(key):
    return Ref("field", key)


def sales(kind, key=""):
    """A seeded product, quote or invoice ("draft" or validated), or the line of one (key: its kind, "_validated")."""
    return Ref(kind, key)


GROUP, INVITATION, TAG = Ref("group"), Ref("invitation"), Ref("tag")
PASSWORD, NEW_PASSWORD = Ref("password"), Ref("new_password")
FRESH_EMAIL, FRESH_SLUG, PENDING_SLUG = Ref("fresh_email"), Ref("fresh_slug"), Ref("pending_slug")

# Actors of a valid call: a member of the tenant holding the right (A's owner unless a test says
# otherwise), nobody, A's owner on an account page, or a signed-in person invited to A.
MEMBER, ANONYMOUS, USER, JOINER = "member", "anonymous", "user", "joiner"
# Two-factor sign-in: A's "target" member has it on (tests/security/world.py), signed in, or at the code step of a
# sign-in (the password passed, no session yet). ``Ref("totp", key)`` is the current code of "target" or of "setup",
# the secret A's owner is setting up (sealed in ``token("two_factor_setup")``).
SECOND_FACTOR, AT_SECOND_FACTOR = "second_factor", "at_second_factor"
INSERT, DELETE = "+", "-"
EVENT = {"security_event": {INSERT}}
TWO_FACTOR_GONE = {"two_factor": {DELETE}, "recovery_code": {DELETE}, "remembered_device": {DELETE}}
# Every change of an audited row appends to the tenant's hash chain: entries, and the head's new end.
AUDIT = {"audit_entry": {INSERT}, "audit_head": {"last_seq", "last_hash", "head_mac"}}
TIMELINE = {"timeline_event": {INSERT}}
# "Only mine": a member without this right finds only the customers they are a sales rep of; the
# seeded customer's rep is A's "target" member, so A's sales member (not its rep) gets 404 on it.
ONLY_MINE = "thirdparty.read_all"
# A download or preview is recorded (history, timeline, audit log) before the file is sent: the one
# kind of GET that writes, and only these rows.
ACCESS_RECORDED = {"document_access": {INSERT}, "timeline_event": {INSERT}, "audit_entry": {INSERT},
                   "audit_head": {"last_seq", "last_hash", "head_mac"}}
PRIVATE = "note.read_private"  # the seeded private note (written by A's owner) is found only with it


@dataclass(frozen=True)
class Case:
    """One valid request to a route; ``writes`` bounds what its POST may change (table → columns, + insert, - delete)."""

    name: str = "valid"
    args: Mapping[str, object] = field(default_factory=dict)
    query: Mapping[str, object] = field(default_factory=dict)
    form: Mapping[str, object] = field(default_factory=dict)
    actor: str = MEMBER
    form_class: type | None = None
    writes: Mapping[str, set] = field(default_factory=dict)
    pinned: Mapping[str, Mapping[str, object]] = field(default_factory=dict)  # table → column values every written row must have
    fragment: bool = False  # its htmx GET answers a fragment (a named block of the page), not the whole page
    # The object is not found (404, nothing logged) by a member lacking any of these rights, whatever
    # the route's right: customers of other reps ("only mine") and other people's private notes.
    hidden_without: tuple = ()
    author_or: str | None = None  # a right the view also needs unless the actor wrote the object (403 and an event)
    refused: int = 422  # how a refused submission answers: 422 (the form again) or 303 (back with a message)
    ignored: tuple = ()  # fields of form_class this case never reads from the body (the stored record decides, or another action)


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    methods: frozenset
    login: bool
    tenant: bool
    right: str | None = None
    cases: tuple = (Case(),)
    query_params: tuple = ()  # query parameters the view reads (fuzzed by T27)

    @property
    def id(self) -> str:
        return f"{self.endpoint}:{self.rule}"


def _tenant(endpoint, rule, methods, right, *cases, **kw):
    return Route(f"tenant.{endpoint}", "/<tenant_slug>" + rule, frozenset(methods), True, True, right,
                 tuple(cases) or (Case(),), **kw)


def _global(endpoint, rule, methods, *cases, login=False, **kw):
    return Route(endpoint, rule, frozenset(methods), login, False, None, tuple(cases) or (Case(actor=ANONYMOUS),), **kw)


RIGHTS_FORM = ["thirdparty.read", "agenda.read"]
BY_OWNER = {"timeline_event": {"actor_id": user("owner")}, "audit_entry": {"actor_id": user("owner")}}
EPOCH_CURSOR = "2000-01-01T00:00:00_00000000-0000-0000-0000-000000000000"  # a stream cursor before every event
# The third-party form as a browser sends it: one address, phone and e-mail row, a tag, a rep, custom fields.
TP_FORM = {
    "name": "Newco", "is_customer": "y", "is_supplier": "y", "vat_number": "FR 40 303 265 045",
    "website": "https://newco.example", "description": "Met at the fair", "addresses-0-label": "Head office",
    "addresses-0-street": "2 rue Neuve", "addresses-0-postcode": "75002", "addresses-0-city": "Paris",
    "addresses-0-country": "FR", "phones-0-label": "Desk", "phones-0-value": "+33 1 40 00 00 00",
    "emails-0-label": "Accounts", "emails-0-value": "accounts@newco.example", "tag_ids": [TAG],
    "rep_ids": [member("target")], "cf_sector": "Retail", "cf_stage": Ref("choice", "won"),
}
TP_CREATED = {"thirdparty": {INSERT}, "address": {INSERT}, "channel": {INSERT}, "sales_rep": {INSERT},
              "thirdparty_tag": {INSERT}, "counter": {"next_value"}, **TIMELINE, **AUDIT}
TP_UPDATED = {"thirdparty": {"name", "is_supplier", "vat_number", "website", "description", "custom", "search_text",
                             "updated_at", "version"},
              "address": {INSERT, DELETE}, "channel": {INSERT, DELETE}, **TIMELINE, **AUDIT}
CONTACT_FORM = {
    "first_name": "Ada", "last_name": "Lovelace", "job_title": "Engineer", "preferred_language": "fr",
    "preferred_channel": "email", "consent_email": "y", "description": "Prefers mornings",
    "phones-0-label": "Mobile", "phones-0-value": "+33 6 12 34 56 78", "emails-0-label": "Work",
    "emails-0-value": "ada@newco.example", "cf_hobby": "Chess",
}
CONTACT_UPDATED = {"contact": {"first_name", "last_name", "job_title", "preferred_language", "preferred_channel",
                               "consent_email", "consent_updated_at", "description", "custom", "search_text",
                               "updated_at", "version"},
                   "channel": {INSERT, DELETE}, **TIMELINE, **AUDIT}

SPEC = (
    # Tenant pages: membership needed; a right where named.
    _tenant("dashboard.index", "/", ["GET"], None),
    # The global search: any member; each kind read with its provider's right ("only mine", private notes).
    _tenant("search.index", "/search/", ["GET"], None, Case(fragment=True, query={"q": "cnry"}),
            query_params=("q", "kind", "page")),
    _tenant("search.suggest", "/search/suggest", ["GET"], None, Case(fragment=True, query={"q": "cnry"}),
            query_params=("q",)),
    _tenant("admin.members", "/admin/members", ["GET"], "admin.users"),
    _tenant("admin.change_role", "/admin/members/<uuid:membership_id>/role", ["POST"], "admin.users", Case(
        args={"membership_id": member("target")}, form={"role_id": role("support")}, form_class=MemberRoleForm,
        writes={"membership": {"role_id"}, **EVENT}, pinned={"membership": {"role_id": role("support")}})),
    _tenant("admin.set_active", "/admin/members/<uuid:membership_id>/<any(deactivate, reactivate):action>", ["POST"],
            "admin.users",
            Case("deactivate", args={"membership_id": member("target"), "action": "deactivate"},
                 writes={"membership": {"active", "deactivated_at"}, **EVENT}, pinned={"membership": {"active": False}}),
            Case("reactivate", args={"membership_id": member("former"), "action": "reactivate"},
                 writes={"membership": {"active", "deactivated_at"}, **EVENT}, pinned={"membership": {"active": True}})),
    _tenant("admin.reset_two_factor", "/admin/members/<uuid:membership_id>/two-factor/reset", ["POST"], "admin.users", Case(
        args={"membership_id": member("target")}, writes={**TWO_FACTOR_GONE, **EVENT})),
    _tenant("admin.invite", "/admin/invitations", ["POST"], "admin.users", Case(
        form={"email": FRESH_EMAIL, "role_id": role("sales")}, form_class=InviteForm,
        writes={"invitation": {INSERT}, **EVENT}, pinned={"invitation": {"role_id": role("sales"), "accepted_at": None}})),
    _tenant("admin.revoke_invitation", "/admin/invitations/<uuid:invitation_id>/revoke", ["POST"], "admin.users", Case(
        args={"invitation_id": INVITATION}, writes={"invitation": {"revoked_at"}, **EVENT})),
    _tenant("admin.settings", "/admin/settings", ["GET", "POST"], "admin.settings", Case(fragment=True,
        form={"name": "Renamed organisation", "locale": "fr", "timezone": "Europe/Rome"}, form_class=SettingsForm,
        writes={"tenant": {"name", "locale", "timezone"}, **EVENT})),
    _tenant("admin.roles_index", "/admin/roles", ["GET"], "admin.roles"),
    _tenant("admin.edit_role", "/admin/roles/new", ["GET", "POST"], "admin.roles", Case(fragment=True,
        form={"name": "Field agents", "description": "Out and about", "rights": RIGHTS_FORM}, form_class=RoleForm,
        writes={"role": {INSERT}, **EVENT}, pinned={"role": {"key": None, "rights": sorted(RIGHTS_FORM)}})),
    _tenant("admin.edit_role", "/admin/roles/<uuid:role_id>/edit", ["GET", "POST"], "admin.roles", Case(fragment=True,
        args={"role_id": role("custom")}, form={"name": "Renamed role", "description": "Changed", "rights": RIGHTS_FORM},
        form_class=RoleForm, writes={"role": {"name", "description", "rights"}, **EVENT},
        pinned={"role": {"key": None, "rights": sorted(RIGHTS_FORM)}})),
    _tenant("admin.delete_role", "/admin/roles/<uuid:role_id>/delete", ["POST"], "admin.roles", Case(
        args={"role_id": role("custom")}, writes={"role": {DELETE}, **EVENT})),
    _tenant("admin.edit_group", "/admin/groups/new", ["GET", "POST"], "admin.roles", Case(fragment=True,
        form={"name": "Night shift", "description": "After hours", "rights": RIGHTS_FORM, "members": [member("target")]},
        form_class=GroupForm, writes={"user_group": {INSERT}, "group_member": {INSERT}, **EVENT},
        pinned={"user_group": {"rights": sorted(RIGHTS_FORM)}, "group_member": {"membership_id": member("target")}})),
    _tenant("admin.edit_group", "/admin/groups/<uuid:group_id>/edit", ["GET", "POST"], "admin.roles", Case(fragment=True,
        args={"group_id": GROUP},
        form={"name": "Renamed group", "description": "Changed", "rights": RIGHTS_FORM, "members": [member("sales")]},
        form_class=GroupForm, writes={"user_group": {"name", "description", "rights"}, "group_member": {INSERT, DELETE}, **EVENT},
        pinned={"group_member": {"membership_id": member("sales")}})),
    _tenant("admin.delete_group", "/admin/groups/<uuid:group_id>/delete", ["POST"], "admin.roles", Case(
        args={"group_id": GROUP}, writes={"user_group": {DELETE}, "group_member": {DELETE}, **EVENT})),
    _tenant("admin.security_log", "/admin/security-log", ["GET"], "admin.security_log", Case(fragment=True),
            query_params=("kind", "user", "since", "until", "before")),

    # Customer history: third parties, contacts, notes and their live timeline.
    # Saved views are personal: saved and deleted by name among the actor's own (the seeded one is the owner's).
    _tenant("thirdparties.save_view", "/thirdparties/views", ["POST"], "thirdparty.read", Case(
        form={"name": "Quiet customers", "query": "contacted=90&page=3&status=all&evil=1"}, form_class=SavedViewForm,
        writes={"saved_view": {INSERT}},
        pinned={"saved_view": {"user_id": user("owner"), "page": "customers", "query": "contacted=90&status=all"}})),
    _tenant("thirdparties.delete_view", "/thirdparties/views/delete", ["POST"], "thirdparty.read", Case(
        form={"name": "Seeded view"}, writes={"saved_view": {DELETE}})),
    _tenant("thirdparties.index", "/thirdparties/", ["GET"], "thirdparty.read", Case(fragment=True),
            Case("filtered", fragment=True, query={"q": "cnry", "tag": TAG, "rep": member("target"), "status": "all",
                                                   "sort": "-updated", "contacted": "90", "planned": "overdue"}),
            query_params=("q", "kind", "tag", "rep", "status", "sort", "page", "cf_sector", "cf_stage", "cf_headcount", "cf_budget",
                          "contacted", "planned")),
    _tenant("thirdparties.new", "/thirdparties/new", ["GET"], "thirdparty.create"),
    _tenant("thirdparties.create", "/thirdparties/", ["POST"], "thirdparty.create", Case(
        form=TP_FORM, form_class=ThirdPartyForm, writes=TP_CREATED,
        pinned={"thirdparty": {"version": 1, "archived_at": None}, "sales_rep": {"membership_id": member("target")},
                "thirdparty_tag": {"tag_id": TAG}, **BY_OWNER})),
    _tenant("thirdparties.show", "/thirdparties/<uuid:thirdparty_id>", ["GET"], "thirdparty.read", Case(
        fragment=True, args={"thirdparty_id": thirdparty()}, hidden_without=(ONLY_MINE,)),
            query_params=("kind", "person", "since", "until", "text", "before", "day", "panel")),
    _tenant("thirdparties.edit", "/thirdparties/<uuid:thirdparty_id>/edit", ["GET"], "thirdparty.update", Case(
        args={"thirdparty_id": thirdparty()}, hidden_without=(ONLY_MINE,))),
    _tenant("thirdparties.update", "/thirdparties/<uuid:thirdparty_id>/edit", ["POST"], "thirdparty.update", Case(
        args={"thirdparty_id": thirdparty()}, form={**TP_FORM, "name": "Renamed customer", "version": Ref("version", "thirdparty")},
        form_class=ThirdPartyForm, hidden_without=(ONLY_MINE,), writes=TP_UPDATED,
        pinned={"thirdparty": {"code": Ref("code"), "archived_at": None}, **BY_OWNER})),
    _tenant("thirdparties.set_archived", "/thirdparties/<uuid:thirdparty_id>/<any(archive, restore):action>", ["POST"],
            "thirdparty.delete",
            Case("archive", args={"thirdparty_id": thirdparty(), "action": "archive"}, hidden_without=(ONLY_MINE,),
                 writes={"thirdparty": {"archived_at", "updated_at", "version"}, **TIMELINE, **AUDIT}, pinned=BY_OWNER),
            Case("restore", args={"thirdparty_id": thirdparty("archived"), "action": "restore"}, hidden_without=(ONLY_MINE,),
                 writes={"thirdparty": {"archived_at", "updated_at", "version"}, **TIMELINE, **AUDIT},
                 pinned={"thirdparty": {"archived_at": None}, **BY_OWNER})),
    _tenant("thirdparties.bulk_action", "/thirdparties/bulk", ["POST"], "thirdparty.update",
            Case("tag", form={"ids": [thirdparty("own")], "action": "tag", "tag_id": TAG}, form_class=BulkForm, refused=303,
                 ignored=("rep_id",),
                 writes={"thirdparty_tag": {INSERT}, "thirdparty": {"updated_at", "version"}, **TIMELINE, **AUDIT},
                 pinned={"thirdparty_tag": {"tag_id": TAG, "thirdparty_id": thirdparty("own")}, **BY_OWNER}),
            Case("assign", form={"ids": [thirdparty()], "action": "assign", "rep_id": member("sales")}, form_class=BulkForm,
                 refused=303, ignored=("tag_id",),
                 writes={"sales_rep": {INSERT}, "thirdparty": {"updated_at", "version"}, **TIMELINE, **AUDIT},
                 pinned={"sales_rep": {"membership_id": member("sales"), "thirdparty_id": thirdparty()}, **BY_OWNER})),
    _tenant("thirdparties.form_row", "/thirdparties/form-row", ["GET"], "thirdparty.read", Case(
        fragment=True, query={"kind": "phones", "index": 1}), query_params=("kind", "index")),
    _tenant("contacts.index", "/contacts/", ["GET"], "thirdparty.read", Case(fragment=True), query_params=("q", "page")),
    _tenant("contacts.new", "/contacts/new", ["GET"], "contact.create", Case(
        query={"thirdparty": thirdparty()}, hidden_without=(ONLY_MINE,)), query_params=("thirdparty",)),
    _tenant("contacts.create", "/contacts/", ["POST"], "contact.create", Case(
        form={**CONTACT_FORM, "thirdparty_id": thirdparty()}, form_class=ContactForm, hidden_without=(ONLY_MINE,),
        writes={"contact": {INSERT}, "channel": {INSERT}, **TIMELINE, **AUDIT},
        pinned={"contact": {"thirdparty_id": thirdparty(), "archived_at": None, "version": 1}, **BY_OWNER})),
    _tenant("contacts.show", "/contacts/<uuid:contact_id>", ["GET"], "thirdparty.read", Case(
        fragment=True, args={"contact_id": contact()}, hidden_without=(ONLY_MINE,)),
            query_params=("kind", "person", "since", "until", "text", "before", "day")),
    _tenant("contacts.edit", "/contacts/<uuid:contact_id>/edit", ["GET"], "contact.update", Case(
        args={"contact_id": contact()}, hidden_without=(ONLY_MINE,))),
    _tenant("contacts.update", "/contacts/<uuid:contact_id>/edit", ["POST"], "contact.update", Case(
        args={"contact_id": contact()}, form={**CONTACT_FORM, "version": Ref("version", "contact")}, form_class=ContactForm,
        hidden_without=(ONLY_MINE,), writes=CONTACT_UPDATED,
        pinned={"contact": {"thirdparty_id": thirdparty(), "archived_at": None}, **BY_OWNER})),
    _tenant("contacts.move", "/contacts/<uuid:contact_id>/move", ["GET", "POST"], "contact.update", Case(
        fragment=True, args={"contact_id": contact()}, query={"q": "own"}, form={"thirdparty_id": thirdparty("own")},
        hidden_without=(ONLY_MINE,), writes={"contact": {"thirdparty_id", "updated_at", "version"}, **TIMELINE, **AUDIT},
        pinned={"contact": {"thirdparty_id": thirdparty("own")}, **BY_OWNER}), query_params=("q",)),
    _tenant("contacts.set_archived", "/contacts/<uuid:contact_id>/<any(archive, restore):action>", ["POST"],
            "contact.delete",
            Case("archive", args={"contact_id": contact(), "action": "archive"}, hidden_without=(ONLY_MINE,),
                 writes={"contact": {"archived_at", "version"}, **TIMELINE, **AUDIT}, pinned=BY_OWNER),
            Case("restore", args={"contact_id": contact("archived"), "action": "restore"}, hidden_without=(ONLY_MINE,),
                 writes={"contact": {"archived_at", "version"}, **TIMELINE, **AUDIT},
                 pinned={"contact": {"archived_at": None}, **BY_OWNER})),
    _tenant("timeline.create_note", "/timeline/thirdparties/<uuid:thirdparty_id>/notes", ["POST"], "note.create", Case(
        args={"thirdparty_id": thirdparty()}, form={"body": "Called back: all good", "contact_id": contact(),
                                                    "idempotency_key": "security-suite-note"},
        form_class=NoteForm, hidden_without=(ONLY_MINE,), writes={"note": {INSERT}, **TIMELINE, **AUDIT},
        pinned={"note": {"thirdparty_id": thirdparty(), "contact_id": contact(), "author_id": user("owner"),
                         "private": False, "version": 1},
                "timeline_event": {"actor_id": user("owner"), "private_to_id": None, "thirdparty_id": thirdparty()},
                "audit_entry": {"actor_id": user("owner")}})),
    _tenant("timeline.edit_note", "/timeline/notes/<uuid:note_id>/edit", ["GET"], "note.create", Case(
        fragment=True, args={"note_id": note()}, hidden_without=(ONLY_MINE,), author_or="thirdparty.update")),
    _tenant("timeline.update_note", "/timeline/notes/<uuid:note_id>/edit", ["POST"], "note.create", Case(
        args={"note_id": note()}, form={"body": "Edited: call back on Monday", "version": Ref("version", "note")},
        form_class=NoteEditForm, hidden_without=(ONLY_MINE,), author_or="thirdparty.update",
        writes={"note": {"body", "updated_at", "version"}, "note_version": {INSERT}, **TIMELINE, **AUDIT},
        pinned={"note": {"thirdparty_id": thirdparty(), "author_id": user("owner"), "private": False},
                "note_version": {"note_id": note(), "edited_by_id": user("owner")}, **BY_OWNER})),
    _tenant("timeline.pin_note", "/timeline/notes/<uuid:note_id>/<any(pin, unpin):action>", ["POST"], "note.create",
            Case("unpin", args={"note_id": note(), "action": "unpin"}, hidden_without=(ONLY_MINE,),
                 author_or="thirdparty.update", writes={"note": {"pinned", "version"}, **AUDIT},
                 pinned={"note": {"pinned": False}, "audit_entry": {"actor_id": user("owner")}}),
            Case("pin private", args={"note_id": note("private"), "action": "pin"}, hidden_without=(ONLY_MINE, PRIVATE),
                 author_or="thirdparty.update", writes={"note": {"pinned", "version"}, **AUDIT},
                 pinned={"note": {"pinned": True, "private": True}, "audit_entry": {"actor_id": user("owner")}})),
    _tenant("timeline.note_versions", "/timeline/notes/<uuid:note_id>/versions", ["GET"], "thirdparty.read", Case(
        fragment=True, args={"note_id": note()}, hidden_without=(ONLY_MINE,))),
    # Server-sent events: the test client reads a stream to its end, which LIVE_STREAM_SECONDS (shortened by the
    # tests) bounds; ``after`` asks for the whole seeded timeline, so the first events are read and checked too.
    _tenant("timeline.stream", "/timeline/thirdparties/<uuid:thirdparty_id>/stream", ["GET"], "thirdparty.read", Case(
        args={"thirdparty_id": thirdparty()}, query={"after": EPOCH_CURSOR}, hidden_without=(ONLY_MINE,)),
            query_params=("after", "floor")),

    # Documents: a customer's files, the finder, the trash, versions, downloads (which record who took what).
    _tenant("documents.index", "/documents/", ["GET"], "document.read", Case(fragment=True),
            query_params=("q", "customer", "folder", "tag", "type", "uploader", "since", "until", "page", "contact")),
    _tenant("documents.trash", "/documents/trash", ["GET"], "document.delete", Case(fragment=True),  # the finder's filters
            query_params=("q", "customer", "folder", "tag", "type", "uploader", "since", "until", "page", "contact")),
    # Agenda: interactions logged on a customer.
    _tenant("agenda.log", "/agenda/customers/<uuid:thirdparty_id>/log", ["GET"], "agenda.create", Case(
        fragment=True, args={"thirdparty_id": thirdparty()}, query={"contact": contact(), "kind": "meeting"},
        hidden_without=(ONLY_MINE,)), query_params=("contact", "kind", "back")),
    _tenant("agenda.save_log", "/agenda/customers/<uuid:thirdparty_id>/log", ["POST"], "agenda.create", Case(
        args={"thirdparty_id": thirdparty()},
        form={"kind": "call", "direction": "inbound", "when": "2026-01-15T09:30", "duration": "7", "outcome": "Reached",
              "contact_id": contact(), "title": "Asked for a quote", "body": "Wants it by Friday",
              "meeting_mode": "in_person", "location": "", "idempotency_key": "security-suite-call", "others": [contact()],
              "team": [user("sales")], "follow_up": ""},
        form_class=InteractionForm, hidden_without=(ONLY_MINE,),
        writes={"activity": {INSERT}, "activity_assignee": {INSERT}, **TIMELINE, **AUDIT},
        pinned={"activity": {"thirdparty_id": thirdparty(), "contact_id": contact(), "owner_id": user("owner"),
                             "kind": "call", "direction": "inbound"}, **BY_OWNER})),
    # Agenda: planning, the views, an item, done in place, .ics files, each person's calendar feed.
    _tenant("agenda.plan", "/agenda/customers/<uuid:thirdparty_id>/plan", ["GET"], "agenda.create", Case(
        fragment=True, args={"thirdparty_id": thirdparty()}, query={"contact": contact(), "kind": "appointment"},
        hidden_without=(ONLY_MINE,)), query_params=("contact", "kind", "back")),
    _tenant("agenda.save_plan", "/agenda/customers/<uuid:thirdparty_id>/plan", ["POST"], "agenda.create", Case(
        args={"thirdparty_id": thirdparty()},
        form={"kind": "appointment", "title": "Showroom visit", "starts": "2030-02-04T09:30", "ends": "2030-02-04T11:00",
              "all_day": "", "priority": "high", "assignees": [user("owner"), user("sales")], "contact_id": contact(),
              "location": "Via Roma 3", "body": "Bring the samples", "repeat": "weekly", "repeat_count": "3",
              "repeat_until": "", "idempotency_key": "security-suite-plan", "others": [contact()], "reminder": "15"},
        form_class=PlanForm, hidden_without=(ONLY_MINE,),
        writes={"activity": {INSERT}, "activity_assignee": {INSERT}, **TIMELINE, **AUDIT},
        pinned={"activity": {"thirdparty_id": thirdparty(), "contact_id": contact(), "owner_id": user("owner"),
                             "kind": "appointment", "recurrence": "FREQ=WEEKLY;COUNT=3"}, **BY_OWNER})),
    _tenant("agenda.import_ics", "/agenda/customers/<uuid:thirdparty_id>/import", ["POST"], "agenda.create", Case(
        args={"thirdparty_id": thirdparty()}, form={"invitation": Ref("file", "ics")}, hidden_without=(ONLY_MINE,),
        writes={"activity": {INSERT}, "activity_assignee": {INSERT}, **TIMELINE, **AUDIT},
        pinned={"activity": {"thirdparty_id": thirdparty(), "owner_id": user("owner"), "kind": "appointment"},
                "activity_assignee": {"user_id": user("owner")}, **BY_OWNER})),
    _tenant("agenda.index", "/agenda/", ["GET"], "agenda.read", Case(
        fragment=True, query={"view": "list", "date": "2030-01-01", "who": "team", "state": "todo",
                              "customer": thirdparty()}), query_params=("view", "date", "who", "kind", "customer", "state")),
    _tenant("agenda.choose_customer", "/agenda/new/<any(log, plan):what>", ["GET"], "agenda.create", Case(
        fragment=True, args={"what": "plan"}, query={"q": "cnry"}), query_params=("q",)),
    _tenant("agenda.show_item", "/agenda/items/<uuid:activity_id>", ["GET"], "agenda.read", Case(
        args={"activity_id": activity()}, hidden_without=(ONLY_MINE,))),
    _tenant("agenda.set_done", "/agenda/items/<uuid:activity_id>/<any(done, todo):action>", ["POST"], "agenda.create",
            Case("done", args={"activity_id": activity(), "action": "done"}, form={"customer": "1"}, hidden_without=(ONLY_MINE,),
                 writes={"activity": {"done_at", "updated_at", "version"}, **TIMELINE, **AUDIT}, pinned=BY_OWNER)),
    _tenant("agenda.edit_item", "/agenda/items/<uuid:activity_id>/edit", ["GET"], "agenda.create", Case(
        fragment=True, args={"activity_id": activity()}, hidden_without=(ONLY_MINE,))),
    _tenant("agenda.update_item", "/agenda/items/<uuid:activity_id>/edit", ["POST"], "agenda.create", Case(
        args={"activity_id": activity()},
        form={"kind": "task", "title": "Moved to Tuesday", "starts": "2030-01-08T10:00", "ends": "", "all_day": "",
              "priority": "normal", "assignees": [user("owner"), user("sales")], "contact_id": contact(), "others": [],
              "location": "", "body": "Later", "repeat": "", "repeat_count": "", "repeat_until": "", "reminder": "60",
              "version": Ref("version", "activity"), "base": ""},
        form_class=PlanEditForm, hidden_without=(ONLY_MINE,), ignored=("idempotency_key",),
        writes={"activity": {"title", "body", "starts_at", "due_at", "priority", "location", "reminder_minutes", "updated_at",
                             "version"}, "activity_assignee": {INSERT}, **TIMELINE, **AUDIT},
        pinned={"activity": {"title": "Moved to Tuesday", "reminder_minutes": 60}, **BY_OWNER})),
    _tenant("agenda.cancel_item", "/agenda/items/<uuid:activity_id>/cancel", ["POST"], "agenda.create", Case(
        args={"activity_id": activity()}, hidden_without=(ONLY_MINE,),
        writes={"activity": {DELETE}, "activity_assignee": {DELETE}, "reminder": {DELETE}, **TIMELINE, **AUDIT},
        pinned=BY_OWNER)),
    _tenant("agenda.item_ics", "/agenda/items/<uuid:activity_id>.ics", ["GET"], "agenda.read", Case(
        args={"activity_id": activity()}, hidden_without=(ONLY_MINE,))),
    _tenant("agenda.feed", "/agenda/feed", ["GET"], "agenda.read"),
    _tenant("agenda.save_view", "/agenda/views", ["POST"], "agenda.read", Case(
        form={"name": "Team to do", "query": "who=team&state=todo&date=2030-01-01"}, form_class=SavedViewForm,
        writes={"saved_view": {INSERT}},
        pinned={"saved_view": {"user_id": user("owner"), "page": "agenda", "query": "state=todo&who=team"}})),
    _tenant("agenda.delete_view", "/agenda/views/delete", ["POST"], "agenda.read", Case(form={"name": "Seeded view"})),
    _tenant("agenda.new_feed", "/agenda/feed", ["POST"], "agenda.read", Case(
        writes={"calendar_feed": {INSERT, DELETE}}, pinned={"calendar_feed": {"user_id": user("owner")}})),
    _tenant("agenda.revoke_feed", "/agenda/feed/revoke", ["POST"], "agenda.read", Case(writes={"calendar_feed": {DELETE}})),
    _tenant("agenda.save_reminder_settings", "/agenda/reminders/settings", ["POST"], "agenda.read", Case(
        form={"lead": "60", "by_email": ""}, form_class=ReminderSettingsForm,
        writes={"membership": {"reminder_minutes", "reminder_email"}},
        pinned={"membership": {"reminder_minutes": 60, "reminder_email": False}})),
    # Dismisses the actor's own reminders of the item (the seeded one is the owner's).
    _tenant("agenda.dismiss_reminder", "/agenda/items/<uuid:activity_id>/reminders/dismiss", ["POST"], "agenda.read", Case(
        args={"activity_id": activity()}, hidden_without=(ONLY_MINE,), writes={"reminder": {"dismissed_at"}})),
    _tenant("agenda.dismiss_reminders", "/agenda/reminders/dismiss", ["POST"], "agenda.read", Case(
        writes={"reminder": {"dismissed_at"}})),
    _tenant("documents.customer", "/documents/customers/<uuid:thirdparty_id>", ["GET"], "document.read", Case(
        fragment=True, args={"thirdparty_id": thirdparty()}, hidden_without=(ONLY_MINE,)),
            query_params=("q", "folder", "tag", "type", "uploader", "since", "until", "page", "contact")),
    _tenant("documents.upload", "/documents/customers/<uuid:thirdparty_id>", ["POST"], "document.upload", Case(
        args={"thirdparty_id": thirdparty()}, form={"folder": "Scans", "contact_id": contact(), "files": Ref("file", "pdf"),
                                                    "idempotency_key": "security-suite-upload", "about_type": "activity",
                                                    "about_id": activity()},
        form_class=UploadForm, hidden_without=(ONLY_MINE,),
        writes={"document": {INSERT}, "document_version": {INSERT}, **TIMELINE, **AUDIT},
        pinned={"document": {"thirdparty_id": thirdparty(), "contact_id": contact(), "folder": "Scans",
                             "uploaded_by_id": user("owner"), "object_type": "activity", "object_id": activity()},
                **BY_OWNER}),
        Case("attached to an invoice", args={"thirdparty_id": thirdparty()},
             form={"folder": "Invoices", "files": Ref("file", "pdf"), "idempotency_key": "security-suite-upload-invoice",
                   "about_type": "sales_document", "about_id": Ref("invoice")},
             form_class=UploadForm, hidden_without=(ONLY_MINE, "invoice.read"),  # an invoice one may not read is not found
             writes={"document": {INSERT}, "document_version": {INSERT}, **TIMELINE, **AUDIT},
             pinned={"document": {"thirdparty_id": thirdparty(), "object_type": "sales_document", "object_id": Ref("invoice")},
                     **BY_OWNER})),
    _tenant("documents.upload_version", "/documents/<uuid:document_id>/versions", ["POST"], "document.upload", Case(
        args={"document_id": document()}, form={"files": Ref("file", "png"), "idempotency_key": "security-suite-version"},
        form_class=UploadForm, hidden_without=(ONLY_MINE,), ignored=("folder", "contact_id", "about_type", "about_id"),
        writes={"document": {"current_version_id", "version_count", "size", "mime", "updated_at", "version"},
                "document_version": {INSERT}, **TIMELINE, **AUDIT},
        pinned={"document_version": {"document_id": document(), "number": 3, "uploaded_by_id": user("owner")}, **BY_OWNER})),
    _tenant("documents.show", "/documents/<uuid:document_id>", ["GET"], "document.read", Case(
        args={"document_id": document()}, hidden_without=(ONLY_MINE,))),
    _tenant("documents.edit", "/documents/<uuid:document_id>/edit", ["GET"], "document.upload", Case(
        fragment=True, args={"document_id": document()}, hidden_without=(ONLY_MINE,))),
    _tenant("documents.update", "/documents/<uuid:document_id>/edit", ["POST"], "document.upload", Case(
        args={"document_id": document()}, form={"name": "Renamed.pdf", "folder": "Contracts", "description": "Signed copy",
                                                "tag_ids": [TAG], "version": Ref("version", "document")},
        form_class=DocumentForm, hidden_without=(ONLY_MINE,), ignored=("base",),
        writes={"document": {"name", "name_key", "folder", "description", "updated_at", "version"}, "document_tag": {INSERT},
                **TIMELINE, **AUDIT},
        pinned={"document": {"name": "Renamed.pdf", "folder": "Contracts"}, **BY_OWNER})),
    _tenant("documents.move_to_trash", "/documents/<uuid:document_id>/trash", ["POST"], "document.delete", Case(
        args={"document_id": document()}, hidden_without=(ONLY_MINE,),
        writes={"document": {"deleted_at", "deleted_by_id", "version"}, **TIMELINE, **AUDIT}, pinned=BY_OWNER)),
    _tenant("documents.restore", "/documents/<uuid:document_id>/restore", ["POST"], "document.delete", Case(
        args={"document_id": document("trashed")}, hidden_without=(ONLY_MINE,),
        writes={"document": {"deleted_at", "deleted_by_id", "version"}, **TIMELINE, **AUDIT},
        pinned={"document": {"deleted_at": None}, **BY_OWNER})),
    _tenant("documents.download", "/documents/<uuid:document_id>/versions/<uuid:version_id>/download", ["GET"],
            "document.download", Case(args={"document_id": document(), "version_id": docversion()}, hidden_without=(ONLY_MINE,),
                                      writes=ACCESS_RECORDED)),
    _tenant("documents.preview", "/documents/<uuid:document_id>/versions/<uuid:version_id>/preview", ["GET"],
            "document.download", Case(args={"document_id": document(), "version_id": docversion()}, hidden_without=(ONLY_MINE,),
                                      writes=ACCESS_RECORDED)),
    _tenant("documents.thumbnail", "/documents/<uuid:document_id>/versions/<uuid:version_id>/thumbnail", ["GET"],
            "document.read", Case(args={"document_id": document("image"), "version_id": docversion("image")},
                                  hidden_without=(ONLY_MINE,))),

    # Catalog (tags, custom fields, numbering) and the audit log.
    _tenant("admin.catalog", "/admin/catalog", ["GET"], "admin.settings"),
    _tenant("admin.create_tag", "/admin/tags", ["POST"], "admin.settings", Case(
        form={"name": "Key account", "colour": "red"}, form_class=TagForm, writes={"tag": {INSERT}, **AUDIT},
        pinned={"tag": {"name": "Key account", "colour": "red"}, "audit_entry": {"actor_id": user("owner")}})),
    _tenant("admin.delete_tag", "/admin/tags/<uuid:tag_id>/delete", ["POST"], "admin.settings", Case(
        args={"tag_id": TAG}, writes={"tag": {DELETE}, "thirdparty_tag": {DELETE}, "contact_tag": {DELETE}, **AUDIT},
        pinned={"audit_entry": {"actor_id": user("owner")}})),
    _tenant("admin.create_field", "/admin/fields", ["POST"], "admin.settings", Case(
        form={"entity": "contact", "label": "Birthday", "field_type": "date", "choices": "", "show_in_list": "y"},
        form_class=CustomFieldForm, writes={"custom_field": {INSERT}, **AUDIT},
        pinned={"custom_field": {"key": "birthday", "entity": "contact", "field_type": "date"},
                "audit_entry": {"actor_id": user("owner")}})),
    _tenant("admin.edit_field", "/admin/fields/<uuid:field_id>/edit", ["GET", "POST"], "admin.settings", Case(
        fragment=True, args={"field_id": custom_field("sector")},
        form={"label": "Industry", "choices": "", "required": "y", "show_in_list": "y"}, form_class=CustomFieldForm,
        ignored=("entity", "field_type"), writes={"custom_field": {"label", "required", "show_in_list", "choices"}, **AUDIT},
        pinned={"custom_field": {"key": "sector", "entity": "thirdparty", "field_type": "text"},
                "audit_entry": {"actor_id": user("owner")}})),
    _tenant("admin.delete_field", "/admin/fields/<uuid:field_id>/delete", ["POST"], "admin.settings", Case(
        args={"field_id": custom_field("sector")}, writes={"custom_field": {DELETE}, **AUDIT},
        pinned={"audit_entry": {"actor_id": user("owner")}})),
    _tenant("admin.update_numbering", "/admin/numbering", ["POST"], "admin.settings", Case(
        form={"pattern": "NEW-{yyyy}-{n:05}"}, form_class=NumberingForm, writes={"counter": {"pattern"}},
        pinned={"counter": {"pattern": "NEW-{yyyy}-{n:05}", "name": "customer"}})),
    _tenant("admin.audit_log", "/admin/audit", ["GET"], "audit.read", Case(fragment=True),
            query_params=("entity", "record", "user", "since", "until", "before")),
    _tenant("admin.verify_audit", "/admin/audit/verify", ["GET"], "audit.read", Case(fragment=True),  # without htmx: the log too
            query_params=("entity", "record", "user", "since", "until", "before")),

    # Public pages and accounts.
    _global("public.index", "/", ["GET"]),
    _global("public.health", "/health", ["GET"]),
    # A calendar app reads the feed without a session: the token is the key (404 when unknown or revoked).
    _global("calendar.feed", "/calendar/<tenant_slug>/<token>.ics", ["GET"], Case(
        actor=ANONYMOUS, args={"tenant_slug": Ref("slug"), "token": Ref("feed")})),
    _global("public.organisations", "/orgs", ["GET"], Case(actor=USER), login=True),
    _global("public.set_language", "/lang", ["POST"], Case(
        actor=USER, form={"lang": "fr", "next": "/orgs"}, writes={"user_account": {"locale"}})),
    _global("auth.check_inbox", "/auth/check-inbox", ["GET"], query_params=("reason",)),
    _global("auth.signup", "/auth/signup", ["GET", "POST"], Case(fragment=True,
        actor=ANONYMOUS, form_class=SignupForm,
        form={"name": "New Person", "email": FRESH_EMAIL, "password": NEW_PASSWORD, "org_name": "New organisation",
              "slug": FRESH_SLUG},
        writes={"pending_signup": {INSERT}, "rate_limit_hit": {INSERT}})),
    _global("auth.slug_check", "/auth/signup/slug", ["GET"], Case(fragment=True, actor=ANONYMOUS, query={"slug": FRESH_SLUG}),
            query_params=("slug",)),
    _global("auth.confirm_signup", "/auth/signup/confirm/<token>", ["GET", "POST"], Case(fragment=True,
        actor=ANONYMOUS, args={"token": token("signup")}, form={"slug": PENDING_SLUG}, form_class=ConfirmSlugForm,
        writes={"user_account": {INSERT}, "tenant": {INSERT}, "role": {INSERT}, "membership": {INSERT},
                "pending_signup": {DELETE}, "auth_session": {INSERT}, "audit_head": {INSERT}, **EVENT},
        pinned={"tenant": {"slug": PENDING_SLUG}})),
    _global("auth.login", "/auth/login", ["GET", "POST"], Case(fragment=True,
        actor=ANONYMOUS, form={"email": email("owner"), "password": PASSWORD}, form_class=LoginForm,
        writes={"login_attempt": {INSERT}, "auth_session": {INSERT}, **EVENT}), query_params=("next",)),
    _global("auth.logout", "/auth/logout", ["POST"], Case(actor=USER, writes={"auth_session": {"ended_at"}, **EVENT})),
    _global("auth.forgot_password", "/auth/forgot", ["GET", "POST"], Case(fragment=True,
        actor=ANONYMOUS, form={"email": email("owner")}, form_class=ForgotPasswordForm,
        writes={"rate_limit_hit": {INSERT}, **EVENT})),
    _global("auth.reset_password", "/auth/reset/<token>", ["GET", "POST"], Case(fragment=True,
        actor=ANONYMOUS, args={"token": token("reset")}, form={"password": NEW_PASSWORD}, form_class=ResetPasswordForm,
        writes={"user_account": {"password_hash", "password_changed_at"}, "auth_session": {INSERT, "ended_at"}, **EVENT})),
    _global("auth.accept_invitation", "/auth/invite/<token>", ["GET", "POST"],
            Case("new account", fragment=True, actor=ANONYMOUS, args={"token": token("invitation")}, form_class=JoinForm,
                 form={"name": "Invited Person", "password": NEW_PASSWORD},
                 writes={"user_account": {INSERT}, "auth_session": {INSERT}, "membership": {INSERT},
                         "invitation": {"accepted_at"}, **EVENT},
                 pinned={"membership": {"role_id": role("sales"), "active": True}}),
            Case("signed in", actor=JOINER, args={"token": token("joiner_invitation")},
                 writes={"membership": {INSERT}, "invitation": {"accepted_at"}, **EVENT},
                 pinned={"membership": {"role_id": role("support"), "active": True}})),
    _global("auth.account", "/auth/account", ["GET", "POST"], Case(fragment=True,
        actor=USER, form={"name": "Renamed Person", "locale": "it", "timezone": "Europe/Rome"}, form_class=AccountForm,
        writes={"user_account": {"name", "locale", "timezone"}}), login=True),
    _global("auth.change_password", "/auth/account/password", ["POST"], Case(
        actor=USER, form={"current_password": PASSWORD, "password": NEW_PASSWORD}, form_class=ChangePasswordForm,
        writes={"user_account": {"password_hash", "password_changed_at"}, "auth_session": {"ended_at"},
                "rate_limit_hit": {INSERT}, **EVENT}),
        login=True),
    # Two-factor sign-in: the code step (a wrong code counts as a failed sign-in), setting it up, managing it.
    _global("auth.two_factor", "/auth/two-factor", ["GET", "POST"], Case(fragment=True,
        actor=AT_SECOND_FACTOR, form={"code": Ref("totp", "target"), "remember": "y"}, form_class=SignInCodeForm,
        writes={"two_factor": {"last_used_step"}, "remembered_device": {INSERT}, "auth_session": {INSERT},
                "login_attempt": {INSERT}, **EVENT},
        pinned={"auth_session": {"user_id": user("target")}, "remembered_device": {"user_id": user("target")}})),
    _global("auth.two_factor_settings", "/auth/account/two-factor", ["GET", "POST"], Case(fragment=True,
        actor=USER, form={"setup": token("two_factor_setup"), "code": Ref("totp", "setup")}, form_class=SetupForm,
        writes={"two_factor": {INSERT}, "recovery_code": {INSERT}, **EVENT},
        pinned={"two_factor": {"user_id": user("owner")}}), login=True, query_params=("next",)),
    _global("auth.disable_two_factor", "/auth/account/two-factor/disable", ["POST"], Case(
        actor=SECOND_FACTOR, form={"password": PASSWORD}, form_class=DisableForm,
        writes={**TWO_FACTOR_GONE, "rate_limit_hit": {INSERT}, **EVENT}), login=True),
    _global("auth.recovery_codes", "/auth/account/two-factor/recovery-codes", ["GET", "POST"], Case(fragment=True,
        actor=SECOND_FACTOR, form={"code": Ref("totp", "target")}, form_class=RegenerateCodesForm,
        writes={"recovery_code": {INSERT, DELETE}, "two_factor": {"last_used_step"}, "rate_limit_hit": {INSERT}, **EVENT},
        pinned={"recovery_code": {"user_id": user("target")}}), login=True, query_params=("next",)),
)

# Sales: each book (quotes; invoices with their credit notes) has the same pages, each with that book's rights.
TOTALS = {"total_net", "total_vat", "total_gross", "version"}
LINE = {"product_id": sales("product"), "description": "Two days of training", "quantity": "2", "unit_price": "450.5",
        "discount": "10", "vat_rate": "20"}


def _book(name, kind, read, create, validate):
    draft, line = sales(kind, "draft"), sales("line", kind)
    own = {"quote": {"valid_until": "2031-01-31", "opportunity_id": Ref("opportunity")}, "invoice": {"payment_days": "45"},
           "order": {},
           "contract": {"starts_on": "2030-03-01", "period": "quarterly", "ends_on": "2031-02-28"}}[kind]
    header = {"title": "Spring campaign", "contact_id": contact(), "note": "Thank you", **own}
    ignored = tuple(f for f in ("valid_until", "payment_days", "starts_on", "period", "ends_on", "opportunity_id") if f not in own)
    linked = {"opportunity_id": Ref("opportunity")} if kind == "quote" else {}
    return (
        _tenant(f"sales.{name}_index", f"/sales/{name}/", ["GET"], read, Case(
            fragment=True, query={"q": "cnry", "state": "draft", "customer": thirdparty()}),
            query_params=("q", "state", "customer", "page")),
        _tenant(f"sales.{name}_totals", f"/sales/{name}/totals", ["GET"], read, Case(  # always a fragment of the list
            fragment=True, query={"q": "cnry", "state": "draft", "customer": thirdparty()}),
            query_params=("q", "state", "customer", "page")),
        _tenant(f"sales.{name}_new", f"/sales/{name}/customers/<uuid:thirdparty_id>/new", ["GET"], create, Case(
            fragment=True, args={"thirdparty_id": thirdparty()}, query={"contact": contact(), **({"opportunity": Ref("opportunity")}
                                                                                              if kind == "quote" else {})},
            hidden_without=(ONLY_MINE,)), query_params=("contact", "opportunity")),
        _tenant(f"sales.{name}_create", f"/sales/{name}/customers/<uuid:thirdparty_id>", ["POST"], create, Case(
            args={"thirdparty_id": thirdparty()}, form={**header, "idempotency_key": f"security-suite-{kind}"}, form_class=HeaderForm,
            hidden_without=(ONLY_MINE,), ignored=ignored, writes={"sales_document": {INSERT}, **TIMELINE, **AUDIT},
            pinned={"sales_document": {"thirdparty_id": thirdparty(), "contact_id": contact(), "kind": kind, "status": "draft",
                                       "created_by_id": user("owner"), "title": "Spring campaign", **linked}, **BY_OWNER})),
        _tenant(f"sales.{name}_show", f"/sales/{name}/<uuid:document_id>", ["GET"], read, Case(
            fragment=True, args={"document_id": sales(kind)}, hidden_without=(ONLY_MINE,))),
        _tenant(f"sales.{name}_pdf", f"/sales/{name}/<uuid:document_id>.pdf", ["GET"], read, Case(
            args={"document_id": sales(kind)}, hidden_without=(ONLY_MINE,))),
        _tenant(f"sales.{name}_edit", f"/sales/{name}/<uuid:document_id>/edit", ["GET"], create, Case(
            fragment=True, args={"document_id": draft}, hidden_without=(ONLY_MINE,))),
        _tenant(f"sales.{name}_update", f"/sales/{name}/<uuid:document_id>/edit", ["POST"], create, Case(
            args={"document_id": draft}, form={**{k: v for k, v in header.items() if k != "opportunity_id"},
                                               "version": Ref("version", kind), "base": ""}, form_class=HeaderForm,
            hidden_without=(ONLY_MINE,), ignored=(*ignored, "idempotency_key", "opportunity_id"),
            writes={"sales_document": {"title", "note", *own, "version"} - {"opportunity_id"}, **AUDIT},
            pinned={"sales_document": {"title": "Spring campaign"}, **BY_OWNER})),
        _tenant(f"sales.{name}_delete", f"/sales/{name}/<uuid:document_id>/delete", ["POST"], create, Case(
            args={"document_id": draft}, hidden_without=(ONLY_MINE,),
            writes={"sales_document": {DELETE}, "sales_line": {DELETE}, **AUDIT}, pinned=BY_OWNER)),
        _tenant(f"sales.{name}_add_line", f"/sales/{name}/<uuid:document_id>/lines", ["POST"], create, Case(
            args={"document_id": draft}, form=LINE, form_class=LineForm, hidden_without=(ONLY_MINE,),
            writes={"sales_line": {INSERT}, "sales_document": TOTALS, **AUDIT},
            pinned={"sales_line": {"document_id": draft, "product_id": sales("product"), "description": "Two days of training"},
                    **BY_OWNER})),
        _tenant(f"sales.{name}_edit_line", f"/sales/{name}/<uuid:document_id>/lines/<uuid:line_id>", ["GET"], create, Case(
            fragment=True, args={"document_id": draft, "line_id": line}, hidden_without=(ONLY_MINE,))),
        _tenant(f"sales.{name}_update_line", f"/sales/{name}/<uuid:document_id>/lines/<uuid:line_id>", ["POST"], create, Case(
            args={"document_id": draft, "line_id": line}, form=LINE, form_class=LineForm, hidden_without=(ONLY_MINE,),
            writes={"sales_line": {"description", "quantity", "unit_price", "discount", "net", "vat"}, "sales_document": TOTALS,
                    **AUDIT}, pinned={"sales_line": {"description": "Two days of training"}, **BY_OWNER})),
        _tenant(f"sales.{name}_delete_line", f"/sales/{name}/<uuid:document_id>/lines/<uuid:line_id>/delete", ["POST"], create,
                Case(args={"document_id": draft, "line_id": line}, hidden_without=(ONLY_MINE,),
                     writes={"sales_line": {DELETE}, "sales_document": TOTALS, **AUDIT}, pinned=BY_OWNER)),
        _tenant(f"sales.{name}_validate", f"/sales/{name}/<uuid:document_id>/validate", ["POST"], validate, Case(
            args={"document_id": draft}, hidden_without=(ONLY_MINE,),
            writes={"sales_document": {"number", "status", "validated_at", "issued_on", "due_on", "next_on", "version"},
                    "counter": {"next_value"}, **TIMELINE, **AUDIT},
            pinned={"sales_document": {"status": "validated"}, **BY_OWNER})),
    )


SALES_SPEC = (
    *_book("quotes", "quote", "quote.read", "quote.create", "quote.validate"),
    *_book("orders", "order", "order.read", "order.create", "order.create"),
    *_book("invoices", "invoice", "invoice.read", "invoice.create", "invoice.validate"),
    *_book("contracts", "contract", "contract.read", "contract.create", "contract.create"),
    _tenant("sales.answer_quote", "/sales/quotes/<uuid:document_id>/<any(send, sign, refuse, reopen):step>", ["POST"],
            "quote.validate",
            Case("sign", args={"document_id": sales("quote"), "step": "sign"}, hidden_without=(ONLY_MINE,),
                 writes={"sales_document": {"status", "signed_at", "version"}, **TIMELINE, **AUDIT},
                 pinned={"sales_document": {"status": "signed"}, **BY_OWNER}),
            Case("refuse", args={"document_id": sales("quote"), "step": "refuse"}, form={"reason": "Too expensive"},
                 form_class=RefuseForm, hidden_without=(ONLY_MINE,),
                 writes={"sales_document": {"status", "refused_at", "refusal_reason", "version"}, **TIMELINE, **AUDIT},
                 pinned={"sales_document": {"status": "refused", "refusal_reason": "Too expensive"}, **BY_OWNER})),
    # One click makes a document from another (its lines copied, the chain linked); renewing invoices a contract's period.
    *(_tenant(f"sales.{endpoint}", rule, ["POST"], right, Case(
        args={"document_id": sales(source)}, form={"idempotency_key": f"security-suite-{endpoint}"}, hidden_without=(ONLY_MINE,),
        writes={"sales_document": {INSERT, *extra}, "sales_line": {INSERT}, **TIMELINE, **AUDIT},
        # Renewing also moves the contract on: only what both rows share is pinned then.
        pinned={"sales_document": {"created_by_id": user("owner")} if extra else {"kind": kind, "status": "draft",
                                                                                  "created_by_id": user("owner")}, **BY_OWNER}))
      for endpoint, rule, right, source, kind, extra in (
          ("order_quote", "/sales/quotes/<uuid:document_id>/order", "order.create", "quote", "order", ()),
          ("invoice_quote", "/sales/quotes/<uuid:document_id>/invoice", "invoice.create", "quote", "invoice", ()),
          ("invoice_order", "/sales/orders/<uuid:document_id>/invoice", "invoice.create", "order", "invoice", ()),
          ("credit_invoice", "/sales/invoices/<uuid:document_id>/credit", "invoice.create", "invoice", "credit_note", ()),
          ("renew_contract", "/sales/contracts/<uuid:document_id>/renew", "contract.create", "contract", "invoice",
           ("next_on", "version")))),
    _tenant("sales.ship", "/sales/orders/<uuid:document_id>/ship", ["GET"], "order.create", Case(
        fragment=True, args={"document_id": sales("order")}, hidden_without=(ONLY_MINE,))),
    _tenant("sales.save_shipment", "/sales/orders/<uuid:document_id>/ship", ["POST"], "order.create", Case(
        args={"document_id": sales("order")}, form={"shipped_on": "2030-01-12", "reference": "Parcel 42",
                                                    "idempotency_key": "security-suite-shipment"},  # no line: all ships
        form_class=ShipmentForm, hidden_without=(ONLY_MINE,),
        writes={"shipment": {INSERT}, "shipment_line": {INSERT}, "sales_document": {"status", "version"}, **TIMELINE, **AUDIT},
        pinned={"shipment": {"order_id": sales("order"), "reference": "Parcel 42", "created_by_id": user("owner")}, **BY_OWNER})),
    _tenant("sales.upcoming_contracts", "/sales/contracts/upcoming", ["GET"], "contract.read"),
    _tenant("sales.sales_metrics", "/sales/metrics", ["GET"], "report.read", Case(fragment=True, query={"months": "6"}),
            query_params=("months",)),
    _tenant("sales.new_payment", "/sales/customers/<uuid:thirdparty_id>/payments/new", ["GET"], "payment.create", Case(
        fragment=True, args={"thirdparty_id": thirdparty()}, hidden_without=(ONLY_MINE,))),
    _tenant("sales.create_payment", "/sales/customers/<uuid:thirdparty_id>/payments", ["POST"], "payment.create", Case(
        args={"thirdparty_id": thirdparty()}, form={"amount": "10.50", "received_on": "2030-01-10", "method": "cheque",
                                                    "reference": "Cheque 1234", "idempotency_key": "security-suite-payment"},
        form_class=PaymentForm, hidden_without=(ONLY_MINE,),
        writes={"payment": {INSERT}, "payment_share": {INSERT}, "sales_document": {"settled", "version"}, **TIMELINE, **AUDIT},
        pinned={"payment": {"thirdparty_id": thirdparty(), "method": "cheque", "created_by_id": user("owner")},
                "payment_share": {"invoice_id": sales("invoice")}, **BY_OWNER})),
    # The catalogue the lines pick from.
    _tenant("sales.product_index", "/sales/products/", ["GET"], "quote.read", Case(fragment=True, query={"q": "cnry"}),
            query_params=("q", "archived", "page")),
    _tenant("sales.new_product", "/sales/products/new", ["GET"], "quote.create", Case(fragment=True)),
    _tenant("sales.create_product", "/sales/products/", ["POST"], "quote.create", Case(
        form={"ref": "TRAIN-2D", "label": "Two-day training", "description": "On site", "is_service": "y",
              "unit_price": "900", "vat_rate": "20", "unit": "session"}, form_class=ProductForm,
        writes={"product": {INSERT}, **AUDIT}, pinned={"product": {"ref": "TRAIN-2D", "is_service": True}, **BY_OWNER})),
    _tenant("sales.edit_product", "/sales/products/<uuid:product_id>/edit", ["GET"], "quote.create", Case(
        fragment=True, args={"product_id": sales("product")})),
    _tenant("sales.update_product", "/sales/products/<uuid:product_id>/edit", ["POST"], "quote.create", Case(
        args={"product_id": sales("product")},
        form={"ref": "TRAIN-2D", "label": "Two-day training", "description": "On site", "is_service": "y",
              "unit_price": "900", "vat_rate": "20", "unit": "session", "version": Ref("version", "product")},
        form_class=ProductForm,
        writes={"product": {"ref", "label", "description", "is_service", "unit_price", "unit", "version"}, **AUDIT},
        pinned={"product": {"ref": "TRAIN-2D"}, **BY_OWNER})),
    _tenant("sales.archive_product", "/sales/products/<uuid:product_id>/<any(archive, restore):action>", ["POST"], "quote.create",
            Case(args={"product_id": sales("product"), "action": "archive"},
                 writes={"product": {"archived_at", "version"}, **AUDIT}, pinned=BY_OWNER)),
)

SPEC = (*SPEC, *SALES_SPEC)

# The pipeline's rows live with its tests; they build on the helpers above, hence the late import.
from tests.pipeline.spec import PIPELINE_SPEC  # noqa: E402

SPEC = (*SPEC, *PIPELINE_SPEC)

from tests.sso.spec import SSO_SPEC  # noqa: E402 (single sign-on's rows, tests/sso/spec.py)

SPEC = (*SPEC, *SSO_SPEC)

# Endpoints served by Flask itself, outside the spec.
UNSPECIFIED_ENDPOINTS = frozenset({"static"})

# The rights of each built-in role as the product defines them, written out here on purpose: a change to the core's
# or a domain's defaults (app/permissions.py, Domain.role_rights) must be made in both places
# (test_builtin_roles_match_the_spec). Tickets, projects, e-mail, exports and GDPR bring their rights with them.
_READS = ("thirdparty.read", "thirdparty.read_all", "quote.read", "order.read", "invoice.read", "payment.read",
          "contract.read", "document.read", "agenda.read", "agenda.read_all", "report.read", "audit.read")
ROLE_RIGHTS = {
    "owner": "*",
    "admin": "*",
    "sales": frozenset({
        "thirdparty.read", "thirdparty.create", "thirdparty.update", "contact.create", "contact.update", "note.create",
        "quote.read", "quote.create", "quote.validate", "order.read", "order.create", "invoice.read", "payment.read",
        "contract.read", "contract.create", "document.read", "document.upload", "document.download", "agenda.read",
        "agenda.create", "report.read"}),
    "support": frozenset({
        "thirdparty.read", "thirdparty.read_all", "contact.create", "contact.update", "note.create", "document.read",
        "document.upload", "document.download", "agenda.read", "agenda.create", "order.read", "contract.read"}),
    "accounting": frozenset({
        "thirdparty.read", "thirdparty.read_all", "thirdparty.update", "note.create", "quote.read", "order.read",
        "invoice.read", "invoice.create", "invoice.validate", "payment.read", "payment.create", "contract.read",
        "contract.create", "document.read", "document.download", "report.read"}),
    "readonly": frozenset(_READS),
}
# The seeded group gives its members this right (the "grouped" actor: read-only role plus the group).
GROUP_RIGHTS = ("admin.security_log",)


def tenant_routes():
    return [r for r in SPEC if r.tenant]


def route_cases(routes=SPEC, methods=("GET", "POST")):
    """Every (route, case, method) triple of ``routes`` for the given methods, with a readable id."""
    triples = []
    for route in routes:
        for method in sorted(route.methods & set(methods)):
            for case in route.cases:
                triples.append((route, case, method))
    return triples


def case_id(triple) -> str:
    route, case, method = triple
    name = "" if case.name == "valid" else f"[{case.name}]"
    return f"{method} {route.rule}{name}"
