"""QUALITY T23 (field changes): every create, update and delete of an audited record writes exactly one
entry with each field's old → new value, the actor and the address, in the same transaction; the chain
of every organisation verifies."""
import pytest
from sqlalchemy import select

from app.contacts import services as contact_services
from app.extensions import db
from app.models import Contact, Tag
from app.permissions import load_viewer
from app.tenancy import tenant_context
from tests.audit.support import entries, problems, run_verify
from tests.customers import archive_thirdparty, make_contact, make_tag, make_thirdparty, membership_of, update_thirdparty
from tests.factories import add_member, make_tenant
from tests.timeline.support import notes_of, post_note, signed_in

ADDRESS = "203.0.113.7"


def changes_of(app, tenant, entity_type, action=None):
    return [e.changes for e in entries(app, tenant, entity_type=entity_type) if action in (None, e.action)]


@pytest.fixture
def remote_owner(app, tenant):
    """The owner, signed in from a documentation address."""
    browser = signed_in(app, tenant.owner)
    browser.client.environ_base["REMOTE_ADDR"] = ADDRESS
    return browser


# --- third parties and channels ---

def test_creating_a_customer_records_each_set_field_as_new(app, tenant):
    tp = make_thirdparty(app, tenant, "Dupont SARL", website="https://dupont.example", vat_number="FR123")

    assert changes_of(app, tenant, "thirdparty") == [{
        "code": [None, tp.code], "name": [None, "Dupont SARL"], "is_customer": [None, True],
        "website": [None, "https://dupont.example"], "vat_number": [None, "FR123"],
    }]


def test_editing_a_customer_records_old_and_new_values_of_the_changed_fields(app, tenant):
    tp = make_thirdparty(app, tenant, "Dupont SARL", website="https://old.example")

    update_thirdparty(app, tenant, tp.id, name="Dupont Frères", website="https://new.example")

    assert changes_of(app, tenant, "thirdparty", "update") == [{
        "name": ["Dupont SARL", "Dupont Frères"], "website": ["https://old.example", "https://new.example"],
    }]


def test_archiving_a_customer_records_when(app, tenant):
    tp = make_thirdparty(app, tenant, "Dupont SARL")
    archive_thirdparty(app, tenant, tp.id)

    [change] = changes_of(app, tenant, "thirdparty", "update")
    assert list(change) == ["archived_at"] and change["archived_at"][0] is None and change["archived_at"][1]


def test_a_new_phone_records_a_created_channel(app, tenant):
    tp = make_thirdparty(app, tenant, "Dupont SARL", phones=[["Office", "+33 1 23 45 67 89"]])

    assert changes_of(app, tenant, "channel") == [{
        "thirdparty_id": [None, str(tp.id)], "kind": [None, "phone"], "label": [None, "Office"],
        "value": [None, "+33 1 23 45 67 89"],
    }]


def test_a_removed_phone_records_a_deleted_channel_with_its_old_values(app, tenant):
    tp = make_thirdparty(app, tenant, "Dupont SARL", phones=[["Office", "+33 1 23 45 67 89"]])

    update_thirdparty(app, tenant, tp.id, phones=[])

    assert changes_of(app, tenant, "channel", "delete") == [{
        "thirdparty_id": [str(tp.id), None], "contact_id": [None, None], "kind": ["phone", None],
        "label": ["Office", None], "value": ["+33 1 23 45 67 89", None],
    }]


def test_a_removed_sales_rep_records_a_deleted_assignment(app, tenant):
    rep = add_member(app, tenant, role="sales")
    tp = make_thirdparty(app, tenant, "Dupont SARL", reps=[rep])

    update_thirdparty(app, tenant, tp.id, rep_ids=[])

    assert changes_of(app, tenant, "sales_rep", "delete") == [{
        "thirdparty_id": [str(tp.id), None], "membership_id": [str(membership_of(app, tenant, rep)), None],
    }]


# --- contacts ---

