"""Fixtures of the administration tests: an organisation with a signed-in owner."""
import pytest

from tests.factories import make_tenant


@pytest.fixture
def tenant(app):
    return make_tenant(app, name="Atelier Test")


@pytest.fixture
def owner(browser, tenant):
    """The test browser, signed in as the tenant's owner."""
    browser.login(tenant.owner.email)
    return browser
