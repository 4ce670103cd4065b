"""QUALITY T23 (tamper evidence): whatever someone with database access does to a chain — edit, delete,
reorder, insert, truncate the tail — the verifier and ``flask audit verify`` notice it; on PostgreSQL the
app's own role cannot rewrite history at all."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.tenancy import tenant_context
from tests.audit.support import (
    ENTRY as ENTRY_TABLE,
)
from tests.audit.support import (
    TAMPERING,
    delete_last_and_rewind_head,
    entries,
    problems,
    reseal_as_version_1,
    run_verify,
    tamper,
)
from tests.customers import make_contact, make_tag, make_thirdparty, update_thirdparty
from tests.factories import make_tenant


@pytest.fixture
def chain(app, tenant):
    """Six entries in the tenant's chain."""
    tp = make_thirdparty(app, tenant, "Dupont SARL", phones=[["Office", "+33 1 23 45 67 89"]])
    make_tag(app, tenant, "VIP")
    update_thirdparty(app, tenant, tp.id, name="Dupont Frères")
    make_contact(app, tenant, tp.id, "Martin")
    make_tag(app, tenant, "Late payer")
    assert [e.seq for e in entries(app, tenant)] == [1, 2, 3, 4, 5, 6]
    assert problems(app, tenant) == []
    return tp


@pytest.mark.parametrize("how", TAMPERING.values(), ids=TAMPERING.keys())
def test_the_verifier_detects_tampering(app, cleaner, tenant, chain, how):
    tamper(cleaner, tenant, how)

    assert problems(app, tenant) != []


@pytest.mark.parametrize("how", TAMPERING.values(), ids=TAMPERING.keys())
def test_the_verify_command_fails_on_tampering(app, cleaner, tenant, chain, how):
    tamper(cleaner, tenant, how)

    result = run_verify(app, "--tenant", tenant.slug)

    assert result.exit_code == 1
    assert f"{tenant.slug}: TAMPERED" in result.output


def test_the_verifier_names_the_removed_tail(app, cleaner, tenant, chain):
    tamper(cleaner, tenant, TAMPERING["last entry deleted"])

    assert problems(app, tenant) == ["the chain ends at entry 5 but its head records entry 6: entries were removed"]


def test_truncating_the_tail_and_rewinding_the_head_is_detected(app, cleaner, tenant, chain):
    tamper(cleaner, tenant, delete_last_and_rewind_head)

    assert problems(app, tenant) != []


def test_the_verify_command_checks_every_organisation_and_fails_if_one_is_tampered(app, cleaner, tenant, chain):
    other = make_tenant(app, name="Beta", slug="zz-beta")
    for name in ("VIP", "Late payer", "Friend", "Supplier", "Lead"):
        make_tag(app, other, name)
    tamper(cleaner, other, TAMPERING["middle entry deleted"])

    result = run_verify(app)

    assert result.exit_code == 1
    assert f"{tenant.slug}: intact" in result.output and "zz-beta: TAMPERED" in result.output
    assert run_verify(app, "--tenant", tenant.slug).exit_code == 0


def test_the_verify_command_refuses_an_unknown_organisation(app):
    result = run_verify(app, "--tenant", "no-such-org")

    assert result.exit_code != 0 and "no organisation at /no-such-org" in result.output


REWRITES = [("audit_entry", "UPDATE {table} SET tenant_id = tenant_id"), ("audit_entry", "DELETE FROM {table}"),
            ("audit_entry", "TRUNCATE {table}"), ("timeline_event", "UPDATE {table} SET tenant_id = tenant_id"),
            ("timeline_event", "TRUNCATE {table}")]


@pytest.mark.postgres
@pytest.mark.parametrize(("table", "statement"), REWRITES,
                         ids=[f"{statement.split()[0].lower()}-{table}" for table, statement in REWRITES])
