"""Security tests driven by the access spec (tests/access_spec.py): route inventory, cross-tenant
probes, the role matrix, mass assignment, CSRF and safe methods, headers and cookies, malformed
input and stored XSS (QUALITY T1–T4, T10–T12, T27).

The two-tenant world (tests/security/world.py) is seeded once per module through the domain
functions; every test gets a fresh copy of its rows (the autouse cleanup empties the tables after
each test) and talks to the real app and database. "The database did not change" is a diff of
every row of every table, read by the superuser so that row-level security hides nothing.
"""
import io
import json
import re
import uuid
from urllib.parse import unquote

import pytest
from markupsafe import escape
from sqlalchemy import text
from wtforms.fields.core import UnboundField

from app.admin.roles import get_group, save_group, update_role
from app.admin.services import get_invitation, get_role, update_settings
from app.audit.services import ClientInfo
from app.auth.services import update_account
from app.extensions import db
from app.models import Tenant, User
from app.permissions import ALL_RIGHTS, BUILTIN_ROLES, load_viewer
from app.tenancy import tenant_context
from tests.access_spec import (
    ANONYMOUS,
    GROUP_RIGHTS,
    JOINER,
    ROLE_RIGHTS,
    SPEC,
    UNSPECIFIED_ENDPOINTS,
    Ref,
    case_id,
    route_cases,
    tenant_routes,
)
from tests.helpers import text_of
from tests.security.html import TEMPLATES, injected_markup, leaked_internals
from tests.security.payloads import TEMPLATE_RESULTS, XSS_MARKER, XSS_PAYLOADS
from tests.security.world import A_MEMBERS, Actor, build_world, diff, ids_of_tenant, outside, restore, snapshot

ALL_CASES = route_cases()
GET_CASES = route_cases(methods=("GET",))
POST_CASES = route_cases(methods=("POST",))
TENANT_CASES = route_cases(tenant_routes())
LOGIN_CASES = [t for t in ALL_CASES if t[0].login]
FORM_CASES = [t for t in POST_CASES if t[1].form_class]
DONE = (200, 302, 303)
HTMX = pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])


@pytest.fixture(scope="module")
def seed(app, cleaner):
    """Build the world once for this module and keep its rows (tests start from a fresh copy)."""
    world = build_world(app)
    state = snapshot(cleaner)
    engine, tables = cleaner
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 (names from our metadata)
    return world, state


@pytest.fixture
def restored(seed, cleaner):
    """The seeded rows, restored into the empty tables of this test: the world and the database state."""
    world, state = seed
    return world, restore(cleaner, state)


@pytest.fixture
def world(restored):
    """Tenants A and B as seeded."""
    return restored[0]


@pytest.fixture
def start(restored):
    """Every row of the database as the test starts (for diffs against the state after a request)."""
    return restored[1]


def signed_in(app, world, key="owner", side="a") -> Actor:
    """A browser carrying the seeded session of ``side``'s member ``key``."""
    return Actor(app).resume(world.sessions[f"{side}.{key}"])


def actor_for(app, world, case) -> Actor:
    """The session that makes ``case``'s valid request: nobody, the invited account, or A's owner."""
    if case.actor == ANONYMOUS:
        return Actor(app)
    return Actor(app).resume(world.sessions["joiner" if case.actor == JOINER else "a.owner"])


def send(actor, world, triple, *, side=None, htmx=False, extra=None, form=None, **kwargs):
    route, case, method = triple
    data = None
    if method == "POST":
        data = {**(world.form(case, side) if form is None else form), **(extra or {})}
    return actor.send(method, world.url(route, case, side), data, htmx=htmx, **kwargs)


def flat(values) -> list[str]:
    out = []
    for value in values:
        out += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return out


def no_data_of(side, state, response, sent=()) -> list[str]:
    """Canaries and ids of ``side`` found in ``response`` (ids the request itself carried excepted)."""
    seen = response.get_data(as_text=True) + "\n" + str(response.headers)
    found = [side.canary] if side.canary in seen else []
    sent_text = " ".join(sent)
    found += sorted(i for i in ids_of_tenant(state, side.id) if i in seen and i not in sent_text)
    return found


def is_page(response) -> bool:
    return "<html" in response.get_data(as_text=True)


def redirect_target(response) -> str:
    return response.headers.get("HX-Redirect") or response.headers.get("Location") or ""


# T1: the spec covers the URL map

def _rules(app):
    return {(r.endpoint, r.rule, frozenset(r.methods - {"HEAD", "OPTIONS"}))
            for r in app.url_map.iter_rules() if r.endpoint not in UNSPECIFIED_ENDPOINTS}


def test_every_route_has_a_spec_row(app):
    missing = _rules(app) - {(r.endpoint, r.rule, r.methods) for r in SPEC}
    assert not missing, f"routes without a row in tests/access_spec.py: {sorted(missing)}"


def test_every_spec_row_has_a_route(app):
    stale = {(r.endpoint, r.rule, r.methods) for r in SPEC} - _rules(app)
    assert not stale, f"spec rows naming no route: {sorted(stale)}"


@pytest.mark.parametrize("route", SPEC, ids=lambda r: r.id)
def test_spec_right_is_the_right_the_view_requires(app, route):
    view = app.view_functions[route.endpoint]
    assert getattr(view, "required_right", None) == route.right
    assert route.tenant == route.rule.startswith("/<tenant_slug>/")


