"""PDF and image layouts from template files: pages, backgrounds and frames, validated."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import renderers

from .errors import Problems, TemplateError

PAGE_SIZES = {"A4": (595.28, 841.89), "letter": (612.0, 792.0), "A5": (419.53, 595.28)}
FRAME_KINDS = ("text", "contact", "rect", "logo", "qr", "picture")
# "-ink": the brand colour shaded to read as text on white (WCAG AA 4.5:1).
COLOR_TOKENS = ("primary", "secondary", "on-primary", "on-secondary", "primary-ink",
                "secondary-ink")
MM = 72 / 25.4
FRAME_KEYS = {"kind", "name", "box", "text", "color", "font", "size", "min_size", "align",
              "leading", "link", "picture", "plate", "padding", "plate_color", "valign"}
PDF_KEYS = {"page_size", "bleed_mm", "pages"}
PAGE_KEYS = {"background", "background_color", "frames"}
IMAGE_KEYS = {"canvas", "background", "background_color", "layers"}
# (low, high) for the numbers a frame may carry; a typo or a string fails at load, not at render.
NUMBER_RANGES = {"size": (1, 400), "min_size": (1, 400), "leading": (0.8, 3), "padding": (0, 1000)}
TEXT_KEYS = ("name", "text", "link", "picture", "valign")


@dataclass(frozen=True)
class FrameDef:
    """A frame as the template describes it: text is Jinja, colours may be brand tokens."""

    kind: str
    name: str
    box: tuple[float, float, float, float]
    text: str = ""
    color: str = "#222222"
    font: str = "regular"
    size: float = 12.0
    min_size: float = 8.0
    align: str = "left"
    leading: float = 1.25
    link: str = ""
    picture: str = ""
    plate: str = "auto"
    padding: float = 0.0
    plate_color: str = ""  # a logo plate's colour (token or #rrggbb); empty: white or dark
    valign: str = "top"


@dataclass(frozen=True)
class PageDef:
    """A page or canvas: background resource name, colour token and frames."""

    frames: tuple[FrameDef, ...]
    background: str = ""
    background_color: str = "#ffffff"


@dataclass(frozen=True)
class PdfLayout:
    """A print layout in points with bleed."""

    size: tuple[float, float]
    bleed: float
    pages: tuple[PageDef, ...]


@dataclass(frozen=True)
class ImageLayout:
    """A raster layout in pixels with one canvas of layers."""

    size: tuple[int, int]
    page: PageDef


def check_color(value: Any, file: str, where: str) -> str:
    """Accept #rrggbb or a brand token (primary, secondary)."""
    if value in COLOR_TOKENS:
        return value
    try:
        return renderers.spec.check_color(value, where)
    except renderers.RenderError as exc:
        raise TemplateError(file, where, f"{exc}; or use {COLOR_TOKENS}") from None


def _box(raw: Any, file: str, where: str) -> tuple[float, float, float, float]:
    """A box [x, y, w, h] of numbers with positive size."""
    if (not isinstance(raw, list | tuple) or len(raw) != 4
            or not all(isinstance(v, int | float) for v in raw)):
        raise TemplateError(file, where, "must be [x, y, width, height]")
    if raw[2] <= 0 or raw[3] <= 0:
        raise TemplateError(file, where, "width and height must be positive")
    return tuple(float(v) for v in raw)


def parse_frame(raw: Any, file: str, where: str, resources: Callable[[str], Any]) -> FrameDef:
    """Validate one frame table against its kind's needs, reporting every problem it has."""
    if not isinstance(raw, Mapping):
        raise TemplateError(file, where, "must be a table")
    problems = Problems()
    problems.attempt(check_keys, raw, FRAME_KEYS, file, where)
    numbers_ok = problems.passes(_check_values, raw, file, where)
    kind = raw.get("kind")
    if kind not in FRAME_KINDS:
        problems.add(file, f"{where}.kind", f"must be one of {FRAME_KINDS}")
    box = problems.attempt(_box, raw.get("box"), file, f"{where}.box")
    values = dict(raw, kind=kind, name=raw.get("name") or kind, box=box)
    for key in ("color", "plate_color"):
        if key in raw:
            values[key] = problems.attempt(check_color, raw[key], file, f"{where}.{key}")
    problems.attempt(_check_choices, values, file, where)
    if kind == "text" and not isinstance(raw.get("text"), str):
        problems.add(file, f"{where}.text", "a text frame needs text")
    if kind == "qr" and not raw.get("link"):
        problems.add(file, f"{where}.link", "a QR frame needs a link destination")
    if kind == "picture":
        problems.attempt(resources, raw.get("picture", ""), f"{where}.picture", file)
    if numbers_ok:  # the size checks below compare numbers: only once they are numbers
        _check_sizes(values, file, where, problems)
    problems.raise_if_any()
    return FrameDef(**values)


def _check_sizes(values: Mapping, file: str, where: str, problems: Problems) -> None:
    """A text's smallest size fits under its size; padding leaves room inside the box."""
    if values["kind"] in ("text", "contact") and not 0 < values.get("min_size", 8) <= values.get(
            "size", 12):
        problems.add(file, f"{where}.min_size", "must be positive and at most size")
    box = values["box"]
    if box is not None and values.get("padding", 0) * 2 >= min(box[2], box[3]):
        problems.add(file, f"{where}.padding", "must leave room inside the box")