def test_the_app_role_may_not_rewrite_history(app, tenant, chain, table, statement):
    with app.app_context(), tenant_context(tenant.id):
        with pytest.raises(DBAPIError) as caught:
            db.session.execute(text(statement.format(table=table)))
        db.session.rollback()

    assert caught.value.orig.sqlstate == "42501"  # insufficient_privilege
    assert [e.seq for e in entries(app, tenant)] == [1, 2, 3, 4, 5, 6]


@pytest.mark.postgres
def test_the_app_role_deletes_no_timeline_event_but_a_roll_up_line(app, tenant, chain):
    """The one door in the timeline's append-only rule (migration 0026): the app role's DELETE reaches only rows marked
    as roll-up lines (a RESTRICTIVE policy), so a DELETE of the whole table as the app removes nothing else."""
    count = text("SELECT count(*) FROM timeline_event")
    with app.app_context(), tenant_context(tenant.id):
        before = db.session.execute(count).scalar()
        gone = db.session.execute(text("DELETE FROM timeline_event")).rowcount
        db.session.commit()
        after = db.session.execute(count).scalar()

    assert before >= 3 and gone == 0 and after == before
    assert [e.seq for e in entries(app, tenant)] == [1, 2, 3, 4, 5, 6]


# Every stored column of an entry is sealed (finding 3 of issue 13: ``ip`` and ``id`` were not).

def _altered(column, value):
    """Another plausible value of ``column``'s type (what someone with database access would write)."""
    import uuid
    from datetime import datetime, timedelta

    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, bool) or column.name == "hash_version":
        return 1 if value != 1 else 2
    if isinstance(value, int):
        return value + 1000
    if isinstance(value, dict):
        return {**value, "forged": [None, "x"]}
    return ("10.6.6.6" if column.name == "ip" else "z" * len(value or "x"))[:column.type.length or 64]


SEALED = [c.name for c in ENTRY_TABLE.c if c.name != "entry_hash"]


@pytest.mark.parametrize("column", SEALED)
def test_every_column_of_an_entry_is_sealed(app, cleaner, tenant, chain, column):
    """Rewriting any one column of entry 2 (its ip and id included) is detected; a column added later
    to the table without being sealed fails this test. (Its tenant: moved to another organisation.)"""
    other = make_tenant(app, name="Elsewhere").id if column == "tenant_id" else None
    engine, _tables = cleaner
    with engine.begin() as conn:
        row = conn.execute(ENTRY_TABLE.select().where(ENTRY_TABLE.c.tenant_id == tenant.id,
                                                      ENTRY_TABLE.c.seq == 2)).one()._mapping
        conn.execute(ENTRY_TABLE.update().where(ENTRY_TABLE.c.tenant_id == tenant.id, ENTRY_TABLE.c.seq == 2)
                     .values({column: other or _altered(ENTRY_TABLE.c[column], row[column])}))

    assert problems(app, tenant) != []


def test_entries_sealed_before_the_upgrade_still_verify(app, cleaner, tenant, chain):
    """Entries written with the first hash (``id`` and ``ip`` outside it) keep verifying after migration 0020;
    what that hash covered is still protected, and a later entry may not claim the older seal."""
    reseal_as_version_1(app, cleaner, tenant, upto=6)
    assert problems(app, tenant) == []

    tamper(cleaner, tenant, TAMPERING["actor rewritten"])
    assert problems(app, tenant) != []


def test_a_newer_entry_cannot_claim_the_older_seal(app, cleaner, tenant, chain):
    reseal_as_version_1(app, cleaner, tenant, upto=3)
    assert problems(app, tenant) == []  # 1-3 sealed the old way, 4-6 the new way: an upgraded chain

    engine, _tables = cleaner
    with engine.begin() as conn:
        conn.execute(ENTRY_TABLE.update().where(ENTRY_TABLE.c.tenant_id == tenant.id, ENTRY_TABLE.c.seq == 5)
                     .values(hash_version=1))
    assert "entry 5 claims an older seal than the entries before it" in problems(app, tenant)
