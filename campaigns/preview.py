"""Which editable fields a render warning concerns, so a preview shows it beside those fields."""

from __future__ import annotations

from collections.abc import Iterable

from .template import Template
from .texts import referenced_names

LOGO_FRAMES = ("logo",)  # frame kinds whose warnings concern the partner's brand kit


def fields_by_frame(tpl: Template, output: str) -> dict[str, set[str]]:
    """Frame name -> the editable fields its text uses ("logo" for logo frames)."""
    editable = {f.name for f in tpl.fields}
    pages = tpl.pdf.pages if output == "pdf" and tpl.pdf else (
        (tpl.image.page,) if output in ("png", "jpg") and tpl.image else ())
    mapping: dict[str, set[str]] = {}
    for page in pages:
        for frame in page.frames:
            if frame.kind in LOGO_FRAMES:
                mapping[frame.name] = {"logo"}
            elif frame.text:
                mapping[frame.name] = referenced_names(frame.text) & editable
    return mapping


def warnings_by_field(tpl: Template, output: str, warnings: Iterable[str]
                      ) -> tuple[dict[str, list[str]], list[str]]:
    """Split "frame: message" warnings into those about editable fields (or the logo) and the rest."""
    mapping = fields_by_frame(tpl, output)
    by_field: dict[str, list[str]] = {}
    other: list[str] = []
    for warning in warnings:
        frame, _, message = warning.partition(": ")
        names = mapping.get(frame) or set()
        for name in sorted(names):
            by_field.setdefault(name, []).append(message)
        if not names:
            other.append(warning)
    return by_field, other