def check_keys(raw: Mapping, allowed: set[str], file: str, where: str) -> None:
    """Refuse keys a table does not have (a misspelt key would be silently ignored), suggesting the
    known key a misspelt one is closest to."""
    unknown = sorted(set(raw) - allowed)
    if unknown:
        guesses = {key: close[0] for key in unknown
                   if (close := difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.75))}
        if len(unknown) == 1 and guesses:
            meant = f" (did you mean {guesses[unknown[0]]!r}?)"
        elif guesses:
            meant = " (did you mean " + ", ".join(f"{v!r} for {k!r}" for k, v in guesses.items()) + "?)"
        else:
            meant = ""
        raise TemplateError(file, where or "(top level)", f"unknown keys {unknown}{meant}; "
                                                          f"known: {sorted(allowed)}")


def _check_values(raw: Mapping, file: str, where: str) -> None:
    """Numbers within their ranges and texts that are text, every wrong one named."""
    problems = Problems()
    for key, (low, high) in NUMBER_RANGES.items():
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not low <= value <= high):
            problems.add(file, f"{where}.{key}", f"must be a number from {low} to {high}")
    for key in TEXT_KEYS:
        if key in raw and not isinstance(raw[key], str):
            problems.add(file, f"{where}.{key}", "must be text")
    problems.raise_if_any()


def _check_choices(values: dict, file: str, where: str) -> None:
    """Font, alignment and plate must be known values."""
    problems = Problems()
    for key, allowed in (("font", renderers.spec.FONTS), ("align", renderers.spec.ALIGNS),
                         ("plate", renderers.spec.PLATES), ("valign", renderers.spec.VALIGNS)):
        if key in values and values[key] not in allowed:
            problems.add(file, f"{where}.{key}", f"must be one of {allowed}")
    problems.raise_if_any()


def parse_page(raw: Any, file: str, where: str, resources, frames_key: str) -> PageDef:
    """A page table: optional background and background_color, then frames; each one checked."""
    if not isinstance(raw, Mapping):
        raise TemplateError(file, where, "must be a table")
    problems = Problems()
    if frames_key == "frames":  # image canvases are checked with their layout's keys
        problems.attempt(check_keys, raw, PAGE_KEYS, file, where)
    background = raw.get("background", "")
    if not isinstance(background, str):
        problems.add(file, f"{where}.background", "must be the name of a resource file")
    elif background:
        problems.attempt(resources, background, f"{where}.background", file)
    color = problems.attempt(check_color, raw.get("background_color", "#ffffff"), file,
                             f"{where}.background_color")
    frames = raw.get(frames_key, [])
    if not isinstance(frames, list) or not frames:
        problems.add(file, f"{where}.{frames_key}", "must list at least one frame")
        frames = []
    parsed = [problems.attempt(parse_frame, f, file, f"{where}.{frames_key}[{i}]", resources)
              for i, f in enumerate(frames)]
    names = [f.name for f in parsed if f is not None]
    if len(set(names)) != len(names):
        problems.add(file, f"{where}.{frames_key}", "frame names must be unique")
    problems.raise_if_any()
    return PageDef(tuple(parsed), background, color)


def _page_size(raw: Any, file: str) -> tuple[float, float]:
    """A page size: a name, or [width, height] in points."""
    if isinstance(raw, str):
        if raw not in PAGE_SIZES:
            raise TemplateError(file, "page_size", f"must be one of {sorted(PAGE_SIZES)}")
        return PAGE_SIZES[raw]
    if not isinstance(raw, list) or len(raw) != 2:
        raise TemplateError(file, "page_size", f"must be one of {sorted(PAGE_SIZES)} "
                                               "or [width, height] in points")
    return _box([0, 0, *raw], file, "page_size")[2:]


def parse_pdf_layout(raw: Mapping, file: str, resources) -> PdfLayout:
    """The pdf layout table: page_size (name or [w, h] points), bleed_mm, pages; each checked."""
    problems = Problems()
    problems.attempt(check_keys, raw, PDF_KEYS, file, "")
    size = problems.attempt(_page_size, raw.get("page_size", "A4"), file)
    bleed = raw.get("bleed_mm", 3)
    if not isinstance(bleed, int | float) or not 0 <= bleed <= 10:
        problems.add(file, "bleed_mm", "must be a number from 0 to 10")
    pages = raw.get("pages")
    if not isinstance(pages, list) or not pages:
        problems.add(file, "pages", "must list at least one page")
        pages = []
    parsed = tuple(problems.attempt(parse_page, p, file, f"pages[{i}]", resources, "frames")
                   for i, p in enumerate(pages))
    problems.raise_if_any()
    return PdfLayout(tuple(size), bleed * MM, parsed)


def parse_image_layout(raw: Mapping, file: str, resources) -> ImageLayout:
    """The image layout table: canvas [w, h] pixels, background, layers; each checked."""
    problems = Problems()
    problems.attempt(check_keys, raw, IMAGE_KEYS, file, "")
    canvas = raw.get("canvas")
    if (not isinstance(canvas, list) or len(canvas) != 2
            or not all(isinstance(v, int) and 16 <= v <= 4096 for v in canvas)):
        problems.add(file, "canvas", "must be [width, height] in pixels (16-4096)")
    page = problems.attempt(parse_page, raw, file, "canvas", resources, "layers")
    problems.raise_if_any()
    return ImageLayout((canvas[0], canvas[1]), page)
