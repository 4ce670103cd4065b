"""Security tests driven by the access spec (tests/access_spec.py): route inventory, cross-tenant
probes, the role matrix, mass assignment, CSRF and safe methods, headers and cookies, malformed
input and stored XSS (QUALITY T1–T4, T10–T12, T27).

The two-tenant world (tests/security/world.py) is seeded once per module through the domain
functions, the customer history included (customers, contacts, notes, tags, custom fields, the
timeline and the audit chain). Its rows stay in the database: after each test the clean-up undoes
what the test changed, row by row, so every test starts from the seeded world and talks to the real
app and database. "The database did not change" is a diff of every row of every table, read by the
superuser so that row-level security hides nothing.

Runtime (the whole file runs in every ``make test``): requests are the cost, so tests that would send
the same request share it — one GET crawl checks headers, safe methods, leaks, fragments and Vary;
the role matrix runs every member on a route in one test and also checks the refusals' headers; the
T4 test sends the htmx form (header token) with the trusted fields added. Live streams are read to
their end, which a short ``LIVE_STREAM_SECONDS`` bounds (``STREAM_SECONDS``).
"""
import io
import json
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlencode

import pytest
from markupsafe import escape
from sqlalchemy import text
from wtforms.fields.core import UnboundField

from app import customers, customfields, numbering, tags
from app.admin.roles import get_group, save_group, update_role
from app.admin.services import update_settings
from app.agenda.services import log_interaction, plan
from app.audit.chain import clear_actor, set_actor
from app.audit.services import ClientInfo
from app.auth.services import update_account
from app.bodylimits import FRAMING_BYTES
from app.contacts import services as contact_services
from app.extensions import db
from app.models import Tenant, User, utcnow
from app.permissions import ALL_RIGHTS, BUILTIN_ROLES, load_viewer
from app.saved_views import clean_query, save_view
from app.team import get_invitation, get_role
from app.tenancy import tenant_context
from app.thirdparties import services as tp_services
from app.timeline import notes
from tests.access_spec import (
    ANONYMOUS,
    AT_SECOND_FACTOR,
    GROUP_RIGHTS,
    JOINER,
    ROLE_RIGHTS,
    SECOND_FACTOR,
    SPEC,
    UNSPECIFIED_ENDPOINTS,
    Ref,
    case_id,
    route_cases,
    tenant_routes,
)
from tests.customers import listed_ids
from tests.helpers import text_of
from tests.security.html import TEMPLATES, injected_markup, leaked_internals
from tests.security.payloads import TEMPLATE_RESULTS, XSS_MARKER, XSS_PAYLOADS
from tests.security.world import (
    A_MEMBERS,
    Actor,
    build_world,
    diff,
    ids_of_tenant,
    outside,
    refresh_sessions,
    revert,
    snapshot,
)

ALL_CASES = route_cases()
GET_CASES = route_cases(methods=("GET",))
POST_CASES = route_cases(methods=("POST",))
TENANT_CASES = route_cases(tenant_routes())
LOGIN_CASES = [t for t in ALL_CASES if t[0].login]
FORM_CASES = [t for t in POST_CASES if t[1].form_class]
DONE = (200, 302, 303)
HTMX = pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])


# How long a live timeline stream stays open here (LIVE_STREAM_SECONDS): long enough for its first
# events (the read right after the request), short enough for the hundreds of requests of this file.
# Tests that need those events read with ``stream_window`` (longer) and check they came.
STREAM_SECONDS = 0.05


@pytest.fixture(scope="module", autouse=True)
def short_streams(app):
    """Live streams end after their first events: every test reads them to the end, none stays open."""
    saved = app.config["LIVE_STREAM_SECONDS"]
    app.config["LIVE_STREAM_SECONDS"] = STREAM_SECONDS
    yield
    app.config["LIVE_STREAM_SECONDS"] = saved


@pytest.fixture(scope="module")
def seed(app, cleaner):
    """Build the world once for this module; its rows stay in the database until the module ends."""
    world = build_world(app)
    yield world, snapshot(cleaner)
    engine, tables = cleaner
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 (names from our metadata)


_STARTED: dict = {}  # the state the running test started from, for its clean-up


@pytest.fixture
def restored(seed, cleaner):
    """The seeded world, its sessions starting now: the world and the database state."""
    world, state = seed
    _STARTED["state"] = refresh_sessions(cleaner, state)
    return world, _STARTED["state"]


@pytest.fixture(autouse=True)
def _clean_database(mail_server, cleaner):
    """Replaces the suite's clean-up here: rather than emptying every table (and seeding again), undo
    what the test changed, row by row, so the next test starts from the seeded world."""
    mail_server.messages.clear()
    yield
    state = _STARTED.pop("state", None)
    if state is not None:
        revert(cleaner, state, snapshot(cleaner))


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
    """The session that makes ``case``'s valid request: nobody, the invited account, A's member with two-factor
    sign-in (signed in, or at the code step after the password), or A's owner."""
    if case.actor == ANONYMOUS:
        return Actor(app)
    if case.actor == AT_SECOND_FACTOR:
        return Actor(app).at_second_factor(world.a.users["target"].id)
    return Actor(app).resume(world.sessions[{JOINER: "joiner", SECOND_FACTOR: "a.target"}.get(case.actor, "a.owner")])


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
    seen = response.get_data().decode("utf-8", "replace") + "\n" + str(response.headers)  # files are bytes
    found = [side.canary] if side.canary in seen else []
    sent_text = " ".join(sent)
    found += sorted(i for i in ids_of_tenant(state, side.id) if i in seen and i not in sent_text)
    return found


def is_page(response) -> bool:
    return b"<html" in response.get_data()


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

def _normalised(response, slug=None, url=None) -> str:
    """The body with CSRF tokens (signed with the time), idempotency keys (new for every form shown),
    the request's own ``url`` (pages echo it in the language switch) and ``slug`` replaced by placeholders."""
    body = re.sub(r'(name="idempotency_key" type="hidden" value=")[0-9a-f]+', r"\1KEY", response.get_data(as_text=True))
    if url:
        body = body.replace(str(escape(url)), "URL").replace(url, "URL")
    body = body.replace(slug, "SLUG") if slug else body
    return re.sub(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}", "TOKEN", body)


_GHOSTS: dict = {}  # (actor, method, htmx) -> the normalised answer of an organisation that does not exist


