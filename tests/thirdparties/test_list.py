"""The third-party list: search, filters, sorting, pages, the htmx fragment and bulk actions."""
import pytest

from app.extensions import db
from app.models import ThirdParty
from app.tenancy import tenant_context
from tests.customers import (
    archive_thirdparty,
    audit_of,
    events_of,
    fragment,
    listed_ids,
    make_tag,
    make_thirdparty,
    membership_of,
    read_thirdparty,
    update_thirdparty,
)
from tests.factories import add_member, make_tenant, make_user
from tests.helpers import text_of


def _list(browser, tenant, query: str = "") -> list[str]:
    response = browser.get(f"/{tenant.slug}/thirdparties/{query}")
    assert response.status_code == 200
    return listed_ids(response.get_data(as_text=True))


# --- search ---

@pytest.fixture
def searchable(app, tenant):
    """Two third parties that differ in every searchable field."""
    dupont = make_thirdparty(app, tenant, "DUPONT Frères", phones=[["", "+33 4 11 22 33 44"]],
                             emails=[["", "contact@dupont-freres.example"]], addresses=[["", "2 quai", "69002", "Lyon", "FR"]])
    other = make_thirdparty(app, tenant, "Martin & Fils", phones=[["", "0600000000"]], emails=[["", "hello@martin.example"]],
                            addresses=[["", "3 rue", "13001", "Marseille", "FR"]])
    return dupont, other


@pytest.mark.parametrize("text", ["dupont", "DuPoNt fr", "contact@DUPONT", "4 11 22", "lyon", "69002"],
                         ids=["name", "name-mixed-case", "email", "phone", "city", "postcode"])
def test_the_search_finds_by_name_email_phone_and_city_ignoring_case(owner, tenant, searchable, text):
    dupont, _other = searchable
    assert _list(owner, tenant, f"?q={text}") == [str(dupont.id)]


def test_the_search_finds_by_code(owner, tenant, searchable):
    dupont, other = searchable
    assert _list(owner, tenant, f"?q={other.code.lower()}") == [str(other.id)]


@pytest.mark.parametrize(("text", "expected"), [("100%", "100% Bio"), ("a_b", "a_b Conseil"), ("x\\y", "x\\y Studio")])
def test_percent_underscore_and_backslash_match_themselves(app, owner, tenant, text, expected):
    for name in ("100% Bio", "1000 Bio", "a_b Conseil", "axb Conseil", "x\\y Studio", "xy Studio"):
        make_thirdparty(app, tenant, name)
    page = owner.get(f"/{tenant.slug}/thirdparties/", query_string={"q": text}).get_data(as_text=True)
    assert len(listed_ids(page)) == 1 and expected in text_of(page)


def test_a_search_without_results_says_so(owner, tenant, searchable):
    page = text_of(owner.get(f"/{tenant.slug}/thirdparties/?q=nobody").get_data(as_text=True))
    assert "Nothing matches" in page


# --- filters ---

def test_the_type_filter_keeps_one_kind(app, owner, tenant):
    customer = make_thirdparty(app, tenant, "Customer")
    supplier = make_thirdparty(app, tenant, "Supplier", is_customer=False, is_supplier=True)
    prospect = make_thirdparty(app, tenant, "Prospect", is_customer=False, is_prospect=True)
    assert _list(owner, tenant, "?kind=customer") == [str(customer.id)]
    assert _list(owner, tenant, "?kind=supplier") == [str(supplier.id)]
    assert _list(owner, tenant, "?kind=prospect") == [str(prospect.id)]


def test_the_tag_filter_keeps_tagged_ones(app, owner, tenant):
    vip = make_tag(app, tenant, "VIP")
    tagged = make_thirdparty(app, tenant, "Tagged", tag_ids=[vip])
    make_thirdparty(app, tenant, "Plain")
    assert _list(owner, tenant, f"?tag={vip}") == [str(tagged.id)]


