"""Stable sha256 of a render spec: the content address of its output."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from .spec import Logo, Resource

# Bump when a renderer change alters output bytes, so old keys are not reused.
RENDERER_VERSION = "3"

_SCALARS = frozenset({str, int, float, bool, type(None)})
# Field names of each spec dataclass met so far (dataclasses.fields is slow to ask per value).
_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """Turn a spec value into JSON-able data; binaries become their hashes.

    The exact types a spec is made of take a fast path (field names looked up once per class);
    anything else goes through `_plain_any`, which gives the same data for those types too.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple or kind is list:
        return [v if type(v) in _SCALARS else _plain(v) for v in value]
    names = _FIELDS.get(kind)
    if names is not None:
        plain = {"type": kind.__name__}
        for name in names:
            field = getattr(value, name)
            plain[name] = field if type(field) in _SCALARS else _plain(field)
        return plain
    if kind is Resource:
        return {"resource": value.sha256}
    if kind is Logo:
        return {"logo": value.sha256}
    if dataclasses.is_dataclass(kind) and not issubclass(kind, Resource | Logo):
        _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
        return _plain(value)
    return _plain_any(value)


def _plain_any(value: Any) -> Any:
    """`_plain` by isinstance checks: the reference rule (subclasses, dicts, bytes)."""
    if isinstance(value, Resource):
        return {"resource": value.sha256}
    if isinstance(value, Logo):
        return {"logo": value.sha256}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain_any(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"type": type(value).__name__, **fields}
    if isinstance(value, tuple | list):
        return [_plain_any(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain_any(v) for k, v in sorted(value.items())}
    if isinstance(value, bytes):
        return {"bytes": hashlib.sha256(value).hexdigest()}
    return value


def _digest(plain: Any) -> str:
    payload = {"renderer": RENDERER_VERSION, "spec": plain}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def spec_digest(spec: Any) -> str:
    """Return the sha256 hex of a spec's fully resolved inputs (and the renderer version)."""
    return _digest(_plain(spec))


def reference_digest(spec: Any) -> str:
    """`spec_digest` by the reference rule only (no per-class fast path): the two must agree,
    since stored renders are found by keys made from this digest."""
    return _digest(_plain_any(spec))
