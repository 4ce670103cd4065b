"""The seeded two-tenant world of tests/test_security.py for the security tests of this folder: seeded once per
module, each test's changes undone row by row (see that file's docstring). One definition of the world's life cycle:
the fixtures are that file's."""
from tests.test_security import _clean_database, restored, seed, short_streams, start, world  # noqa: F401