def test_the_rep_filter_keeps_those_of_one_member(app, owner, tenant):
    rep = add_member(app, tenant, role="sales")
    theirs = make_thirdparty(app, tenant, "Theirs", reps=[rep])
    make_thirdparty(app, tenant, "Mine", reps=[tenant.owner])
    assert _list(owner, tenant, f"?rep={membership_of(app, tenant, rep)}") == [str(theirs.id)]


def test_the_status_filter_shows_active_archived_or_all(app, owner, tenant):
    active = make_thirdparty(app, tenant, "Active")
    archived = make_thirdparty(app, tenant, "Archived")
    archive_thirdparty(app, tenant, archived.id)
    assert _list(owner, tenant) == [str(active.id)]
    assert _list(owner, tenant, "?status=archived") == [str(archived.id)]
    assert sorted(_list(owner, tenant, "?status=all")) == sorted([str(active.id), str(archived.id)])


def test_malformed_filter_values_are_ignored(app, owner, tenant):
    tp = make_thirdparty(app, tenant, "Robust")
    assert _list(owner, tenant, "?tag=not-a-uuid&rep=42&kind=alien&sort=drop table&page=-3") == [str(tp.id)]


# --- sorting ---

def test_sorting_by_name_code_and_creation(app, owner, tenant):
    made = {tp.name: str(tp.id) for tp in (make_thirdparty(app, tenant, n) for n in ("Bravo", "Alpha", "Charlie"))}
    order = lambda query: [next(n for n, i in made.items() if i == x) for x in _list(owner, tenant, query)]  # noqa: E731
    assert order("?sort=name") == ["Alpha", "Bravo", "Charlie"]
    assert order("?sort=-name") == ["Charlie", "Bravo", "Alpha"]
    assert order("?sort=code") == ["Bravo", "Alpha", "Charlie"]  # codes count up in creation order
    assert order("?sort=-created") == ["Charlie", "Alpha", "Bravo"]


def test_recently_changed_comes_first_when_sorting_by_update(app, owner, tenant):
    old = make_thirdparty(app, tenant, "Old")
    make_thirdparty(app, tenant, "New")
    update_thirdparty(app, tenant, old.id, vat_number="FR1")
    assert _list(owner, tenant, "?sort=-updated")[0] == str(old.id)


# --- pages ---

def test_pages_of_fifty_have_no_repeats_and_no_gaps(app, owner, tenant):
    # The same name everywhere: only a tie-breaker keeps the order stable from one page to the next.
    with app.app_context(), tenant_context(tenant.id):
        db.session.add_all(ThirdParty(code=f"T{n:03}", name="Same name", search_text="same name") for n in range(101))
        db.session.commit()
        all_ids = {str(i) for i in db.session.scalars(db.select(ThirdParty.id))}
    pages = [owner.get(f"/{tenant.slug}/thirdparties/?sort={sort}&page={n}").get_data(as_text=True)
             for sort in ("name", "-name") for n in (1, 2, 3)]
    for sort_pages in (pages[:3], pages[3:]):
        ids = [i for page in sort_pages for i in listed_ids(page)]
        assert [len(listed_ids(p)) for p in sort_pages] == [50, 50, 1]
        assert len(ids) == len(set(ids)) and set(ids) == all_ids
        assert "page=2" in sort_pages[0] and "page=3" in sort_pages[1] and "page=4" not in sort_pages[2]


# --- the htmx fragment ---

def test_an_htmx_request_gets_only_the_results(app, owner, tenant):
    tp = make_thirdparty(app, tenant, "Fragmented")
    response = fragment(owner, f"/{tenant.slug}/thirdparties/?q=frag")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="results">') and body.rstrip().endswith("</div>")
    assert "<html" not in body and 'id="list-filters"' not in body and listed_ids(body) == [str(tp.id)]


def test_a_boosted_request_gets_the_whole_page(app, owner, tenant):
    body = owner.get(f"/{tenant.slug}/thirdparties/", headers={"HX-Request": "true", "HX-Boosted": "true"}).get_data(as_text=True)
    assert "<html" in body and 'id="list-filters"' in body


# --- bulk actions ---

def _bulk(browser, tenant, ids, **fields):
    return browser.post(f"/{tenant.slug}/thirdparties/bulk", {"ids": [str(i) for i in ids], **fields})


