"""The global search is served by the index under row-level security (issue 14, point 4): the plan PostgreSQL
makes for the app's role — which does not own the tables and cannot bypass RLS — reads ``search_term`` through its
btree, never by scanning it. A superuser's EXPLAIN bypasses RLS and would show a plan the app never gets."""
import random
import string

import pytest
from sqlalchemy import event, insert, text

from app import search
from app.extensions import db
from app.models import SearchTerm, new_id
from app.tenancy import tenant_context
from tests.customers import make_thirdparty, viewer_for
from tests.factories import make_tenant
from tests.search.support import in_request


def _fill(app, tenant, rows: int, rng: random.Random) -> None:
    """``rows`` index rows of made-up records of every kind, written as the app role under the tenant's scope."""
    kinds = ("customer", "contact", "note", "document", "quote", "invoice")
    with app.app_context(), tenant_context(tenant.id):
        batch = []
        for n in range(rows):
            term = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10)))
            batch.append({"tenant_id": tenant.id, "id": new_id(), "kind": kinds[n % len(kinds)], "record_id": new_id(),
                          "term": term, "weight": n % 3, "thirdparty_id": new_id(), "private_to_id": None})
        db.session.execute(insert(SearchTerm), batch)
        db.session.commit()


def _plans(app, tenant, searches) -> list[str]:
    """The plans, read as the app role with the tenant set, of the statements on ``search_term`` that
    ``searches(viewer)`` sends (the owner searching)."""
    viewer = viewer_for(app, tenant, tenant.owner)
    with in_request(app, tenant):
        sent = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if "search_term" in statement:
                sent.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            searches(viewer)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        connection = db.session.connection()
        assert connection.exec_driver_sql("SELECT current_user").scalar() != "postgres" or not app.config.get(
            "MIGRATE_DATABASE_URL"), "the plan must be read as the app role"
        assert connection.exec_driver_sql("SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user").scalar() is False
        return ["\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
                for statement, parameters in sent]


def test_the_search_reads_the_index_as_the_app_role(app, is_postgres, cleaner):
    if not is_postgres:
        pytest.skip("row-level security and its plans are PostgreSQL's")
    tenant, other = make_tenant(app), make_tenant(app)
    rng = random.Random(14)
    _fill(app, tenant, 4000, rng)
    _fill(app, other, 4000, rng)
    make_thirdparty(app, tenant, "Società Ferrari")
    engine, _tables = cleaner
    with engine.begin() as conn:
        conn.execute(text("ANALYZE search_term"))  # statistics, as autovacuum keeps them (the owner's job)

    def searches(viewer):
        for kind in (None, "customer"):
            results, _filters = search.find(viewer, "societa ferr", kind=kind)
            assert results.groups and results.groups[0].hits[0].title == "Società Ferrari"
        search.suggest(viewer, "soc")

    plans = _plans(app, tenant, searches)
    assert plans
    for plan in plans:
        assert "Seq Scan on search_term" not in plan, plan
        assert "ix_search_term_lookup" in plan, plan


def _common_word(app, tenant, rows: int) -> None:
    """``rows`` customer entries whose terms begin with "garag" and sort before "garage" ("garagaxxxx")."""
    rng = random.Random(7)
    with app.app_context(), tenant_context(tenant.id):
        db.session.execute(insert(SearchTerm), [
            {"tenant_id": tenant.id, "id": new_id(), "kind": "customer", "record_id": new_id(),
             "term": "garaga" + "".join(rng.choice(string.ascii_lowercase) for _ in range(4)), "weight": 0,
             "thirdparty_id": new_id(), "private_to_id": None} for _ in range(rows)])
        db.session.commit()


def test_a_query_of_several_words_is_driven_by_its_rarest_word(app, tenant, owner):
    """"garag dub": its longest word has more entries than the box reads of a range, all before "garage"; read from
    the rarest word ("dub"), the one customer both words begin is found, whatever the order of the words."""
    _common_word(app, tenant, 1500)
    garage = make_thirdparty(app, tenant, "Garage Dubois")
    viewer = viewer_for(app, tenant, tenant.owner)
    with in_request(app, tenant):
        for text in ("garag dub", "dub garag"):
            results = search.suggest(viewer, text)
            assert [hit.id for group in results.groups for hit in group.hits] == [garage.id], text
        results, _filters = search.find(viewer, "garag nothingsuch")
        assert not results.groups  # a word no entry of any kind begins: nothing read past the probes


def test_a_query_of_two_words_reads_the_index_as_the_app_role(app, tenant, is_postgres, cleaner):
    if not is_postgres:
        pytest.skip("row-level security and its plans are PostgreSQL's")
    rng = random.Random(15)
    _fill(app, tenant, 30000, rng)  # the common word a small part of the index, as in an organisation's
    _common_word(app, tenant, 3000)
    make_thirdparty(app, tenant, "Garage Dubois")
    engine, _tables = cleaner
    with engine.begin() as conn:
        conn.execute(text("ANALYZE search_term"))
    def searches(viewer):
        assert search.suggest(viewer, "garag dub").hits
        results, _filters = search.find(viewer, "dub garag", kind="customer")
        assert results.hits

    plans = _plans(app, tenant, searches)
    assert len(plans) >= 3  # the probes, then the look-ups
    for plan in plans:
        assert "Seq Scan on search_term" not in plan, plan
        assert "ix_search_term_lookup" in plan, plan
    # The other word is checked per record on its own index, not by reading its range.
    assert any("ix_search_term_record" in plan for plan in plans), plans
