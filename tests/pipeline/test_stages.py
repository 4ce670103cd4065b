"""An administrator's stages: added, renamed, reordered with up and down, deleted only when no opportunity uses them;
the defaults stored by the first change; nobody else may touch them."""
from tests.customers import audit_of, form_fields, make_thirdparty, submit
from tests.factories import add_member
from tests.helpers import text_of
from tests.pipeline.support import make_opportunity, stages, stored_stages


def _names(app, tenant):
    return [(s.name, s.probability) for s in stored_stages(app, tenant)]


def test_the_page_shows_the_defaults_and_the_first_change_stores_them(app, browser, tenant, owner):
    page = browser.get(f"/{tenant.slug}/pipeline/stages").get_data(as_text=True)
    assert [n for n in ("Prospect", "Qualified", "Proposal", "Negotiation") if f'value="{n}"' in page] == [
        "Prospect", "Qualified", "Proposal", "Negotiation"]
    assert stored_stages(app, tenant) == []  # looking wrote nothing
    answer = browser.post(f"/{tenant.slug}/pipeline/stages", {"name": " Demo booked ", "probability": "35"})
    assert answer.status_code == 303 and answer.headers["Location"] == f"/{tenant.slug}/pipeline/stages"
    assert _names(app, tenant) == [("Prospect", 10), ("Qualified", 25), ("Proposal", 50), ("Negotiation", 75), ("Demo booked", 35)]
    assert "Stage Demo booked added at the end of the board." in text_of(browser.get(answer.headers["Location"]).get_data(as_text=True))
    assert {a.action for a in audit_of(app, tenant, entity_type="pipeline_stage")} == {"create"}


def test_a_stage_is_renamed_and_its_probability_changed(app, browser, tenant, owner):
    first = stages(app, tenant)[0]
    page = browser.get(f"/{tenant.slug}/pipeline/stages").get_data(as_text=True)
    url = f"/{tenant.slug}/pipeline/stages/{first.id}/edit"
    assert f'action="{url}"' in page
    assert browser.post(url, {"name": "First call", "probability": "5"}, htmx=True).headers["HX-Redirect"] == \
        f"/{tenant.slug}/pipeline/stages"
    assert _names(app, tenant)[0] == ("First call", 5)


def test_a_taken_name_or_a_bad_probability_is_refused_with_the_input_kept(app, browser, tenant, owner):
    first = stages(app, tenant)[0]
    taken = browser.post(f"/{tenant.slug}/pipeline/stages/{first.id}/edit", {"name": "proposal", "probability": "10"}, htmx=True)
    body = taken.get_data(as_text=True)
    assert taken.status_code == 422 and body.lstrip().startswith('<div id="stage-list"')
    assert "Another stage already has this name." in text_of(body) and 'value="proposal"' in body
    added = browser.post(f"/{tenant.slug}/pipeline/stages", {"name": "Signed", "probability": "140"}, htmx=True)
    assert added.status_code == 422 and 'value="Signed"' in added.get_data(as_text=True)
    assert _names(app, tenant)[0] == ("Prospect", 10) and len(_names(app, tenant)) == 4


def test_stages_are_reordered_with_up_and_down(app, browser, tenant, owner):
    prospect, qualified, proposal, negotiation = stages(app, tenant)
    base = f"/{tenant.slug}/pipeline/stages"
    assert browser.post(f"{base}/{proposal.id}/up", {}).status_code == 303
    assert [n for n, _p in _names(app, tenant)] == ["Prospect", "Proposal", "Qualified", "Negotiation"]
    browser.post(f"{base}/{prospect.id}/down", {})
    browser.post(f"{base}/{prospect.id}/up", {})
    browser.post(f"{base}/{prospect.id}/up", {})  # already first: nothing moves
    browser.post(f"{base}/{negotiation.id}/down", {})  # already last
    assert [n for n, _p in _names(app, tenant)] == ["Prospect", "Proposal", "Qualified", "Negotiation"]
    assert [s.position for s in stored_stages(app, tenant)] == [0, 1, 2, 3]
    board = text_of(browser.get(f"/{tenant.slug}/pipeline/").get_data(as_text=True))
    assert board.index("Proposal") < board.index("Qualified")


def test_a_stage_in_use_is_not_deleted_and_says_why(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    lost = make_opportunity(app, tenant, tp, "Logo", stage=1)
    browser.post(f"/{tenant.slug}/pipeline/{lost.id}/lost", {"reason": "No budget"})  # closed ones count too
    qualified = stages(app, tenant)[1]
    answer = browser.post(f"/{tenant.slug}/pipeline/stages/{qualified.id}/delete", {})
    assert answer.status_code == 303
    message = text_of(browser.get(answer.headers["Location"]).get_data(as_text=True))
    assert "Qualified cannot be deleted: 1 opportunity (open, won or lost) is in it. Move it to another stage first." in message
    assert len(stored_stages(app, tenant)) == 4
    proposal = stages(app, tenant)[2]
    browser.post(f"/{tenant.slug}/pipeline/stages/{proposal.id}/delete", {})
    assert [n for n, _p in _names(app, tenant)] == ["Prospect", "Qualified", "Negotiation"]


def test_the_last_stage_is_kept(app, browser, tenant, owner):
    for stage in stages(app, tenant)[1:]:
        browser.post(f"/{tenant.slug}/pipeline/stages/{stage.id}/delete", {})
    (last,) = stored_stages(app, tenant)
    answer = browser.post(f"/{tenant.slug}/pipeline/stages/{last.id}/delete", {})
    assert "The pipeline needs at least one stage" in text_of(browser.get(answer.headers["Location"]).get_data(as_text=True))
    assert len(stored_stages(app, tenant)) == 1


def test_only_administrators_manage_stages(app, browser, tenant):
    first = stages(app, tenant)[0]
    seller = add_member(app, tenant, role="sales")
    browser.login(seller.email)
    assert browser.get(f"/{tenant.slug}/pipeline/stages").status_code == 403
    assert browser.post(f"/{tenant.slug}/pipeline/stages", {"name": "Mine", "probability": "5"}).status_code == 403
    assert browser.post(f"/{tenant.slug}/pipeline/stages/{first.id}/delete", {}).status_code == 403
    assert f'href="/{tenant.slug}/pipeline/stages"' not in browser.get(f"/{tenant.slug}/pipeline/").get_data(as_text=True)
    assert len(stored_stages(app, tenant)) == 4


def test_the_add_form_is_read_as_a_browser_sends_it(app, browser, tenant, owner):
    page = browser.get(f"/{tenant.slug}/pipeline/stages").get_data(as_text=True)
    fields = form_fields(page, "stage-add")
    assert fields["probability"] == ["50"]
    assert submit(browser, f"/{tenant.slug}/pipeline/stages", {**fields, "name": ["Trial"]}).status_code == 303
    assert _names(app, tenant)[-1] == ("Trial", 50)
