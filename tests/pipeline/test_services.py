"""The pipeline's domain functions: the default stages, an opportunity opened, moved, won, lost and reopened with
its timeline events, stale saves refused, and the totals of the board, the list and the customer card."""
from datetime import date
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import select

from app.editing import EditConflict
from app.extensions import db
from app.models import Opportunity, Tenant, TimelineEvent
from app.pipeline import services
from app.pipeline import stages as stage_module
from app.pipeline.stages import ensure_stages, list_stages
from tests.customers import _acting, audit_of, events_of, make_thirdparty, viewer_for
from tests.factories import add_member
from tests.helpers import text_of
from tests.pipeline.support import make_opportunity, opportunities, reload, stages, stored_stages


def _act(app, tenant, user=None):
    return _acting(app, tenant, user or tenant.owner)


def _opportunity(opp_id):
    return db.session.scalar(select(Opportunity).where(Opportunity.id == opp_id))


def test_the_default_stages_are_shown_without_a_write_and_stored_once_by_the_first_write(app, tenant):
    with _act(app, tenant):
        shown = [(s.id, s.name, s.probability) for s in list_stages()]
    assert [(name, p) for _id, name, p in shown] == [("Prospect", 10), ("Qualified", 25), ("Proposal", 50), ("Negotiation", 75)]
    assert stored_stages(app, tenant) == []
    assert [(s.id, s.name, s.probability) for s in stages(app, tenant)] == shown  # same ids: a page shown before still works
    assert len(stages(app, tenant)) == 4


def test_a_first_write_racing_another_finds_the_defaults_stored_once(app, tenant, monkeypatch):
    stages(app, tenant)  # the other request stored them just after ours looked
    real, looked = stage_module._stored, []

    def stale_first_look():
        if not looked:
            looked.append(True)
            return []
        return real()

    monkeypatch.setattr(stage_module, "_stored", stale_first_look)
    with _act(app, tenant):
        assert [s.name for s in ensure_stages()] == ["Prospect", "Qualified", "Proposal", "Negotiation"]
    assert len(stored_stages(app, tenant)) == 4


def test_an_opportunity_takes_its_stage_probability_unless_one_is_given(app, tenant):
    tp = make_thirdparty(app, tenant, "Rossi Srl")
    usual = make_opportunity(app, tenant, tp, "Website", "1000", stage=2)
    given = make_opportunity(app, tenant, tp, "Hosting", "300", stage=2, probability=65)
    assert (usual.probability, given.probability) == (50, 65)
    assert (usual.status, usual.currency, usual.version, usual.closed_at) == ("open", "EUR", 1, None)
    events = events_of(app, tenant, thirdparty_id=tp.id, kind="opportunity_created")
    assert [(e.title, e.payload["stage"], e.payload["amount"]) for e in events] == [
        ("Website", "Proposal", "1000.00"), ("Hosting", "Proposal", "300.00")]
    with _act(app, tenant):
        rights = select(TimelineEvent.required_right).where(TimelineEvent.kind.startswith("opportunity_"))
        assert set(db.session.scalars(rights)) == {"quote.read"}
    assert [a.action for a in audit_of(app, tenant, entity_type="opportunity", entity_id=usual.id)] == ["create"]


def test_the_same_idempotency_key_opens_one_opportunity(app, tenant):
    tp = make_thirdparty(app, tenant)
    first = make_opportunity(app, tenant, tp, key="tap-1")
    second = make_opportunity(app, tenant, tp, "Something else", key="tap-1")
    assert first.id == second.id and len(opportunities(app, tenant)) == 1
    assert len(events_of(app, tenant, kind="opportunity_created")) == 1


def test_moving_brings_the_new_stage_probability_and_records_from_and_to(app, tenant):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, probability=33)
    with _act(app, tenant) as viewer:
        negotiation = ensure_stages()[3]
        assert services.move_opportunity(viewer, _opportunity(opp.id), negotiation) is True
        assert services.move_opportunity(viewer, _opportunity(opp.id), negotiation) is False  # already there
    moved = reload(app, tenant, opp)
    assert (moved.stage_id, moved.probability, moved.version) == (negotiation.id, 75, 2)
    (event,) = events_of(app, tenant, kind="opportunity_moved")
    assert (event.payload["from"], event.payload["to"]) == ("Prospect", "Negotiation")


