"""The board and the list through their pages: columns with counts and totals, filters kept in the URL, a card moved
by the drag's request (htmx, the board comes back) and by its stage menu (a plain form), the list's totals per stage
and its pages."""
import re

from app import pagination
from tests.customers import events_of, form_fields, make_thirdparty, submit
from tests.factories import add_member
from tests.helpers import text_of
from tests.pipeline.support import make_opportunity, reload, stages


def _column(page: str, stage) -> str:
    """The text of one column of the board."""
    match = re.search(rf'<section class="stage-column" data-stage-id="{stage.id}".*?</section>', page, re.S)
    return text_of(match.group(0))


def test_the_board_shows_each_stage_with_its_count_total_and_weighted_total(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Rossi Srl")
    make_opportunity(app, tenant, tp, "Website", "1000", stage=0)
    make_opportunity(app, tenant, tp, "Shop", "2000.50", stage=0, probability=20)
    make_opportunity(app, tenant, tp, "Hosting", "400", stage=2)
    prospect, qualified, proposal, _ = stages(app, tenant)
    page = browser.get(f"/{tenant.slug}/pipeline/").get_data(as_text=True)
    first = _column(page, prospect)
    assert "Prospect 2" in " ".join(first.split())
    assert "Total: €3,000.50" in first and "Weighted: €500.10" in first  # 100.00 + 400.10
    assert "Website" in first and "Shop" in first and "Rossi Srl" in first and "Closes" not in first
    assert "Nothing in this stage." in _column(page, qualified)
    assert "Total: €400.00" in _column(page, proposal) and "Weighted: €200.00" in _column(page, proposal)
    totals = text_of(re.search(r'<p class="facts totals-line">.*?</p>', page, re.S).group(0))
    assert "3 opportunities" in totals and "Total: €3,400.50" in totals and "Weighted: €700.10" in totals
    assert 'src="/static/js/pipeline.js"' in page


def test_the_board_filters_by_owner_and_customer_text_in_the_url(app, browser, tenant, owner):
    colleague = add_member(app, tenant, role="sales")
    rossi, bianchi = make_thirdparty(app, tenant, "Rossi Srl"), make_thirdparty(app, tenant, "Bianchi Spa")
    make_opportunity(app, tenant, rossi, "Mine at Rossi")
    make_opportunity(app, tenant, bianchi, "Theirs at Bianchi", owner=colleague)
    page = text_of(browser.get(f"/{tenant.slug}/pipeline/?owner=me").get_data(as_text=True))
    assert "Mine at Rossi" in page and "Theirs at Bianchi" not in page
    fragment = browser.get(f"/{tenant.slug}/pipeline/?owner={colleague.id}&q=bian", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="board"')
    assert "Theirs at Bianchi" in body and "Mine at Rossi" not in body
    # Each card's stage menu carries the filters, so the board that comes back after a move keeps them.
    assert f'name="owner" value="{colleague.id}"' in body and 'name="q" value="bian"' in body
    assert "Mine at Rossi" in text_of(browser.get(f"/{tenant.slug}/pipeline/?q=ROSSI").get_data(as_text=True))


def test_a_dragged_card_moves_and_the_board_comes_back(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website", "1000")
    _, qualified, *_ = stages(app, tenant)
    answer = browser.post(f"/{tenant.slug}/pipeline/{opp.id}/move", {"stage_id": str(qualified.id), "q": "dupont"}, htmx=True)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in body
    assert "Website" in _column(body, qualified) and "Weighted: €250.00" in _column(body, qualified)
    assert "“Website” moved to Qualified." in text_of(body)  # the flash, out of band
    assert 'name="q" value="dupont"' in body
    assert (reload(app, tenant, opp).stage_id, reload(app, tenant, opp).probability) == (qualified.id, 25)
    (event,) = events_of(app, tenant, kind="opportunity_moved")
    assert (event.payload["from"], event.payload["to"]) == ("Prospect", "Qualified")


def test_the_stage_menu_of_a_card_works_without_javascript(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website", "1000")
    *_, negotiation = stages(app, tenant)
    page = browser.get(f"/{tenant.slug}/pipeline/?q=dupont").get_data(as_text=True)
    menu = re.search(rf'<form class="stage-menu" method="post" action="(/[^"]+/{opp.id}/move)".*?</form>', page, re.S)
    fields = form_fields(f'<form id="menu" {menu.group(0)[6:]}', "menu")
    answer = submit(browser, menu.group(1), {**fields, "stage_id": [str(negotiation.id)]})
    assert answer.status_code == 303 and answer.headers["Location"] == f"/{tenant.slug}/pipeline/?q=dupont"
    assert reload(app, tenant, opp).stage_id == negotiation.id
    assert "Website" in _column(browser.get(answer.headers["Location"]).get_data(as_text=True), negotiation)


def test_moving_to_an_unknown_stage_or_a_closed_opportunity_is_refused(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website")
    first, second, *_ = stages(app, tenant)
    unknown = browser.post(f"/{tenant.slug}/pipeline/{opp.id}/move", {"stage_id": "no-such-stage"}, htmx=True)
    assert unknown.status_code == 422 and "Choose one of the stages." in text_of(unknown.get_data(as_text=True))
    assert reload(app, tenant, opp).stage_id == first.id
    browser.post(f"/{tenant.slug}/pipeline/{opp.id}/won", {})
    closed = browser.post(f"/{tenant.slug}/pipeline/{opp.id}/move", {"stage_id": str(second.id)}, htmx=True)
    assert closed.status_code == 200 and "reopen it first" in text_of(closed.get_data(as_text=True))
    assert reload(app, tenant, opp).stage_id == first.id


def test_the_stage_menu_on_the_opportunity_page_comes_back_to_it(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website")
    proposal = stages(app, tenant)[2]
    answer = browser.post(f"/{tenant.slug}/pipeline/{opp.id}/move", {"stage_id": str(proposal.id), "back": "show"})
    assert answer.status_code == 303 and answer.headers["Location"] == f"/{tenant.slug}/pipeline/{opp.id}"
    assert "Stage: Proposal" in text_of(browser.get(answer.headers["Location"]).get_data(as_text=True))


def test_the_list_filters_totals_per_stage_and_pages(app, browser, tenant, owner, monkeypatch):
    monkeypatch.setattr(pagination, "PAGE_SIZE", 2)
    rossi, bianchi = make_thirdparty(app, tenant, "Rossi Srl"), make_thirdparty(app, tenant, "Bianchi Spa")
    for n in range(3):
        make_opportunity(app, tenant, rossi, f"Rossi deal {n}", "100", stage=0)
    lost = make_opportunity(app, tenant, bianchi, "Bianchi deal", "1000", stage=1)
    browser.post(f"/{tenant.slug}/pipeline/{lost.id}/lost", {"reason": "No budget"})
    base = f"/{tenant.slug}/pipeline/list"
    first = text_of(browser.get(base).get_data(as_text=True))
    assert "4 opportunities" in first and "Total: €1,300.00" in first and "Weighted: €30.00" in first
    assert "Bianchi deal" in first and "Rossi deal 2" in first and "Rossi deal 0" not in first and "Next" in first
    assert "Prospect 3 €300.00 €30.00" in " ".join(first.split()) and "Qualified 1 €1,000.00 €0.00" in " ".join(first.split())
    second = text_of(browser.get(f"{base}?page=2").get_data(as_text=True))
    assert "Rossi deal 0" in second and "Previous" in second
    lost_only = browser.get(f"{base}?status=lost&q=bianchi", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert lost_only.lstrip().startswith('<div id="results"') and "Bianchi deal" in lost_only and "Rossi" not in lost_only
    prospect = stages(app, tenant)[0]
    by_stage = text_of(browser.get(f"{base}?stage={prospect.id}&status=open").get_data(as_text=True))
    assert "3 opportunities" in by_stage and "Bianchi" not in by_stage
    of_customer = text_of(browser.get(f"{base}?customer={bianchi.id}").get_data(as_text=True))
    assert "Only Bianchi Spa" in of_customer and "1 opportunity" in of_customer and "Rossi deal" not in of_customer


def test_a_reader_sees_the_board_but_cannot_change_it(app, browser, tenant):
    reader = add_member(app, tenant, role="readonly")
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website")
    browser.login(reader.email)
    page = browser.get(f"/{tenant.slug}/pipeline/").get_data(as_text=True)
    assert "Website" in page and "stage-menu" not in page and 'draggable="true"' not in page and "New opportunity" not in page
    assert browser.post(f"/{tenant.slug}/pipeline/{opp.id}/move", {"stage_id": str(stages(app, tenant)[1].id)}).status_code == 403
    assert browser.get(f"/{tenant.slug}/pipeline/customers/{tp.id}/new").status_code == 403
