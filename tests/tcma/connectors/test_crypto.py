"""Sealing stored credentials: rotation, malformed keys, nothing secret in messages."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tcma.crypto import CredentialBox, CredentialKeyError, CredentialsUnreadable, generate_key, parse_keys

CREDENTIALS = {"access_token": "tok-Xk29", "refresh": {"jwt": "r-1"}, "n": 3}


def test_sealed_credentials_open_to_the_same_mapping():
    box = CredentialBox([generate_key()])
    sealed = box.seal(CREDENTIALS)
    assert isinstance(sealed, bytes) and b"tok-Xk29" not in sealed
    assert box.open(sealed) == CREDENTIALS


def test_rotation_opens_with_old_keys_and_seals_with_the_first():
    old, new = generate_key(), generate_key()
    sealed_before = CredentialBox([old]).seal(CREDENTIALS)
    rotating = CredentialBox([new, old])
    assert rotating.open(sealed_before) == CREDENTIALS
    rotated = rotating.rotate(sealed_before)
    assert CredentialBox([new]).open(rotated) == CREDENTIALS
    assert Fernet(new.encode()).decrypt(rotating.seal(CREDENTIALS))
    with pytest.raises(CredentialsUnreadable, match="TCMA_CREDENTIALS_KEYS"):
        CredentialBox([new]).open(sealed_before)


@pytest.mark.parametrize("sealed", [b"garbage", b"", "not-bytes-either"])
def test_unreadable_data_says_so(sealed):
    box = CredentialBox([generate_key()])
    with pytest.raises(CredentialsUnreadable):
        box.open(sealed)
    with pytest.raises(CredentialsUnreadable):
        box.rotate(sealed)


def test_altered_data_is_unreadable():
    box = CredentialBox([generate_key()])
    sealed = bytearray(box.seal(CREDENTIALS))
    sealed[-5] ^= 1
    with pytest.raises(CredentialsUnreadable):
        box.open(bytes(sealed))


@pytest.mark.parametrize("bad", ["short-key-Zz9", "x" * 44, generate_key()[:-2] + "!!"],
                         ids=["short", "not-base64-length", "bad-character"])
def test_a_malformed_key_is_named_by_position_never_shown(bad):
    with pytest.raises(CredentialKeyError, match=r"TCMA_CREDENTIALS_KEYS key #2") as raised:
        CredentialBox([generate_key(), bad])
    assert bad not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_no_key_or_a_bare_string_is_refused():
    with pytest.raises(CredentialKeyError, match="holds no key"):
        CredentialBox([])
    with pytest.raises(CredentialKeyError, match="list of keys"):
        CredentialBox(generate_key())


def test_the_repr_counts_keys_only():
    key = generate_key()
    box = CredentialBox([key, generate_key()])
    assert repr(box) == "CredentialBox(<2 keys>)" and key not in repr(box)


def test_values_json_cannot_hold_are_refused_without_echoing_them():
    with pytest.raises(TypeError) as raised:
        CredentialBox([generate_key()]).seal({"token": {b"secret-bytes"}})
    assert "secret-bytes" not in str(raised.value)


def test_parse_keys_splits_the_variable():
    first, second = generate_key(), generate_key()
    assert parse_keys(f" {first} ,{second},, ") == [first, second]
