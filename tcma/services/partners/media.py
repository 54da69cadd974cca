"""Partner logos: stored variants for light and dark backgrounds, and public media for emails."""

from __future__ import annotations

import hashlib
import io

import renderers
from tcma.storage import NotFound, check_key, get_storage

LOGO_SLOTS = ("auto", "light", "dark")
SLOT_COLUMNS = {"light": "logo_key", "dark": "logo_dark_key"}


def public_logo(key: str) -> bytes:
    """The bytes of a partner logo; only keys under logos/ are public."""
    if not check_key(key).startswith("logos/"):
        raise NotFound(key)
    return get_storage().get(key)


def logo_files(data: bytes, slot: str = "auto") -> dict[str, bytes]:
    """Check an uploaded logo (SVG, PDF, PNG, JPEG, WebP, GIF) and make the files to store.

    slot "auto": the upload is measured and both variants are made (the one it is, and a
    derived one-colour version for the other kind of background); "light" or "dark": the
    upload is that variant only. Returns {brand kit column: PNG bytes}; raises LogoError.
    What is stored is pixels alone, re-encoded: no metadata, no trailing bytes, no script.
    """
    logo = renderers.load_logo(data)
    if slot == "auto":
        light, dark = renderers.logo_variants(logo, None)
        return {"logo_key": _png(light), "logo_dark_key": _png(dark)}
    light, dark = renderers.logo_variants(logo, logo)  # the same one: only knocked out
    return {SLOT_COLUMNS[slot]: _png(light if slot == "light" else dark)}


def logo_key(slug: str, png: bytes) -> str:
    """The content-addressed storage key of a partner's logo file."""
    return f"logos/{slug}/{hashlib.sha256(png).hexdigest()[:24]}.png"


def _png(logo: renderers.Logo) -> bytes:
    """A logo's pixels as a PNG with no ancillary chunks."""
    out = io.BytesIO()
    logo.image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()
