"""Saved views of the customer list: a person names the current filters, opens them again in one tap,
replaces or deletes them; views are personal and keep filters only."""
import re

from tests.customers import make_thirdparty
from tests.factories import add_member, make_user
from tests.helpers import Browser, csrf_from, icon_markup, text_of

SAVED = icon_markup("bookmark")  # a saved view's link


def _list(browser, tenant, **query):
    return browser.get(f"/{tenant.slug}/thirdparties/", query_string=query).get_data(as_text=True)


def test_save_open_replace_and_delete_a_view(app, tenant, owner):
    make_thirdparty(app, tenant, "Vetreria Sala")
    make_thirdparty(app, tenant, "Quiet Co")
    page = _list(owner, tenant, q="quiet", sort="-created", page="2")
    assert "Save this view" in page
    kept = re.search(r'name="query" value="([^"]*)"', page).group(1)
    assert kept == "q=quiet&amp;sort=-created"  # the filters, not the page
    response = owner.post(f"/{tenant.slug}/thirdparties/views", {"csrf_token": csrf_from(page), "name": "Quiet ones",
                                                                 "query": "q=quiet&sort=-created"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/thirdparties/?q=quiet&sort=-created")
    page = _list(owner, tenant)
    link = re.search(r'<a href="([^"]+)"[^>]*>' + re.escape(SAVED) + ' Quiet ones</a>', page).group(1)
    assert link == f"/{tenant.slug}/thirdparties/?q=quiet&amp;sort=-created"
    opened = _list(owner, tenant, q="quiet", sort="-created")
    assert "Quiet Co" in opened and "Vetreria Sala" not in opened and f'aria-current="true">{SAVED} Quiet ones' in opened
    # The same name (whatever its case) replaces it; an empty name is refused with the reason.
    owner.post(f"/{tenant.slug}/thirdparties/views", {"csrf_token": csrf_from(page), "name": "quiet ONES", "query": "q=sala"})
    page = _list(owner, tenant)
    assert page.count(f"{SAVED} ") == 1 and re.search(r'href="[^"]+\?q=sala"[^>]*>' + re.escape(SAVED) + ' quiet ONES', page)
    refused = owner.post(f"/{tenant.slug}/thirdparties/views", {"csrf_token": csrf_from(page), "name": "  ", "query": "q=x"})
    assert refused.status_code == 422 and "Give the view a name." in refused.get_data(as_text=True)
    # Deleted (after a confirmation in the page).
    assert "Delete the view quiet ONES?" in page
    owner.post(f"/{tenant.slug}/thirdparties/views/delete", {"csrf_token": csrf_from(page), "name": "quiet ONES"})
    assert SAVED not in _list(owner, tenant)


def test_views_are_personal(app, tenant, owner):
    page = _list(owner, tenant)
    owner.post(f"/{tenant.slug}/thirdparties/views", {"csrf_token": csrf_from(page), "name": "Mine only", "query": "q=a"})
    luca = add_member(app, tenant, make_user(app, name="Luca Verdi"), role="support")
    browser = Browser(app.test_client())
    browser.login(luca.email)
    theirs = _list(browser, tenant)
    assert "Mine only" not in text_of(theirs)
    # Deleting by that name among their own views deletes nothing of the owner's.
    browser.post(f"/{tenant.slug}/thirdparties/views/delete", {"csrf_token": csrf_from(theirs), "name": "Mine only"})
    assert f"{SAVED} Mine only" in _list(owner, tenant)


def test_a_saved_view_keeps_the_agenda_filters(app, tenant, owner):
    page = _list(owner, tenant, contacted="90", planned="none", cf_sector="Retail", page="4", junk="x")
    kept = re.search(r'name="query" value="([^"]*)"', page).group(1).replace("&amp;", "&")
    assert kept == "cf_sector=Retail&contacted=90&planned=none"


def test_with_htmx_the_filters_as_they_are_now_are_saved(app, tenant, owner):
    page = _list(owner, tenant, q="old")
    # The page's hidden query says "old", but the filters were changed since (htmx swapped the results only):
    # the save form sends the filter form's current fields along, and those win.
    response = owner.post(f"/{tenant.slug}/thirdparties/views", {
        "csrf_token": csrf_from(page), "name": "Fresh", "query": "q=old", "q": "new", "kind": "supplier", "tag": "",
        "status": "active", "sort": "name"}, htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(
        "/thirdparties/?kind=supplier&q=new&sort=name&status=active")
    refused = owner.post(f"/{tenant.slug}/thirdparties/views", {"csrf_token": csrf_from(page), "name": "", "q": "x"},
                         htmx=True)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and body.lstrip().startswith('<details class="save-view" id="save-view" open')
    assert "Give the view a name." in body
