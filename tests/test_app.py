"""The app starts, serves its public pages and its health check."""
from tests.factories import make_tenant


def test_landing_page_for_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Create your organisation" in response.get_data(as_text=True)


def test_health_reports_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_signed_in_user_goes_to_their_only_organisation(app, browser):
    tenant = make_tenant(app)
    browser.login(tenant.owner.email)
    response = browser.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/{tenant.slug}/")


def test_tenant_home_shows_organisation(app, browser):
    tenant = make_tenant(app, name="Atelier Canary")
    browser.login(tenant.owner.email)
    response = browser.get(f"/{tenant.slug}/")
    assert response.status_code == 200
    assert "Atelier Canary" in response.get_data(as_text=True)
