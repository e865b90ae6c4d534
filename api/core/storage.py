"""File storage behind one small interface: local disk by default, any S3-compatible store in
production (boto3), chosen by settings (`CADRE_STORAGE=local|s3`).

Keys are Cadre's own (`new_key`): random, never derived from a user's file name, and checked on
every call, so no key can name a place outside the store. Reads are streamed in chunks. Callers keep
a file's type, size and display name in the database; the store keeps bytes only.

These calls may wait on the network (S3): never make them while holding a row lock or the SQLite
write lock (store first, then record; or delete through the outbox).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from api.core import errors
from api.core.config import Settings, get_settings

CHUNK = 64 * 1024
# Segments of letters, digits, '-' and '_', joined by '/': no '.', no '..', no leading '/', no '\'.
_KEY = re.compile(r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*$")
MAX_KEY = 200


class NotFound(errors.NotFound):
    """No file is stored under this key (a 404 when it reaches a request)."""

    code = "file_not_found"


class BadKey(ValueError):
    """A key Cadre did not make: a programming error, never a user's input reaching the store."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > MAX_KEY or not _KEY.fullmatch(key):
        raise BadKey(f"not a storage key: {key!r}")
    return key


def new_key(prefix: str) -> str:
    """`<prefix>/<yyyy>/<mm>/<random>`: 128 random bits, nothing from the user."""
    prefix = prefix.strip("/")
    check_key(prefix)
    now = datetime.now(UTC)
    return check_key(f"{prefix}/{now:%Y}/{now:%m}/{secrets.token_urlsafe(16).replace('-', 'x')}")


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def open(self, key: str) -> Iterator[bytes]: ...  # streamed chunks; NotFound if missing

    def delete(self, key: str) -> None: ...  # idempotent

    def exists(self, key: str) -> bool: ...


def read_all(storage: Storage, key: str) -> bytes:
    return b"".join(storage.open(key))


class LocalStorage:
    """Files under one directory (default `<CADRE_VAR_DIR>/uploads`), one file per key, written
    atomically (a temporary file renamed into place), readable only by the owner (mode 600)."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:  # belt and braces: the key pattern already rules this out
            raise BadKey(f"not a storage key: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> Iterator[bytes]:
        try:
            f = self._path(key).open("rb")  # opened now, so a missing file is refused before streaming
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound("That file is no longer stored.") from None
        return _chunks(f)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def _chunks(f) -> Iterator[bytes]:
    with f:
        while chunk := f.read(CHUNK):
            yield chunk


class S3Storage:
    """An S3 bucket (AWS or any S3-compatible store: MinIO, Ceph, R2...), objects under an optional
    prefix. Credentials: the settings' keys, or boto3's own chain (instance role, environment)."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None, prefix: str = "",
                 connect_timeout: float = 5.0, read_timeout: float = 30.0):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
            config=Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                          retries={"max_attempts": 3, "mode": "standard"}, signature_version="s3v4",
                          s3={"addressing_style": "path"} if endpoint_url else {}))

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                               ContentType=content_type or "application/octet-stream")

    def open(self, key: str) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _missing(exc):
                raise NotFound("That file is no longer stored.") from None
            raise
        return _body_chunks(obj["Body"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))  # S3: deleting nothing is fine

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True


def _missing(exc) -> bool:
    err = exc.response.get("Error", {})
    return str(err.get("Code")) in ("NoSuchKey", "404", "NotFound") or \
        exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404


def _body_chunks(body) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def storage_for(settings: Settings) -> Storage:
    if settings.storage == "s3":
        return S3Storage(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
                         access_key_id=settings.s3_access_key_id, secret_access_key=settings.s3_secret_access_key,
                         prefix=settings.s3_prefix)
    return LocalStorage(settings.uploads_path)


@lru_cache(maxsize=8)
def _cached(choice: tuple) -> Storage:
    return storage_for(get_settings())


def get_storage() -> Storage:
    """The store the settings choose, made once per choice (boto3 clients are thread-safe)."""
    s = get_settings()
    return _cached((s.storage, str(s.uploads_path), s.s3_bucket, s.s3_endpoint_url, s.s3_region,
                    s.s3_access_key_id, s.s3_secret_access_key, s.s3_prefix))