def test_bulk_tagging_tags_the_selected_rows_and_records_events(app, owner, tenant):
    vip = make_tag(app, tenant, "VIP")
    a, b, c = (make_thirdparty(app, tenant, name) for name in ("A", "B", "C"))
    assert _bulk(owner, tenant, [a.id, b.id], action="tag", tag_id=str(vip)).status_code == 303
    assert [read_thirdparty(app, tenant, tp.id)["tag_ids"] for tp in (a, b, c)] == [[str(vip)], [str(vip)], []]
    for tp in (a, b):
        [event] = events_of(app, tenant, thirdparty_id=tp.id, kind="thirdparty_updated")
        assert event.payload == {"changes": {"tags": [[], [str(vip)]]}} and event.actor_id == tenant.owner.id
    assert sorted(e.entity_type for e in audit_of(app, tenant, entity_type="thirdparty_tag")) == ["thirdparty_tag"] * 2


def test_bulk_tagging_lists_the_tags_already_there_in_the_change(app, owner, tenant):
    key, vip = make_tag(app, tenant, "Key account"), make_tag(app, tenant, "VIP")
    tp = make_thirdparty(app, tenant, "Tagged already", tag_ids=[key])
    _bulk(owner, tenant, [tp.id], action="tag", tag_id=str(vip))
    [event] = events_of(app, tenant, thirdparty_id=tp.id, kind="thirdparty_updated")
    assert event.payload == {"changes": {"tags": [[str(key)], sorted([str(key), str(vip)])]}}


def test_bulk_tagging_skips_rows_that_already_have_the_tag(app, owner, tenant):
    vip = make_tag(app, tenant, "VIP")
    tp = make_thirdparty(app, tenant, "Has it", tag_ids=[vip])
    _bulk(owner, tenant, [tp.id], action="tag", tag_id=str(vip))
    assert events_of(app, tenant, thirdparty_id=tp.id, kind="thirdparty_updated") == []


def test_bulk_assign_adds_the_rep_and_records_events(app, owner, tenant):
    rep = add_member(app, tenant, make_user(app, name="Rita Rep"), role="sales")
    rep_id = str(membership_of(app, tenant, rep))
    a, b = make_thirdparty(app, tenant, "A"), make_thirdparty(app, tenant, "B")
    assert _bulk(owner, tenant, [a.id], action="assign", rep_id=rep_id).status_code == 303
    assert read_thirdparty(app, tenant, a.id)["rep_ids"] == [rep_id] and read_thirdparty(app, tenant, b.id)["rep_ids"] == []
    [event] = events_of(app, tenant, thirdparty_id=a.id, kind="thirdparty_updated")
    assert event.payload == {"changes": {"reps": [[], [rep_id]]}}
    [entry] = audit_of(app, tenant, entity_type="sales_rep")
    assert entry.action == "create" and entry.changes["membership_id"] == [None, rep_id]


@pytest.mark.parametrize("action", ["tag", "assign"])
def test_a_bulk_with_another_tenants_tag_or_member_changes_nothing(app, owner, tenant, action):
    other = make_tenant(app)
    foreign = make_tag(app, other, "Foreign") if action == "tag" else membership_of(app, other, other.owner)
    tp = make_thirdparty(app, tenant, "Target")
    before = read_thirdparty(app, tenant, tp.id)
    response = _bulk(owner, tenant, [tp.id], action=action, **{"tag_id" if action == "tag" else "rep_id": str(foreign)})
    assert response.status_code == 303
    assert read_thirdparty(app, tenant, tp.id) == before
    assert events_of(app, tenant, kind="thirdparty_updated") == []
    assert "Select some lines" in text_of(owner.get(response.location).get_data(as_text=True))


def test_a_bulk_with_nothing_selected_changes_nothing(app, owner, tenant):
    vip = make_tag(app, tenant, "VIP")
    make_thirdparty(app, tenant, "Untouched")
    assert _bulk(owner, tenant, [], action="tag", tag_id=str(vip)).status_code == 303
    assert events_of(app, tenant, kind="thirdparty_updated") == []