def test_builtin_roles_match_the_spec():
    actual = {key: "*" if set(rights) == set(ALL_RIGHTS) else frozenset(rights)
              for key, (_, _, rights) in BUILTIN_ROLES.items()}
    assert actual == ROLE_RIGHTS


# T1: tenant A's people cannot reach tenant B

def _normalised(response, slug=None) -> str:
    """The body with CSRF tokens (signed with the time) and ``slug`` replaced by placeholders."""
    body = response.get_data(as_text=True)
    body = body.replace(slug, "SLUG") if slug else body
    return re.sub(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}", "TOKEN", body)


@pytest.mark.parametrize("actor_key", ["owner", "sales"])
@pytest.mark.parametrize("triple", TENANT_CASES, ids=case_id)
def test_other_tenant_route_is_not_found(app, world, start, cleaner, triple, actor_key):
    """B's pages and fragments answer A's owner and A's member as an unknown organisation would,
    and B is untouched (but for the refusal in its security log)."""
    actor = signed_in(app, world, actor_key)
    route, case, method = triple
    sent = [world.url(route, case, world.b), *flat(world.form(case, world.b).values())]
    ghost_url = sent[0].replace(f"/{world.b.slug}/", "/no-such-org/", 1)
    for htmx in (False, True):
        response = send(actor, world, triple, side=world.b, htmx=htmx)
        after = snapshot(cleaner)
        assert response.status_code == 404, f"htmx={htmx}"
        assert no_data_of(world.b, start, response, sent) == [], f"htmx={htmx}"
        assert [(c.table, c.kind, c.row["tenant_id"], c.row["kind"]) for c in diff(start, after)] == [
            ("security_event", "+", world.b.id, "access_not_found")], f"htmx={htmx}"
        ghost = actor.send(method, ghost_url, world.form(case, world.b) if method == "POST" else None, htmx=htmx)
        assert _normalised(response, world.b.slug) == _normalised(ghost, "no-such-org"), f"htmx={htmx}"
        start = after


OBJECT_CASES = [t for t in TENANT_CASES if any(isinstance(v, Ref) for v in t[1].args.values())]


@HTMX
@pytest.mark.parametrize("triple", OBJECT_CASES, ids=case_id)
def test_own_route_with_other_tenant_object_is_not_found(app, world, start, cleaner, triple, htmx):
    """A's URLs carrying the id of B's member, role, group or invitation: 404, nothing changes."""
    route, case, method = triple
    actor = signed_in(app, world)
    foreign = {k: world.resolve(v, world.b) for k, v in case.args.items() if isinstance(v, Ref)}
    url = world.url(route, case, world.a, **foreign)
    before = start
    response = actor.send(method, url, world.form(case, world.a) if method == "POST" else None, htmx=htmx)
    assert response.status_code == 404
    assert diff(before, snapshot(cleaner)) == []
    assert no_data_of(world.b, before, response, [url]) == []


def _names_tenant_object(value) -> bool:
    return any(isinstance(v, Ref) and v.kind in ("role", "membership") for v in (value if isinstance(value, list) else [value]))


BODY_ID_CASES = [pytest.param(*t, name, id=f"{case_id(t)} {name}") for t in TENANT_CASES if t[2] == "POST"
                 for name, value in t[1].form.items() if _names_tenant_object(value)]


@pytest.mark.parametrize("route,case,method,field", BODY_ID_CASES)
def test_form_naming_other_tenant_object_is_refused(app, world, start, cleaner, route, case, method, field):
    """A role or member id of B in A's form is not a valid choice: 422, nothing changes."""
    actor = signed_in(app, world)
    form = world.form(case, world.a) | {field: world.resolve(case.form[field], world.b)}
    before = start
    response = actor.post(world.url(route, case, world.a), form)
    assert response.status_code == 422
    assert diff(before, snapshot(cleaner)) == []
    assert no_data_of(world.b, before, response, flat(form.values())) == []


# T2: lists show only the tenant's own rows

PAGE_CASES = [t for t in GET_CASES if t[1].actor != ANONYMOUS]


@pytest.mark.parametrize("triple", PAGE_CASES, ids=case_id)
def test_own_pages_show_nothing_of_another_tenant(app, world, start, triple):
    actor = actor_for(app, world, triple[1])
    state = start
    for htmx in (False, True):
        response = send(actor, world, triple, htmx=htmx)
        assert response.status_code in DONE
        assert no_data_of(world.b, state, response) == [], f"htmx={htmx}"


