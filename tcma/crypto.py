"""Stored credentials sealed with Fernet keys from TCMA_CREDENTIALS_KEYS: the first seals, all open."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEYS_VARIABLE = "TCMA_CREDENTIALS_KEYS"


class CredentialKeyError(ValueError):
    """A key in TCMA_CREDENTIALS_KEYS is missing or malformed (the message never shows the key)."""


class CredentialsUnreadable(ValueError):
    """Sealed credentials that no configured key opens, or that were altered."""


def generate_key() -> str:
    """A new random key for TCMA_CREDENTIALS_KEYS (32 bytes, url-safe base64)."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(value: str) -> list[str]:
    """The keys in a comma-separated TCMA_CREDENTIALS_KEYS value, newest first, blanks dropped."""
    return [key.strip() for key in value.split(",") if key.strip()]


def _fernet(key: object, position: int) -> Fernet:
    # Fernet's own errors may quote the key; ours name its position only.
    if not isinstance(key, str | bytes):
        raise CredentialKeyError(f"{KEYS_VARIABLE} key #{position} must be a string, "
                                 f"not {type(key).__name__}")
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise CredentialKeyError(
            f"{KEYS_VARIABLE} key #{position} is not a Fernet key (32 bytes in url-safe base64, "
            f"44 characters); make one with `python -c 'from tcma.crypto import generate_key; "
            f"print(generate_key())'`") from None


class CredentialBox:
    """Seals credential dicts with the first key; opens with any key, so keys can be rotated."""

    def __init__(self, keys: Sequence[str]) -> None:
        if isinstance(keys, str | bytes):
            raise CredentialKeyError(f"{KEYS_VARIABLE} must be given as a list of keys; "
                                     f"split the variable with tcma.crypto.parse_keys")
        if not keys:
            raise CredentialKeyError(f"{KEYS_VARIABLE} holds no key; make one with "
                                     f"tcma.crypto.generate_key()")
        self._fernet = MultiFernet([_fernet(key, n) for n, key in enumerate(keys, start=1)])
        self._count = len(keys)

    def __repr__(self) -> str:
        return f"CredentialBox(<{self._count} key{'s' if self._count != 1 else ''}>)"

    def seal(self, credentials: Mapping[str, Any]) -> bytes:
        """Encrypt a JSON-serialisable mapping with the first key."""
        if not isinstance(credentials, Mapping):
            raise TypeError(f"credentials must be a mapping, not {type(credentials).__name__}")
        try:
            plain = json.dumps(dict(credentials), sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            # json's message quotes the offending value, which may be a secret.
            raise TypeError("credentials must hold only JSON values (str, numbers, lists, dicts)") from None
        return self._fernet.encrypt(plain.encode("utf-8"))

    def open(self, sealed: bytes) -> dict[str, Any]:
        """Decrypt what seal() produced with any of the keys; raise CredentialsUnreadable otherwise."""
        try:
            plain = self._fernet.decrypt(sealed)
        except (InvalidToken, TypeError):
            raise CredentialsUnreadable(
                f"sealed credentials could not be opened with any key in {KEYS_VARIABLE} "
                f"(a removed key, or altered data)") from None
        opened = json.loads(plain)
        if not isinstance(opened, dict):
            raise CredentialsUnreadable("sealed credentials do not hold a mapping")
        return opened

    def rotate(self, sealed: bytes) -> bytes:
        """Re-encrypt sealed credentials with the first key (after a new key was put first)."""
        try:
            return self._fernet.rotate(sealed)
        except (InvalidToken, TypeError):
            raise CredentialsUnreadable(
                f"sealed credentials could not be rotated: no key in {KEYS_VARIABLE} opens them") from None
