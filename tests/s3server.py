"""Storage fixtures: moto's S3 server on a free loopback port, a fresh bucket per test, a local store.

``storage`` is parametrized over both backends, so a suite written against it runs twice. Import the
fixtures into a test module (or conftest) with
``from tests.s3server import s3_server, s3_storage, local_storage, storage  # noqa: F401``.
"""
import os
import socket
import uuid
from collections.abc import Iterator

import pytest

from app.storage import MIN_PART_SIZE, LocalStorage, S3Storage, storage_from_url

REGION = "eu-west-1"
# Dummy credentials for moto; every other AWS_* variable is hidden so that no real profile,
# endpoint or config file on the machine can steer the tests (or be used by them).
TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server for the session; yields its endpoint URL. AWS_* env is restored afterwards."""
    from moto.server import ThreadedMotoServer

    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(TEST_ENV)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)


def empty_bucket(storage: S3Storage) -> None:
    """Remove every object version, delete marker and pending upload, then the bucket (frees moto's memory)."""
    client, bucket = storage.client, storage.bucket
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        items = [{"Key": i["Key"], "VersionId": i["VersionId"]} for i in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if items:
            client.delete_objects(Bucket=bucket, Delete={"Objects": items, "Quiet": True})
    for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_storage(s3_server: str) -> Iterator[S3Storage]:
    """An S3Storage on a fresh, versioned bucket; parts of 5 MiB (S3's minimum) so multipart is cheap to reach."""
    bucket = f"storia-test-{uuid.uuid4().hex}"
    storage = storage_from_url(f"s3://{bucket}?endpoint_url={s3_server}&region={REGION}", part_size=MIN_PART_SIZE)
    assert isinstance(storage, S3Storage)
    storage.prepare(versioning=True)
    yield storage
    empty_bucket(storage)
    storage.client.close()


@pytest.fixture
def local_storage(tmp_path) -> LocalStorage:
    """A LocalStorage rooted in a fresh ``tmp_path/files`` (created on first write)."""
    return LocalStorage(tmp_path / "files")


@pytest.fixture(params=["local", "s3"])
def storage(request):
    """Each backend in turn."""
    return request.getfixturevalue(f"{request.param}_storage")
