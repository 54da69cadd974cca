"""Raster images (PNG, JPEG) with Pillow: same frames and text/logo rules as the PDFs."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from .assets import AssetCache
from .fonts import clean_text, covered_characters
from .placement import Backdrop, contrast_warning, lay_out_logo
from .qr import draw_qr_image, qr_size_warning
from .shaping import needs_shaping
from .spec import (
    ImageSpec,
    LogoFrame,
    PictureFrame,
    QrFrame,
    RectFrame,
    RenderError,
    RenderResult,
    TextFrame,
)
from .textdraw import draw_image_line
from .textfit import fit_text, overflow_warning

PNG_COMPRESS_LEVEL = 1  # level 6 costs ~4x the time for ~10% smaller cards
PILLOW_WIDTH_MARGIN = 0.98  # hinted pixel widths run slightly over linear widths
MEDIA = {"png": ("image/png", "png"), "jpg": ("image/jpeg", "jpg")}


class ImageRenderer:
    """Draw ImageSpec canvases with cached fonts, backgrounds and fitted logos."""

    def __init__(self, cache: AssetCache) -> None:
        self._cache = cache
        self._covered = covered_characters(cache.font_dir)

    def render(self, spec: ImageSpec) -> RenderResult:
        """Render an ImageSpec to PNG or JPEG bytes with warnings."""
        canvas, warnings, placed = self._draw(spec)
        data = _encode(canvas, spec)
        media_type, extension = MEDIA[spec.format]
        return RenderResult(data, media_type, extension, warnings, extra={"logos": placed})

    def warnings(self, spec: ImageSpec) -> tuple[str, ...]:
        """The warnings `render` gives, without encoding the image (the encoding warns of nothing)."""
        return self._draw(spec)[1]

    def _draw(self, spec: ImageSpec) -> tuple[Image.Image, tuple[str, ...], list[dict]]:
        if spec.format not in MEDIA:
            raise RenderError(f"image format must be png or jpg, not {spec.format!r}")
        canvas = self._base(spec)
        draw = ImageDraw.Draw(canvas)
        warnings: list[str] = []
        placed: list[dict] = []
        for frame in spec.page.frames:
            self._draw_frame(canvas, draw, spec, frame, warnings, placed)
        return canvas, tuple(dict.fromkeys(warnings)), placed

    def _base(self, spec: ImageSpec) -> Image.Image:
        """A fresh canvas with the background colour and picture."""
        page = spec.page
        if page.background is not None:
            return self._cache.cover_image(page.background, spec.size).copy()
        return Image.new("RGB", spec.size, page.background_color)

    def _draw_frame(self, canvas, draw, spec: ImageSpec, frame, warnings, placed) -> None:
        """Dispatch one frame to its drawing code."""
        x, y, w, h = (round(v) for v in frame.box)
        if isinstance(frame, TextFrame):
            self._draw_text(canvas, draw, frame, warnings)
        elif isinstance(frame, RectFrame):
            draw.rectangle((x, y, x + w - 1, y + h - 1), fill=frame.color)
        elif isinstance(frame, LogoFrame):
            self._draw_logo(canvas, draw, spec, frame, warnings, placed)
        elif isinstance(frame, QrFrame):
            draw_qr_image(draw, frame.url, x, y, min(w, h), frame.color)
            if problem := qr_size_warning(frame.name, frame.url, min(w, h), 2, "px"):
                warnings.append(problem)
        elif isinstance(frame, PictureFrame):
            canvas.paste(self._cache.cover_image(frame.picture, (w, h)), (x, y))

    def _draw_text(self, canvas, draw, frame: TextFrame, warnings: list[str]) -> None:
        """Fit and draw text top-down in its box; report overflow and missing glyphs."""
        text, problems = clean_text(frame.text, self._covered)
        warnings.extend(f"{frame.name}: {p}" for p in problems)
        x, y, w, h = frame.box
        fitted = fit_text(text, (w * PILLOW_WIDTH_MARGIN, h), (frame.size, frame.min_size),
                          frame.leading, self._cache.fonts.measure(frame.font))
        if problem := overflow_warning(frame.name, fitted, frame.min_size, "px"):
            warnings.append(problem)
        font = self._cache.fonts.font(frame.font, fitted.size)
        anchor = {"left": "la", "center": "ma", "right": "ra"}[frame.align]
        left = {"left": x, "center": x + w / 2, "right": x + w}[frame.align]
        top = y
        ascent = font.getmetrics()[0]
        for line in fitted.lines:
            if needs_shaping(line):  # right-to-left, joined, CJK or emoji: shaped by Raqm
                draw_image_line(canvas, draw, line, font, frame.font, fitted.size,
                                (x, w, top, ascent), frame.align, frame.color)
            else:
                draw.text((left, top), line, font=font, fill=frame.color, anchor=anchor)
            top += fitted.line_height

    def _draw_logo(self, canvas, draw, spec: ImageSpec, frame: LogoFrame, warnings,
                   placed: list[dict]) -> None:
        """Measure the pixels behind the frame, pick the logo variant or plate, fit, paste."""
        x, y, w, h = (round(v) for v in frame.box)
        backdrop = Backdrop.of_image(canvas.crop((x, y, x + w, y + h)))
        choice = self._cache.choose_logo(spec.brand, backdrop, frame.plate, frame.plate_color)
        if choice is None:
            warnings.append(f"{frame.name}: partner has no logo; frame left empty")
            return
        if problem := contrast_warning(frame.name, choice):
            warnings.append(problem)
        layout = lay_out_logo(choice, (x, y, w, h), frame.align, frame.padding)
        if layout.plate is not None:
            px, py, pw, ph = (round(v) for v in layout.plate)
            draw.rounded_rectangle((px, py, px + pw - 1, py + ph - 1),
                                   radius=round(layout.radius), fill=choice.plate)
        lx, ly, lw, lh = layout.rect
        pixels = (max(round(lw), 1), max(round(lh), 1))  # half a pixel at most: inside padding
        logo = choice.logo
        if pixels[0] > logo.width * 2:
            warnings.append(f"{frame.name}: logo is {logo.width}x{logo.height} px and is "
                            f"enlarged {pixels[0] / logo.width:.1f}x; it may look blurry")
        fitted = self._cache.fitted_logo(logo, pixels)
        left, top = round(lx + (lw - pixels[0]) / 2), round(ly + (lh - pixels[1]) / 2)
        canvas.paste(fitted, (left, top), fitted)
        placed.append({"frame": frame.name, "rect": (left, top, *pixels), "plate": choice.plate,
                       "variant": choice.variant, "contrast": round(choice.contrast, 2)})


def _encode(canvas: Image.Image, spec: ImageSpec) -> bytes:
    """Encode with pinned settings so identical canvases give identical bytes."""
    out = io.BytesIO()
    if spec.format == "png":
        canvas.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    else:
        canvas.save(out, "JPEG", quality=spec.jpeg_quality, subsampling="4:2:0", optimize=False)
    return out.getvalue()
