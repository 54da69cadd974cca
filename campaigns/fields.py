"""Fields partners may edit: their types and limits, and validation of submitted values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import renderers

from .errors import FieldError, TemplateError

FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# Names the render context already gives templates: a field with one of them would be ignored.
RESERVED_NAMES = frozenset({"partner", "links", "subject", "primary", "secondary",
                            "unsubscribe_url", "pixel_url", "logo_url", "logo_plate", "texts",
                            "language"})


def strip_bidi_controls(text: str) -> str:
    """Remove bidi override and embedding marks (they can reorder what a reader sees)."""
    return "".join(char for char in text if char not in renderers.BIDI_CONTROLS)

FIELD_TYPES = ("text", "multiline", "choice", "email", "phone")


@dataclass(frozen=True)
class FieldDef:
    """One editable field: type, label, limits, allowed values and default."""

    name: str
    type: str = "text"
    label: str = ""
    max_length: int = 200
    choices: tuple[str, ...] = ()
    default: str = ""
    required: bool = False
    example: str = ""  # shown as the input's hint, never rendered
    choice_labels: tuple[str, ...] = ()  # the choices as outputs show them in a locale


def parse_field(name: str, raw: Any, file: str) -> FieldDef:
    """Build a FieldDef from its manifest table, raising TemplateError on bad entries."""
    where = f"fields.{name}"
    if not FIELD_NAME.fullmatch(name) or name in RESERVED_NAMES:
        raise TemplateError(file, where, "a field name is lowercase letters, digits and _ and "
                                         f"not one of {sorted(RESERVED_NAMES)}")
    if not isinstance(raw, Mapping):
        raise TemplateError(file, where, "must be a table")
    unknown = set(raw) - {"type", "label", "max_length", "choices", "default", "required", "example"}
    if unknown:
        raise TemplateError(file, where, f"unknown keys {sorted(unknown)}")
    kind = raw.get("type", "text")
    if kind not in FIELD_TYPES:
        raise TemplateError(file, f"{where}.type", f"must be one of {FIELD_TYPES}")
    max_length = raw.get("max_length", 200)
    if not isinstance(max_length, int) or not 1 <= max_length <= 5000:
        raise TemplateError(file, f"{where}.max_length", "must be an integer from 1 to 5000")
    choices = raw.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise TemplateError(file, f"{where}.choices", "must be a list of texts")
    if kind == "choice" and not choices:
        raise TemplateError(file, f"{where}.choices", "a choice field needs choices")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise TemplateError(file, f"{where}.required", "must be true or false")
    if not isinstance(raw.get("example", ""), str):
        raise TemplateError(file, f"{where}.example", "must be text")
    field = FieldDef(name, kind, str(raw.get("label", name)), max_length, tuple(choices),
                     str(raw.get("default", "")), required, raw.get("example", ""))
    try:
        check_value(field, field.default)
    except FieldError as exc:
        raise TemplateError(file, f"{where}.default", exc.message) from None
    return field


def check_value(field: FieldDef, value: Any) -> str:
    """Return value cleaned for field, or raise FieldError saying what is wrong."""
    if not isinstance(value, str):
        raise FieldError(field.name, "must be text")
    value = strip_bidi_controls(value)
    value = value.strip() if field.type != "multiline" else value.strip("\n ")
    if len(value) > field.max_length:
        raise FieldError(field.name, f"is {len(value)} characters; the limit is "
                                     f"{field.max_length}")
    if field.type == "choice" and value and value not in field.choices:
        raise FieldError(field.name, f"must be one of {list(field.choices)}")
    if field.type != "multiline" and ("\n" in value or "\r" in value):
        raise FieldError(field.name, "must be a single line")
    if field.type == "email" and value and ("@" not in value or " " in value):
        raise FieldError(field.name, "is not an email address")
    return value


def missing_required(fields: Mapping[str, FieldDef], values: Mapping[str, Any]) -> list[str]:
    """Required fields without a default that values leaves blank (only the partner can fill them)."""
    return [f.name for f in fields.values()
            if f.required and not f.default and not str(values.get(f.name) or "").strip()]


def validate_values(fields: Mapping[str, FieldDef], values: Mapping[str, Any]) -> dict[str, str]:
    """Check submitted values against field definitions; unknown or locked names fail."""
    cleaned = {}
    for name, value in values.items():
        if name not in fields:
            raise FieldError(name, "is not an editable field of this template "
                                   f"(editable: {sorted(fields)})")
        cleaned[name] = check_value(fields[name], value)
    for field in fields.values():
        if field.required and not cleaned.get(field.name, field.default):
            raise FieldError(field.name, "is required")
    return cleaned