def _ghost(actor, key, method, htmx) -> str:
    """What an unknown organisation answers this member (the same for every path, once the path is masked)."""
    if (key, method, htmx) not in _GHOSTS:
        url = "/no-such-org/thirdparties/00000000-0000-0000-0000-000000000000/edit"
        _GHOSTS[key, method, htmx] = _normalised(actor.send(method, url, {} if method == "POST" else None, htmx=htmx),
                                                 "no-such-org", url)
    return _GHOSTS[key, method, htmx]


@pytest.mark.parametrize("triple", TENANT_CASES, ids=case_id)
def test_other_tenant_route_is_not_found(app, world, start, cleaner, triple):
    """B's pages and fragments answer A's owner and A's sales member as an unknown organisation
    would, and B is untouched (but for one refusal per request in its security log)."""
    route, case, method = triple
    sent = [world.url(route, case, world.b), *flat(world.form(case, world.b).values())]
    expected = []
    for actor_key in ("owner", "sales"):
        actor = signed_in(app, world, actor_key)
        for htmx in (False, True):
            response = send(actor, world, triple, side=world.b, htmx=htmx)
            assert response.status_code == 404, f"{actor_key} htmx={htmx}"
            assert no_data_of(world.b, start, response, sent) == [], f"{actor_key} htmx={htmx}"
            expected.append(("security_event", "+", world.b.id, "access_not_found", world.a.users[actor_key].id))
            assert _normalised(response, world.b.slug, sent[0]) == _ghost(actor, actor_key, method, htmx), \
                f"{actor_key} htmx={htmx}: not the answer of an unknown organisation"
    changes = diff(start, snapshot(cleaner))
    assert sorted((c.table, c.kind, c.row["tenant_id"], c.row["kind"], c.row["user_id"]) for c in changes) == sorted(expected)


OBJECT_CASES = [t for t in TENANT_CASES if any(isinstance(v, Ref) for v in t[1].args.values())]


@pytest.mark.parametrize("triple", OBJECT_CASES, ids=case_id)
def test_own_route_with_other_tenant_object_is_not_found(app, world, start, cleaner, triple):
    """A's URLs carrying the id of B's member, role, group, invitation, customer, contact, note, tag or
    field, as a page and as htmx: 404, nothing changes, nothing of B shows."""
    route, case, method = triple
    actor = signed_in(app, world)
    foreign = {k: world.resolve(v, world.b) for k, v in case.args.items() if isinstance(v, Ref)}
    url = world.url(route, case, world.a, **foreign)
    for htmx in (False, True):
        response = actor.send(method, url, world.form(case, world.a) if method == "POST" else None, htmx=htmx)
        assert response.status_code == 404, f"htmx={htmx}"
        assert no_data_of(world.b, start, response, [url]) == [], f"htmx={htmx}"
    assert diff(start, snapshot(cleaner)) == []


QUERY_OBJECT_CASES = [t for t in TENANT_CASES if any(isinstance(v, Ref) for v in t[1].query.values())]


@pytest.mark.parametrize("triple", QUERY_OBJECT_CASES, ids=case_id)
def test_own_route_with_other_tenant_id_in_query_shows_nothing_of_it(app, world, start, cleaner, triple):
    """B's ids in the query of A's pages (the customer a new contact is for, list filters): not found
    or an empty result, nothing of B, nothing changes."""
    route, case, method = triple
    foreign = {k: world.resolve(v, world.b) if isinstance(v, Ref) else v for k, v in case.query.items()}
    url = world.url(route, replace(case, query=foreign), world.a)
    for htmx in (False, True):
        response = signed_in(app, world).send(method, url, htmx=htmx)
        assert response.status_code in (200, 404), f"htmx={htmx}"  # a filter that matches nothing, or not found
        assert no_data_of(world.b, start, response, [url]) == [], f"htmx={htmx}"
    assert no_data_of(world.b, start, response, [url]) == []
    assert diff(start, snapshot(cleaner)) == []


FOREIGN_KINDS = ("role", "membership", "tag", "thirdparty", "contact", "product", "opportunity", "invoice")


def _foreign_kind(value) -> str | None:
    refs = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, Ref) and v.kind in FOREIGN_KINDS]
    return refs[0].kind if refs else None


BODY_ID_CASES = [pytest.param(*t, name, id=f"{case_id(t)} {name}") for t in TENANT_CASES if t[2] == "POST"
                 for name, value in t[1].form.items() if _foreign_kind(value)]


@pytest.mark.parametrize("route,case,method,field", BODY_ID_CASES)
def test_form_naming_other_tenant_object_is_refused(app, world, start, cleaner, route, case, method, field):
    """An id of B in A's form: a choice (role, member, tag) is not a valid one (422); the record to act
    on (a customer, a contact, an agenda item) is not found (404); bulk actions go back with a message (303). Nothing changes."""
    actor = signed_in(app, world)
    form = world.form(case, world.a) | {field: world.resolve(case.form[field], world.b)}
    response = actor.post(world.url(route, case, world.a), form)
    records = ("thirdparty", "contact", "activity", "opportunity", "invoice")  # the record to act on or link to, not a choice
    expected = case.refused if case.refused != 422 else 404 if _foreign_kind(case.form[field]) in records else 422
    assert response.status_code == expected
    assert diff(start, snapshot(cleaner)) == []
    assert no_data_of(world.b, start, response, flat(form.values())) == []


# T2: lists show only the tenant's own rows

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


def _own_rows(state, world, table, **where) -> list[dict]:
    return [r for r in state[table].values() if r["tenant_id"] == world.a.id and all(r[k] == v for k, v in where.items())]


def test_customer_list_and_search_show_exactly_own_customers(app, world, start):
    """The list (all statuses), a search matching every seeded customer ("cnry" is in both tenants'
    names) and its htmx answer: exactly A's third parties; B's canary finds nothing."""
    owner, slug = signed_in(app, world), world.a.slug
    own = _own(start, world, "thirdparty")
    for url, htmx in ((f"/{slug}/thirdparties/?status=all", False), (f"/{slug}/thirdparties/?q=cnry&status=all", True)):
        page = owner.get(url, htmx=htmx).get_data(as_text=True)
        assert set(listed_ids(page)) == own, url
    found = owner.get(f"/{slug}/thirdparties/?q={world.b.canary}&status=all", htmx=True).get_data(as_text=True)
    assert listed_ids(found) == [] and world.b.canary not in found


