"""Fixtures of the customer-history tests: an organisation, its signed-in owner, a customer, a colleague."""
import pytest

from tests.customers import make_thirdparty, owner, tenant  # noqa: F401 (fixtures)
from tests.factories import add_member, make_user


@pytest.fixture
def customer(app, tenant):  # noqa: F811 (the fixture imported above)
    return make_thirdparty(app, tenant, "Dupont SARL")


@pytest.fixture
def colleague(app, tenant):  # noqa: F811
    """A support member: sees every customer and writes notes; may not read others' private notes nor invoices."""
    return add_member(app, tenant, make_user(app, name="Colette Support"), role="support")
