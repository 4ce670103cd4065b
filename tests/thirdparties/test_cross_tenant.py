"""Cross-tenant probes (QUALITY T1/T2 slice) for every third-party and contact route, and the live stream.

A member of tenant B uses A's ids on B's own URLs and on A's URLs, as a plain request and as htmx:
the answer is 404 (or 403 where B's role lacks the right), lists show nothing of A, no A canary appears
in any body or header, and no customer-history row of A or B changes.
"""
from dataclasses import dataclass

import pytest

from tests.customers import customer_rows, make_contact, make_field, make_tag, make_thirdparty, membership_of, submit
from tests.factories import TenantInfo, add_member, make_tenant, make_user
from tests.helpers import Browser

CANARY = "canary7q"
LATEST = "2999-01-01T00:00:00_ffffffff-ffff-7fff-bfff-ffffffffffff"

# endpoint, method, path under the tenant, form data, status on B's own URLs (None: 404, or 403 without the right)
PROBES = [
    ("tenant.thirdparties.index", "GET", f"/thirdparties/?q={CANARY}&status=all", None, 200),
    ("tenant.thirdparties.index", "GET", "/thirdparties/?tag={tag}&status=all", None, 200),
    ("tenant.thirdparties.index", "GET", "/thirdparties/?rep={member}&status=all", None, 200),
    ("tenant.thirdparties.new", "GET", "/thirdparties/new", None, 200),
    ("tenant.thirdparties.create", "POST", "/thirdparties/", {"name": "Sneaky", "is_customer": "y", "tag_ids": "{tag}"}, 422),
    ("tenant.thirdparties.create", "POST", "/thirdparties/", {"name": "Sneaky", "is_customer": "y", "rep_ids": "{member}"}, 422),
    ("tenant.thirdparties.show", "GET", "/thirdparties/{tp}", None, None),
    ("tenant.thirdparties.show", "GET", f"/thirdparties/{{tp}}?before={LATEST}", None, None),
    ("tenant.thirdparties.edit", "GET", "/thirdparties/{tp}/edit", None, None),
    ("tenant.thirdparties.update", "POST", "/thirdparties/{tp}/edit", {"name": "Hijacked", "is_customer": "y", "version": "1"}, None),
    ("tenant.thirdparties.set_archived", "POST", "/thirdparties/{tp}/archive", {}, None),
    ("tenant.thirdparties.set_archived", "POST", "/thirdparties/{tp}/restore", {}, None),
    ("tenant.thirdparties.bulk_action", "POST", "/thirdparties/bulk", {"ids": "{tp}", "action": "tag", "tag_id": "{b_tag}"}, 303),
    ("tenant.thirdparties.bulk_action", "POST", "/thirdparties/bulk", {"ids": "{b_tp}", "action": "tag", "tag_id": "{tag}"}, 303),
    ("tenant.thirdparties.bulk_action", "POST", "/thirdparties/bulk", {"ids": "{b_tp}", "action": "assign", "rep_id": "{member}"},
     303),
    ("tenant.thirdparties.form_row", "GET", "/thirdparties/form-row?kind=phones&index=1", None, 200),
    # Saved views: personal, by name, no id to aim at; B's canary saved in B's own view stays B's.
    ("tenant.thirdparties.save_view", "POST", "/thirdparties/views", {"name": "Peek", "query": f"q={CANARY}"}, 303),
    ("tenant.thirdparties.delete_view", "POST", "/thirdparties/views/delete", {"name": "Peek"}, 303),
    ("tenant.contacts.index", "GET", f"/contacts/?q={CANARY}", None, 200),
    ("tenant.contacts.new", "GET", "/contacts/new?thirdparty={tp}", None, None),
    ("tenant.contacts.create", "POST", "/contacts/", {"thirdparty_id": "{tp}", "last_name": "Intruder", "preferred_channel": "any"},
     None),
    ("tenant.contacts.show", "GET", "/contacts/{contact}", None, None),
    ("tenant.contacts.show", "GET", f"/contacts/{{contact}}?before={LATEST}", None, None),
    ("tenant.contacts.edit", "GET", "/contacts/{contact}/edit", None, None),
    ("tenant.contacts.update", "POST", "/contacts/{contact}/edit", {"last_name": "Hijacked", "preferred_channel": "any",
                                                                    "version": "1"}, None),
    ("tenant.contacts.move", "GET", f"/contacts/{{contact}}/move?q={CANARY}", None, None),
    ("tenant.contacts.move", "GET", f"/contacts/{{b_contact}}/move?q={CANARY}", None, 200),
    ("tenant.contacts.move", "POST", "/contacts/{contact}/move", {"thirdparty_id": "{b_tp}"}, None),
    ("tenant.contacts.move", "POST", "/contacts/{b_contact}/move", {"thirdparty_id": "{tp}"}, None),
    ("tenant.contacts.set_archived", "POST", "/contacts/{contact}/archive", {}, None),
    ("tenant.contacts.set_archived", "POST", "/contacts/{contact}/restore", {}, None),
    ("tenant.timeline.stream", "GET", "/timeline/thirdparties/{tp}/stream", None, None),
]
COVERED_BLUEPRINTS = ("tenant.thirdparties.", "tenant.contacts.")


