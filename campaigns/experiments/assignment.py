"""Deterministic assignment of a unit to an arm, the way GrowthBook's SDKs hash (FNV-1a 32-bit, version 2)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .srm import check_weights
from .stats import ExperimentError

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv1a32(text: str) -> int:
    """FNV-1a 32-bit over the UTF-16 code units of `text` (what JavaScript's charCodeAt sees)."""
    encoded = text.encode("utf-16-le", "surrogatepass")
    value = _FNV_OFFSET
    for index in range(0, len(encoded), 2):
        value ^= encoded[index] | encoded[index + 1] << 8
        value = (value * _FNV_PRIME) & 0xFFFFFFFF
    return value


def bucket(salt: str, unit_id: str) -> float:
    """The unit's place in [0, 1), in steps of 1/10000: the hash of the hash of salt + unit id."""
    return (fnv1a32(str(fnv1a32(salt + unit_id))) % 10000) / 10000


def assign(experiment_salt: str, unit_id: str, weights: Sequence[float]) -> int:
    """Index of the arm the unit falls in, with arms taking consecutive shares of [0, 1) by weight."""
    if not weights:
        raise ExperimentError("weights", "at least one arm is needed")
    check_weights(weights, len(weights))
    place, total, cumulative = bucket(experiment_salt, str(unit_id)), math.fsum(weights), 0.0
    for index, weight in enumerate(weights[:-1]):
        cumulative += weight / total
        if place < cumulative:
            return index
    return len(weights) - 1
