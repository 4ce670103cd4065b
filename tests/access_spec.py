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

from app.admin.forms import GroupForm, InviteForm, MemberRoleForm, RoleForm, SettingsForm
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


GROUP, INVITATION = Ref("group"), Ref("invitation")
PASSWORD, NEW_PASSWORD = Ref("password"), Ref("new_password")
FRESH_EMAIL, FRESH_SLUG, PENDING_SLUG = Ref("fresh_email"), Ref("fresh_slug"), Ref("pending_slug")

# Actors of a valid call: a member of the tenant holding the right (A's owner unless a test says
# otherwise), nobody, A's owner on an account page, or a signed-in person invited to A.
MEMBER, ANONYMOUS, USER, JOINER = "member", "anonymous", "user", "joiner"
INSERT, DELETE = "+", "-"
EVENT = {"security_event": {INSERT}}


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

SPEC = (
    # Tenant pages: membership needed; a right where named.
    _tenant("dashboard.index", "/", ["GET"], None),
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

    # Public pages and accounts.
    _global("public.index", "/", ["GET"]),
    _global("public.health", "/health", ["GET"]),
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
)

# Endpoints served by Flask itself, outside the spec.
UNSPECIFIED_ENDPOINTS = frozenset({"static"})

# The rights of each built-in role as the product defines them, written out here on purpose: a change
# to app/permissions.py must be made in both places (test_builtin_roles_match_the_spec).
_READS = ("thirdparty.read", "thirdparty.read_all", "quote.read", "order.read", "invoice.read", "payment.read",
          "contract.read", "document.read", "agenda.read", "agenda.read_all", "ticket.read", "project.read",
          "mail.read", "report.read", "audit.read")
ROLE_RIGHTS = {
    "owner": "*",
    "admin": "*",
    "sales": frozenset({
        "thirdparty.read", "thirdparty.create", "thirdparty.update", "contact.create", "contact.update", "note.create",
        "quote.read", "quote.create", "quote.validate", "order.read", "order.create", "invoice.read", "payment.read",
        "contract.read", "contract.create", "document.read", "document.upload", "document.download", "agenda.read",
        "agenda.create", "ticket.read", "project.read", "mail.read", "mail.send", "report.read"}),
    "support": frozenset({
        "thirdparty.read", "thirdparty.read_all", "contact.create", "contact.update", "note.create", "document.read",
        "document.upload", "document.download", "agenda.read", "agenda.create", "ticket.read", "ticket.create",
        "project.read", "mail.read", "mail.send", "order.read", "contract.read"}),
    "accounting": frozenset({
        "thirdparty.read", "thirdparty.read_all", "thirdparty.update", "note.create", "quote.read", "order.read",
        "invoice.read", "invoice.create", "invoice.validate", "payment.read", "payment.create", "contract.read",
        "contract.create", "document.read", "document.download", "report.read", "export.run"}),
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
