"""File storage: one interface, two backends (a local directory, or an S3 bucket).

``STORAGE_URL`` picks the backend: ``file:///abs/path`` or ``s3://bucket?endpoint_url=...&region=...``
(credentials come from boto3's usual chain). Documents are written once under keys the caller builds
(``tenants/<uuid>/documents/<uuid>/<uuid>``), read back as a stream of chunks, and deleted for good.

Every backend streams: an upload is read from the caller's file-like object a chunk at a time (so a
200 MB upload does not need 200 MB of memory), counted and hashed on the way, and either lands whole
or leaves nothing behind (no partial file, no dangling multipart upload). Failures of the store become
``StorageError`` with a message safe to show a user; failures of the caller's stream propagate unchanged.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)

READ_CHUNK = 1024 * 1024  # what open() yields and the local backend copies at a time
MAX_PRESIGN_SECONDS = 300
_KEY_RE = re.compile(r"[A-Za-z0-9/_.-]+")


class StorageError(Exception):
    """The store could not be reached or refused the operation (message safe to show)."""


class TooLarge(StorageError):
    """More than ``max_bytes`` arrived; nothing was stored."""


class NotFound(StorageError):
    """No object under that key (``open`` on a missing key)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe object key, else raise ValueError.

    Keys are built by our code, so a bad one is a bug (or an attack through a bug): only
    ``[A-Za-z0-9/_.-]``, no leading ``/``, no empty segment, and no segment starting with a dot
    (which rules out ``.`` and ``..`` and leaves dot-names free for the local backend's temp files).
    """
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise ValueError("invalid storage key")
    if any(not part or part.startswith(".") for part in key.split("/")):
        raise ValueError("invalid storage key")
    return key


def _check_prefix(prefix: str) -> str:
    """A listing prefix: a key, a key followed by ``/``, or empty (everything)."""
    if prefix:
        check_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def _check_header(value: str) -> str:
    """Refuse CR/LF in a value that ends up in a response header."""
    if "\r" in value or "\n" in value:
        raise ValueError("header values must not contain line breaks")
    return value


class _Metered:
    """Reads the caller's stream, counting and hashing what passes; raises TooLarge past ``max_bytes``."""

    def __init__(self, stream: BinaryIO, max_bytes: int | None):
        self._stream = stream
        self._max = max_bytes
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int) -> bytes:
        if self._max is not None:
            n = min(n, self._max + 1 - self.size)  # never read much past the limit
        data = self._stream.read(n) or b""
        self.size += len(data)
        if self._max is not None and self.size > self._max:
            raise TooLarge("the file is too large")
        self._hash.update(data)
        return data

    def read_full(self, n: int) -> bytes:
        """Read exactly ``n`` bytes, fewer only at the end (streams may return short reads)."""
        first = self.read(n)
        if len(first) == n or not first:
            return first
        buf = bytearray(first)
        while len(buf) < n and (data := self.read(n - len(buf))):
            buf += data
        return bytes(buf)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class Chunks(Iterator[bytes]):
    """The chunks of a stored object; releases the file or connection when exhausted or closed.

    A plain generator would not run its cleanup when closed before its first ``next()``, and a
    WSGI server calls ``close()`` on a response iterable (a client that disconnects early), so a
    small class it is. Read errors of the store become StorageError.
    """

    def __init__(self, chunks: Iterator[bytes], close: Callable[[], None], errors: tuple[type[BaseException], ...]):
        self._chunks = chunks
        self._close: Callable[[], None] | None = close
        self._errors = errors

    def __next__(self) -> bytes:
        if self._close is None:
            raise StopIteration
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except self._errors as exc:
            self.close()
            log.warning("storage read failed: %s", type(exc).__name__)
            raise StorageError("the file could not be read from storage") from exc

    def close(self) -> None:
        close, self._close = self._close, None
        if close is not None:
            close()

    def __enter__(self) -> Chunks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        with suppress(Exception):
            self.close()


class Storage(ABC):
    """What the app needs from a store of immutable blobs."""

    @abstractmethod
    def put(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int | None = None) -> StoredObject:
        """Store ``stream`` under ``key`` (replacing it), streaming; TooLarge/StorageError leave nothing behind."""

    @abstractmethod
    def open(self, key: str) -> Chunks:
        """The object's bytes in chunks; NotFound if missing. Close it (or exhaust it) to free the connection."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object for good (all versions); no error if it is already gone."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abstractmethod
    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix`` (for reconciliation with the database)."""

    @abstractmethod
    def presigned_get(self, key: str, *, filename_header: str, content_type: str, expires: int = MAX_PRESIGN_SECONDS) -> str | None:
        """A short-lived URL the browser can download from directly, or None if the app must stream the file."""

    @abstractmethod
    def check(self) -> None:
        """Raise StorageError if the store cannot be used (for health checks and start-up)."""


