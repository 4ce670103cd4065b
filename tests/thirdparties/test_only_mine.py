""""All customers" versus "only mine": a sales member sees the third parties they are rep of, everywhere.

Every surface that shows a customer, its people or its history is probed with a hidden one; each
test would fail if that surface stopped filtering on ``thirdparty.read_all``.
"""
from dataclasses import dataclass

import pytest

from tests.customers import (
    ContactInfo,
    ThirdPartyInfo,
    add_event,
    customer_rows,
    events_of,
    fragment,
    listed_ids,
    make_contact,
    make_tag,
    make_thirdparty,
    membership_of,
    read_thirdparty,
)
from tests.factories import UserInfo, add_member, make_user
from tests.helpers import Browser, text_of


@dataclass(frozen=True)
class Team:
    mine: ThirdPartyInfo
    hidden: ThirdPartyInfo
    my_contact: ContactInfo
    hidden_contact: ContactInfo
    sam: UserInfo
    sue: UserInfo
    sales: Browser


@pytest.fixture
def team(app, tenant):
    """Sam (sales) is rep of "Mine Corp"; Sue (sales) of "Hidden Corp". Sam's browser is signed in."""
    sam = add_member(app, tenant, make_user(app, name="Sam Sales"), role="sales")
    sue = add_member(app, tenant, make_user(app, name="Sue Sales"), role="sales")
    mine = make_thirdparty(app, tenant, "Mine Corp", reps=[sam], emails=[["", "shared@corp.example"]])
    hidden = make_thirdparty(app, tenant, "Hidden Corp", reps=[sue], emails=[["", "shared@corp.example"]])
    my_contact = make_contact(app, tenant, mine.id, "Mine-Person", first_name="Common")
    hidden_contact = make_contact(app, tenant, hidden.id, "Hidden-Person", first_name="Common")
    browser = Browser(app.test_client())
    browser.login(sam.email)
    return Team(mine, hidden, my_contact, hidden_contact, sam, sue, browser)


def _url(tenant, path):
    return f"/{tenant.slug}{path}"


def test_the_list_shows_only_my_customers(tenant, team):
    page = team.sales.get(_url(tenant, "/thirdparties/?status=all")).get_data(as_text=True)
    assert listed_ids(page) == [str(team.mine.id)] and "Hidden Corp" not in page


def test_the_search_finds_only_my_customers(tenant, team):
    page = fragment(team.sales, _url(tenant, "/thirdparties/?q=shared@corp")).get_data(as_text=True)
    assert listed_ids(page) == [str(team.mine.id)] and "Hidden Corp" not in page


def test_filtering_on_a_colleague_shows_nothing_of_theirs(app, tenant, team):
    sue = membership_of(app, tenant, team.sue)
    page = team.sales.get(_url(tenant, f"/thirdparties/?rep={sue}&status=all")).get_data(as_text=True)
    assert listed_ids(page) == [] and "Hidden Corp" not in page


def test_the_card_of_a_hidden_customer_is_not_found(tenant, team):
    assert team.sales.get(_url(tenant, f"/thirdparties/{team.mine.id}")).status_code == 200
    response = team.sales.get(_url(tenant, f"/thirdparties/{team.hidden.id}"))
    assert response.status_code == 404 and "Hidden Corp" not in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["", "?kind=changes", "?text=Hidden", "?before=2999-01-01T00:00:00_ffffffff-ffff-7fff-bfff-ffffffffffff"],
                         ids=["timeline", "filtered", "searched", "older-page"])
def test_the_timeline_fragments_of_a_hidden_customer_are_not_found(app, tenant, team, query):
    add_event(app, tenant, team.hidden.id, title="Hidden event")
    assert fragment(team.sales, _url(tenant, f"/thirdparties/{team.mine.id}{query}")).status_code == 200
    response = fragment(team.sales, _url(tenant, f"/thirdparties/{team.hidden.id}{query}"))
    assert response.status_code == 404 and "Hidden" not in response.get_data(as_text=True)


def test_the_live_stream_of_a_hidden_customer_is_not_found(tenant, team):
    response = team.sales.get(_url(tenant, f"/timeline/thirdparties/{team.hidden.id}/stream"), buffered=False)
    try:
        assert response.status_code == 404
    finally:
        response.close()


def test_a_hidden_customer_cannot_be_edited(app, tenant, team):
    before = read_thirdparty(app, tenant, team.hidden.id)
    assert team.sales.get(_url(tenant, f"/thirdparties/{team.hidden.id}/edit")).status_code == 404
    response = team.sales.post(_url(tenant, f"/thirdparties/{team.hidden.id}/edit"),
                               {"name": "Taken over", "is_customer": "y", "version": "1"})
    assert response.status_code == 404 and read_thirdparty(app, tenant, team.hidden.id) == before


