"""Public media: partner logos that email readers load without signing in."""

from __future__ import annotations

from tcma.storage import NotFound, check_key, get_storage


def public_logo(key: str) -> bytes:
    """The bytes of a partner logo; only keys under logos/ are public."""
    if not check_key(key).startswith("logos/"):
        raise NotFound(key)
    return get_storage().get(key)