def test_won_lost_and_reopened_with_their_reasons(app, tenant):
    tp = make_thirdparty(app, tenant)
    won, lost = make_opportunity(app, tenant, tp, "Won one", stage=1), make_opportunity(app, tenant, tp, "Lost one", stage=2)
    with _act(app, tenant) as viewer:
        services.close_opportunity(viewer, _opportunity(won.id), "won", "")
        services.close_opportunity(viewer, _opportunity(lost.id), "lost", "Too expensive")
        with pytest.raises(services.PipelineError):
            services.close_opportunity(viewer, _opportunity(lost.id), "won", "")
        with pytest.raises(services.PipelineError):
            services.move_opportunity(viewer, _opportunity(lost.id), ensure_stages()[0])
    won, lost = reload(app, tenant, won), reload(app, tenant, lost)
    assert (won.status, won.probability, won.close_reason) == ("won", 100, None)
    assert (lost.status, lost.probability, lost.close_reason) == ("lost", 0, "Too expensive")
    assert won.closed_at and lost.closed_at
    with _act(app, tenant) as viewer:
        services.reopen_opportunity(viewer, _opportunity(lost.id))
        with pytest.raises(services.PipelineError):
            services.reopen_opportunity(viewer, _opportunity(lost.id))
    lost = reload(app, tenant, lost)
    assert (lost.status, lost.probability, lost.close_reason, lost.closed_at) == ("open", 50, None, None)
    kinds = [(e.kind, e.title) for e in events_of(app, tenant, thirdparty_id=tp.id)
             if e.kind.startswith("opportunity_") and e.kind != "opportunity_created"]
    assert kinds == [("opportunity_won", "Won one"), ("opportunity_lost", "Lost one"), ("opportunity_reopened", "Lost one")]
    with _act(app, tenant):
        body = db.session.scalar(select(TimelineEvent.body).where(TimelineEvent.kind == "opportunity_lost"))
    assert body == "Too expensive"


def test_a_save_made_on_an_older_version_is_refused(app, tenant):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, "Website", "1000")
    values = {"title": "Mine", "amount": Decimal(5), "stage_id": opp.stage_id, "probability": None, "expected_close_on": None,
              "owner_id": tenant.owner.id, "contact_id": None}
    with _act(app, tenant) as viewer:
        services.update_opportunity(viewer, _opportunity(opp.id), {**values, "title": "Theirs"}, version=1, base=None)
        with pytest.raises(EditConflict) as refused:
            services.update_opportunity(viewer, _opportunity(opp.id), values, version=1, base=None)
    assert refused.value.fields["title"] == ("Theirs", "Mine")
    assert (reload(app, tenant, opp).title, reload(app, tenant, opp).version) == ("Theirs", 2)


def test_an_edit_to_another_stage_brings_its_probability_unless_it_changes_it_too(app, tenant):
    tp = make_thirdparty(app, tenant)
    opp = make_opportunity(app, tenant, tp, stage=0)  # 10 %
    base = {"title": "Website", "amount": Decimal(1000), "expected_close_on": None, "owner_id": tenant.owner.id,
            "contact_id": None}
    with _act(app, tenant) as viewer:
        proposal, negotiation = ensure_stages()[2:4]
        services.update_opportunity(viewer, _opportunity(opp.id),
                                    {**base, "stage_id": proposal.id, "probability": 10}, version=1, base=None)
        assert _opportunity(opp.id).probability == 50
        services.update_opportunity(viewer, _opportunity(opp.id),
                                    {**base, "stage_id": negotiation.id, "probability": 60}, version=2, base=None)
        assert _opportunity(opp.id).probability == 60
        services.update_opportunity(viewer, _opportunity(opp.id),
                                    {**base, "stage_id": negotiation.id, "probability": None}, version=3, base=None)
        assert _opportunity(opp.id).probability == 75
    assert [e.payload["to"] for e in events_of(app, tenant, kind="opportunity_moved")] == ["Proposal", "Negotiation"]


def test_board_totals_count_sum_and_weigh_the_open_opportunities(app, tenant):
    tp = make_thirdparty(app, tenant)
    make_opportunity(app, tenant, tp, "A", "1000.00", stage=0)  # 10 % → 100.00
    make_opportunity(app, tenant, tp, "B", "333.33", stage=0, probability=33)  # 109.9989 → 110.00 once summed
    make_opportunity(app, tenant, tp, "C", "2000", stage=2)  # 50 % → 1000.00
    closed = make_opportunity(app, tenant, tp, "D", "9999", stage=2)
    with _act(app, tenant) as viewer:
        services.close_opportunity(viewer, _opportunity(closed.id), "won")
        columns, totals = services.board(viewer, ensure_stages(), services.Filters())
    sums = [(c.stage.name, c.totals.count, c.totals.amount, c.totals.weighted, [o.title for o, _ in c.cards]) for c in columns]
    assert sums == [("Prospect", 2, Decimal("1333.33"), Decimal("210.00"), ["A", "B"]),
                    ("Qualified", 0, Decimal("0.00"), Decimal("0.00"), []),
                    ("Proposal", 1, Decimal("2000.00"), Decimal("1000.00"), ["C"]),
                    ("Negotiation", 0, Decimal("0.00"), Decimal("0.00"), [])]
    assert (totals.count, totals.amount, totals.weighted) == (3, Decimal("3333.33"), Decimal("1210.00"))


def test_a_column_shows_its_first_cards_and_counts_them_all(app, tenant, monkeypatch):
    monkeypatch.setattr(services, "CARDS_PER_COLUMN", 2)
    tp = make_thirdparty(app, tenant)
    for day in (20, 10, 30):
        make_opportunity(app, tenant, tp, f"Closes on the {day}th", "10", expected=date(2031, 1, day))
    make_opportunity(app, tenant, tp, "No date", "10")
    with _act(app, tenant) as viewer:
        first = services.board(viewer, ensure_stages(), services.Filters())[0][0]
    assert [o.title for o, _ in first.cards] == ["Closes on the 10th", "Closes on the 20th"]
    assert (first.totals.count, first.more) == (4, 2)


