"""Small, fast previews of any spec as PNG: the first page of a PDF, an image, an email's top.

A preview draws the same frames through the image renderer at screen size, so it costs a few
milliseconds instead of a full print render; the portal shows it beside the fields as they change.
"""

from __future__ import annotations

import dataclasses

from .palette import email_palette
from .spec import (
    EmailSpec,
    ImageSpec,
    LogoFrame,
    Page,
    PdfSpec,
    PictureFrame,
    PostSpec,
    RectFrame,
    RenderError,
    TextFrame,
)

EMAIL_CANVAS = (600, 560)


def _scaled(frame, scale: float):
    """A frame with its box (and text sizes) multiplied by scale."""
    x, y, w, h = frame.box
    changes = {"box": (x * scale, y * scale, max(w * scale, 1.0), max(h * scale, 1.0))}
    if isinstance(frame, TextFrame):
        changes.update(size=max(frame.size * scale, 1.0), min_size=max(frame.min_size * scale, 1.0))
    if isinstance(frame, LogoFrame):
        changes.update(padding=frame.padding * scale)
    return dataclasses.replace(frame, **changes)


def pdf_preview(spec: PdfSpec, width: int, page: int = 0) -> ImageSpec:
    """One page of a print document as a PNG spec width pixels wide (the trim box)."""
    scale = width / spec.size[0]
    source = spec.pages[min(page, len(spec.pages) - 1)]
    frames = tuple(_scaled(f, scale) for f in source.frames)
    size = (width, max(round(spec.size[1] * scale), 1))
    return ImageSpec(size, Page(frames, source.background, source.background_color), spec.brand)


def email_preview(spec: EmailSpec, width: int) -> ImageSpec:
    """An email's first screen: header with the logo, hero, subject and preheader."""
    colors = email_palette(spec.brand.primary, spec.brand.secondary)
    w, h = EMAIL_CANVAS
    header = spec.header_color or colors["header"]  # the email's own header colour
    frames: list = [RectFrame("header", (0, 0, w, 96), header),
                    LogoFrame("logo", (32, 20, 200, 56), align="left")]
    top = 96
    if spec.hero is not None:
        frames.append(PictureFrame("hero", (0, top, w, 240), spec.hero))
        top += 240
    frames += [TextFrame("subject", (32, top + 24, w - 64, 96), spec.subject, colors["headline"],
                         "bold", 26, 12, leading=1.25),
               TextFrame("preheader", (32, top + 132, w - 64, 60), spec.preheader, "#4a5565",
                         size=16, min_size=10)]
    scale = width / w
    page = Page(tuple(_scaled(f, scale) for f in frames), background_color="#ffffff")
    return ImageSpec((width, round(h * scale)), page, spec.brand)


def preview_spec(spec, width: int = 360, page: int = 0) -> ImageSpec:
    """The preview of any renderable spec as an ImageSpec (png)."""
    if not 16 <= width <= 1600:
        raise RenderError(f"a preview is 16 to 1600 pixels wide, not {width}")
    if isinstance(spec, PdfSpec):
        return pdf_preview(spec, width, page)
    if isinstance(spec, ImageSpec):
        scale = width / spec.size[0]
        frames = tuple(_scaled(f, scale) for f in spec.page.frames)
        return ImageSpec((width, max(round(spec.size[1] * scale), 1)),
                         dataclasses.replace(spec.page, frames=frames), spec.brand, "png")
    if isinstance(spec, EmailSpec):
        return email_preview(spec, width)
    if isinstance(spec, PostSpec):
        raise RenderError("a post has no picture of its own to preview (show its text)")
    raise RenderError(f"cannot preview {type(spec).__name__}")