def _uuids_in(html: str, pattern: str) -> set[str]:
    return set(re.findall(pattern.replace("ID", r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"), html))


def _own(state, world, table, **where) -> set[str]:
    rows = state[table].values()
    return {str(r["id"]) for r in rows if r["tenant_id"] == world.a.id and all(r[k] == v for k, v in where.items())}


def test_member_list_shows_exactly_own_members(app, world, start):
    page = signed_in(app, world).get(f"/{world.a.slug}/admin/members").get_data(as_text=True)
    assert _uuids_in(page, r'id="member-ID"') == _own(start, world, "membership")


def test_invitation_list_shows_exactly_own_open_invitations(app, world, start):
    page = signed_in(app, world).get(f"/{world.a.slug}/admin/members").get_data(as_text=True)
    assert _uuids_in(page, r"/invitations/ID/revoke") == _own(start, world, "invitation")


def test_role_choices_offer_exactly_own_roles(app, world, start):
    page = signed_in(app, world).get(f"/{world.a.slug}/admin/members").get_data(as_text=True)
    assert _uuids_in(page, r'<option value="ID"') == _own(start, world, "role")


def test_role_and_group_lists_show_exactly_own_ones(app, world, start):
    page = signed_in(app, world).get(f"/{world.a.slug}/admin/roles").get_data(as_text=True)
    owner_role = {str(world.a.roles["owner"])}
    assert _uuids_in(page, r"/roles/ID/edit") == _own(start, world, "role") - owner_role
    assert _uuids_in(page, r"/groups/ID/edit") == _own(start, world, "user_group")


def test_group_form_offers_exactly_own_active_members(app, world, start):
    actor = signed_in(app, world)
    page = actor.get(f"/{world.a.slug}/admin/groups/{world.a.group_id}/edit").get_data(as_text=True)
    assert _uuids_in(page, r'name="members"[^>]*value="ID"') == _own(start, world, "membership", active=True)


def test_security_log_shows_exactly_own_events(app, world, start):
    actor = signed_in(app, world)
    page = actor.get(f"/{world.a.slug}/admin/security-log").get_data(as_text=True)
    rows = re.findall(r"<time datetime=", page)
    assert len(rows) == len(_own(start, world, "security_event"))
    assert world.a.canary in page and world.b.canary not in page


def test_organisation_switcher_lists_exactly_own_organisations(app, world):
    actor = signed_in(app, world)
    for url in ("/orgs", f"/{world.a.slug}/"):
        page = actor.get(url).get_data(as_text=True)
        links = set(re.findall(r'href="/([a-z0-9-]+)/"', page))
        assert links == {world.a.slug}, url


def test_dashboard_counts_only_own_members_and_invitations(app, world, start):
    page = signed_in(app, world).get(f"/{world.a.slug}/").get_data(as_text=True)
    stats = [int(n) for n in re.findall(r'<p class="stat">(\d+)</p>', page)]
    assert stats == [len(_own(start, world, "membership", active=True)), len(_own(start, world, "invitation"))]


# T3: the role matrix

MATRIX_ACTORS = [k for k in A_MEMBERS if k != "target"]


def _rights(actor_key) -> set[str]:
    if actor_key == "former":
        return set()
    rights = ROLE_RIGHTS[A_MEMBERS[actor_key]]
    rights = set(ALL_RIGHTS) if rights == "*" else set(rights)
    return rights | set(GROUP_RIGHTS) if actor_key == "grouped" else rights


@pytest.mark.parametrize("triple", TENANT_CASES, ids=case_id)
@pytest.mark.parametrize("actor_key", MATRIX_ACTORS)
def test_role_matrix(app, world, start, cleaner, actor_key, triple):
    """Each member gets exactly what their role (and groups) allow; a refusal is a 403 and one event."""
    route, case, method = triple
    allowed = actor_key != "former" and (route.right is None or route.right in _rights(actor_key))
    actor = signed_in(app, world, actor_key)
    before = start
    response = send(actor, world, triple)
    changes = diff(before, snapshot(cleaner))
    if allowed:
        assert response.status_code in DONE, f"{actor_key} refused: {response.status_code}"
        assert outside(changes, case.writes if method == "POST" else {}) == []
    else:
        assert response.status_code == 403, f"{actor_key} allowed: {response.status_code}"
        assert [(c.table, c.kind, c.row["kind"]) for c in changes] == [("security_event", "+", "access_denied")]
        event = changes[0].row
        assert (event["tenant_id"], event["user_id"]) == (world.a.id, world.a.users[actor_key].id)
        assert event["detail"]["path"] == world.url(route, case).split("?")[0]
        assert event["detail"].get("right", "") == ("" if actor_key == "former" else route.right)


@pytest.mark.parametrize("triple", LOGIN_CASES, ids=case_id)
def test_anonymous_is_sent_to_sign_in(app, world, start, cleaner, triple):
    path = world.url(*triple[:2]).split("?")[0]
    before = start
    for htmx in (False, True):
        response = send(Actor(app), world, triple, htmx=htmx)
        assert response.status_code == (200 if htmx else 302), f"htmx={htmx}"
        assert unquote(redirect_target(response)) == f"/auth/login?next={path}", f"htmx={htmx}"
    assert diff(before, snapshot(cleaner)) == []


# T4: trusted fields cannot be set from the request body

def _injected(world, case) -> dict:
    values = {
        "tenant_id": str(world.b.id), "tenant": str(world.b.id), "tenant_slug": world.b.slug,
        "owner_id": str(world.outsider.id), "user_id": str(world.outsider.id), "created_by": str(world.outsider.id),
        "invited_by_id": str(world.outsider.id), "membership_id": str(world.b.memberships["target"]),
        "role": "owner", "role_id": str(world.a.roles["owner"]), "key": "owner", "is_admin": "true", "is_owner": "true",
        "active": "false", "id": str(uuid.UUID(int=0xBAD)), "email": f"hijack.{world.fresh}@example.com",
        "slug": f"hijack-{world.fresh}", "rights": "admin.users", "version": "999", "password_hash": "hijacked",
        "expires_at": "2999-01-01", "deactivated_at": "2001-01-01",
    }
    return {k: v for k, v in values.items() if k not in case.form}


def _matches(actual, expected) -> bool:
    return str(actual) == expected if isinstance(expected, str) else actual == expected


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_extra_fields_change_nothing_beyond_the_form(app, world, start, cleaner, triple):
    route, case, method = triple
    actor = actor_for(app, world, case)
    extra = _injected(world, case)
    before = start
    response = send(actor, world, triple, extra=extra)
    changes = diff(before, snapshot(cleaner))
    assert response.status_code in DONE
    assert changes or not case.writes, "the valid request changed nothing"
    assert outside(changes, case.writes) == []
    markers = {v for k, v in extra.items() if k not in ("role", "key", "is_admin", "is_owner", "active", "rights",
                                                         "role_id", "version")}
    for change in changes:
        if change.kind == "-":
            continue
        written = json.dumps({c: change.row[c] for c in (change.columns or change.row)}, default=str)
        assert not [m for m in markers if m in written], f"{change.table} took a value from the body: {written}"
        for column, expected in case.pinned.get(change.table, {}).items():
            assert _matches(change.row[column], world.resolve(expected)), f"{change.table}.{column} = {change.row[column]}"


# T12: CSRF and safe methods

@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_unsafe_request_without_token_is_refused(app, world, start, cleaner, triple):
    actor = actor_for(app, world, triple[1])
    actor.csrf()  # the session has a token; the request does not send it
    before = start
    response = send(actor, world, triple, csrf=False)
    assert response.status_code == 400
    assert diff(before, snapshot(cleaner)) == []


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_unsafe_request_with_another_sessions_token_is_refused(app, world, start, cleaner, triple):
    actor = actor_for(app, world, triple[1])
    actor.csrf()
    stolen = signed_in(app, world, "admin").csrf()
    before = start
    response = send(actor, world, triple, csrf=False, extra={"csrf_token": stolen})
    assert response.status_code == 400
    header = send(actor, world, triple, csrf=False, headers={"X-CSRFToken": stolen, "HX-Request": "true"})
    assert header.status_code == 400
    assert diff(before, snapshot(cleaner)) == []


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_htmx_request_with_header_token_is_accepted(app, world, start, cleaner, triple):
    actor = actor_for(app, world, triple[1])
    before = start
    response = send(actor, world, triple, htmx=True)
    changes = diff(before, snapshot(cleaner))
    assert response.status_code in DONE
    assert changes or not triple[1].writes, "the request was accepted but changed nothing"
    assert outside(changes, triple[1].writes) == []


@pytest.mark.parametrize("triple", GET_CASES, ids=case_id)
def test_get_changes_no_row(app, world, start, cleaner, triple):
    actor = actor_for(app, world, triple[1])
    before = start
    statuses = [send(actor, world, triple, htmx=htmx).status_code for htmx in (False, True)]
    assert diff(before, snapshot(cleaner)) == []
    assert all(s < 400 for s in statuses), statuses


# T11: security headers and cookies

def security_header_problems(response, *, private: bool) -> list[str]:
    headers, problems = response.headers, []
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    hsts = re.search(r"max-age=(\d+)", headers.get("Strict-Transport-Security", ""))
    if not hsts or int(hsts.group(1)) < 31536000:
        problems.append("HSTS missing or shorter than a year")
    if response.mimetype == "text/html":
        csp = {d.split()[0]: d.split()[1:] for d in headers.get("Content-Security-Policy", "").split(";") if d.strip()}
        if not csp:
            problems.append("HTML without a CSP")
        if any("'unsafe-eval'" in v or "'unsafe-inline'" in v for k, v in csp.items() if k in ("script-src", "default-src")):
            problems.append("CSP allows eval or inline script")
        if csp.get("frame-ancestors") != ["'none'"]:
            problems.append("CSP frame-ancestors is not 'none'")
    if private and "no-store" not in headers.get("Cache-Control", ""):
        problems.append("signed-in page without Cache-Control: no-store")
    return problems


@HTMX
@pytest.mark.parametrize("triple", ALL_CASES, ids=case_id)
def test_responses_carry_security_headers(app, world, triple, htmx):
    """Pages, fragments, redirects and JSON: nosniff and HSTS; HTML has a strict CSP; signed-in pages no-store."""
    route, case, method = triple
    response = send(actor_for(app, world, case), world, triple, htmx=htmx)
    assert response.status_code in DONE
    assert security_header_problems(response, private=route.login) == []


@pytest.mark.parametrize("triple", GET_CASES, ids=case_id)
def test_htmx_get_answers_a_fragment_of_its_page_where_the_spec_says(app, world, triple):
    """Keeps the spec's ``fragment`` flags true; a fragment is markup of its page, byte for byte, so
    checking the page also checks the fragment (the XSS test relies on both)."""
    actor = actor_for(app, world, triple[1])
    page, fragment = (send(actor, world, triple, htmx=htmx) for htmx in (False, True))
    assert fragment.status_code in DONE
    if fragment.mimetype == "text/html" and fragment.status_code == 200:
        assert is_page(fragment) != triple[1].fragment
        assert _normalised(fragment) in _normalised(page)


def _error(app, world, kind, htmx):
    owner = signed_in(app, world)
    slug = world.a.slug
    requests = {
        "400 csrf": lambda: owner.send("POST", f"/{slug}/admin/settings", {"name": "x"}, csrf=False, htmx=htmx),
        "403": lambda: signed_in(app, world, "readonly").get(f"/{slug}/admin/members", htmx=htmx),
        "404 page": lambda: owner.get(f"/{slug}/no-such-page", htmx=htmx),
        "404 other tenant": lambda: owner.get(f"/{world.b.slug}/", htmx=htmx),
        "404 anonymous": lambda: Actor(app).get("/no-such-org/admin/members", htmx=htmx),
        "404 bad link": lambda: Actor(app).get("/auth/reset/not-a-token", htmx=htmx),
        "405": lambda: owner.send("PUT", f"/{slug}/admin/settings", htmx=htmx),
        "413": lambda: owner.post(f"/{slug}/admin/settings", {"name": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)},
                                  htmx=htmx),
    }
    return requests[kind]()


ERROR_KINDS = ["400 csrf", "403", "404 page", "404 other tenant", "404 anonymous", "404 bad link", "405", "413"]


@HTMX
@pytest.mark.parametrize("kind", ERROR_KINDS)
def test_error_responses_carry_security_headers(app, world, kind, htmx):
    response = _error(app, world, kind, htmx)
    assert str(response.status_code) == kind.split()[0]
    assert security_header_problems(response, private=kind not in ("404 anonymous", "404 bad link")) == []


@pytest.mark.parametrize("kind", ERROR_KINDS)
def test_error_responses_vary_on_hx_request(app, world, kind):
    """Errors are a full page, or a fragment for htmx's error region: caches must keep them apart."""
    page, fragment = _error(app, world, kind, False), _error(app, world, kind, True)
    assert is_page(page) and (kind == "404 bad link" or not is_page(fragment))  # e-mailed links are never htmx
    assert "HX-Request" in page.headers.get("Vary", "") and "HX-Request" in fragment.headers.get("Vary", "")


VARY_CASES = [(t, "actor") for t in GET_CASES] + [(t, "anonymous") for t in GET_CASES if t[0].login]


@pytest.mark.parametrize("triple,who", VARY_CASES, ids=lambda v: case_id(v) if isinstance(v, tuple) else v)
def test_responses_that_differ_for_htmx_vary_on_hx_request(app, world, triple, who):
    actor = Actor(app) if who == "anonymous" else actor_for(app, world, triple[1])
    page, fragment = (send(actor, world, triple, htmx=htmx) for htmx in (False, True))
    shape = lambda r: (r.status_code, is_page(r), redirect_target(r))  # noqa: E731
    if shape(page) != shape(fragment):
        assert "HX-Request" in page.headers.get("Vary", ""), f"page {shape(page)} does not vary"
        assert "HX-Request" in fragment.headers.get("Vary", ""), f"fragment {shape(fragment)} does not vary"


def _cookie(response, name) -> dict:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            parts = [p.strip() for p in header.split(";")]
            return {p.split("=")[0].lower(): (p.split("=", 1)[1] if "=" in p else True) for p in parts[1:]}
    raise AssertionError(f"no {name} cookie set")


@pytest.mark.parametrize("moment", ["first visit", "sign-in"])
def test_session_cookie_is_host_only_secure_httponly_lax(app, world, moment):
    name = app.config["SESSION_COOKIE_NAME"]
    actor = Actor(app)
    response = actor.client.get("/auth/login") if moment == "first visit" else \
        actor.post("/auth/login", {"email": world.a.users["owner"].email, "password": world.resolve(Ref("password"))})
    attributes = _cookie(response, name)
    assert name.startswith("__Host-")
    assert attributes.get("secure") and attributes.get("httponly")
    assert attributes.get("samesite") == "Lax" and attributes.get("path") == "/" and "domain" not in attributes


# T27: malformed input answers 4xx, never a trace

BAD_UUIDS = ["not-a-uuid", "0", "1%20OR%201=1", "%27--", "..%2F..%2Fetc%2Fpasswd", "x" * 300, "%00", "%FF%FE",
             "%7B%7B7*7%7D%7D", "00000000-0000-0000-0000-000000000000"]
BAD_TOKENS = ["garbage", "a.b.c", "x" * 3000, "%00", "%FF%FE", "..%2F..%2Fetc%2Fpasswd"]
BAD_VALUES = {"action": ["delete", "DEACTIVATE", "%00"], "token": BAD_TOKENS}
PATH_ARGS = [pytest.param(*t, arg, id=f"{case_id(t)} {arg}") for t in ALL_CASES for arg in t[1].args]


@pytest.mark.parametrize("route,case,method,arg", PATH_ARGS)
def test_malformed_path_argument_is_not_found(app, world, start, cleaner, route, case, method, arg):
    actor = actor_for(app, world, case)
    purpose = lambda key: key.split("_")[-1]  # noqa: E731 (joiner_invitation is an invitation)
    wrong_purpose = [t for k, t in world.tokens.items() if arg == "token" and purpose(k) != purpose(case.args[arg].key)]
    values = BAD_VALUES.get(arg, BAD_UUIDS) + wrong_purpose
    before = start
    for value in values:
        url = world.url(route, case, **{arg: value})
        response = actor.send(method, url, world.form(case) if method == "POST" else None)
        assert response.status_code == 404, f"{url}: {response.status_code}"
        assert leaked_internals(response.get_data(as_text=True), [value, url]) == []
    assert diff(before, snapshot(cleaner)) == []


BAD_SLUGS = ["NO-SUCH", "%00", "a" * 300, "%FF", "..", "%2e%2e", "org%20name"]


@pytest.mark.parametrize("triple", TENANT_CASES, ids=case_id)
def test_malformed_tenant_slug_is_not_found(app, world, triple):
    actor = signed_in(app, world)
    route, case, method = triple
    for slug in BAD_SLUGS:
        url = world.url(route, case, tenant_slug=slug)
        response = actor.send(method, url, world.form(case) if method == "POST" else None)
        assert response.status_code == 404, f"{url}: {response.status_code}"
        assert leaked_internals(response.get_data(as_text=True), [slug, url]) == []


def _fields(case, kinds) -> list[str]:
    """Names of the fields of ``case``'s form whose class is one of ``kinds``."""
    form = case.form_class
    fields = [(name, getattr(form, name, None)) for name in dir(form)] if form else []
    return [name for name, f in fields if isinstance(f, UnboundField) and f.field_class.__name__ in kinds]


@pytest.mark.parametrize("triple", [t for t in FORM_CASES if _fields(t[1], {"StringField"})], ids=case_id)
def test_huge_text_is_refused_with_the_input_kept(app, world, start, cleaner, triple):
    huge = {name: "y" * 10_000 + name for name in _fields(triple[1], {"StringField"})}
    actor = actor_for(app, world, triple[1])
    before = start
    response = send(actor, world, triple, htmx=True, extra=huge)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert [name for name, value in huge.items() if value not in body] == [], "input not kept"
    assert diff(before, snapshot(cleaner)) == []


@pytest.mark.parametrize("triple", [t for t in FORM_CASES if _fields(t[1], {"SelectField", "MultiCheckboxField"})],
                         ids=case_id)
def test_unknown_choice_is_refused(app, world, start, cleaner, triple):
    actor = actor_for(app, world, triple[1])
    for field in _fields(triple[1], {"SelectField", "MultiCheckboxField"}):
        before = start
        response = send(actor, world, triple, extra={field: "no-such-choice"})
        assert response.status_code == 422, field
        assert diff(before, snapshot(cleaner)) == [], field


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_missing_fields_are_refused_or_harmless(app, world, start, cleaner, triple):
    """An empty form is refused (422, nothing saved), or keeps the stored values (forms bound to a record)."""
    actor = actor_for(app, world, triple[1])
    before = start
    response = send(actor, world, triple, form={})
    changes = diff(before, snapshot(cleaner))
    assert response.status_code in (422, *DONE)
    assert leaked_internals(response.get_data(as_text=True)) == []
    if response.status_code == 422:
        assert changes == []
    else:
        assert outside(changes, triple[1].writes) == []
        blanked = [(c.table, col) for c in changes if c.kind == "~" for col in c.columns if c.row[col] == ""]
        assert blanked == [], "a missing field was saved as empty"


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_duplicate_fields_do_not_break(app, world, triple):
    actor = actor_for(app, world, triple[1])
    form = world.form(triple[1])
    doubled = {k: (v if isinstance(v, list) else [v]) + ["second value"] for k, v in form.items()}
    response = send(actor, world, triple, form=doubled or {"lang": ["a", "b"]})
    assert response.status_code < 500
    assert leaked_internals(response.get_data(as_text=True), flat(doubled.values())) == []


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_non_utf8_body_does_not_break(app, world, cleaner, triple):
    actor = actor_for(app, world, triple[1])
    names = list(world.form(triple[1])) or ["name"]
    for raw in (b"%FF%FE%C0%AF", b"\xff\xfe\xc0\xaf", b"%ED%A0%80"):
        body = b"&".join(name.encode() + b"=" + raw for name in names) + b"&csrf_token=" + actor.csrf().encode()
        before = snapshot(cleaner)
        response = actor.send("POST", world.url(*triple[:2]), body, csrf=False,
                              content_type="application/x-www-form-urlencoded")
        changes = diff(before, snapshot(cleaner))
        assert response.status_code < 500
        assert leaked_internals(response.get_data(as_text=True)) == []
        assert outside(changes, triple[1].writes) == []  # a refused login still counts the attempt


TEXT_CASES = [t for t in FORM_CASES if _fields(t[1], {"StringField", "PasswordField"})]


@pytest.mark.parametrize("triple", TEXT_CASES, ids=case_id)
def test_nul_bytes_are_refused(app, world, start, cleaner, triple):
    """PostgreSQL text cannot hold NUL: a NUL anywhere in a field is refused before it reaches the database."""
    actor = actor_for(app, world, triple[1])
    for name in _fields(triple[1], {"StringField", "PasswordField"}):
        for bad in ("\x00", "a\x00b"):
            before = start
            response = send(actor, world, triple, form=world.form(triple[1]) | {name: bad})
            assert response.status_code in (400, 422), name
            assert leaked_internals(response.get_data(as_text=True), [bad]) == []
            assert diff(before, snapshot(cleaner)) == [], name


@pytest.mark.parametrize("triple", TEXT_CASES, ids=case_id)
def test_control_characters_do_not_break(app, world, triple):
    actor = actor_for(app, world, triple[1])
    names = _fields(triple[1], {"StringField", "PasswordField"})
    for bad in ("\x1b[31mred\x1b[0m", "\r\nX-Injected: 1", "\u202e\u200b\ufeff", "\x7f\x08"):
        form = world.form(triple[1]) | {name: bad for name in names}
        response = send(actor, world, triple, form=form)
        assert response.status_code < 500
        assert leaked_internals(response.get_data(as_text=True), form.values()) == []


@pytest.mark.parametrize("agent", ["a\x00b", "\x1b[2J\x1b[1;1Hforged log line", "x" * 5000], ids=["nul", "ansi", "long"])
def test_hostile_user_agent_is_recorded_safely(app, world, start, cleaner, agent):
    """The user agent lands in the security log (sign-in, refusals): odd values must not break it."""
    before = start
    response = Actor(app, user_agent=agent).post(
        "/auth/login", {"email": world.a.users["owner"].email, "password": world.resolve(Ref("password"))})
    assert response.status_code == 303
    denied = Actor(app, user_agent=agent).resume(world.sessions["a.readonly"]).get(f"/{world.a.slug}/admin/members")
    assert denied.status_code == 403
    agents = [c.row["user_agent"] for c in diff(before, snapshot(cleaner)) if c.table in ("security_event", "auth_session")]
    assert len(agents) == 3
    assert all(a.isprintable() and len(a) <= 255 for a in agents), agents


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_wrong_content_type_does_not_break(app, world, triple):
    actor = actor_for(app, world, triple[1])
    url = world.url(*triple[:2])
    for kwargs in ({"json": world.form(triple[1])}, {"data": b"<xml/>", "content_type": "application/xml"},
                   {"data": {"file": (io.BytesIO(b"x"), "x.txt")}, "content_type": "multipart/form-data"}):
        response = actor.send("POST", url, headers={"X-CSRFToken": actor.csrf()}, csrf=False, **kwargs)
        assert response.status_code < 500
        assert leaked_internals(response.get_data(as_text=True)) == []


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_oversize_body_is_refused_with_a_message(app, world, start, cleaner, triple):
    actor = actor_for(app, world, triple[1])
    before = start
    response = send(actor, world, triple, extra={"padding": "z" * app.config["MAX_CONTENT_LENGTH"]})
    assert response.status_code == 413
    assert "Too large" in text_of(response.get_data(as_text=True))
    assert diff(before, snapshot(cleaner)) == []


BAD_QUERY = ["", "%00", "x" * 10_000, "%FF%FE", "'%20OR%201=1--", "0001-01-01", "9999-12-31", "2020-13-45", "-1",
             "1e309", "%5B%5D", "2020-01-01T00:00:00%2B14:00_" + str(uuid.uuid4()), "9999-12-31T23:59:59_x",
             "0001-01-01T00:00:00%2B14:00_" + str(uuid.uuid4()), "2020-01-01_" + str(uuid.uuid4()), "//evil.example",
             "javascript:alert(1)", "/%5Cevil.example"]
QUERY_CASES = [pytest.param(t[0], t[1], param, id=f"{case_id(t)} ?{param}") for t in GET_CASES
               for param in t[0].query_params]


@pytest.mark.parametrize("route,case,param", QUERY_CASES)
def test_malformed_query_parameter_does_not_break(app, world, start, cleaner, route, case, param):
    actor = actor_for(app, world, case)
    before = start
    for value in BAD_QUERY:
        url = world.url(route, case).split("?")[0] + f"?{param}={value}"
        response = actor.get(url)
        assert response.status_code < 500, url
        assert leaked_internals(response.get_data(as_text=True), [value, url]) == [], url
    assert diff(before, snapshot(cleaner)) == []


@pytest.mark.parametrize("route", SPEC, ids=lambda r: r.id)
def test_unsupported_methods_are_refused(app, world, route):
    actor = actor_for(app, world, route.cases[0])
    url = world.url(route, route.cases[0])
    for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - route.methods):
        response = actor.send(method, url)
        if response.status_code == 308:  # GET /lang is the tenant home "/<slug>/" of a reserved, absent slug
            assert response.headers["Location"].endswith(url + "/") and actor.get(url + "/").status_code == 404
            continue
        assert response.status_code == 405, method
        assert security_header_problems(response, private=False) == []
        assert set(response.headers["Allow"].replace(" ", "").split(",")) >= route.methods


# T10: stored XSS

def _store_everywhere(app, world, payload) -> None:
    """Write ``payload`` into every user-writable field of A, through the domain functions the forms call."""
    a = world.a
    client = ClientInfo(ip="192.0.2.40", user_agent=payload)
    with app.app_context(), tenant_context(a.id):
        for key in ("owner", "target"):
            update_account(db.session.get(User, a.users[key].id), name=payload, locale="en", timezone="Europe/Paris")
        viewer = load_viewer(a.users["owner"].id)
        update_settings(viewer, db.session.get(Tenant, a.id), payload, "en", "Europe/Paris", client)
        update_role(viewer, get_role(a.roles["custom"]), payload, payload, ["thirdparty.read"], client)
        save_group(viewer, get_group(a.group_id), name=payload, description=payload, rights=["thirdparty.read"],
                   member_ids=[a.memberships["target"], a.memberships["grouped"]], client=client)
        get_invitation(a.invitation_id).role_id = a.roles["custom"]  # its page names the role
        db.session.commit()


def _xss_problems(app, label, response, payload) -> list[str]:
    body, stored = response.get_data(as_text=True), payload.strip()
    problems = [f"{label}: {p}" for p in injected_markup(body, XSS_MARKER)]
    if set(stored) & set("<>\"'&") and (stored in body or stored.lower() in body):
        problems.append(f"{label}: the raw payload is in the page")
    if any(r in body for r in TEMPLATE_RESULTS) or app.config["SECRET_KEY"] in body or "class &#39;object" in body:
        problems.append(f"{label}: a template expression was evaluated")
    return problems


@pytest.mark.parametrize("payload", XSS_PAYLOADS, ids=[f"p{i}" for i in range(len(XSS_PAYLOADS))])
def test_stored_payload_is_shown_as_text(app, world, mail_server, payload):
    """The payload in every writable field comes back as text on every signed-in page (and so in
    their fragments), in htmx form answers (kept input, flash messages, member rows) and on the
    invitation pages."""
    _store_everywhere(app, world, payload)
    a, owner = world.a, signed_in(app, world)
    base = f"/{a.slug}/admin"
    answers = {
        "invitation": owner.post(f"{base}/invitations", {"email": payload, "role_id": str(a.roles["custom"])}, htmx=True),
        "settings kept": owner.post(f"{base}/settings", {"name": payload, "locale": "en", "timezone": "Nowhere"},
                                    htmx=True),
        "role kept": owner.post(f"{base}/roles/new", {"name": payload, "description": payload, "rights": ["nope"]},
                                htmx=True),
        "member row": owner.post(f"{base}/members/{a.memberships['target']}/role", {"role_id": str(a.roles["custom"])},
                                 htmx=True),
        "invitation page": Actor(app).get(f"/auth/invite/{world.tokens['invitation']}"),
    }
    if payload.endswith("@example.com"):
        assert answers["invitation"].status_code == 200, "a valid e-mail address was refused"
        link = mail_server.messages[-1].get_body(("plain",)).get_content()
        answers["invited page"] = Actor(app).get(re.search(r"/auth/invite/[\w.\-]+", link).group(0))
    for route, case, _ in GET_CASES:
        if route.login:  # the htmx fragments of these pages are part of them, byte for byte (test above)
            answers[f"GET {route.rule}"] = owner.get(world.url(route, case))
    answers["deactivate"] = owner.post(f"{base}/members/{a.memberships['target']}/deactivate", htmx=True)
    answers["flash"] = owner.get(f"{base}/members")
    assert payload.strip() in text_of(answers["GET /<tenant_slug>/"].get_data(as_text=True))
    assert all(r.status_code in (*DONE, 422) for r in answers.values())
    assert [p for label, r in answers.items() for p in _xss_problems(app, label, r, payload)] == []


def test_templates_escape_every_value():
    """Autoescaping covers only ``*.html`` (STYLE.md); nothing is marked safe; attributes are quoted."""
    problems = []
    for path in TEMPLATES.rglob("*"):
        if path.is_file():
            source = path.read_text()
            if path.suffix not in (".html", ".txt"):
                problems.append(f"{path.name}: not autoescaped")
            problems += [f"{path.name}: {m}" for m in re.findall(r"\|\s*safe\b|autoescape\s+false|[\w-]+=\{[{%]", source)]
    assert problems == []


XSS_CONTEXTS = ('<p>PAY</p>', '<input value="PAY">', "<input value='PAY'>", "<input value=PAY>", '<a href="PAY">x</a>')


def test_xss_check_sees_every_payload_left_unescaped():
    """The page check is not vacuous: each payload, pasted raw where templates put data, is caught."""
    page = "<!doctype html><html><body>{}</body></html>"
    missed = [p for p in XSS_PAYLOADS
              if not any(injected_markup(page.format(c.replace("PAY", p)), XSS_MARKER) for c in XSS_CONTEXTS)]
    assert missed == []


def test_xss_check_accepts_every_payload_escaped():
    page = "<!doctype html><html><body>{}</body></html>"
    quoted = XSS_CONTEXTS[:3]  # our templates quote every attribute
    flagged = [p for p in XSS_PAYLOADS for c in quoted
               if injected_markup(page.format(c.replace("PAY", str(escape(p)))), XSS_MARKER)]
    assert flagged == []


def test_xss_corpus_is_large_and_fits_the_fields():
    assert len(XSS_PAYLOADS) >= 40
    assert [p for p in XSS_PAYLOADS if len(p) > 80 or not XSS_MARKER.search(p)] == []
    assert len({XSS_MARKER.search(p).group(0) for p in XSS_PAYLOADS}) == len(XSS_PAYLOADS), "markers are unique"


def test_security_log_details_are_shown_as_text(app, world):
    """Event details come from many places (e-mails, role names, user agents): all are escaped."""
    payload = "<img src=x onerror=alert('xss!99')>"
    owner = Actor(app, user_agent=payload).login(world.a.users["owner"].email)
    owner.post(f"/{world.a.slug}/admin/roles/new", {"name": payload, "description": "", "rights": []})
    for htmx in (False, True):
        body = owner.get(f"/{world.a.slug}/admin/security-log", htmx=htmx).get_data(as_text=True)
        assert str(escape(payload)) in body
        assert injected_markup(body, XSS_MARKER) == []
