"""Concurrent edits of a third party (QUALITY T21): no lost update, auto-merge when fields differ, 409 when they overlap.

Two signed-in sessions load the edit form (its ``version`` and ``base`` hidden fields), then save in turn.
"""
import pytest

from tests.customers import events_of, form_fields, make_field, make_tag, make_thirdparty, read_thirdparty, submit
from tests.factories import add_member
from tests.helpers import Browser, text_of


@pytest.fixture
def second(app, tenant):
    """Another member's browser (an administrator), signed in."""
    admin = add_member(app, tenant, role="admin")
    browser = Browser(app.test_client())
    browser.login(admin.email)
    return browser


@pytest.fixture
def record(app, tenant):
    return make_thirdparty(app, tenant, "Original SARL", vat_number="FR0", phones=[["Office", "0100000000"]])


def _load(browser, tenant, tp):
    form = form_fields(browser.get(f"/{tenant.slug}/thirdparties/{tp.id}/edit").get_data(as_text=True), "thirdparty-form")
    assert form["version"] and form["base"][0].startswith("{")
    return form


def _save(browser, tenant, tp, form, **typed):
    data = {**form, **{k: v if isinstance(v, list) else [v] for k, v in typed.items()}}
    return submit(browser, f"/{tenant.slug}/thirdparties/{tp.id}/edit", data, htmx=True)


def test_changes_to_different_fields_are_merged(app, owner, second, tenant, record):
    mine, theirs = _load(owner, tenant, record), _load(second, tenant, record)
    assert _save(owner, tenant, record, mine, name="Renamed by A").status_code == 200
    assert _save(second, tenant, record, theirs, vat_number="FR-B").status_code == 200
    stored = read_thirdparty(app, tenant, record.id)
    assert (stored["name"], stored["vat_number"]) == ("Renamed by A", "FR-B")
    assert [e.payload["changes"] for e in events_of(app, tenant, kind="thirdparty_updated")] == [
        {"name": ["Original SARL", "Renamed by A"]}, {"vat_number": ["FR0", "FR-B"]}]


def test_changes_to_the_same_field_answer_409_and_overwrite_nothing(app, owner, second, tenant, record):
    mine, theirs = _load(owner, tenant, record), _load(second, tenant, record)
    _save(owner, tenant, record, mine, name="Alpha by A")
    response = _save(second, tenant, record, theirs, name="Bravo by B", vat_number="FR-B")
    assert response.status_code == 409
    assert read_thirdparty(app, tenant, record.id)["name"] == "Alpha by A"
    assert read_thirdparty(app, tenant, record.id)["vat_number"] == "FR0"  # nothing of B's save was written
    assert len(events_of(app, tenant, kind="thirdparty_updated")) == 1


def test_a_conflict_names_the_field_and_the_other_value(app, owner, second, tenant, record):
    mine, theirs = _load(owner, tenant, record), _load(second, tenant, record)
    _save(owner, tenant, record, mine, name="Alpha by A")
    body = _save(second, tenant, record, theirs, name="Bravo by B").get_data(as_text=True)
    alert = text_of(body[body.index('role="alert"'):body.index("</div>", body.index('role="alert"'))])
    assert "Someone else changed this record" in alert and "Name : Alpha by A" in " ".join(alert.split())


def test_a_conflict_keeps_everything_the_user_typed(app, owner, second, tenant, record):
    mine, theirs = _load(owner, tenant, record), _load(second, tenant, record)
    _save(owner, tenant, record, mine, name="Alpha by A")
    body = _save(second, tenant, record, theirs, name="Bravo by B", vat_number="FR-B", **{"phones-0-value": "0299999999"}
                 ).get_data(as_text=True)
    kept = form_fields(body, "thirdparty-form")
    assert kept["name"] == ["Bravo by B"] and kept["vat_number"] == ["FR-B"] and kept["phones-0-value"] == ["0299999999"]
    assert body.lstrip().startswith('<form id="thirdparty-form"') and "<html" not in body


def test_saving_again_after_a_conflict_keeps_my_version(app, owner, second, tenant, record):
    mine, theirs = _load(owner, tenant, record), _load(second, tenant, record)
    _save(owner, tenant, record, mine, name="Alpha by A")
    again = form_fields(_save(second, tenant, record, theirs, name="Bravo by B").get_data(as_text=True), "thirdparty-form")
    assert _save(second, tenant, record, again).status_code == 200
    assert read_thirdparty(app, tenant, record.id)["name"] == "Bravo by B"
    assert events_of(app, tenant, kind="thirdparty_updated")[-1].payload["changes"] == {"name": ["Alpha by A", "Bravo by B"]}


