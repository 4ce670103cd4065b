"""The page cache of the customer card (app.pagecache) and the data version that keys it (app.freshness).

A card read twice without a change in between is served from the worker's memory; any write in the
organisation, by any path, shows on the next view; nobody ever gets another person's page, CSRF token
or form key.
"""
import re

import pytest
from sqlalchemy import select, update

from app.editing import lock
from app.extensions import db
from app.models import Tenant, ThirdParty
from app.pagecache import PageCache
from app.tenancy import tenant_context
from tests.helpers import csrf_from, sql_sent
from tests.timeline.support import notes_of, notes_url, post_note, signed_in

FORM_KEY = re.compile(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"')


def card(tenant, customer) -> str:
    return f"/{tenant.slug}/thirdparties/{customer.id}"


def data_version(app, tenant) -> int:
    with app.app_context():
        return db.session.scalar(select(Tenant.data_version).where(Tenant.id == tenant.id))


@pytest.fixture
def owner_browser(owner):
    return owner  # the test browser, signed in as the owner


def test_an_unchanged_card_is_served_again_without_reading_the_customer(app, tenant, customer, owner_browser):
    with sql_sent(app) as first:
        assert owner_browser.get(card(tenant, customer)).status_code == 200
    with sql_sent(app) as second:
        page = owner_browser.get(card(tenant, customer))

    assert page.status_code == 200 and "Dupont SARL" in page.get_data(as_text=True)
    assert any("timeline_event" in s for s in first)
    assert not any("timeline_event" in s or "FROM thirdparty" in s for s in second), second
    assert len(second) < len(first) / 2


def test_a_note_shows_on_the_next_view(app, tenant, customer, owner_browser):
    owner_browser.get(card(tenant, customer))
    assert post_note(owner_browser, tenant, customer.id, "Called about the spring catalogue.").status_code == 200

    assert "Called about the spring catalogue." in owner_browser.get(card(tenant, customer)).get_data(as_text=True)


def test_a_change_made_by_an_update_statement_shows_on_the_next_view(app, tenant, customer, owner_browser):
    owner_browser.get(card(tenant, customer))
    with app.app_context(), tenant_context(tenant.id):
        db.session.execute(update(ThirdParty).where(ThirdParty.id == customer.id).values(name="Dupont Frères"))
        db.session.commit()

    assert "Dupont Frères" in owner_browser.get(card(tenant, customer)).get_data(as_text=True)


def test_a_renamed_person_shows_renamed_on_cached_cards(app, tenant, customer, owner_browser):
    post_note(owner_browser, tenant, customer.id, "Samples sent.")
    assert tenant.owner.name in owner_browser.get(card(tenant, customer)).get_data(as_text=True)
    answer = owner_browser.post("/auth/account", {"name": "Anne-Sophie Renard", "locale": "en", "timezone": "Europe/Paris"})
    assert answer.status_code == 303

    assert "Anne-Sophie Renard" in owner_browser.get(card(tenant, customer)).get_data(as_text=True)


def test_one_commit_moves_the_version_once_and_a_rollback_not_at_all(app, tenant, customer):
    before = data_version(app, tenant)
    with app.app_context(), tenant_context(tenant.id):
        lock(db.session.get(ThirdParty, (tenant.id, customer.id))).website = "https://dupont.example"
        db.session.execute(update(ThirdParty).where(ThirdParty.id == customer.id).values(vat_number="FR123"))
        db.session.commit()
    assert data_version(app, tenant) == before + 1

    with app.app_context(), tenant_context(tenant.id):
        lock(db.session.get(ThirdParty, (tenant.id, customer.id))).website = "https://nowhere.example"
        db.session.flush()
        db.session.rollback()
    assert data_version(app, tenant) == before + 1


def test_each_view_gets_its_own_csrf_token_and_form_keys(app, tenant, customer, owner_browser):
    first = owner_browser.get(card(tenant, customer)).get_data(as_text=True)
    other_session = signed_in(app, tenant.owner)  # the same person on a phone: a session of its own
    with sql_sent(app) as sent:
        second = other_session.get(card(tenant, customer)).get_data(as_text=True)
    assert not any("timeline_event" in s for s in sent), "the second view was not served from the cache"

    assert csrf_from(first) != csrf_from(second)
    assert set(FORM_KEY.findall(first)).isdisjoint(FORM_KEY.findall(second))
    # The phone's page works for the phone's session: its token and its note form's key.
    response = other_session.client.post(notes_url(tenant, customer.id), headers={"HX-Request": "true"}, data={
        "csrf_token": csrf_from(second), "idempotency_key": FORM_KEY.findall(second)[0], "body": "From the phone."})
    assert response.status_code == 200
    # Two views' note forms are two notes, not one saved twice.
    third = other_session.get(card(tenant, customer)).get_data(as_text=True)
    other_session.client.post(notes_url(tenant, customer.id), headers={"HX-Request": "true"}, data={
        "csrf_token": csrf_from(third), "idempotency_key": FORM_KEY.findall(third)[0], "body": "From the phone, again."})
    assert [n.body for n in notes_of(app, tenant, customer.id)] == ["From the phone.", "From the phone, again."]


def test_people_with_other_rights_never_share_a_page(app, tenant, customer, colleague, owner_browser):
    post_note(owner_browser, tenant, customer.id, "Private: they are late payers.", private=True)
    assert "they are late payers" in owner_browser.get(card(tenant, customer)).get_data(as_text=True)

    page = signed_in(app, colleague).get(card(tenant, customer)).get_data(as_text=True)
    assert "Dupont SARL" in page and "they are late payers" not in page


def test_a_message_after_an_action_shows_once(app, tenant, customer, owner_browser):
    owner_browser.get(card(tenant, customer))
    owner_browser.post(f"{card(tenant, customer)}/archive")

    assert "was archived" in owner_browser.get(card(tenant, customer)).get_data(as_text=True)
    assert "was archived" not in owner_browser.get(card(tenant, customer)).get_data(as_text=True)


def test_the_cache_is_bounded_and_entries_age_out():
    cache = PageCache(size=2, seconds=60)
    for key in "abc":
        cache.put(key, key.upper())
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, "B", "C")

    stale = PageCache(size=2, seconds=-1)
    stale.put("a", "A")
    assert stale.get("a") is None
