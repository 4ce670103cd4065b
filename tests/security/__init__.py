"""Helpers of the security tests (tests/test_security.py): the seeded two-tenant world, actors,
database snapshots, and HTML checks."""
