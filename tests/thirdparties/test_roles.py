"""Role matrix (QUALITY T3 slice): each built-in role × every third-party and contact route.

The spec below is written out by hand (it is the product decision, not a copy of the code): a denied
cell answers 403 and changes nothing, even for actions the pages never offer to that role.
"""
import pytest

from tests.customers import customer_rows, make_contact, make_tag, make_thirdparty, membership_of
from tests.factories import add_member
from tests.helpers import Browser

READ = {"tp.index", "tp.show", "tp.form_row", "tp.save_view", "tp.delete_view", "co.index", "co.show"}
TP_WRITE = {"tp.edit", "tp.update", "tp.bulk"}
TP_CREATE = {"tp.new", "tp.create"}
TP_ARCHIVE = {"tp.archive"}
CO_WRITE = {"co.new", "co.create", "co.edit", "co.update", "co.move", "co.move_post"}
CO_ARCHIVE = {"co.archive"}
EVERYTHING = READ | TP_WRITE | TP_CREATE | TP_ARCHIVE | CO_WRITE | CO_ARCHIVE

ALLOWED = {
    "owner": EVERYTHING,
    "admin": EVERYTHING,
    "sales": READ | TP_WRITE | TP_CREATE | CO_WRITE,
    "support": READ | CO_WRITE,
    "accounting": READ | TP_WRITE,
    "readonly": READ,
}

# cell → (method, path, form data); {tp}, {other}, {contact}, {tag} are filled in
CELLS = {
    "tp.index": ("GET", "/thirdparties/", None),
    "tp.show": ("GET", "/thirdparties/{tp}", None),
    "tp.form_row": ("GET", "/thirdparties/form-row?kind=emails&index=2", None),
    "tp.save_view": ("POST", "/thirdparties/views", {"name": "Mine", "query": "status=all"}),
    "tp.delete_view": ("POST", "/thirdparties/views/delete", {"name": "Mine"}),
    "tp.new": ("GET", "/thirdparties/new", None),
    "tp.create": ("POST", "/thirdparties/", {"name": "New one", "is_customer": "y"}),
    "tp.edit": ("GET", "/thirdparties/{tp}/edit", None),
    "tp.update": ("POST", "/thirdparties/{tp}/edit", {"name": "Renamed", "is_customer": "y", "version": "1", "rep_ids": "{me}"}),
    "tp.bulk": ("POST", "/thirdparties/bulk", {"ids": "{tp}", "action": "tag", "tag_id": "{tag}"}),
    "tp.archive": ("POST", "/thirdparties/{tp}/archive", {}),
    "co.index": ("GET", "/contacts/", None),
    "co.show": ("GET", "/contacts/{contact}", None),
    "co.new": ("GET", "/contacts/new?thirdparty={tp}", None),
    "co.create": ("POST", "/contacts/", {"thirdparty_id": "{tp}", "last_name": "Newman", "preferred_channel": "any"}),
    "co.edit": ("GET", "/contacts/{contact}/edit", None),
    "co.update": ("POST", "/contacts/{contact}/edit", {"last_name": "Renamed", "preferred_channel": "any", "version": "1"}),
    "co.move": ("GET", "/contacts/{contact}/move?q=other", None),
    "co.move_post": ("POST", "/contacts/{contact}/move", {"thirdparty_id": "{other}"}),
    "co.archive": ("POST", "/contacts/{contact}/archive", {}),
}
ENDPOINTS = {"tp": "tenant.thirdparties.", "co": "tenant.contacts."}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_gets_exactly_its_cells(app, tenant, role):
    user = tenant.owner if role == "owner" else add_member(app, tenant, role=role)
    ids = {"tp": make_thirdparty(app, tenant, "Assigned", reps=[user]).id,
           "other": make_thirdparty(app, tenant, "Other place", reps=[user]).id, "tag": make_tag(app, tenant, "VIP")}
    ids["contact"] = make_contact(app, tenant, ids["tp"], "Person").id
    ids["me"] = membership_of(app, tenant, user)
    browser = Browser(app.test_client())
    browser.login(user.email)
    token = browser.csrf()
    wrong = []
    for cell, (method, path, data) in CELLS.items():
        url = f"/{tenant.slug}" + path.format(**ids)
        allowed = cell in ALLOWED[role]
        before = customer_rows(app, tenant) if method == "POST" and not allowed else None
        if method == "GET":
            response = browser.get(url)
        else:
            response = browser.post(url, {"csrf_token": token, **{k: v.format(**ids) for k, v in data.items()}})
        if allowed and response.status_code in (403, 404):
            wrong.append(f"{cell}: refused with {response.status_code}")
        if not allowed and response.status_code != 403:
            wrong.append(f"{cell}: answered {response.status_code}, expected 403")
        if not allowed and before is not None and customer_rows(app, tenant) != before:
            wrong.append(f"{cell}: refused but changed data")
    assert wrong == [], "\n".join(wrong)


def test_the_matrix_covers_every_route(app):
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint.startswith(tuple(ENDPOINTS.values()))
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, path, _data in CELLS.values():
        filled = path.format(tp="01a20000-0000-7000-8000-000000000001", other="01a20000-0000-7000-8000-000000000002",
                             contact="01a20000-0000-7000-8000-000000000003", tag="x", me="x")
        endpoint, _args = adapter.match(f"/acme{filled.split('?')[0]}", method=method)
        covered.add((endpoint, method))
    assert routes - covered == set()


def test_a_customer_outside_ones_assignment_says_so_without_its_name(app, tenant):
    """A Sales member (only their customers) opening a colleague's customer, or one of its contacts, is told it is
    outside their assignment — not a bare "not found", and never the customer's name; an unknown id stays unknown."""
    seller = add_member(app, tenant, role="sales")
    secret = make_thirdparty(app, tenant, "Discreet Holdings")
    person = make_contact(app, tenant, secret.id, "Confidential")
    browser = Browser(app.test_client())
    browser.login(seller.email)
    for path in (f"/{tenant.slug}/thirdparties/{secret.id}", f"/{tenant.slug}/contacts/{person.id}"):
        for htmx in (False, True):
            response = browser.get(path, headers={"HX-Request": "true"} if htmx else {})
            body = response.get_data(as_text=True)
            assert response.status_code == 404
            assert "not among those assigned to you" in body and "Discreet" not in body and "Confidential" not in body
    unknown = browser.get(f"/{tenant.slug}/thirdparties/01a25000-0000-7000-8000-000000000000")
    assert unknown.status_code == 404 and "not among those assigned" not in unknown.get_data(as_text=True)