def test_only_mine_lists_show_exactly_the_customers_of_the_rep(app, world, start):
    """A sales member (no ``thirdparty.read_all``) sees the customers they are a rep of, and the people
    of those only; the dashboard counts them."""
    sales, slug = signed_in(app, world, "sales"), world.a.slug
    membership = world.a.memberships["sales"]
    mine = {str(r["thirdparty_id"]) for r in _own_rows(start, world, "sales_rep", membership_id=membership)}
    assert mine == {str(world.a.objects[("thirdparty", "own")])}
    page = sales.get(f"/{slug}/thirdparties/?status=all").get_data(as_text=True)
    assert set(listed_ids(page)) == mine and world.a.canary in page
    assert f"Customer {world.a.canary}" not in page
    people = sales.get(f"/{slug}/contacts/?q=cnry").get_data(as_text=True)
    assert _uuids_in(people, r'href="/[\w-]+/contacts/ID"') == set()  # the seeded contacts are the customer's
    dashboard = sales.get(f"/{slug}/").get_data(as_text=True)
    assert re.findall(r'<p class="stat"><a [^>]*>(\d+)</a></p>', dashboard) == [str(len(mine))]
    assert _uuids_in(dashboard, r'href="/[\w-]+/thirdparties/ID"') <= mine


def test_contact_search_shows_exactly_own_active_contacts(app, world, start):
    owner, slug = signed_in(app, world), world.a.slug
    own = _own(start, world, "contact", archived_at=None)
    for htmx in (False, True):
        page = owner.get(f"/{slug}/contacts/?q=cnry", htmx=htmx).get_data(as_text=True)
        assert _uuids_in(page, r'href="/[\w-]+/contacts/ID"') == own
    found = owner.get(f"/{slug}/contacts/?q={world.b.canary}", htmx=True).get_data(as_text=True)
    assert _uuids_in(found, r'href="/[\w-]+/contacts/ID"') == set() and world.b.canary not in found


def test_dashboard_counts_and_activity_are_own(app, world, start):
    """Customers counted, and the recent activity: A's only (archived customers are not counted)."""
    page = signed_in(app, world).get(f"/{world.a.slug}/").get_data(as_text=True)
    customers = re.findall(r'<p class="stat"><a [^>]*>(\d+)</a></p>', page)
    assert customers == [str(len(_own(start, world, "thirdparty", archived_at=None)))]
    linked = _uuids_in(page, r'href="/[\w-]+/thirdparties/ID"')
    assert linked and linked <= _own(start, world, "thirdparty")
    events = len(_own(start, world, "timeline_event"))
    assert len(re.findall(r'<li class="event">', page)) == min(10, events)