# --- local directory ----------------------------------------------------------------------------------


@contextmanager
def _fs_errors(message: str) -> Iterator[None]:
    """Turn the file system's OSError into a StorageError the user may see (details go to the log)."""
    try:
        yield
    except OSError as exc:
        log.warning("local storage: %s (%s)", message, type(exc).__name__)
        raise StorageError(message) from exc


class LocalStorage(Storage):
    """Objects as files under one directory: for development, tests and single-host installs.

    Writes go to a dot-named temp file in the target directory, then ``os.replace`` (atomic), so a
    reader never sees half a file and a crash leaves at most a temp file that ``keys()`` ignores.
    """

    def __init__(self, root: str | os.PathLike[str]):
        root = Path(root)
        if not root.is_absolute():
            raise ValueError("the storage directory must be an absolute path")
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        """The file for ``key``, refusing anything that resolves outside the root (symlinks included)."""
        path = (self.root / check_key(key)).resolve()
        if path == self.root or not path.is_relative_to(self.root):
            raise ValueError("storage key resolves outside the storage directory")
        return path

    def put(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int | None = None) -> StoredObject:
        path = self._path(key)
        reader = _Metered(stream, max_bytes)
        with _fs_errors("the file could not be stored"):
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")  # mode 0o600
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := reader.read(READ_CHUNK):
                    with _fs_errors("the file could not be stored"):
                        out.write(chunk)
                with _fs_errors("the file could not be stored"):
                    out.flush()
                    os.fsync(out.fileno())
            with _fs_errors("the file could not be stored"):
                os.replace(tmp, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
        return StoredObject(key, reader.size, reader.sha256)

    def open(self, key: str) -> Chunks:
        path = self._path(key)
        try:
            file = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFound("the file is missing from storage") from exc
        except OSError as exc:
            log.warning("local storage: open failed (%s)", type(exc).__name__)
            raise StorageError("the file could not be read from storage") from exc
        return Chunks(iter(lambda: file.read(READ_CHUNK), b""), file.close, (OSError,))

    def delete(self, key: str) -> None:
        path = self._path(key)
        with _fs_errors("the file could not be deleted"):
            path.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        _check_prefix(prefix)
        start = self.root / prefix.rpartition("/")[0]  # the deepest directory the prefix names whole
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            base = Path(dirpath).relative_to(self.root).as_posix()
            for name in sorted(filenames):
                if name.startswith("."):
                    continue  # temp files of writes in progress (or interrupted)
                key = name if base == "." else f"{base}/{name}"
                if key.startswith(prefix):
                    yield key

    def presigned_get(self, key: str, *, filename_header: str, content_type: str, expires: int = MAX_PRESIGN_SECONDS) -> None:
        """No direct URL for local files: the app streams them itself."""
        self._path(key)
        _check_header(filename_header)
        return None

    def check(self) -> None:
        with _fs_errors("the storage directory is not writable"):
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root, prefix=".check-"):
                pass


# --- S3 -------------------------------------------------------------------------------------------------

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
DEFAULT_PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000
_MISSING = {"404", "NoSuchKey", "NotFound"}
_UNSUPPORTED = {"NotImplemented", "MethodNotAllowed", "501", "405"}