@dataclass(frozen=True)
class World:
    a: TenantInfo
    b: TenantInfo
    ids: dict  # names used in PROBES → ids
    secrets: tuple  # strings of A that must never reach B


@pytest.fixture
def world(app, tenant):
    """Tenant A (``tenant``) full of canaries; tenant B with its own customer, contact, tag and a sales member.

    The probes search for ``CANARY`` (in A's names); the other canaries are never sent, so any of them
    in an answer is a leak. A's ids count as canaries unless the probe itself sent them.
    """
    a_member = add_member(app, tenant, make_user(app, name="Ocelot Rep"), role="sales")
    tag = make_tag(app, tenant, "Quokka tag")
    make_field(app, tenant, "Wombat field", "text", show_in_list=True)
    tp = make_thirdparty(app, tenant, f"{CANARY} Zebulon SARL", reps=[a_member], tag_ids=[tag],
                         emails=[["", "zebulon@a-secret.example"]], custom={"wombat_field": "Narwhal value"})
    contact = make_contact(app, tenant, tp.id, f"{CANARY} Xanthippe", emails=[["", "xanthippe@a-secret.example"]])
    b = make_tenant(app, name="Bottega Beta")
    b_sales = add_member(app, b, make_user(app, name="Beta Sales"), role="sales")
    b_tp = make_thirdparty(app, b, "Beta customer", reps=[b_sales])
    b_contact = make_contact(app, b, b_tp.id, "Beta person")
    ids = {"tp": tp.id, "contact": contact.id, "tag": tag, "member": membership_of(app, tenant, a_member),
           "b_tp": b_tp.id, "b_contact": b_contact.id, "b_tag": make_tag(app, b, "Beta tag")}
    secrets = ("Zebulon", "Xanthippe", "a-secret", "Ocelot", "Quokka", "Wombat", "Narwhal", tenant.slug,
               *(str(ids[k]) for k in ("tp", "contact", "tag", "member")))
    return World(tenant, b, ids, secrets), b_sales


@pytest.fixture(params=["owner", "sales"])
def intruder(request, app, world):
    """B's owner (every right) or B's sales member ("only mine"), signed in."""
    w, b_sales = world
    browser = Browser(app.test_client())
    browser.login(w.b.owner.email if request.param == "owner" else b_sales.email)
    return browser


def _send(browser, method, url, data, *, htmx):
    if method == "GET":
        response = browser.get(url, headers={"HX-Request": "true"} if htmx else {}, buffered=False)
        body = b"" if "/stream" in url and response.status_code == 200 else response.get_data()
        response.close()
        return response, body.decode()
    response = submit(browser, url, data, htmx=htmx)
    return response, response.get_data(as_text=True)


def _fill(template: str, ids: dict) -> str:
    return template.format(**{k: str(v) for k, v in ids.items()})


def _probe(browser, token, w, method, path, data, expected) -> list[str]:
    """Send one probe on B's URLs (plain and htmx) and on A's; return what went wrong."""
    problems = []
    path = _fill(path, w.ids)
    form = {k: _fill(v, w.ids) for k, v in (data or {}).items()}
    secrets = [x for x in w.secrets if x not in path and x not in form.values()]
    form["csrf_token"] = [token]
    for slug, htmx in ((w.b.slug, False), (w.b.slug, True), (w.a.slug, False)):
        response, body = _send(browser, method, f"/{slug}{path}", form, htmx=htmx)
        where = f"{method} /{slug}{path} htmx={htmx}"
        if slug == w.a.slug:
            wanted = {404}  # not a member of A at all
        elif expected is None:
            wanted = {403, 404}
        else:
            wanted = {200 if expected == 303 and htmx else expected}
        if response.status_code not in wanted:
            problems.append(f"{where}: {response.status_code}, expected {sorted(wanted)}")
        exposed = body + "".join(f"{k}: {v}\n" for k, v in response.headers.items())
        leaked = [x for x in secrets if x in exposed and not (slug == w.a.slug and x == w.a.slug)]
        if leaked:
            problems.append(f"{where}: leaks {leaked}")
    return problems


def test_a_member_of_another_tenant_gets_nothing_of_a_on_any_route(app, world, intruder):
    w, _b_sales = world
    before = (customer_rows(app, w.a), customer_rows(app, w.b))
    problems, token = [], intruder.csrf()
    for _endpoint, method, path, data, expected in PROBES:
        problems += _probe(intruder, token, w, method, path, data, expected)
        if method == "POST" and (customer_rows(app, w.a), customer_rows(app, w.b)) != before:
            problems.append(f"{method} {path} changed customer rows")
            before = (customer_rows(app, w.a), customer_rows(app, w.b))
    assert problems == []
    assert (customer_rows(app, w.a), customer_rows(app, w.b)) == before


def test_every_customer_route_has_a_probe(app):
    probed = {(p[0], p[1]) for p in PROBES}
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith(COVERED_BLUEPRINTS) or rule.endpoint == "tenant.timeline.stream"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - probed == set(), "new routes need a cross-tenant probe"
