"""Caches shared by every render in a process: resampled pictures, fitted logos, plates."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from reportlab.lib.utils import ImageReader

from .fonts import FONT_DIR, PillowFonts
from .logos import RESAMPLE, measure_ink, scaled_logo
from .placement import Backdrop, LogoChoice, cached_variants, choose_logo
from .spec import BrandKit, Logo, Page, PictureFrame, RectFrame, Resource


class LruCache:
    """A small thread-safe least-recently-used cache computing missing values on demand."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return the cached value for key, computing and storing it if absent."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


def _hex_rgb(color: str) -> tuple[int, int, int]:
    """#rrggbb to an RGB tuple."""
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _open_picture(resource: Resource, pixels: tuple[int, int]) -> Image.Image:
    """Decode a picture, letting JPEG draft mode skip most of an oversized photo's pixels."""
    image = Image.open(io.BytesIO(resource.data))
    if image.format == "JPEG":
        image.draft("RGB", pixels)
    return ImageOps.exif_transpose(image).convert("RGB")


class AssetCache:
    """Process-wide caches; keys are content hashes so partners share what is shareable."""

    def __init__(self, font_dir: Path = FONT_DIR) -> None:
        self.font_dir = font_dir
        self.fonts = PillowFonts(font_dir)
        self._pictures = LruCache(64)
        self._jpegs = LruCache(64)
        self._inks = LruCache(4096)
        self._logos = LruCache(1024)
        self._backdrops = LruCache(1024)

    def cover_image(self, resource: Resource, pixels: tuple[int, int]) -> Image.Image:
        """The picture cropped to the aspect of pixels and resampled to exactly that size."""
        def compute() -> Image.Image:
            image = _open_picture(resource, pixels)
            return ImageOps.fit(image, pixels, RESAMPLE)
        return self._pictures.get((resource.sha256, pixels), compute)

    def cover_jpeg(self, resource: Resource, pixels: tuple[int, int]) -> bytes:
        """cover_image encoded once as a baseline JPEG for embedding in PDFs."""
        def compute() -> bytes:
            out = io.BytesIO()
            self.cover_image(resource, pixels).save(out, "JPEG", quality=85, optimize=False)
            return out.getvalue()
        return self._jpegs.get((resource.sha256, pixels), compute)

    def ink(self, logo: Logo):
        """The logo's ink histogram, measured once per logo."""
        return self._inks.get(logo.sha256, lambda: measure_ink(logo))

    def logo_variants(self, brand: BrandKit) -> tuple[Logo, Logo] | None:
        """The brand's logos for light and dark backgrounds (derived ones made once)."""
        return cached_variants(brand.logo, brand.logo_dark)

    def choose_logo(self, brand: BrandKit, backdrop: Backdrop, mode: str,
                    plate_color: str = "") -> LogoChoice | None:
        """The variant and plate for the brand's logo over backdrop (None: no logo at all)."""
        variants = self.logo_variants(brand)
        if variants is None:
            return None
        plate = _hex_rgb(plate_color) if plate_color else None
        return choose_logo(variants, backdrop, mode, plate, inks=self.ink)

    def fitted_logo(self, logo: Logo, pixels: tuple[int, int]) -> Image.Image:
        """The logo resampled once to a pixel size (RGBA)."""
        return self._logos.get((logo.sha256, pixels, "pil"), lambda: scaled_logo(logo, pixels))

    def logo_reader(self, logo: Logo, max_pixels: tuple[float, float]) -> ImageReader:
        """A reusable ImageReader of the logo pre-scaled to at most max_pixels (never up)."""
        scale = min(1.0, max_pixels[0] / logo.width, max_pixels[1] / logo.height)
        pixels = (max(round(logo.width * scale), 1), max(round(logo.height * scale), 1))
        return self._logos.get(
            (logo.sha256, pixels, "pdf"), lambda: ImageReader(scaled_logo(logo, pixels))
        )

    def backdrop(self, page: Page, box, size, bleed: float) -> Backdrop:
        """What is behind box on a PDF page: the last covering rect, picture or background."""
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        behind: Any = None
        for frame in page.frames:
            if isinstance(frame, RectFrame | PictureFrame) and _contains(frame.box, cx, cy):
                behind = frame
        if isinstance(behind, RectFrame):
            return Backdrop.solid(_hex_rgb(behind.color))
        if isinstance(behind, PictureFrame):
            return self._picture_backdrop(behind.picture, behind.box, box)
        if page.background is not None:
            full = (-bleed, -bleed, size[0] + 2 * bleed, size[1] + 2 * bleed)
            return self._picture_backdrop(page.background, full, box)
        return Backdrop.solid(_hex_rgb(page.background_color))

    def _picture_backdrop(self, resource: Resource, area, box) -> Backdrop:
        """The part of a picture covering area that lies under box, as a Backdrop."""
        def compute() -> Backdrop:
            thumb = self.cover_image(resource, (max(round(area[2] / 4), 1),
                                                max(round(area[3] / 4), 1)))
            sx, sy = thumb.width / area[2], thumb.height / area[3]
            left, top = (box[0] - area[0]) * sx, (box[1] - area[1]) * sy
            # The +1 takes in partly covered pixels, never pixels past the picture's edge
            # (crop pads those with black, which darkened backdrops at the edge).
            crop = thumb.crop((int(left), int(top), min(int(left + box[2] * sx) + 1, thumb.width),
                               min(int(top + box[3] * sy) + 1, thumb.height)))
            return Backdrop.of_image(crop)
        return self._backdrops.get((resource.sha256, tuple(area), tuple(box)), compute)


def _contains(box, x: float, y: float) -> bool:
    """Whether point (x, y) lies in box (x, y, w, h)."""
    return box[0] <= x <= box[0] + box[2] and box[1] <= y <= box[1] + box[3]