def _code(exc: BaseException | None) -> str:
    """The S3 error code of a ClientError ("" for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class S3Storage(Storage):
    """Objects in an S3 (or S3-compatible) bucket, uploaded part by part so memory stays bounded.

    Memory per upload is about one part (``part_size``, 8 MiB) plus a copy while it is sent; boto3's
    ``upload_fileobj`` would buffer up to 10 threads × 8 MiB per request instead. One client per
    instance (boto3 clients are thread-safe; sessions are not, hence a private session).
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        max_attempts: int = 3,
        addressing_style: str | None = None,
    ):
        import boto3
        from botocore.config import Config

        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        self.bucket = bucket
        self.region = region
        self.part_size = part_size
        config = Config(
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            signature_version="s3v4",
            # S3-compatible servers (MinIO, moto, Ceph) want path-style; AWS itself picks its own.
            s3={"addressing_style": addressing_style or ("path" if endpoint_url else "auto")},
        )
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=region, config=config)

    def _call(self, operation: str, message: str = "the file store is unavailable", **params: Any) -> Any:
        """Call the S3 API; its errors (which may carry URLs and keys) become a generic StorageError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **params)
        except ClientError as exc:
            code = _code(exc)
            log.warning("s3 %s failed: %s", operation, code or "ClientError")
            if code in _MISSING:
                raise NotFound("the file is missing from storage") from exc
            raise StorageError(message) from exc
        except BotoCoreError as exc:
            log.warning("s3 %s failed: %s", operation, type(exc).__name__)
            raise StorageError(message) from exc

    def put(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int | None = None) -> StoredObject:
        check_key(key)
        reader = _Metered(stream, max_bytes)
        first = reader.read_full(self.part_size)
        if len(first) < self.part_size:
            self._call("put_object", "the file could not be stored", Key=key, Body=first, ContentType=content_type)
        else:
            pending = [first]
            del first  # handed over in a list so that only _put_multipart holds the part
            self._put_multipart(key, reader, pending, content_type)
        return StoredObject(key, reader.size, reader.sha256)

    def _put_multipart(self, key: str, reader: _Metered, pending: list[bytes], content_type: str) -> None:
        """Upload part by part (one part in memory at a time); abort on any error so no parts linger."""
        upload_id = self._call("create_multipart_upload", "the file could not be stored", Key=key, ContentType=content_type)["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            chunk = pending.pop()
            while chunk:
                number = len(parts) + 1
                if number > MAX_PARTS:
                    raise TooLarge("the file is too large")
                response = self._call(
                    "upload_part", "the file could not be stored", Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                )
                parts.append({"ETag": response["ETag"], "PartNumber": number})
                chunk = b""  # let the part go before reading the next one
                chunk = reader.read_full(self.part_size)
            self._call(
                "complete_multipart_upload", "the file could not be stored", Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            with suppress(StorageError):
                self._call("abort_multipart_upload", Key=key, UploadId=upload_id)
            raise

    def open(self, key: str) -> Chunks:
        from botocore.exceptions import BotoCoreError
        from urllib3.exceptions import HTTPError

        body = self._call("get_object", "the file could not be read from storage", Key=check_key(key))["Body"]
        return Chunks(body.iter_chunks(READ_CHUNK), body.close, (BotoCoreError, HTTPError, OSError))

    def delete(self, key: str) -> None:
        """Delete every version and delete marker of exactly ``key`` (a plain delete would only hide it)."""
        from botocore.exceptions import ClientError

        check_key(key)
        try:
            versions = self._versions(key)
        except StorageError as exc:
            if not isinstance(exc.__cause__, ClientError) or _code(exc.__cause__) not in _UNSUPPORTED:
                raise
            versions = []  # a store without versioning support
        for start in range(0, len(versions), 1000):
            batch = versions[start:start + 1000]
            response = self._call("delete_objects", "the file could not be deleted", Delete={"Objects": batch, "Quiet": True})
            if response.get("Errors"):
                log.warning("s3 delete_objects failed: %s", response["Errors"][0].get("Code"))
                raise StorageError("the file could not be deleted")
        if not versions:
            self._call("delete_object", "the file could not be deleted", Key=key)  # unversioned, or already gone

    def _versions(self, key: str) -> list[dict[str, str]]:
        found, params = [], {"Prefix": key}
        while True:
            page = self._call("list_object_versions", **params)
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if item["Key"] == key:
                    found.append({"Key": key, "VersionId": item["VersionId"]})
            if not page.get("IsTruncated"):
                return found
            params = {"Prefix": key, "KeyMarker": page["NextKeyMarker"]}
            if page.get("NextVersionIdMarker"):
                params["VersionIdMarker"] = page["NextVersionIdMarker"]

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", Key=check_key(key))
        except NotFound:
            return False
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        params: dict[str, Any] = {"Prefix": _check_prefix(prefix)}
        while True:
            page = self._call("list_objects_v2", **params)
            for item in page.get("Contents", []):
                yield item["Key"]
            if not page.get("IsTruncated"):
                return
            params["ContinuationToken"] = page["NextContinuationToken"]

    def presigned_get(self, key: str, *, filename_header: str, content_type: str, expires: int = MAX_PRESIGN_SECONDS) -> str:
        """A GET URL valid for at most five minutes that makes S3 answer with our headers.

        The URL is a bearer credential: never log it or put it in an error message.
        """
        from botocore.exceptions import BotoCoreError

        params = {
            "Bucket": self.bucket,
            "Key": check_key(key),
            "ResponseContentDisposition": _check_header(filename_header),
            "ResponseContentType": _check_header(content_type),
        }
        try:
            return self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=max(1, min(int(expires), MAX_PRESIGN_SECONDS)), HttpMethod="GET"
            )
        except BotoCoreError as exc:  # e.g. no credentials
            log.warning("s3 presign failed: %s", type(exc).__name__)
            raise StorageError("the file store is unavailable") from exc

    def check(self) -> None:
        try:
            self._call("head_bucket")
        except NotFound as exc:  # HEAD answers a bare 404 for a missing bucket
            raise StorageError("the file store is unavailable") from exc

    def prepare(self, versioning: bool = True) -> None:
        """Create the bucket if missing and apply our settings (tests and development; production uses IaC).

        Versioning (so an overwrite or a stray delete can be undone), Block Public Access (all four), and a
        lifecycle rule aborting multipart uploads left incomplete for 7 days. A setting the server does not
        implement (``NotImplemented``) is skipped with a log line; moto 5.2 implements all of them.
        """
        region = self.client.meta.region_name
        params: dict[str, Any] = {}
        if region and region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self._call("create_bucket", **params)
        except StorageError as exc:
            if _code(exc.__cause__) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise
        settings: list[tuple[str, dict[str, Any]]] = [
            (
                "put_public_access_block",
                {
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "IgnorePublicAcls": True,
                        "BlockPublicPolicy": True,
                        "RestrictPublicBuckets": True,
                    }
                },
            ),
            (
                "put_bucket_lifecycle_configuration",
                {
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "ID": "abort-incomplete-multipart-uploads",
                                "Filter": {"Prefix": ""},
                                "Status": "Enabled",
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                            }
                        ]
                    }
                },
            ),
        ]
        if versioning:
            settings.insert(0, ("put_bucket_versioning", {"VersioningConfiguration": {"Status": "Enabled"}}))
        for operation, setting in settings:
            try:
                self._call(operation, **setting)
            except StorageError as exc:
                if _code(exc.__cause__) not in _UNSUPPORTED:
                    raise
                log.info("s3 %s not supported by this server; skipped", operation)


# --- configuration --------------------------------------------------------------------------------------

_S3_OPTIONS = {
    "endpoint_url": str,
    "region": str,
    "addressing_style": str,
    "part_size": int,
    "connect_timeout": float,
    "read_timeout": float,
    "max_attempts": int,
}


def storage_from_url(url: str, **options: Any) -> Storage:
    """Build the backend ``url`` names; ``options`` override the URL's query (tests: ``part_size=...``)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.query or options:
            raise ValueError("file storage URLs look like file:///absolute/path")
        return LocalStorage(unquote(parts.path))
    if parts.scheme == "s3":
        if not parts.netloc or parts.path not in ("", "/"):
            raise ValueError("S3 storage URLs look like s3://bucket?endpoint_url=...&region=...")
        query: dict[str, Any] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query)):
            if name not in _S3_OPTIONS:
                raise ValueError(f"unknown S3 storage option: {name}")
            query[name] = _S3_OPTIONS[name](value)
        query.update(options)
        return S3Storage(parts.netloc, **query)
    raise ValueError("STORAGE_URL must start with file:// or s3://")


def storage_origin(url: str) -> str | None:
    """Where presigned links of an ``s3://`` store point (the pages' CSP lets previews come from there):
    its endpoint's origin, or AWS's S3 hosts; None for a local store (the app serves the files)."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        return None
    endpoint = dict(parse_qsl(parts.query)).get("endpoint_url")
    if endpoint:
        site = urlsplit(endpoint)
        return f"{site.scheme}://{site.netloc}"
    return "https://*.amazonaws.com"


_lock = threading.Lock()


def get_storage() -> Storage:
    """The current app's storage, built once from ``STORAGE_URL`` (one S3 client per process and app)."""
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    storage = app.extensions.get("storage")
    if storage is None:
        with _lock:
            storage = app.extensions.get("storage")
            if storage is None:
                storage = app.extensions["storage"] = storage_from_url(app.config["STORAGE_URL"])
    return storage
