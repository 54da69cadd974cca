"""File storage: one interface, a local-folder backend and an S3 backend (boto3)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from flask import current_app

UPLOAD_THREADS = 8  # parallel uploads of one put_many (botocore's default pool holds 10)


class StorageError(RuntimeError):
    """A storage backend could not complete an operation."""


class NotFound(StorageError, KeyError):
    """No object is stored under that key."""


StoredFile = tuple[str, bytes, str]  # key, bytes, content type


class Storage(Protocol):
    """What every backend offers; keys are relative POSIX paths."""

    name: str

    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def put_many(self, files: list[StoredFile]) -> dict[str, Exception]: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def signed_url(self, key: str, expires_in: int, filename: str | None = None) -> str: ...
    def check(self) -> None: ...


def check_key(key: str) -> str:
    """Refuse keys that could escape the storage root."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in {"", ".", ".."} for p in parts):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def sign_local(secret: str, key: str, expires: int, filename: str | None) -> str:
    """HMAC over key, expiry and download name for local signed URLs."""
    message = f"{key}\n{expires}\n{filename or ''}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _put_each(storage: Storage, files: list[StoredFile]) -> dict[str, Exception]:
    """Write the files one by one; the keys that failed, with why."""
    for key, _, _ in files:  # a bad key refuses the whole call before anything is written
        check_key(key)
    failed: dict[str, Exception] = {}
    for key, data, content_type in files:
        try:
            storage.put(key, data, content_type)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, per file
            failed[key] = exc
    return failed


class LocalStorage:
    """Files in a local folder; writes are atomic (temp file + rename), without fsync.

    A reader never sees half a file, but a power loss may lose files written in the last
    seconds; the local folder is the single-machine default, S3 the production store.
    """

    name = "local"

    def __init__(self, root: str | Path, secret: str, public_url: str) -> None:
        self.root = Path(root)
        self.secret = secret
        self.public_url = public_url

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:  # the folder usually exists: no mkdir per file
            _write_atomically(path, data)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, data)

    def put_many(self, files: list[StoredFile]) -> dict[str, Exception]:
        """Write several files; the keys that failed, with why (the others are written).

        An invalid key raises ValueError before anything is written."""
        return _put_each(self, files)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def signed_url(self, key: str, expires_in: int, filename: str | None = None) -> str:
        expires = int(time.time()) + expires_in
        query = {"expires": expires, "sig": sign_local(self.secret, key, expires, filename)}
        if filename:
            query["filename"] = filename
        return f"{self.public_url}/files/{quote(check_key(key))}?{urlencode(query)}"

    def verify(self, key: str, expires: int, sig: str, filename: str | None) -> bool:
        """True when a local signed URL is authentic and not expired."""
        expected = sign_local(self.secret, key, expires, filename)
        return expires >= time.time() and hmac.compare_digest(expected, sig)

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"storage folder {self.root} is not writable")


class S3Storage:
    """Objects in an S3 bucket (or any S3-compatible store) through boto3."""

    name = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
        )

    def put_many(self, files: list[StoredFile]) -> dict[str, Exception]:
        """Upload several objects at once (S3 answers each in tens of milliseconds, so they go
        in parallel); the keys that failed, with why (the others are stored).

        An invalid key raises ValueError before anything is uploaded."""
        if len(files) < 2:
            return _put_each(self, files)
        for key, _, _ in files:
            check_key(key)
        pool = self._uploads()
        futures = {key: pool.submit(self.put, key, data, content_type) for key, data, content_type in files}
        return {key: future.exception() for key, future in futures.items() if future.exception() is not None}

    def _uploads(self) -> ThreadPoolExecutor:
        # Threads do not survive a fork: a forked work horse makes its own pool.
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool, self._pool_pid = ThreadPoolExecutor(UPLOAD_THREADS, "s3-upload"), os.getpid()
        return self._pool

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise NotFound(key) from None

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def signed_url(self, key: str, expires_in: int, filename: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_in
        )

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def _write_atomically(path: Path, data: bytes) -> None:
    """A temporary file in the same folder renamed over `path` (tcma.fileio's rule, in fewer
    system calls: this runs for every rendered file). Raises FileNotFoundError without the folder."""
    temporary = f"{path.parent}/.tmp-{os.getpid()}-{secrets.token_hex(6)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def build_storage(config: Mapping[str, Any]) -> Storage:
    """Make the backend the settings ask for (no network traffic here)."""
    if config["STORAGE"] == "local":
        return LocalStorage(config["STORAGE_PATH"], config["SECRET_KEY"], config["PUBLIC_URL"])
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=config["S3_ENDPOINT_URL"],
        region_name=config["S3_REGION"],
        aws_access_key_id=config["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=config["S3_SECRET_ACCESS_KEY"],
        config=Config(
            signature_version="s3v4",
            connect_timeout=3,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
    return S3Storage(client, config["S3_BUCKET"], config["S3_PREFIX"])


def get_storage() -> Storage:
    """The current app's storage backend."""
    return current_app.extensions["tcma"].storage
