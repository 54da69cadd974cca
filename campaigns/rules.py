"""Personalization rules: copy chosen by tier, vertical, region or locale, with fallbacks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Problems, TemplateError

DIMENSIONS = ("tier", "vertical", "region", "locale")


@dataclass(frozen=True)
class Rule:
    """A slot whose value depends on one partner attribute; default when nothing matches."""

    name: str
    by: str
    values: tuple[tuple[str, str], ...]
    default: str

    def choose(self, key: str) -> str:
        """Value for key, falling back along its prefixes ('de-AT' -> 'de') then default."""
        table = dict(self.values)
        candidate = (key or "").lower().replace("_", "-")
        while candidate:
            if candidate in table:
                return table[candidate]
            candidate = candidate.rpartition("-")[0]
        return self.default


def parse_rule(name: str, raw: Any, file: str) -> Rule:
    """Build a Rule from its manifest table (by, default, values)."""
    where = f"personalize.{name}"
    if not isinstance(raw, Mapping):
        raise TemplateError(file, where, "must be a table")
    if raw.get("by") not in DIMENSIONS:
        raise TemplateError(file, f"{where}.by", f"must be one of {DIMENSIONS}")
    if not isinstance(raw.get("default"), str):
        raise TemplateError(file, f"{where}.default", "a text fallback is required")
    values = raw.get("values", {})
    if not isinstance(values, Mapping) or not all(isinstance(v, str) for v in values.values()):
        raise TemplateError(file, f"{where}.values", "must map keys to text")
    pairs = tuple(sorted((k.lower().replace("_", "-"), v) for k, v in values.items()))
    return Rule(name, raw["by"], pairs, raw["default"])


def parse_variants(raw: Any, names: set[str], file: str) -> dict[str, dict[str, str]]:
    """Variants for A/B tests: each overrides named fields or personalized slots; every wrong
    override is named."""
    if not isinstance(raw, Mapping):
        raise TemplateError(file, "variants", "must be a table of tables")
    problems = Problems()
    for variant, overrides in raw.items():
        if not isinstance(overrides, Mapping) or not overrides:
            problems.add(file, f"variants.{variant}", "must override at least one name")
            continue
        for name, value in overrides.items():
            if name not in names:
                problems.add(file, f"variants.{variant}.{name}",
                             f"is not a field or personalized slot ({sorted(names)})")
            elif not isinstance(value, str):
                problems.add(file, f"variants.{variant}.{name}", "must be text")
    problems.raise_if_any()
    return {variant: dict(overrides) for variant, overrides in raw.items()}