def test_the_list_totals_per_stage_follow_the_filters(app, tenant):
    tp, other = make_thirdparty(app, tenant, "Rossi Srl"), make_thirdparty(app, tenant, "Bianchi")
    make_opportunity(app, tenant, tp, "Website", "1000", stage=0)
    make_opportunity(app, tenant, tp, "Shop", "500", stage=1)
    lost = make_opportunity(app, tenant, other, "Logo", "200", stage=1)
    with _act(app, tenant) as viewer:
        services.close_opportunity(viewer, _opportunity(lost.id), "lost", "No budget")
        stage_ids = [s.id for s in ensure_stages()]
        rows, has_next, per_stage, totals = services.list_opportunities(viewer, services.Filters())
        assert ([o.title for o, _ in rows], has_next, totals.count, totals.amount) == (["Logo", "Shop", "Website"], False, 3,
                                                                                      Decimal("1700.00"))
        assert {stage_ids.index(k): (t.count, t.amount, t.weighted) for k, t in per_stage.items()} == {
            0: (1, Decimal("1000.00"), Decimal("100.00")), 1: (2, Decimal("700.00"), Decimal("125.00"))}
        rows, _next, per_stage, totals = services.list_opportunities(viewer, services.Filters(status="open", text="ROSSI"))
        assert ([o.title for o, _ in rows], totals.count, totals.weighted) == (["Shop", "Website"], 2, Decimal("225.00"))
        rows, *_ = services.list_opportunities(viewer, services.Filters(stage_id=stage_ids[1], status="lost"))
        assert [name for _o, name in rows] == ["Bianchi"]


def test_the_customer_card_box_lists_its_open_opportunities_with_their_stage(app, tenant):
    tp, other = make_thirdparty(app, tenant, "Rossi Srl"), make_thirdparty(app, tenant, "Bianchi")
    make_opportunity(app, tenant, tp, "Shop", "500", stage=1)
    make_opportunity(app, tenant, tp, "Website", "1000", stage=0)
    make_opportunity(app, tenant, other, "Logo", "200")
    closed = make_opportunity(app, tenant, tp, "Old", "5000")
    with _act(app, tenant) as viewer:
        services.close_opportunity(viewer, _opportunity(closed.id), "won")
        box = services.card_box(viewer, tp.id)
    assert [(o.title, stage) for o, stage in box["pipeline_open"]] == [("Website", "Prospect"), ("Shop", "Qualified")]
    assert (box["pipeline_totals"].count, box["pipeline_totals"].amount, box["pipeline_totals"].weighted) == (
        2, Decimal("1500.00"), Decimal("225.00"))
    support = add_member(app, tenant, role="support")  # no quote.read
    assert services.card_box(viewer_for(app, tenant, support), tp.id) == {"pipeline_open": None}


def test_only_mine_reads_only_the_opportunities_of_the_reps_customers(app, tenant):
    rep = add_member(app, tenant, role="sales")
    mine, theirs = make_thirdparty(app, tenant, "Mine", reps=[rep]), make_thirdparty(app, tenant, "Theirs")
    kept, hidden = make_opportunity(app, tenant, mine, "Kept"), make_opportunity(app, tenant, theirs, "Hidden")
    with _act(app, tenant, rep) as viewer:
        assert services.get_opportunity(viewer, kept.id) is not None
        assert services.get_opportunity(viewer, hidden.id) is None
        columns, totals = services.board(viewer, ensure_stages(), services.Filters())
        assert [o.title for c in columns for o, _ in c.cards] == ["Kept"] and totals.count == 1
        rows, _next, _per_stage, totals = services.list_opportunities(viewer, services.Filters())
        assert [o.title for o, _ in rows] == ["Kept"] and totals.count == 1
        assert services.card_box(viewer, theirs.id)["pipeline_open"] == []


def test_the_card_box_macro_shows_the_open_opportunities_and_their_totals(app, tenant):
    tp = make_thirdparty(app, tenant, "Rossi Srl")
    opp = make_opportunity(app, tenant, tp, "Website", "1000", stage=1, expected=date(2031, 5, 4))
    viewer = viewer_for(app, tenant, tenant.owner)
    with app.test_request_context(), _act(app, tenant):
        g.tenant, g.viewer = db.session.get(Tenant, tenant.id), viewer
        macros = app.jinja_env.get_template("pipeline/_macros.html").module
        box = services.card_box(viewer, tp.id)
        html = str(macros.card_box(tp, box["pipeline_open"], box["pipeline_totals"]))
    shown = " ".join(text_of(html).split())
    assert "Website Qualified €1,000.00 · 25% · closes May 4, 2031" in shown
    assert "1 open Total: €1,000.00 Weighted: €250.00" in shown
    assert f'href="/{tenant.slug}/pipeline/{opp.id}"' in html and f'href="/{tenant.slug}/pipeline/customers/{tp.id}/new"' in html
    assert f'href="/{tenant.slug}/pipeline/list?customer={tp.id}"' in html