def test_the_same_change_made_twice_is_not_a_conflict(app, owner, second, tenant, record):
    mine, theirs = _load(owner, tenant, record), _load(second, tenant, record)
    _save(owner, tenant, record, mine, name="Same")
    assert _save(second, tenant, record, theirs, name="Same").status_code == 200
    assert len(events_of(app, tenant, kind="thirdparty_updated")) == 1


def test_overlapping_phone_changes_answer_409(app, owner, second, tenant, record):
    mine, theirs = _load(owner, tenant, record), _load(second, tenant, record)
    _save(owner, tenant, record, mine, **{"phones-0-value": "0211111111"})
    response = _save(second, tenant, record, theirs, **{"phones-0-value": "0222222222"})
    assert response.status_code == 409 and "Phones" in text_of(response.get_data(as_text=True))
    assert read_thirdparty(app, tenant, record.id)["phones"] == [["Office", "0211111111"]]


def test_changes_to_different_custom_fields_are_merged(app, owner, second, tenant):
    tier = make_field(app, tenant, "Tier", "choice", choices=["Gold", "Silver"])
    source = make_field(app, tenant, "Source", "text")
    tp = make_thirdparty(app, tenant, "Custom SARL")
    mine, theirs = _load(owner, tenant, tp), _load(second, tenant, tp)
    assert _save(owner, tenant, tp, mine, **{f"cf_{tier}": "Gold"}).status_code == 200
    assert _save(second, tenant, tp, theirs, **{f"cf_{source}": "Trade fair"}).status_code == 200
    assert read_thirdparty(app, tenant, tp.id)["custom"] == {tier: "Gold", source: "Trade fair"}


def test_changes_to_the_same_custom_field_answer_409(app, owner, second, tenant):
    tier = make_field(app, tenant, "Tier", "choice", choices=["Gold", "Silver"])
    tp = make_thirdparty(app, tenant, "Custom SARL")
    mine, theirs = _load(owner, tenant, tp), _load(second, tenant, tp)
    _save(owner, tenant, tp, mine, **{f"cf_{tier}": "Gold"})
    response = _save(second, tenant, tp, theirs, **{f"cf_{tier}": "Silver"})
    assert response.status_code == 409
    assert form_fields(response.get_data(as_text=True), "thirdparty-form")[f"cf_{tier}"] == ["Silver"]
    assert read_thirdparty(app, tenant, tp.id)["custom"] == {tier: "Gold"}


def test_tags_added_meanwhile_survive_an_edit_of_another_field(app, owner, second, tenant, record):
    vip = make_tag(app, tenant, "VIP")
    mine, theirs = _load(owner, tenant, record), _load(second, tenant, record)
    _save(second, tenant, record, theirs, tag_ids=str(vip))
    _save(owner, tenant, record, mine, name="Renamed")
    stored = read_thirdparty(app, tenant, record.id)
    assert (stored["name"], stored["tag_ids"]) == ("Renamed", [str(vip)])


def test_a_bulk_tag_meanwhile_survives_an_edit(app, owner, second, tenant, record):
    vip = make_tag(app, tenant, "VIP")
    mine = _load(owner, tenant, record)
    second.post(f"/{tenant.slug}/thirdparties/bulk", {"ids": [str(record.id)], "action": "tag", "tag_id": str(vip)})
    assert _save(owner, tenant, record, mine, name="Renamed").status_code == 200
    stored = read_thirdparty(app, tenant, record.id)
    assert (stored["name"], stored["tag_ids"]) == ("Renamed", [str(vip)])


def test_an_archive_meanwhile_survives_an_edit(app, owner, second, tenant, record):
    mine = _load(owner, tenant, record)
    second.post(f"/{tenant.slug}/thirdparties/{record.id}/archive")
    assert _save(owner, tenant, record, mine, name="Renamed").status_code == 200
    assert read_thirdparty(app, tenant, record.id)["archived"]


@pytest.mark.parametrize("tampered", [{"base": ""}, {"base": "not json"}, {"version": ""}, {"version": "0"}],
                         ids=["no-base", "bad-base", "no-version", "version-zero"])
def test_a_stale_save_with_a_missing_or_broken_snapshot_never_overwrites(app, owner, second, tenant, record, tampered):
    mine, theirs = _load(owner, tenant, record), _load(second, tenant, record)
    _save(owner, tenant, record, mine, name="Alpha by A")
    response = _save(second, tenant, record, {**theirs, **{k: [v] for k, v in tampered.items()}}, name="Bravo by B")
    assert response.status_code == 409 and read_thirdparty(app, tenant, record.id)["name"] == "Alpha by A"