def test_a_bulk_action_leaves_hidden_customers_alone(app, tenant, team):
    vip = make_tag(app, tenant, "VIP")
    team.sales.post(_url(tenant, "/thirdparties/bulk"), {"ids": [str(team.mine.id), str(team.hidden.id)], "action": "tag",
                                                        "tag_id": str(vip)})
    assert read_thirdparty(app, tenant, team.mine.id)["tag_ids"] == [str(vip)]
    assert read_thirdparty(app, tenant, team.hidden.id)["tag_ids"] == []
    assert events_of(app, tenant, thirdparty_id=team.hidden.id, kind="thirdparty_updated") == []


def test_the_contact_search_shows_only_people_of_my_customers(tenant, team):
    page = team.sales.get(_url(tenant, "/contacts/?q=common")).get_data(as_text=True)
    assert "Mine-Person" in page and "Hidden-Person" not in page


@pytest.mark.parametrize("path", ["", "/edit", "/move", "?kind=contacts"])
def test_a_contact_of_a_hidden_customer_is_not_found(tenant, team, path):
    assert team.sales.get(_url(tenant, f"/contacts/{team.my_contact.id}{path}")).status_code == 200
    response = fragment(team.sales, _url(tenant, f"/contacts/{team.hidden_contact.id}{path}"))
    assert response.status_code == 404 and "Hidden" not in response.get_data(as_text=True)


def test_no_contact_can_be_added_to_a_hidden_customer(app, tenant, team):
    before = customer_rows(app, tenant)
    assert team.sales.get(_url(tenant, f"/contacts/new?thirdparty={team.hidden.id}")).status_code == 404
    response = team.sales.post(_url(tenant, "/contacts/"), {"thirdparty_id": str(team.hidden.id), "last_name": "Intruder"})
    assert response.status_code == 404 and customer_rows(app, tenant) == before


def test_my_contact_cannot_be_moved_to_a_hidden_customer(app, tenant, team):
    before = customer_rows(app, tenant)
    search = team.sales.get(_url(tenant, f"/contacts/{team.my_contact.id}/move?q=corp")).get_data(as_text=True)
    assert "Hidden Corp" not in search
    response = team.sales.post(_url(tenant, f"/contacts/{team.my_contact.id}/move"), {"thirdparty_id": str(team.hidden.id)})
    assert response.status_code == 404 and customer_rows(app, tenant) == before


def test_a_hidden_contact_cannot_be_archived(app, tenant, team):
    before = customer_rows(app, tenant)
    team.sales.post(_url(tenant, f"/contacts/{team.hidden_contact.id}/archive"))
    assert customer_rows(app, tenant) == before


def test_the_dashboard_counts_and_recent_activity_cover_only_my_customers(app, tenant, team):
    make_thirdparty(app, tenant, "Nobody's Corp")
    page = text_of(team.sales.get(_url(tenant, "/")).get_data(as_text=True))
    assert "Hidden" not in page and "Nobody" not in page
    assert "1 customer or supplier" in " ".join(page.split())


def test_support_sees_every_customer(app, tenant, team):
    support = add_member(app, tenant, role="support")
    browser = Browser(app.test_client())
    browser.login(support.email)
    page = browser.get(_url(tenant, "/thirdparties/")).get_data(as_text=True)
    assert sorted(listed_ids(page)) == sorted([str(team.mine.id), str(team.hidden.id)])
    assert browser.get(_url(tenant, f"/thirdparties/{team.hidden.id}")).status_code == 200
    assert browser.get(_url(tenant, f"/contacts/{team.hidden_contact.id}")).status_code == 200


def test_a_sales_member_who_creates_a_customer_becomes_its_rep(app, tenant, team):
    response = team.sales.post(_url(tenant, "/thirdparties/"), {"name": "Fresh Lead", "is_prospect": "y"})
    assert response.status_code == 303
    created = events_of(app, tenant, kind="thirdparty_created")[-1]
    sam = membership_of(app, tenant, team.sam)
    assert read_thirdparty(app, tenant, created.thirdparty_id)["rep_ids"] == [str(sam)]
    assert team.sales.get(response.location).status_code == 200


def test_a_sales_member_who_names_another_rep_stays_a_rep_too(app, tenant, team):
    colleague = membership_of(app, tenant, team.sue)
    response = team.sales.post(_url(tenant, "/thirdparties/"), {"name": "Shared Lead", "is_customer": "y",
                                                               "rep_ids": str(colleague)})
    assert response.status_code == 303
    assert team.sales.get(response.location).status_code == 200  # not created into the dark

