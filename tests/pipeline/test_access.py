"""Who reaches which opportunity: a sales member sees only the opportunities of the customers they represent (404 on
the others, for every page and action), another organisation's ids are not found, and every pipeline route has its
row in the access spec (tests/pipeline/spec.py)."""
from tests.access_spec import Route  # imported before tests.pipeline.spec, which builds on it
from tests.customers import make_thirdparty
from tests.factories import add_member, make_tenant
from tests.helpers import text_of
from tests.pipeline.spec import PIPELINE_SPEC
from tests.pipeline.support import create, make_opportunity, opportunities, reload, stages


def _calls(slug, opp_id, stage_id, tp_id):
    """One request to every page and action that names an opportunity or a customer."""
    base = f"/{slug}/pipeline"
    return [
        ("GET", f"{base}/{opp_id}", None), ("GET", f"{base}/{opp_id}/edit", None),
        ("POST", f"{base}/{opp_id}/edit", {"title": "Hijack", "amount": "1", "stage_id": str(stage_id), "owner_id": ""}),
        ("POST", f"{base}/{opp_id}/move", {"stage_id": str(stage_id)}), ("POST", f"{base}/{opp_id}/won", {}),
        ("POST", f"{base}/{opp_id}/lost", {"reason": "Hijack"}), ("POST", f"{base}/{opp_id}/reopen", {}),
        ("GET", f"{base}/customers/{tp_id}/new", None), ("POST", f"{base}/customers/{tp_id}", {"title": "Hijack"}),
    ]


def test_a_sales_member_reaches_only_the_opportunities_of_their_customers(app, browser, tenant):
    seller = add_member(app, tenant, role="sales")
    mine, theirs = make_thirdparty(app, tenant, "My customer", reps=[seller]), make_thirdparty(app, tenant, "Not mine")
    kept, hidden = make_opportunity(app, tenant, mine, "Kept deal"), make_opportunity(app, tenant, theirs, "Hidden deal")
    second = stages(app, tenant)[1]
    browser.login(seller.email)
    for method, url, data in _calls(tenant.slug, hidden.id, second.id, theirs.id):
        answer = browser.get(url) if method == "GET" else browser.post(url, data)
        assert answer.status_code == 404, (method, url, answer.status_code)
    assert reload(app, tenant, hidden).stage_id == reload(app, tenant, kept).stage_id != second.id
    for url in ("/pipeline/", "/pipeline/list", "/pipeline/list?status=open&q=deal"):
        page = text_of(browser.get(f"/{tenant.slug}{url}").get_data(as_text=True))
        assert "Kept deal" in page and "Hidden deal" not in page and "Not mine" not in page
    assert "1 opportunity" in text_of(browser.get(f"/{tenant.slug}/pipeline/").get_data(as_text=True))
    # Their own customer's opportunity: every step works.
    assert browser.post(f"/{tenant.slug}/pipeline/{kept.id}/move", {"stage_id": str(second.id)}).status_code == 303
    assert create(browser, tenant, mine, title="Another").status_code == 303
    assert len(opportunities(app, tenant)) == 3


def test_another_organisations_opportunity_is_not_found(app, browser, tenant, owner):
    other = make_tenant(app)
    tp = make_thirdparty(app, other, "Elsewhere")
    theirs = make_opportunity(app, other, tp, "Their deal")
    my_stage = stages(app, tenant)[1]
    for method, url, data in _calls(tenant.slug, theirs.id, my_stage.id, tp.id):
        answer = browser.get(url) if method == "GET" else browser.post(url, data)
        assert answer.status_code == 404, (method, url, answer.status_code)
    their_stage = stages(app, other)[1]
    for url in (f"/{tenant.slug}/pipeline/stages/{their_stage.id}/edit", f"/{tenant.slug}/pipeline/stages/{their_stage.id}/delete",
                f"/{tenant.slug}/pipeline/stages/{their_stage.id}/up"):
        assert browser.post(url, {"name": "Hijack", "probability": "1"}).status_code == 404
    # Their organisation's own pages: as unknown to this owner as an organisation that does not exist.
    assert browser.get(f"/{other.slug}/pipeline/").status_code == 404
    assert browser.get(f"/{other.slug}/pipeline/{theirs.id}").status_code == 404
    assert reload(app, other, theirs).status == "open" and len(stages(app, other)) == 4
    # A stage of theirs is not a choice here.
    mine = make_thirdparty(app, tenant)
    assert create(browser, tenant, mine, stage_id=str(their_stage.id)).status_code == 422
    mine_opp = make_opportunity(app, tenant, mine)
    moved = browser.post(f"/{tenant.slug}/pipeline/{mine_opp.id}/move", {"stage_id": str(their_stage.id)})
    assert moved.status_code == 422 and reload(app, tenant, mine_opp).stage_id == stages(app, tenant)[0].id


def test_a_member_without_the_quote_rights_is_refused(app, browser, tenant):
    helper = add_member(app, tenant, role="support")  # no quote.read
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp)
    browser.login(helper.email)
    for url in ("/pipeline/", "/pipeline/list", f"/pipeline/{opp.id}"):
        assert browser.get(f"/{tenant.slug}{url}").status_code == 403
    assert f'href="/{tenant.slug}/pipeline/"' not in browser.get(f"/{tenant.slug}/").get_data(as_text=True)


def test_every_pipeline_route_has_a_spec_row(app):
    routes = {(r.endpoint, r.rule, frozenset(r.methods - {"HEAD", "OPTIONS"}))
              for r in app.url_map.iter_rules() if r.endpoint.startswith("tenant.pipeline.")}
    rows = {(r.endpoint, r.rule, r.methods) for r in PIPELINE_SPEC}
    assert routes == rows
    assert all(isinstance(r, Route) and r.right in ("quote.read", "quote.create", "admin.settings") for r in PIPELINE_SPEC)
    for route in PIPELINE_SPEC:
        assert getattr(app.view_functions[route.endpoint], "required_right", None) == route.right, route.endpoint
