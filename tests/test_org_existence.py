"""An anonymous visitor cannot tell which organisations exist (issue 13, finding 9): every tenant address answers
the same way, existing or not, page or htmx, before any lookup."""
import pytest

from tests.factories import make_tenant, make_user
from tests.helpers import Browser

PATHS = ["/{slug}/", "/{slug}/thirdparties/", "/{slug}/admin/members", "/{slug}/thirdparties/01a25000-0000-7000-8000-000000000000"]


def _answer(response):
    return response.status_code, response.headers.get("Location", "").replace("existing-org", "SLUG").replace(
        "no-such-org", "SLUG"), response.headers.get("HX-Redirect", "").replace("existing-org", "SLUG").replace(
        "no-such-org", "SLUG"), response.get_data(as_text=True).replace("existing-org", "SLUG").replace("no-such-org", "SLUG")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("htmx", [False, True])
def test_existing_and_unknown_organisations_answer_alike(app, client, path, htmx):
    make_tenant(app, slug="existing-org")
    headers = {"HX-Request": "true"} if htmx else {}
    existing = client.get(path.format(slug="existing-org"), headers=headers)
    unknown = client.get(path.format(slug="no-such-org"), headers=headers)
    assert _answer(existing) == _answer(unknown)
    assert existing.status_code in (200, 302)  # sent to sign in (htmx: an HX-Redirect)
    assert "/auth/login?next=" in (existing.headers.get("Location") or existing.headers.get("HX-Redirect") or "")


def test_posts_answer_alike_too(app, client):
    make_tenant(app, slug="existing-org")
    answers = [_answer(client.post(f"/{slug}/thirdparties/new", data={"name": "x"}))[:1]
               for slug in ("existing-org", "no-such-org")]
    assert answers[0] == answers[1]


def test_a_signed_in_non_member_gets_404_for_both(app):
    make_tenant(app, slug="existing-org")
    browser = Browser(app.test_client())
    browser.login(make_user(app).email)
    assert browser.get("/existing-org/").status_code == browser.get("/no-such-org/").status_code == 404
