"""Fixtures of the audit-log tests: an organisation and its signed-in owner (see tests/customers.py)."""
from tests.customers import owner, tenant  # noqa: F401 (fixtures)
