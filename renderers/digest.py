"""Stable sha256 of a render spec: the content address of its output."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from .spec import Logo, Resource

# Bump when a renderer change alters output bytes, so old keys are not reused.
RENDERER_VERSION = "3"


def _plain(value: Any) -> Any:
    """Turn a spec value into JSON-able data; binaries become their hashes."""
    if isinstance(value, Resource):
        return {"resource": value.sha256}
    if isinstance(value, Logo):
        return {"logo": value.sha256}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"type": type(value).__name__, **fields}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, bytes):
        return {"bytes": hashlib.sha256(value).hexdigest()}
    return value


def spec_digest(spec: Any) -> str:
    """Return the sha256 hex of a spec's fully resolved inputs (and the renderer version)."""
    payload = {"renderer": RENDERER_VERSION, "spec": _plain(spec)}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
