"""Partner logos as really uploaded: validate, normalize, trim, fit a box, derive variants."""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

from .spec import Logo
from .vector import VectorError, rasterize_vector, sniff_vector

MAX_LOGO_BYTES = 10 * 1024 * 1024
# A logo never needs more: 2048 px is 17 cm at 300 ppi. Bigger uploads are accepted up to the
# pixel cap and reduced while decoding, so the worst accepted one costs under 100 MB (bench).
MAX_LOGO_SIDE = 2048
MAX_LOGO_PIXELS = 8_000_000
ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
UPLOAD_HINT = "upload an SVG, PNG, JPEG, WebP or PDF file"
LIGHT_PLATE = (255, 255, 255)
DARK_PLATE = (34, 34, 34)
RESAMPLE = Image.Resampling.LANCZOS


class LogoError(ValueError):
    """A logo upload that cannot be used, with a message fit for the partner."""


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open image headers and check format and pixel count before decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise LogoError(f"logo is not a readable image: {UPLOAD_HINT}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise LogoError(f"logo image is damaged or truncated: {exc}") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise LogoError("logo has far too many pixels (possible decompression bomb)") from None
    if image.format not in ACCEPTED_FORMATS:
        raise LogoError(f"logo format {image.format} is not accepted: {UPLOAD_HINT}")
    width, height = image.size
    if width * height > max_pixels:
        raise LogoError(
            f"logo is {width}x{height} pixels, over the limit of {max_pixels:,} pixels "
            "(possible decompression bomb)"
        )
    return image


def _decode(image: Image.Image) -> Image.Image:
    """Decode to RGBA, at most MAX_LOGO_SIDE on its long side, with EXIF orientation applied."""
    if image.format == "JPEG" and max(image.size) > MAX_LOGO_SIDE:
        image.draft(image.mode, (MAX_LOGO_SIDE, MAX_LOGO_SIDE))  # JPEG decodes at 1/2, 1/4, 1/8
    try:
        image.load()
        if image.mode == "CMYK":
            image = image.convert("RGB")
        elif image.mode.startswith("I"):  # 16/32-bit greyscale: scale to 8 bits, do not clip
            image = image.convert("I").point(lambda value: value / 257).convert("L")
        elif image.mode in ("P", "1", "LA", "PA"):
            image = image.convert("RGBA")
        if max(image.size) > MAX_LOGO_SIDE:
            # An integer box reduction: no premultiplied or intermediate full-size copies, which a
            # Lanczos resize of an RGBA image would make (three of them at the full size).
            image = image.reduce(math.ceil(max(image.size) / MAX_LOGO_SIDE))
        ImageOps.exif_transpose(image, in_place=True)  # on the reduced image, without a copy
    except (OSError, SyntaxError, ValueError) as exc:
        raise LogoError(f"logo image is damaged or truncated: {exc}") from None
    return image if image.mode == "RGBA" else image.convert("RGBA")


def _backing_color(image: Image.Image) -> tuple[int, int, int] | None:
    """Colour of an opaque logo's own background (its corners agree), else None."""
    if image.getchannel("A").getextrema()[0] < 250:
        return None
    w, h = image.width - 1, image.height - 1
    corners = [image.getpixel(p)[:3] for p in ((0, 0), (w, 0), (0, h), (w, h))]
    first = corners[0]
    if all(max(abs(a - b) for a, b in zip(c, first, strict=True)) < 24 for c in corners):
        return first
    return None


def _trim(image: Image.Image, backing: tuple[int, int, int] | None) -> Image.Image:
    """Cut empty margins: transparent ones, or ones of the logo's own background colour."""
    if backing is None:
        mask = image.getchannel("A").point(lambda a: 255 if a > 8 else 0)
    else:
        diff = ImageChops.difference(image.convert("RGB"), Image.new("RGB", image.size, backing))
        mask = diff.convert("L").point(lambda d: 255 if d > 24 else 0)
    box = mask.getbbox()
    if box is None:
        raise LogoError("logo is empty: every pixel is transparent or background")
    return image.crop(box)


def load_logo(
    data: bytes, max_bytes: int = MAX_LOGO_BYTES, max_pixels: int = MAX_LOGO_PIXELS
) -> Logo:
    """Validate uploaded logo bytes and return a normalized, trimmed Logo (raises LogoError)."""
    if not data:
        raise LogoError("logo file is empty")
    if len(data) > max_bytes:
        size, limit = f"{len(data) / 1e6:.1f} MB", f"{max_bytes / 1e6:.1f} MB"
        if size == limit:  # just over: rounded, both would read the same
            size, limit = f"{len(data):,} bytes", f"{max_bytes:,} bytes"
        raise LogoError(f"logo file is {size}; the limit is {limit}")
    vector = sniff_vector(data)
    raster = data
    if vector is not None:
        try:
            raster = rasterize_vector(data, vector)
        except VectorError as exc:
            raise LogoError(str(exc)) from None
    opened = _open(raster, max_pixels)
    source_format = vector.upper() if vector else opened.format or ""
    image = _decode(opened)
    backing = _backing_color(image)
    image = _trim(image, backing)
    return Logo(
        sha256=hashlib.sha256(data).hexdigest(), width=image.width, height=image.height,
        has_alpha=backing is None, backing=backing, image=image, source_format=source_format,
    )


def luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG relative luminance of an sRGB colour (0-255 channels)."""
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = rgb
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def readable_on(color: str) -> str:
    """Near-black or white, whichever reads better on a #rrggbb background."""
    back = luminance(tuple(int(color[i:i + 2], 16) for i in (1, 3, 5)))
    dark = luminance((26, 26, 26))
    return "#1a1a1a" if contrast_ratio(dark, back) >= contrast_ratio(1.0, back) else "#ffffff"


def contrast_ratio(a: float, b: float) -> float:
    """WCAG contrast ratio between two relative luminances."""
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


@dataclass(frozen=True)
class LogoInk:
    """Luminance histogram of a logo's visible marks (shared by every backdrop check)."""

    levels: tuple[tuple[float, int], ...]  # (luminance, pixel count)
    total: int


def measure_ink(logo: Logo) -> LogoInk:
    """Histogram the luminance of a logo's visible (opaque, non-background) pixels."""
    small = logo.image.copy()
    small.thumbnail((96, 96), RESAMPLE)
    alpha = small.getchannel("A").point(lambda a: 255 if a > 128 else 0)
    if logo.backing is not None:
        backing = Image.new("RGB", small.size, logo.backing)
        diff = ImageChops.difference(small.convert("RGB"), backing)
        alpha = ImageChops.multiply(alpha, diff.convert("L").point(lambda d: 255 if d > 24 else 0))
    grey = small.convert("RGB").convert("L")
    hist = grey.histogram(mask=alpha)
    levels = tuple((luminance((v, v, v)), n) for v, n in enumerate(hist) if n)
    return LogoInk(levels, sum(n for _, n in levels))


def fit_size(logo: Logo, box: tuple[float, float]) -> tuple[float, float]:
    """Largest (w, h) inside box that keeps the logo's aspect ratio."""
    scale = min(box[0] / logo.width, box[1] / logo.height)
    return logo.width * scale, logo.height * scale


def scaled_logo(logo: Logo, size: tuple[int, int]) -> Image.Image:
    """The logo resampled (LANCZOS, reduce() first for huge ones) to an exact pixel size."""
    image = logo.image
    factor = min(image.width // max(size[0], 1), image.height // max(size[1], 1))
    if factor >= 2:
        image = image.reduce(factor)
    if image.size == size:
        return image.copy()
    return image.resize(size, RESAMPLE)
