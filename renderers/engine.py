"""The Renderer: one object per process that renders any spec and keeps the caches."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from reportlab import rl_config

from .assets import AssetCache
from .email import EmailRenderer
from .fonts import FONT_DIR
from .image import ImageRenderer
from .pdf import PdfRenderer
from .posts import render_post
from .preview import preview_spec
from .spec import EmailSpec, ImageSpec, PdfSpec, PostSpec, RenderError, RenderResult


class Renderer:
    """Render PdfSpec, ImageSpec, EmailSpec and PostSpec; reuse caches across partners."""

    def __init__(self, font_dir: Path = FONT_DIR) -> None:
        # ASCII85 makes image streams 25% larger and slower; every PDF reader takes binary.
        rl_config.useA85 = 0
        self.cache = AssetCache(font_dir)
        self._pdf = PdfRenderer(self.cache)
        self._image = ImageRenderer(self.cache)
        self._email = EmailRenderer(self.cache)

    def render(self, spec: PdfSpec | ImageSpec | EmailSpec | PostSpec) -> RenderResult:
        """Render one fully resolved spec to bytes (raises RenderError on bad specs)."""
        if isinstance(spec, PdfSpec):
            return self._pdf.render(spec)
        if isinstance(spec, ImageSpec):
            return self._image.render(spec)
        if isinstance(spec, EmailSpec):
            return self._email.render(spec)
        if isinstance(spec, PostSpec):
            return render_post(spec)
        raise RenderError(f"cannot render {type(spec).__name__}")

    def warnings(self, spec: PdfSpec | ImageSpec | EmailSpec | PostSpec) -> tuple[str, ...]:
        """The warnings `render` would give (an image is drawn but not encoded: a contact sheet
        needs only its warnings and a thumbnail)."""
        if isinstance(spec, ImageSpec):
            return self._image.warnings(spec)
        return self.render(spec).warnings

    def preview(self, spec: PdfSpec | ImageSpec | EmailSpec, width: int = 360,
                page: int = 0) -> RenderResult:
        """A small PNG of the spec (a PDF's page, an image, an email's first screen), fast."""
        result = self._image.render(preview_spec(spec, width, page))
        # A QR code's module size is judged on the real output, never on a thumbnail.
        kept = tuple(w for w in result.warnings if "the QR code for this link needs" not in w)
        return dataclasses.replace(result, warnings=kept)
