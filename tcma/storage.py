"""File storage: one interface, a local-folder backend and an S3 backend (boto3)."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from flask import current_app

from tcma.fileio import write_atomically


class StorageError(RuntimeError):
    """A storage backend could not complete an operation."""


class NotFound(StorageError, KeyError):
    """No object is stored under that key."""


class Storage(Protocol):
    """What every backend offers; keys are relative POSIX paths."""

    name: str

    def put(self, key: str, data: bytes, content_type: str) -> None: ...
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


class LocalStorage:
    """Files in a local folder; writes are atomic (temp file + rename)."""

    name = "local"

    def __init__(self, root: str | Path, secret: str, public_url: str) -> None:
        self.root = Path(root)
        self.secret = secret
        self.public_url = public_url

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)

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

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
        )

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
