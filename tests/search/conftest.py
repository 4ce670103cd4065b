"""Fixtures: an organisation and its signed-in owner (defined in tests/customers.py)."""
from tests.customers import owner, tenant  # noqa: F401
