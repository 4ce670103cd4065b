"""app/storage.py on both backends: streaming round trips, limits, failures leaving nothing behind, versions, URLs."""
# ruff: noqa: F811 (the fixtures are imported below, and pytest passes them back as same-named arguments)
import hashlib
import io
import os
import stat
import time
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from app.storage import (
    LocalStorage,
    NotFound,
    S3Storage,
    StorageError,
    StoredObject,
    TooLarge,
    get_storage,
    storage_from_url,
)
from tests.s3server import free_port, local_storage, s3_server, s3_storage, storage  # noqa: F401

MiB = 1024 * 1024
KEY = "tenants/0f1e/documents/aa11/bb22"


class Trickle(io.RawIOBase):
    """A body produced on the fly, returning short reads, and optionally failing after ``fail_after`` bytes."""

    def __init__(self, size: int, *, fail_after: int | None = None, step: int = 700_001):
        self.size, self.sent, self.fail_after, self.step = size, 0, fail_after, step
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise OSError("client went away")
        n = min(self.step, self.size - self.sent, n if n >= 0 else self.step)
        data = bytes([(self.sent // 4096) % 251]) * n
        self.sent += n
        self.hash.update(data)
        return data


def read_all(store, key: str) -> bytes:
    return b"".join(store.open(key))


def pending_uploads(store) -> list:
    if isinstance(store, S3Storage):
        return store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    return []


def all_files(store) -> list[str]:
    """Every file the backend left on disk or in the bucket (temp files and old versions included)."""
    if isinstance(store, S3Storage):
        versions = store.client.list_object_versions(Bucket=store.bucket)
        return [v["Key"] for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])]
    root = store.root
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_round_trip(storage):
    body = b"%PDF-1.7 hello\n" * 1000
    stored = storage.put(KEY, io.BytesIO(body), content_type="application/pdf")
    assert stored == StoredObject(KEY, len(body), hashlib.sha256(body).hexdigest())
    assert storage.exists(KEY) and not storage.exists(KEY + "x")
    assert read_all(storage, KEY) == body
    assert list(storage.keys()) == [KEY]


def test_empty_body(storage):
    assert storage.put("a/empty", io.BytesIO(b""), content_type="text/plain").size == 0
    assert read_all(storage, "a/empty") == b""


def test_large_body_streams_in_parts(storage):
    source = Trickle(20 * MiB + 123)
    stored = storage.put(KEY, source, content_type="application/octet-stream", max_bytes=21 * MiB)
    assert (stored.size, stored.sha256) == (source.size, source.hash.hexdigest())
    digest, chunks = hashlib.sha256(), 0
    for chunk in storage.open(KEY):
        digest.update(chunk)
        chunks += 1
        assert len(chunk) <= MiB
    assert digest.hexdigest() == stored.sha256 and chunks >= 20
    if isinstance(storage, S3Storage):
        head = storage.client.head_object(Bucket=storage.bucket, Key=KEY)
        assert head["ETag"].strip('"').endswith("-5")  # 4 parts of 5 MiB and a last one: multipart
        assert head["ContentType"] == "application/octet-stream"
    assert pending_uploads(storage) == []


@pytest.mark.parametrize("size,limit", [(11, 10), (6 * MiB, 5 * MiB + MiB // 2)], ids=["small", "after-first-part"])
def test_too_large_leaves_nothing(storage, size, limit):
    with pytest.raises(TooLarge):
        storage.put(KEY, Trickle(size), content_type="text/plain", max_bytes=limit)
    assert not storage.exists(KEY)
    assert all_files(storage) == [] and pending_uploads(storage) == []
    assert storage.put(KEY, Trickle(limit), content_type="text/plain", max_bytes=limit).size == limit  # exactly the limit is fine


@pytest.mark.parametrize("fail_after", [0, 100, 6 * MiB], ids=["at-once", "early", "after-first-part"])
def test_failing_stream_leaves_nothing(storage, fail_after):
    with pytest.raises(OSError, match="client went away"):
        storage.put(KEY, Trickle(10 * MiB, fail_after=fail_after), content_type="text/plain")
    assert all_files(storage) == [] and pending_uploads(storage) == []


def test_store_failure_mid_upload_leaves_nothing(storage, monkeypatch):
    if isinstance(storage, S3Storage):
        from botocore.exceptions import ClientError

        real, calls = storage.client.upload_part, []

        def flaky_upload_part(**params):
            calls.append(params["PartNumber"])
            if len(calls) == 2:
                raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "UploadPart")
            return real(**params)

        monkeypatch.setattr(storage.client, "upload_part", flaky_upload_part)
    else:
        def failing_replace(src, dst):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("app.storage.os.replace", failing_replace)
    with pytest.raises(StorageError) as caught:
        storage.put(KEY, Trickle(12 * MiB), content_type="text/plain")
    assert "boom" not in str(caught.value) and "space" not in str(caught.value)
    assert all_files(storage) == [] and pending_uploads(storage) == []


def test_prepare_configures_the_bucket(s3_storage):
    client, bucket = s3_storage.client, s3_storage.bucket
    assert client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    (rule,) = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7} and rule["Status"] == "Enabled"
    s3_storage.prepare()  # again: the bucket exists already, that is fine


def test_failing_stream_keeps_the_previous_version_readable(storage):
    storage.put(KEY, io.BytesIO(b"old"), content_type="text/plain")
    with pytest.raises(OSError):
        storage.put(KEY, Trickle(10 * MiB, fail_after=6 * MiB), content_type="text/plain")
    assert read_all(storage, KEY) == b"old"


def test_delete_is_idempotent_and_removes_every_version(storage):
    storage.put(KEY, io.BytesIO(b"one"), content_type="text/plain")
    storage.put(KEY, io.BytesIO(b"two"), content_type="text/plain")
    storage.put(KEY + "-sibling", io.BytesIO(b"keep"), content_type="text/plain")
    if isinstance(storage, S3Storage):
        versions = storage.client.list_object_versions(Bucket=storage.bucket, Prefix=KEY)["Versions"]
        assert len([v for v in versions if v["Key"] == KEY]) == 2
    storage.delete(KEY)
    storage.delete(KEY)
    storage.delete("never/stored")
    assert not storage.exists(KEY)
    assert all_files(storage) == [KEY + "-sibling"]
    assert read_all(storage, KEY + "-sibling") == b"keep"
    with pytest.raises(NotFound):
        storage.open(KEY)


def test_delete_on_unversioned_bucket(s3_server):
    s3 = S3Storage(f"unversioned-{os.getpid()}", endpoint_url=s3_server, region="eu-west-1")
    s3.prepare(versioning=False)
    s3.put(KEY, io.BytesIO(b"x"), content_type="text/plain")
    s3.delete(KEY)
    s3.delete(KEY)
    assert not s3.exists(KEY) and list(s3.keys()) == []
    s3.client.delete_bucket(Bucket=s3.bucket)


def test_keys_lists_exactly_what_was_put(storage):
    keys = ["tenants/t1/documents/d1/a", "tenants/t1/documents/d2/b", "tenants/t10/documents/d3/c", "other/x"]
    for key in keys:
        storage.put(key, io.BytesIO(key.encode()), content_type="text/plain")
    assert sorted(storage.keys()) == sorted(keys)
    assert sorted(storage.keys("tenants/t1/")) == keys[:2]
    assert sorted(storage.keys("tenants/t1")) == sorted(keys[:3])
    assert list(storage.keys("nothing/")) == []


@pytest.mark.parametrize("key", ["../x", "/abs", "a/../b", "a b", "", "a//b", "a/./b", "a/", "é", "a\\b", "a/.tmp-x"])
def test_invalid_keys_are_refused(storage, key):
    for call in (
        lambda: storage.put(key, io.BytesIO(b"x"), content_type="text/plain"),
        lambda: storage.open(key),
        lambda: storage.delete(key),
        lambda: storage.exists(key),
        lambda: storage.presigned_get(key, filename_header="attachment", content_type="text/plain"),
    ):
        with pytest.raises(ValueError):
            call()
    assert all_files(storage) == []


def test_local_never_writes_outside_root(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    store = LocalStorage(tmp_path / "files")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "link").symlink_to(outside)
    with pytest.raises(ValueError):
        store.put("link/x", io.BytesIO(b"x"), content_type="text/plain")
    with pytest.raises(ValueError):
        store.open("link/x")
    assert list(outside.iterdir()) == []
    stored = store.put("a/b/c", io.BytesIO(b"x"), content_type="text/plain")
    path = tmp_path / "files" / "a" / "b" / "c"
    assert stored.size == 1 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files", "outside"]


def test_local_keys_skip_temp_files(local_storage):
    local_storage.put("a/b", io.BytesIO(b"x"), content_type="text/plain")
    (local_storage.root / "a" / ".tmp-abandoned.part").write_bytes(b"half")
    assert list(local_storage.keys()) == ["a/b"]


def test_open_can_be_closed_unread(storage):
    storage.put(KEY, io.BytesIO(b"x" * 3 * MiB), content_type="text/plain")
    chunks = storage.open(KEY)
    assert next(chunks) == b"x" * MiB
    chunks.close()
    storage.open(KEY).close()
    with storage.open(KEY) as unread:
        assert unread is not None


def test_missing_key(storage):
    with pytest.raises(NotFound):
        storage.open("no/such/key")


def test_presigned_get_on_s3(s3_storage):
    body = b"%PDF-1.7 report"
    s3_storage.put(KEY, io.BytesIO(body), content_type="application/octet-stream")
    header = "attachment; filename=\"r sum .pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    url = s3_storage.presigned_get(KEY, filename_header=header, content_type="application/pdf", expires=3600)
    query = parse_qs(urlsplit(url).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert query["response-content-disposition"] == [header]
    assert query["response-content-type"] == ["application/pdf"]
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own test server)
        assert response.read() == body
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["Content-Type"] == "application/pdf"
    with pytest.raises(ValueError):
        s3_storage.presigned_get(KEY, filename_header="attachment\r\nSet-Cookie: x=1", content_type="application/pdf")


def test_presigned_get_on_local(local_storage):
    local_storage.put(KEY, io.BytesIO(b"x"), content_type="text/plain")
    assert local_storage.presigned_get(KEY, filename_header="attachment", content_type="text/plain") is None


def test_check(storage):
    storage.check()


def test_unreachable_s3_fails_fast_without_urls(s3_server):
    port = free_port()  # nothing listens there any more
    store = storage_from_url(f"s3://storia-docs?endpoint_url=http://127.0.0.1:{port}&region=eu-west-1&max_attempts=1&connect_timeout=1")
    started = time.monotonic()
    for call in (store.check, lambda: store.put(KEY, io.BytesIO(b"x"), content_type="text/plain"), lambda: list(store.keys())):
        with pytest.raises(StorageError) as caught:
            call()
        assert "http" not in str(caught.value) and "127.0.0.1" not in str(caught.value) and KEY not in str(caught.value)
    assert time.monotonic() - started < 5


def test_unreachable_multipart_fails_fast(s3_server):
    store = S3Storage("storia-docs", endpoint_url=f"http://127.0.0.1:{free_port()}", region="eu-west-1", max_attempts=1, connect_timeout=1)
    with pytest.raises(StorageError):
        store.put(KEY, Trickle(10 * MiB), content_type="text/plain")


def test_storage_from_url(tmp_path):
    local = storage_from_url(f"file://{tmp_path}/files")
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "files"
    s3 = storage_from_url("s3://bucket?endpoint_url=http://127.0.0.1:9&region=eu-west-1&part_size=6291456")
    assert isinstance(s3, S3Storage) and (s3.bucket, s3.part_size) == ("bucket", 6 * MiB)
    assert s3.client.meta.region_name == "eu-west-1"
    for bad in ("ftp://x", "file://relative/path", "s3://", "s3://bucket?colour=blue", "s3://bucket?part_size=1024"):
        with pytest.raises(ValueError):
            storage_from_url(bad)


def test_get_storage_is_built_once_per_app(tmp_path):
    app = Flask(__name__)
    app.config["STORAGE_URL"] = f"file://{tmp_path}/files"
    with app.app_context():
        first = get_storage()
        assert isinstance(first, LocalStorage) and get_storage() is first and app.extensions["storage"] is first
