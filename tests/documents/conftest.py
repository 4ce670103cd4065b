"""Fixtures: the S3 test server and stores (tests/s3server.py), an organisation, its owner, and the
app's store switched to the local folder or to S3 for one test (``app_storage``)."""
import pytest

from tests.customers import owner, tenant  # noqa: F401
from tests.s3server import local_storage, s3_server, s3_storage, storage  # noqa: F401


@pytest.fixture(params=["local", "s3"])
def app_storage(request, app):
    """The app's store for this test: a fresh local folder or a fresh versioned S3 bucket (moto over HTTP)."""
    chosen = request.getfixturevalue("local_storage" if request.param == "local" else "s3_storage")
    before = app.extensions.get("storage")
    app.extensions["storage"] = chosen
    yield chosen
    if before is None:
        app.extensions.pop("storage", None)
    else:
        app.extensions["storage"] = before
