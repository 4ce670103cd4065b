"""The card's header facts — counts, tags, the reps' names, custom fields, the last contact either way — are read in
one statement with the panels' facts (app/card.py, ``Panel.facts``): a customer with all of them costs no more
statements than one with none, and each shows as before."""
from tests.customers import make_field, make_tag, make_thirdparty, owner, tenant  # noqa: F401 (fixtures)
from tests.factories import add_member, make_user
from tests.helpers import sql_sent


def _card_statements(app, browser, tenant, tp):  # noqa: F811
    url = f"/{tenant.slug}/thirdparties/{tp.id}"
    browser.get(url)  # the session's last-seen touch, if due, is not what is counted
    with sql_sent(app) as sent:
        page = browser.get(url)
    assert page.status_code == 200
    return page.get_data(as_text=True), len(sent)


def test_tags_reps_and_custom_fields_cost_no_statement_of_their_own(app, tenant, owner, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "PAGE_CACHE_SIZE", 0)
    monkeypatch.delitem(app.extensions, "storia_page_cache", raising=False)
    bare = make_thirdparty(app, tenant, "Bare SARL")
    key = make_field(app, tenant, "Sector", "text")
    make_field(app, tenant, "Unused", "text")
    vip, late = make_tag(app, tenant, "VIP", "red"), make_tag(app, tenant, "Late payer", "orange")
    zoe = add_member(app, tenant, make_user(app, name="Zoé Zanetti"), role="sales")
    anna = add_member(app, tenant, make_user(app, name="Anna Abate"), role="sales")
    full = make_thirdparty(app, tenant, "Full SpA", reps=[zoe, anna], tag_ids=[vip, late], custom={key: "Textiles"})

    bare_page, bare_cost = _card_statements(app, owner, tenant, bare)
    full_page, full_cost = _card_statements(app, owner, tenant, full)

    assert full_cost == bare_cost
    assert "Anna Abate, Zoé Zanetti" in full_page  # by name
    assert full_page.index(">Late payer<") < full_page.index(">VIP<") and 'tag tag-red">VIP<' in full_page
    assert "<dt>Sector</dt><dd>Textiles</dd>" in full_page and "Unused" not in full_page
    assert "VIP" not in bare_page and "Textiles" not in bare_page and "Zanetti" not in bare_page


def test_the_switcher_and_the_reminder_badge_come_with_the_session(app, tenant, owner, monkeypatch):  # noqa: F811
    """The layout's organisations and the menu's reminder count are read in the session's statement
    (auth.sessions), and are those of now: an organisation joined or a reminder dismissed shows on the next page."""
    from datetime import timedelta

    from tests.agenda.test_reminders import DUE, add_item, run
    from tests.factories import make_tenant

    monkeypatch.setitem(app.config, "PAGE_CACHE_SIZE", 0)
    monkeypatch.delitem(app.extensions, "storia_page_cache", raising=False)
    tp = make_thirdparty(app, tenant, "Officina Bruni")
    add_item(app, tenant, tp, "Send the revised quote")
    assert run(app, tenant, DUE - timedelta(minutes=29)) == 1
    stranger = make_tenant(app)  # someone else's organisation: never listed
    url = f"/{tenant.slug}/thirdparties/{tp.id}"

    with sql_sent(app) as sent:
        page = owner.get(url).get_data(as_text=True)
    switcher = page.split('class="dropdown org-switch"', 1)[1].split("</details>", 1)[0]
    assert tenant.name in switcher and stranger.name not in switcher
    assert '<span class="badge badge-warn">1<span class="visually-hidden"> reminders' in page
    for read in ("FROM reminder", "FROM tenant JOIN membership"):  # no statement of their own
        assert all("FROM auth_session" in s for s in sent if read in s), read
    assert sum("auth_session" in s for s in sent) == 2  # the scope's lookup, then the session with all of it

    second = make_tenant(app, owner=tenant.owner)
    page = owner.get(url).get_data(as_text=True)
    switcher = page.split('class="dropdown org-switch"', 1)[1].split("</details>", 1)[0]
    assert tenant.name in switcher and second.name in switcher
    assert (switcher.index(tenant.name) < switcher.index(second.name)) == (tenant.name < second.name)  # by name