def test_audit_log_shows_exactly_own_entries(app, world, start):
    """The newest page of the audit log: A's entries, newest first, and none of B's records."""
    owner = signed_in(app, world)
    seqs = sorted((r["seq"] for r in _own_rows(start, world, "audit_entry")), reverse=True)[:50]
    for htmx in (False, True):
        page = owner.get(f"/{world.a.slug}/admin/audit", htmx=htmx).get_data(as_text=True)
        assert [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", page)] == seqs
        records = _uuids_in(page, r"record=ID")
        assert records and records <= ids_of_tenant(start, world.a.id)
        assert world.b.canary not in page
    verified = owner.get(f"/{world.a.slug}/admin/audit/verify", htmx=True).get_data(as_text=True)
    assert "flash-success" in verified  # A's chain is whole (B's entries are not part of it)


def test_catalog_shows_exactly_own_tags_and_fields(app, world, start):
    page = signed_in(app, world).get(f"/{world.a.slug}/admin/catalog").get_data(as_text=True)
    assert _uuids_in(page, r"/tags/ID/delete") == _own(start, world, "tag")
    assert _uuids_in(page, r"/fields/ID/edit") == _own(start, world, "custom_field")
    assert world.b.canary not in page


def test_customer_form_offers_exactly_own_tags_reps_and_fields(app, world, start):
    page = signed_in(app, world).get(f"/{world.a.slug}/thirdparties/new").get_data(as_text=True)
    assert _uuids_in(page, r'name="tag_ids"[^>]*value="ID"') == _own(start, world, "tag")
    assert _uuids_in(page, r'name="rep_ids"[^>]*value="ID"') == _own(start, world, "membership", active=True)
    assert world.b.canary not in page


def test_private_note_is_shown_to_nobody_else(app, world, start):
    """The owner's private note: members without ``note.read_private`` never see its text, on any page,
    fragment or stream, and its own URLs are not found for them (QUALITY T3, horizontal)."""
    private = str(world.a.objects[("note", "private")])
    for key in ("support", "accounting", "readonly"):  # all customers; and note.create, thirdparty.update, audit.read
        actor = signed_in(app, world, key)
        for route, case, _method in GET_CASES:  # pages (their htmx fragments are part of them: the GET crawl)
            if not route.tenant or (route.right and route.right not in _rights(key)):
                continue
            url = world.url(route, case)
            response = read_stream(actor, url) if "/stream" in url else actor.get(url)
            assert world.a.secret.encode() not in response.get_data(), f"{key}: {url}"
            if "/stream" in url:
                assert "event: timeline" in response.get_data(as_text=True), "the stream sent nothing"
        for path in (f"notes/{private}/versions", f"notes/{private}/edit"):
            assert actor.get(f"/{world.a.slug}/timeline/{path}").status_code in (403, 404), f"{key}: {path}"
    owner_card = signed_in(app, world).get(world.url(*next(t for t in GET_CASES if t[0].endpoint == "tenant.thirdparties.show")[:2]))
    assert world.a.secret in owner_card.get_data(as_text=True)  # the check can see it


def test_stream_sends_only_own_events(app, world, start):
    """The first events of A's customer's live stream: A's, every one (the seeded timeline after the
    cursor), nothing of B."""
    route = next(r for r in SPEC if r.endpoint == "tenant.timeline.stream")
    body = read_stream(signed_in(app, world), world.url(route, route.cases[0])).get_data(as_text=True)
    sent = set(re.findall(r"^id: [^_\n]+_([0-9a-f-]{36})$", body, re.M))
    customer = world.a.objects[("thirdparty", "")]
    assert sent == _own(start, world, "timeline_event", thirdparty_id=customer)
    assert world.b.canary not in body and not [i for i in ids_of_tenant(start, world.b.id) if i in body]


def test_mail_subject_with_line_breaks_stays_one_header(app, world, mail_server):
    """An organisation renamed with a line break (the settings form takes it) still sends invitations,
    and the break cannot add a header (it used to raise: a 500 on every invitation)."""
    owner, slug = signed_in(app, world), world.a.slug
    renamed = owner.post(f"/{slug}/admin/settings", {"name": "Acme\r\nBcc: spy@evil.example\r\n", "locale": "en",
                                                      "timezone": "Europe/Paris"})
    assert renamed.status_code == 303
    invited = owner.post(f"/{slug}/admin/invitations", {"email": f"new.{world.fresh}@example.com",
                                                         "role_id": str(world.a.roles["sales"])})
    assert invited.status_code == 303
    message = mail_server.messages[-1]
    assert message["Bcc"] is None and "\n" not in message["Subject"] and "Acme Bcc: spy@evil.example" in message["Subject"]


# T3: the role matrix

MATRIX_ACTORS = [k for k in A_MEMBERS if k != "target"]


def _rights(actor_key) -> set[str]:
    if actor_key == "former":
        return set()
    rights = ROLE_RIGHTS[A_MEMBERS[actor_key]]
    rights = set(ALL_RIGHTS) if rights == "*" else set(rights)
    return rights | set(GROUP_RIGHTS) if actor_key == "grouped" else rights


def expected_outcome(actor_key, route, case) -> tuple[int, str | None]:
    """What the spec says ``actor_key`` gets: (200, None) allowed; (403, right) refused and logged
    with the right missing ("" for a deactivated member); (404, None) the object is hidden from them."""
    rights = _rights(actor_key)
    if actor_key == "former":
        return 403, ""
    if route.right is not None and route.right not in rights:
        return 403, route.right
    if any(r not in rights for r in case.hidden_without):
        return 404, None
    if case.author_or and actor_key != "owner" and case.author_or not in rights:  # A's owner wrote the seeded notes
        return 403, case.author_or
    return 200, None


@pytest.mark.parametrize("triple", TENANT_CASES, ids=case_id)
def test_role_matrix(app, world, start, cleaner, triple):
    """Each member of A gets exactly what their role (and groups) allow: a refusal is a 403 and one
    event naming the missing right; an object their "only mine" scope (or a private note) hides is a
    404 that changes nothing; an allowed write stays within the spec's writes (then is undone)."""
    route, case, method = triple
    outcomes = {key: expected_outcome(key, route, case) for key in MATRIX_ACTORS}
    path = world.url(route, case).split("?")[0]
    for actor_key in sorted(MATRIX_ACTORS, key=lambda k: outcomes[k][0] != 200):  # allowed ones first
        status, _right = outcomes[actor_key]
        response = send(signed_in(app, world, actor_key), world, triple)
        assert security_header_problems(response, private=True) == [], actor_key
        if status == 200:
            assert response.status_code in DONE, f"{actor_key} refused: {response.status_code}"
            if method == "POST" or _get_writes(route, case):
                after = snapshot(cleaner)
                assert outside(diff(start, after), case.writes) == [], actor_key
                revert(cleaner, start, after)
        else:
            assert response.status_code == status, f"{actor_key}: {response.status_code}, expected {status}"
    events = [(c.table, c.kind, c.row.get("tenant_id"), c.row.get("kind"), c.row.get("user_id"),
               (c.row.get("detail") or {}).get("path"), (c.row.get("detail") or {}).get("right", ""))
              for c in diff(start, snapshot(cleaner))]
    assert sorted(events, key=str) == sorted(
        (("security_event", "+", world.a.id, "access_denied", world.a.users[key].id, path, right)
         for key, (status, right) in outcomes.items() if status == 403), key=str)


@pytest.mark.parametrize("triple", LOGIN_CASES, ids=case_id)
def test_anonymous_is_sent_to_sign_in(app, world, start, cleaner, triple):
    back = world.url(*triple[:2])  # the page to come back to, with its query
    before = start
    responses = [send(Actor(app), world, triple, htmx=htmx) for htmx in (False, True)]
    for htmx, response in zip((False, True), responses, strict=True):
        assert response.status_code == (200 if htmx else 302), f"htmx={htmx}"
        assert unquote(redirect_target(response)) == f"/auth/login?next={back}", f"htmx={htmx}"
        assert security_header_problems(response, private=False) == [], f"htmx={htmx}"
    assert _varies(*responses) == []
    assert diff(before, snapshot(cleaner)) == []


# T4: trusted fields cannot be set from the request body

TRUSTED_FORM_FIELDS = ("version",)  # form fields a create view must not read (a new record starts at version 1)
OFF_SITE = "//evil.example/x"


def _injected(world, case) -> dict:
    """Fields an attacker adds to a valid body: owners, tenants, keys, codes, authors, versions, links to
    other records and off-site return addresses. Those the form itself has are left out (but for
    ``version`` and the form's ignored fields)."""
    b_objects = {kind: str(world.b.objects[(kind, "")]) for kind in ("thirdparty", "contact", "note", "tag")}
    values = {
        "tenant_id": str(world.b.id), "tenant": str(world.b.id), "tenant_slug": world.b.slug,
        "owner_id": str(world.outsider.id), "user_id": str(world.outsider.id), "created_by": str(world.outsider.id),
        "invited_by_id": str(world.outsider.id), "membership_id": str(world.b.memberships["target"]),
        "role": "owner", "role_id": str(world.a.roles["owner"]), "key": "owner", "is_admin": "true", "is_owner": "true",
        "active": "false", "id": str(uuid.UUID(int=0xBAD)), "email": f"hijack.{world.fresh}@example.com",
        "slug": f"hijack-{world.fresh}", "rights": "admin.users", "version": "999", "password_hash": "hijacked",
        "expires_at": "2999-01-01", "deactivated_at": "2001-01-01",
        # The customer history: codes, authors, privacy, the record a note or contact belongs to, field definitions.
        "code": f"HIJACK{world.fresh}", "author_id": str(world.outsider.id), "private_to_id": str(world.outsider.id),
        "actor_id": str(world.outsider.id), "edited_by_id": str(world.outsider.id),
        "thirdparty_id": b_objects["thirdparty"], "contact_id": b_objects["contact"], "note_id": b_objects["note"],
        "tag_id": b_objects["tag"], "entity": "contact", "field_type": "checkbox", "search_text": f"hijack {world.fresh}",
        "archived_at": "2001-01-01", "created_at": "2001-01-01", "updated_at": "2001-01-01", "occurred_at": "2001-01-01",
        "entry_hash": "hijacked", "next_value": "424242", "back": OFF_SITE, "next": OFF_SITE,
    }
    own_fields = {name for name in dir(case.form_class or object)
                  if isinstance(getattr(case.form_class, name, None), UnboundField)} - {*TRUSTED_FORM_FIELDS, *case.ignored}
    return {k: v for k, v in values.items() if k not in case.form and k not in own_fields}


NOT_MARKERS = ("role", "key", "is_admin", "is_owner", "active", "rights", "role_id", "version", "entity", "field_type",
               "back", "next", "next_value")  # short or common values: checked through the spec's pinned columns


def _matches(actual, expected) -> bool:
    return str(actual) == expected if isinstance(expected, str) else actual == expected


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_extra_fields_change_nothing_beyond_the_form(app, world, start, cleaner, triple):
    """Sent as htmx does (CSRF token in the header, QUALITY T12), with trusted fields added (T4): the
    request is accepted, writes only what the spec allows, takes no added value, and never sends the
    browser off the site."""
    route, case, method = triple
    actor = actor_for(app, world, case)
    extra = _injected(world, case)
    response = send(actor, world, triple, extra=extra, htmx=True)
    changes = diff(start, snapshot(cleaner))
    assert response.status_code in DONE
    assert changes or not case.writes, "the valid request changed nothing"
    assert outside(changes, case.writes) == []
    assert security_header_problems(response, private=route.login) == []
    assert not redirect_target(response).startswith(("//", "http:", "https:", "/\\")), redirect_target(response)
    markers = {v for k, v in extra.items() if k not in NOT_MARKERS}
    for change in changes:
        if change.kind == "-":
            continue
        written = json.dumps({c: change.row[c] for c in (change.columns or change.row)}, default=str)
        assert not [m for m in markers if m in written], f"{change.table} took a value from the body: {written}"
        for column, expected in case.pinned.get(change.table, {}).items():
            assert _matches(change.row[column], world.resolve(expected)), f"{change.table}.{column} = {change.row[column]}"


def test_return_address_of_a_note_edit_stays_on_the_site(app, world, start):
    """The note editor's ``back`` goes back to a page of this site only, with or without htmx."""
    route = next(r for r in SPEC if r.endpoint == "tenant.timeline.update_note")
    case = route.cases[0]
    actor = signed_in(app, world)
    url = world.url(route, case)
    kept = actor.post(url, world.form(case) | {"back": f"/{world.a.slug}/contacts/"})
    assert kept.headers["Location"] == f"/{world.a.slug}/contacts/"
    version = int(world.form(case)["version"]) + 1
    for target in (OFF_SITE, "/\\evil.example", "/\tevil.example", "https://evil.example/"):
        for htmx in (False, True):
            form = world.form(case) | {"back": target, "body": f"Edited again {target!r} {htmx}", "version": version}
            response = actor.post(url, form, htmx=htmx)
            version += 1
            assert response.status_code in DONE, (target, response.status_code)
            assert redirect_target(response) == f"/{world.a.slug}/thirdparties/{world.a.objects[('thirdparty', '')]}", target


# T12: CSRF and safe methods

FOREIGN_SOURCES = [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": "http://localhost:8080"},
                   {"Referer": "https://127.0.0.1:5077.evil.example/"}, {"Referer": "http://[::1"},
                   {"Origin": "http://localhost:99999"}]


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_unsafe_request_without_or_with_another_sessions_token_is_refused(app, world, start, cleaner, triple):
    """No token, or the token of another session (in the body, or in the htmx header): 400, nothing changes.
    Neither does a valid token sent from another site (``Origin``) or with a ``Referer`` that does not parse."""
    actor = actor_for(app, world, triple[1])
    actor.csrf()  # the session has a token; the requests do not send it
    stolen = signed_in(app, world, "admin").csrf()
    assert send(actor, world, triple, csrf=False).status_code == 400
    assert send(actor, world, triple, csrf=False, extra={"csrf_token": stolen}).status_code == 400
    header = send(actor, world, triple, csrf=False, headers={"X-CSRFToken": stolen, "HX-Request": "true"})
    assert header.status_code == 400
    for headers in FOREIGN_SOURCES:
        response = send(actor, world, triple, headers=headers)
        assert response.status_code == 400, headers
        assert "sent from elsewhere" in text_of(response.get_data(as_text=True)), headers
    assert diff(start, snapshot(cleaner)) == []


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
    elif not (response.status_code in (301, 302, 303, 307, 308) or response.status_code == 204):
        # Anything but our pages (files uploaded or generated, calendars, JSON, streams) runs nothing if opened
        csp = headers.get("Content-Security-Policy", "")
        if "sandbox" not in csp or "default-src 'none'" not in csp:
            problems.append(f"{response.mimetype} without the sandboxing CSP")
    # The one exception (docs/architecture.md, "Conditional requests"): an htmx fragment with a validator may be kept
    # by the browser alone and asked for again every time; never a whole page.
    revalidated = headers.get("Cache-Control") == "private, no-cache" and headers.get("ETag") and not is_page(response)
    if private and "no-store" not in headers.get("Cache-Control", "") and not revalidated:
        problems.append("signed-in page without Cache-Control: no-store")
    return problems


GLOBAL_POST_CASES = [t for t in POST_CASES if not t[0].tenant]  # tenant POSTs: checked by the role matrix and T4


@HTMX
@pytest.mark.parametrize("triple", GLOBAL_POST_CASES, ids=case_id)
def test_responses_carry_security_headers(app, world, triple, htmx):
    """Form answers and redirects: nosniff and HSTS; HTML has a strict CSP; signed-in pages no-store.
    (GET answers: the crawl below; tenant POSTs: the role matrix, page, and the T4 test, htmx.)"""
    route, case, method = triple
    response = send(actor_for(app, world, case), world, triple, htmx=htmx)
    assert response.status_code in DONE
    assert security_header_problems(response, private=route.login) == []


def _varies(page, fragment) -> list[str]:
    """Responses that differ for htmx must say so (``Vary: HX-Request``), or a cache serves one for the other."""
    shape = lambda r: (r.status_code, is_page(r), redirect_target(r))  # noqa: E731
    if shape(page) == shape(fragment):
        return []
    return [f"{name} {shape(r)} does not vary" for name, r in (("page", page), ("fragment", fragment))
            if "HX-Request" not in r.headers.get("Vary", "")]


def _get_writes(route, case):
    """What a GET-only route may write (a download's record); a form's writes belong to its POST."""
    return case.writes if route.methods == {"GET"} else {}


@pytest.mark.parametrize("triple", GET_CASES, ids=case_id)
def test_get_crawl(app, world, start, cleaner, triple):
    """Every GET route, as a page and as htmx, by the member the spec names (QUALITY T11, T12, T2):

    * answers (no error), with nosniff, HSTS, a strict CSP on HTML and no-store when signed in;
    * changes no row of the database (safe methods);
    * shows no canary and no id of tenant B;
    * the htmx answer is a fragment exactly where the spec says, and is markup of its page, byte for
      byte (so checking a page also checks its fragments: the XSS test relies on it);
    * when the two answers differ, both vary on ``HX-Request``.
    """
    route, case, method = triple
    actor = actor_for(app, world, case)
    page, fragment = (send(actor, world, triple, htmx=htmx) for htmx in (False, True))
    for label, response in (("page", page), ("htmx", fragment)):
        assert response.status_code in DONE, label
        assert security_header_problems(response, private=route.login) == [], label
        assert no_data_of(world.b, start, response) == [], label
    after = snapshot(cleaner)
    if _get_writes(route, case):  # a download records who took the file, and nothing else
        assert diff(start, after) and outside(diff(start, after), case.writes) == []
        revert(cleaner, start, after)
    else:
        assert diff(start, after) == []
    if fragment.mimetype == "text/html" and fragment.status_code == 200:
        assert is_page(fragment) != case.fragment, "the spec's fragment flag"
        assert _normalised(fragment) in _normalised(page)
    assert _varies(page, fragment) == []


def _error(app, world, kind, htmx):
    owner = signed_in(app, world)
    slug = world.a.slug
    requests = {
        "400 csrf": lambda: owner.send("POST", f"/{slug}/admin/settings", {"name": "x"}, csrf=False, htmx=htmx),
        "403": lambda: signed_in(app, world, "readonly").get(f"/{slug}/admin/members", htmx=htmx),
        "404 page": lambda: owner.get(f"/{slug}/no-such-page", htmx=htmx),
        "404 other tenant": lambda: owner.get(f"/{world.b.slug}/", htmx=htmx),
        "404 anonymous": lambda: Actor(app).get("/auth/no-such-page", htmx=htmx),  # (any org address: sign in first)
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
    """Names of the fields of ``case``'s form whose class is one of ``kinds`` (those the view reads from the body)."""
    form = case.form_class
    fields = [(name, getattr(form, name, None)) for name in dir(form) if name not in case.ignored] if form else []
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
        assert response.status_code == triple[1].refused, field
        assert diff(before, snapshot(cleaner)) == [], field


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_missing_fields_are_refused_or_harmless(app, world, start, cleaner, triple):
    """An empty form is refused (422, nothing saved; 404 when it no longer names the record to act on),
    or keeps the stored values (forms bound to a record; an absent checkbox is an unticked one)."""
    actor = actor_for(app, world, triple[1])
    before = start
    response = send(actor, world, triple, form={})
    changes = diff(before, snapshot(cleaner))
    assert response.status_code in (404, 422, *DONE)
    assert leaked_internals(response.get_data(as_text=True)) == []
    if response.status_code in (404, 422):
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
    as_json = {k: v for k, v in world.form(triple[1]).items() if not isinstance(v, tuple)}  # files have no JSON form
    for kwargs in ({"json": as_json}, {"data": b"<xml/>", "content_type": "application/xml"},
                   {"data": {"file": (io.BytesIO(b"x"), "x.txt")}, "content_type": "multipart/form-data"}):
        response = actor.send("POST", url, headers={"X-CSRFToken": actor.csrf()}, csrf=False, **kwargs)
        assert response.status_code < 500
        assert leaked_internals(response.get_data(as_text=True)) == []


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_oversize_body_is_refused_with_a_message(app, world, start, cleaner, triple):
    actor = actor_for(app, world, triple[1])
    before = start
    # Without its files: Werkzeug's test client spools a large multipart body to a temporary file it never closes.
    no_files = {k: "" for k, v in world.form(triple[1]).items() if isinstance(v, tuple)}
    # An upload view has its own, larger limit (app/bodylimits.py): lowered here, and the body made to pass it.
    key = getattr(app.view_functions[triple[0].endpoint], "body_limit_key", None)
    saved = app.config.get(key)
    if key:
        app.config[key] = 1024
    limit = app.config[key] + FRAMING_BYTES if key else app.config["MAX_CONTENT_LENGTH"]
    try:
        response = send(actor, world, triple, extra={"padding": "z" * limit, **no_files})
    finally:
        if key:
            app.config[key] = saved
    assert response.status_code == 413
    assert "Too large" in text_of(response.get_data(as_text=True))
    assert diff(before, snapshot(cleaner)) == []


BAD_QUERY = ["", "%00", "x" * 10_000, "%FF%FE", "'%20OR%201=1--", "0001-01-01", "9999-12-31", "2020-13-45", "-1",
             "1e309", "%5B%5D", "2020-01-01T00:00:00%2B14:00_" + str(uuid.uuid4()), "9999-12-31T23:59:59_x",
             "0001-01-01T00:00:00%2B14:00_" + str(uuid.uuid4()), "2020-01-01_" + str(uuid.uuid4()), "//evil.example",
             "javascript:alert(1)", "/%5Cevil.example"]
# Each parameter alone, on top of the route's valid query: the values that reach furthest into a view
# (dates and cursors at the calendar's edges, numbers, huge and undecodable text, SQL).
BAD_ALONE = ["x" * 10_000, "'%20OR%201=1--", "0001-01-01", "9999-12-31", "-1", "%FF%FE",
             "0001-01-01T00:00:00%2B14:00_" + str(uuid.uuid4())]
QUERY_ROUTES = [r for r in SPEC if "GET" in r.methods and r.query_params]


@pytest.mark.parametrize("route", QUERY_ROUTES, ids=lambda r: f"GET {r.rule}")
def test_malformed_query_parameters_do_not_break(app, world, start, cleaner, route):
    """Every query parameter a view reads (T27, T13): each bad value in all of them at once, then each
    parameter alone among valid ones; never a 5xx or a trace, nothing written."""
    case = route.cases[0]
    actor = actor_for(app, world, case)
    path = world.url(route, case).split("?")[0]
    valid = {k: world.resolve(v) for k, v in case.query.items()}
    urls = [f"{path}?" + "&".join(f"{param}={value}" for param in route.query_params) for value in BAD_QUERY]
    for param in route.query_params:
        others = urlencode({k: v for k, v in valid.items() if k != param})
        urls += [f"{path}?{others}&{param}={value}" for value in BAD_ALONE]
    for url in urls:
        response = actor.get(url)
        assert response.status_code < 500, url
        assert leaked_internals(response.get_data(as_text=True), [url, *BAD_QUERY]) == [], url
    assert diff(start, snapshot(cleaner)) == []


RULE_METHODS = {rule: frozenset().union(*(r.methods for r in SPEC if r.rule == rule)) for rule in {r.rule for r in SPEC}}


@pytest.mark.parametrize("route", SPEC, ids=lambda r: r.id)
def test_unsupported_methods_are_refused(app, world, route):
    """Every method no row of this URL rule serves (a rule may have one view per method) answers 405."""
    actor = actor_for(app, world, route.cases[0])
    url = world.url(route, route.cases[0])
    methods = RULE_METHODS[route.rule]
    for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - methods):
        response = actor.send(method, url)
        if response.status_code == 308:  # GET /lang is the tenant home "/<slug>/" of a reserved, absent slug
            assert response.headers["Location"].endswith(url + "/") and actor.get(url + "/").status_code == 404
            continue
        assert response.status_code == 405, method
        assert security_header_problems(response, private=False) == []
        assert set(response.headers["Allow"].replace(" ", "").split(",")) >= methods


# T10: stored XSS

XSS_GROUP = 10  # payloads stored together (each field holds them end to end, from a different one)
XSS_GROUPS = [XSS_PAYLOADS[i:i + XSS_GROUP] for i in range(0, len(XSS_PAYLOADS), XSS_GROUP)]


class _Mixer:
    """Values for the fields of one store: field n holds the group's payloads end to end, starting with
    payload n (so each payload leads several fields), cut to the field's size."""

    def __init__(self, payloads):
        self.payloads, self.n = payloads, 0

    def __call__(self, limit: int = 10_000) -> str:
        start = self.n % len(self.payloads)
        self.n += 1
        return "".join(self.payloads[start:] + self.payloads[:start])[:limit]


def _store_everywhere(app, world, payloads) -> None:
    """Write the payloads into every user-writable field of A, through the domain functions the forms call:
    people, organisation, role, group, the customer (name, VAT, website, notes, address, phone, e-mail,
    custom values), its tag, the custom fields (labels, choices), its contact, its notes, a logged meeting
    (outcome, subject, summary, place), a planned appointment (subject, details, place), the organisation's
    call outcomes (offered on the log form) and business events shown in the agenda, a saved view of the customer
    list (name and query), the code pattern
    and a customer numbered with it. Changes reach the timeline and the audit log too."""
    mix, a = _Mixer(payloads), world.a
    client = ClientInfo(ip="192.0.2.40", user_agent=mix(255))
    with app.app_context(), tenant_context(a.id):
        set_actor(a.users["owner"].id, "192.0.2.40")
        for key in ("owner", "target"):
            update_account(db.session.get(User, a.users[key].id), name=mix(120), locale="en", timezone="Europe/Paris")
        viewer = load_viewer(a.users["owner"].id)
        update_settings(viewer, db.session.get(Tenant, a.id), mix(120), "en", "Europe/Paris", client,
                        call_outcomes=[mix(80), mix(80)], agenda_kinds=["thirdparty_created", "note_added", "contact_added"])
        update_role(viewer, get_role(a.roles["custom"]), mix(80), mix(255), ["thirdparty.read"], client)
        save_group(viewer, get_group(a.group_id), name=mix(80), description=mix(255), rights=["thirdparty.read"],
                   member_ids=[a.memberships["target"], a.memberships["grouped"]], client=client)
        get_invitation(a.invitation_id).role_id = a.roles["custom"]  # its page names the role
        db.session.commit()
        tag = tags.get_tag(a.objects[("tag", "")])
        tags.save_tag(tag, mix(60), "red")
        choice = mix(80)
        for key, choices in (("sector", []), ("stage", [choice, "Won"]), ("hobby", [])):
            found = customfields.get_field(a.objects[("field", key)])
            customfields.save_field(found, entity=found.entity, label=mix(80), field_type=found.field_type,
                                    choices=choices, required=False, show_in_list=found.show_in_list)
        tp = customers.get_thirdparty(viewer, a.objects[("thirdparty", "")])
        values = {**tp_services.snapshot(tp), "name": mix(200), "vat_number": mix(32), "website": mix(255),
                  "description": mix(), "addresses": [[mix(40), mix(), mix(20), mix(100), "FR"]],
                  "phones": [[mix(40), mix(40)]], "emails": [[mix(40), mix(254)]],
                  "custom": {"sector": mix(500), "stage": choice}}
        tp_services.update_thirdparty(viewer, tp, values, version=tp.version, base=None)
        person = customers.get_contact(viewer, a.objects[("contact", "")])
        values = {**contact_services.snapshot(person), "first_name": mix(100), "last_name": mix(100),
                  "job_title": mix(120), "description": mix(), "phones": [[mix(40), mix(40)]],
                  "emails": [[mix(40), mix(254)]], "custom": {"hobby": mix(500)}}
        contact_services.update_contact(viewer, person, values, version=person.version, base=None)
        for key in ("", "private"):
            note = notes.get_note(viewer, a.objects[("note", key)])
            notes.update_note(viewer, note, mix(), version=note.version, base_body=note.body)
        log_interaction(viewer, thirdparty_id=a.objects[("thirdparty", "")], contact_id=a.objects[("contact", "")],
                        values={"kind": "meeting", "direction": "inbound", "starts_at": utcnow(), "duration_minutes": 5,
                                "outcome": mix(80), "title": mix(200), "body": mix(), "meeting_mode": "online",
                                "location": mix(200)}, idempotency_key=None)
        save_view(viewer.user_id, "customers", mix(60), clean_query(f"q={mix(100)}", lambda key: key == "q"))
        starts = datetime(2030, 1, 8, 8, tzinfo=UTC)  # inside the agenda list the spec's case opens
        plan(viewer, thirdparty_id=a.objects[("thirdparty", "")], contact_id=a.objects[("contact", "")], values={
            "kind": "appointment", "title": mix(200), "body": mix(), "location": mix(200), "starts_at": starts,
            "ends_at": starts + timedelta(hours=1), "due_at": None, "all_day": False, "priority": "high",
            "zone": "Europe/Rome", "recurrence": "FREQ=WEEKLY;COUNT=2"}, assignee_ids=[viewer.user_id], idempotency_key=None)
        numbering.set_pattern("customer", mix(24) + "{n}")
        tp_services.create_thirdparty(viewer, {**tp_services.snapshot(tp), "name": mix(200), "tag_ids": [], "rep_ids": []})
        clear_actor()


def _xss_problems(app, label, response, payloads) -> list[str]:
    if response.mimetype not in ("text/html", "text/event-stream", "text/plain"):
        return []  # a stored file (PDF, image) is not markup: the upload corpus covers what files may carry
    body = response.get_data(as_text=True)
    problems = [f"{label}: {p}" for p in injected_markup(body, XSS_MARKER)]
    for payload in payloads:
        stored = payload.strip()
        if set(stored) & set("<>\"'&") and (stored in body or stored.lower() in body):
            problems.append(f"{label}: the raw payload {stored!r} is in the page")
    if any(r in body for r in TEMPLATE_RESULTS) or app.config["SECRET_KEY"] in body or "class &#39;object" in body:
        problems.append(f"{label}: a template expression was evaluated")
    if response.mimetype == "text/event-stream":  # every line a field of ours: user text cannot forge one
        fields = [line.split(":", 1)[0] for line in body.split("\n") if line and not line.startswith(":")]
        events = re.findall(r"^event: (.*)$", body, re.M)
        if set(fields) - {"retry", "id", "event", "data"} or set(events) - {"timeline"}:
            problems.append(f"{label}: stream fields {sorted(set(fields))}, events {sorted(set(events))}")
    return problems


def read_stream(actor, url):
    """A live stream read for its content: open long enough for its first events (longer again if a
    busy machine delayed them: the window starts when the request does)."""
    saved = actor.app.config["LIVE_STREAM_SECONDS"]
    try:
        for seconds in (0.25, 2.0):
            actor.app.config["LIVE_STREAM_SECONDS"] = seconds
            response = actor.get(url)
            if response.status_code != 200 or "event: timeline" in response.get_data(as_text=True):
                return response
        return response
    finally:
        actor.app.config["LIVE_STREAM_SECONDS"] = saved


@pytest.mark.parametrize("payloads", XSS_GROUPS, ids=[f"p{i * XSS_GROUP}-{i * XSS_GROUP + len(g) - 1}"
                                                      for i, g in enumerate(XSS_GROUPS)])
def test_stored_payload_is_shown_as_text(app, world, mail_server, payloads):
    """The payloads in every writable field come back as text on every signed-in page (and so in their
    fragments), in the live stream's first events, in htmx form answers (kept input, new notes, flash
    messages, member rows) and on the invitation pages."""
    _store_everywhere(app, world, payloads)
    a, owner, mix = world.a, signed_in(app, world), _Mixer(payloads)
    base = f"/{a.slug}/admin"
    customer = a.objects[("thirdparty", "")]
    answers = {
        "settings kept": owner.post(f"{base}/settings", {"name": mix(120), "locale": "en", "timezone": "Nowhere"},
                                    htmx=True),
        "role kept": owner.post(f"{base}/roles/new", {"name": mix(80), "description": mix(255), "rights": ["nope"]},
                                htmx=True),
        "member row": owner.post(f"{base}/members/{a.memberships['target']}/role", {"role_id": str(a.roles["custom"])},
                                 htmx=True),
        "invitation page": Actor(app).get(f"/auth/invite/{world.tokens['invitation']}"),
        "customer kept": owner.post(f"/{a.slug}/thirdparties/", {
            "name": mix(200), "is_customer": "y", "website": "not a web address", "description": mix(),
            "addresses-0-label": mix(40), "addresses-0-street": mix(), "addresses-0-city": mix(100),
            "phones-0-label": mix(40), "phones-0-value": mix(40), "emails-0-label": mix(40), "emails-0-value": mix(254),
            "cf_sector": mix(500)}, htmx=True),
        "contact kept": owner.post(f"/{a.slug}/contacts/", {
            "thirdparty_id": str(customer), "first_name": mix(100), "last_name": "", "job_title": mix(120),
            "phones-0-label": mix(40), "emails-0-value": mix(254), "cf_hobby": mix(500)}, htmx=True),
        "new note": owner.post(f"/{a.slug}/timeline/thirdparties/{customer}/notes", {"body": mix()}, htmx=True),
        "interaction kept": owner.post(f"/{a.slug}/agenda/customers/{customer}/log", {
            "kind": "call", "when": "", "outcome": mix(80), "title": mix(200), "body": mix(), "location": mix(200)}, htmx=True),
        "plan kept": owner.post(f"/{a.slug}/agenda/customers/{customer}/plan", {
            "kind": "appointment", "starts": "", "title": mix(200), "body": mix(), "location": mix(200)}, htmx=True),
        "agenda": owner.get(f"/{a.slug}/agenda/", query_string={"view": "week", "date": "2030-01-08", "who": "team"}),
        "agenda today": owner.get(f"/{a.slug}/agenda/", query_string={"view": "list", "who": "team"}),
        "agenda month": owner.get(f"/{a.slug}/agenda/", query_string={"view": "month", "who": "team"}),
        "tag kept": owner.post(f"{base}/tags", {"name": mix(60), "colour": "nope"}, htmx=True),
        "field kept": owner.post(f"{base}/fields", {"entity": "thirdparty", "label": mix(80), "field_type": "choice",
                                                    "choices": ""}, htmx=True),
        "pattern kept": owner.post(f"{base}/numbering", {"pattern": mix(60).replace("{n", "{x")}, htmx=True),
        "created": owner.post(f"/{a.slug}/thirdparties/", {"name": mix(200), "is_customer": "y"}, htmx=True),
        "created flash": owner.get(f"/{a.slug}/thirdparties/?status=all"),
    }
    for n, payload in enumerate(p for p in payloads if p.endswith("@example.com")):
        invited = owner.post(f"{base}/invitations", {"email": payload, "role_id": str(a.roles["custom"])}, htmx=True)
        assert invited.status_code == 200, "a valid e-mail address was refused"
        link = mail_server.messages[-1].get_body(("plain",)).get_content()
        answers[f"invitation {n}"] = invited
        answers[f"invited page {n}"] = Actor(app).get(re.search(r"/auth/invite/[\w.\-]+", link).group(0))
    for route, case, _ in GET_CASES:
        if route.login:  # the htmx fragments of these pages are part of them, byte for byte (the GET crawl)
            url = world.url(route, case)
            answers[f"GET {route.rule}"] = read_stream(owner, url) if "/stream" in url else owner.get(url)
    answers["deactivate"] = owner.post(f"{base}/members/{a.memberships['target']}/deactivate", htmx=True)
    answers["flash"] = owner.get(f"{base}/members")
    card = text_of(answers["GET /<tenant_slug>/thirdparties/<uuid:thirdparty_id>"].get_data(as_text=True))
    assert [p for p in payloads if p.strip() not in card] == [], "payloads missing from the card"
    assert "agenda-event" in answers["agenda today"].get_data(as_text=True), "no business event reached the agenda"
    stream = answers["GET /<tenant_slug>/timeline/thirdparties/<uuid:thirdparty_id>/stream"].get_data(as_text=True)
    assert stream.count("event: timeline") >= 5, "the stream sent none of the changes"
    assert {label: r.status_code for label, r in answers.items() if r.status_code not in (*DONE, 422)} == {}
    problems = [p for label, r in answers.items() for p in _xss_problems(app, label, r, payloads)]
    assert problems == [], "\n".join(problems)


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