def test_creating_and_editing_a_contact_records_both(app, tenant):
    tp = make_thirdparty(app, tenant, "Dupont SARL")
    contact = make_contact(app, tenant, tp.id, "Martin", first_name="Anne", job_title="Buyer")
    with app.app_context(), tenant_context(tenant.id):
        person = db.session.scalar(select(Contact).where(Contact.id == contact.id))
        current = contact_services.snapshot(person)
        contact_services.update_contact(load_viewer(tenant.owner.id), person, {**current, "job_title": "Head buyer"},
                                        version=person.version, base=current)

    assert changes_of(app, tenant, "contact") == [
        {"thirdparty_id": [None, str(tp.id)], "first_name": [None, "Anne"], "last_name": [None, "Martin"],
         "job_title": [None, "Buyer"], "preferred_channel": [None, "any"]},
        {"job_title": ["Buyer", "Head buyer"]},
    ]


# --- notes ---

def test_writing_editing_and_pinning_a_note_records_each_change(app, remote_owner, tenant):
    tp = make_thirdparty(app, tenant, "Dupont SARL")
    post_note(remote_owner, tenant, tp.id, "Budget 10k")
    [note] = notes_of(app, tenant)
    remote_owner.post(f"/{tenant.slug}/timeline/notes/{note.id}/edit",
                      {"body": "Budget 12k", "version": "1", "base_body": "Budget 10k"}, htmx=True)
    remote_owner.post(f"/{tenant.slug}/timeline/notes/{note.id}/pin", htmx=True)

    assert [(e.action, e.changes) for e in entries(app, tenant, entity_type="note")] == [
        ("create", {"body": [None, "Budget 10k"]}),
        ("update", {"body": ["Budget 10k", "Budget 12k"]}),
        ("update", {"pinned": [False, True]}),
    ]


def test_the_actor_and_address_come_from_the_request(app, remote_owner, tenant):
    tp = make_thirdparty(app, tenant, "Dupont SARL")

    post_note(remote_owner, tenant, tp.id, "Budget 10k")

    [entry] = entries(app, tenant, entity_type="note")
    assert (entry.actor_id, entry.ip) == (tenant.owner.id, ADDRESS)


def test_a_refused_note_leaves_no_entry(app, remote_owner, tenant):
    tp = make_thirdparty(app, tenant, "Dupont SARL")

    assert post_note(remote_owner, tenant, tp.id, "   ").status_code == 422

    assert entries(app, tenant, entity_type="note") == []


# --- tags ---

def test_creating_and_deleting_a_tag_records_both(app, owner, tenant):
    tag_id = make_tag(app, tenant, "VIP", "red")

    assert owner.post(f"/{tenant.slug}/admin/tags/{tag_id}/delete", htmx=True).status_code == 200

    assert [(e.action, e.entity_id, e.changes) for e in entries(app, tenant, entity_type="tag")] == [
        ("create", tag_id, {"name": [None, "VIP"], "colour": [None, "red"]}),
        ("delete", tag_id, {"name": ["VIP", None], "colour": ["red", None]}),
    ]


def test_tagging_a_customer_records_the_link(app, tenant):
    tag_id = make_tag(app, tenant, "VIP")
    tp = make_thirdparty(app, tenant, "Dupont SARL")

    update_thirdparty(app, tenant, tp.id, tag_ids=[str(tag_id)])

    assert changes_of(app, tenant, "thirdparty_tag") == [{"thirdparty_id": [None, str(tp.id)], "tag_id": [None, str(tag_id)]}]


# --- the chain ---

def test_a_rolled_back_change_writes_no_entry_and_keeps_the_chain_whole(app, tenant):
    make_tag(app, tenant, "Kept")
    with app.app_context(), tenant_context(tenant.id):
        db.session.add(Tag(name="Abandoned", colour="grey"))
        db.session.flush()
        db.session.rollback()
    make_tag(app, tenant, "Also kept")

    assert [e.seq for e in entries(app, tenant)] == [1, 2]
    assert problems(app, tenant) == []


def test_each_organisation_has_its_own_gapless_chain_that_verifies(app, tenant):
    other = make_tenant(app, name="Beta")
    for name in ("A", "B", "C"):
        make_tag(app, tenant, name)
        make_tag(app, other, name)

    assert [e.seq for e in entries(app, tenant)] == [1, 2, 3]
    assert [e.seq for e in entries(app, other)] == [1, 2, 3]
    assert problems(app, tenant) == problems(app, other) == []


def test_the_verify_command_reports_intact_chains(app, tenant):
    make_thirdparty(app, tenant, "Dupont SARL", phones=[["Office", "+33 1"]])

    result = run_verify(app, "--tenant", tenant.slug)

    assert result.exit_code == 0
    assert result.output.strip() == f"{tenant.slug}: intact"
