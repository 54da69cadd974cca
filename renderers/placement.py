"""Which logo goes on what is behind it: one choice shared by the image, PDF and email renderers.

A brand kit holds a logo for light backgrounds and one for dark backgrounds; when the partner
gave only one, the other is derived (an opaque logo's own backing knocked out, then a
one-colour white or near-black version of the mark). ``choose_logo`` measures the logo's ink
against the backdrop actually behind it (its darkest and lightest parts, not only the mean)
and picks the variant that reaches MIN_LOGO_CONTRAST, else a plate in the template's colour
(or white / near-black) with the variant that reads on it.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .logos import (
    DARK_PLATE,
    LIGHT_PLATE,
    LogoInk,
    contrast_ratio,
    luminance,
    measure_ink,
)
from .spec import BrandKit, Logo

MIN_LOGO_CONTRAST = 3.0  # WCAG 1.4.11: graphical objects need 3:1 against adjacent colours
INK_SHARE = 0.8  # a logo's contrast is what 80% of its ink reaches (thin accents may miss)
WHITE_INK = (255, 255, 255)
DARK_INK = (26, 26, 26)
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Backdrop:
    """What lies behind a logo: mean colour and the luminance of its dark and light parts."""

    color: RGB
    low: float
    high: float

    @classmethod
    def solid(cls, color: RGB) -> Backdrop:
        """A single-colour backdrop (a band, a plate, an email header)."""
        lum = luminance(color)
        return cls(tuple(color), lum, lum)

    @classmethod
    def of_image(cls, region: Image.Image) -> Backdrop:
        """The backdrop of a picture region: 5th and 95th luminance percentiles and mean."""
        small = region.convert("RGB")
        small.thumbnail((64, 64))
        pixels = np.asarray(small, dtype=np.float64).reshape(-1, 3)
        grey = np.round(pixels @ np.array([0.299, 0.587, 0.114])).astype(int)
        low, high = np.percentile(grey, [5, 95])
        mean = tuple(int(round(v)) for v in pixels.mean(axis=0))
        return cls(mean, luminance((low,) * 3), luminance((high,) * 3))


@dataclass(frozen=True)
class LogoChoice:
    """The logo to draw, the plate colour behind it (or None) and the contrast it reaches."""

    logo: Logo
    variant: str  # "light" (made for light backgrounds) or "dark"
    plate: RGB | None
    contrast: float


def logo_contrast(ink: LogoInk, backdrop: Backdrop) -> float:
    """Contrast that INK_SHARE of the logo's ink reaches against the backdrop's worst part."""
    if not ink.total:
        return 21.0
    ratios = []
    for lum, count in ink.levels:
        worst = min(contrast_ratio(lum, backdrop.low), contrast_ratio(lum, backdrop.high))
        ratios.append((worst, count))
    ratios.sort()
    allowed = ink.total * (1 - INK_SHARE)
    seen = 0
    for ratio, count in ratios:
        seen += count
        if seen > allowed:
            return ratio
    return ratios[-1][0]


def _derived(logo: Logo, image: Image.Image, tag: str) -> Logo:
    """A Logo made from another one's pixels, named by the original's hash and how."""
    digest = hashlib.sha256(f"{logo.sha256}:{tag}".encode()).hexdigest()
    return replace(logo, sha256=digest, width=image.width, height=image.height, has_alpha=True,
                   backing=None, image=image)


def knock_out(logo: Logo) -> Logo:
    """An opaque logo with its own background colour made transparent where it meets the edge.

    Only backing connected to the border goes (a white letter inside a coloured disc stays);
    the pixels along the cut get alpha from their distance to the backing colour.
    """
    if logo.backing is None:
        return logo
    rgb = np.asarray(logo.image.convert("RGB"), dtype=np.int16)
    distance = np.abs(rgb - np.array(logo.backing, dtype=np.int16)).max(axis=2)
    near = Image.fromarray(np.where(distance <= 24, 255, 0).astype(np.uint8))
    padded = Image.new("L", (near.width + 2, near.height + 2), 255)
    padded.paste(near, (1, 1))
    ImageDraw.floodfill(padded, (0, 0), 128)
    outside = np.asarray(padded, dtype=np.uint8)[1:-1, 1:-1] == 128
    edge = np.asarray(Image.fromarray((outside * 255).astype(np.uint8))
                      .filter(ImageFilter.MaxFilter(3)), dtype=bool) & ~outside
    alpha = np.full(distance.shape, 255, dtype=np.float64)
    alpha[outside] = 0
    alpha[edge] = np.clip(distance[edge] * 255 / 96, 0, 255)
    fraction = np.maximum(alpha, 1)[..., None] / 255
    backing = np.array(logo.backing, dtype=np.float64)
    colour = np.clip((rgb - (1 - fraction) * backing) / fraction, 0, 255)
    pixels = np.dstack([colour, alpha]).astype(np.uint8)
    return _derived(logo, Image.fromarray(pixels, "RGBA"), "knocked-out")


def monochrome(logo: Logo, ink: RGB, designed_for: str) -> Logo:
    """A one-colour version of the mark for the other kind of background.

    What stands out from the background the logo was designed for becomes ink; what is close
    to that background stays a hole (a white letter knocked into a dark disc still reads).
    """
    rgba = np.asarray(logo.image.convert("RGBA"), dtype=np.float64)
    grey = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
    if designed_for == "light":
        strength = np.clip((225 - grey) / 40, 0, 1)
    else:
        strength = np.clip((grey - 40) / 40, 0, 1)
    alpha = rgba[..., 3] * strength
    if alpha.sum() < 0.75 * rgba[..., 3].sum():
        # Whole parts would vanish (a dark icon in a logo made for dark backgrounds): the
        # silhouette keeps the mark's shape instead.
        alpha = rgba[..., 3]
    pixels = np.zeros(rgba.shape, dtype=np.uint8)
    pixels[..., :3] = ink
    pixels[..., 3] = np.round(alpha).astype(np.uint8)
    tag = "white" if ink == WHITE_INK else "dark"
    return _derived(logo, Image.fromarray(pixels, "RGBA"), f"mono-{tag}")


def _reads_on(logo: Logo, color: RGB) -> float:
    """Contrast of a logo's ink on a solid colour."""
    return logo_contrast(measure_ink(logo), Backdrop.solid(color))


def logo_variants(light: Logo | None, dark: Logo | None) -> tuple[Logo, Logo] | None:
    """(for light backgrounds, for dark backgrounds), deriving what the partner did not give.

    A single logo is measured: it serves each background it reads on at MIN_LOGO_CONTRAST;
    for the other one a one-colour version (near-black or white) is made.
    """
    if light is None and dark is None:
        return None
    if light is not None and dark is not None:
        return knock_out(light), knock_out(dark)
    given = knock_out(light or dark)
    on_white, on_dark = _reads_on(given, LIGHT_PLATE), _reads_on(given, DARK_PLATE)
    designed = "dark" if light is None or on_dark > on_white else "light"
    for_light = given if on_white >= MIN_LOGO_CONTRAST else monochrome(given, DARK_INK, designed)
    for_dark = given if on_dark >= MIN_LOGO_CONTRAST else monochrome(given, WHITE_INK, designed)
    return for_light, for_dark


def _best(candidates, inks, backdrop: Backdrop) -> tuple[float, str, Logo]:
    """The candidate with the highest contrast on backdrop (first one wins ties)."""
    scored = [(logo_contrast(inks(logo), backdrop), -i, name, logo)
              for i, (name, logo) in enumerate(candidates)]
    contrast, _, name, logo = max(scored, key=lambda s: (s[0], s[1]))
    return contrast, name, logo


def choose_logo(variants: tuple[Logo, Logo], backdrop: Backdrop, mode: str = "auto",
                plate_color: RGB | None = None, inks=measure_ink) -> LogoChoice:
    """The variant and plate for a logo over backdrop, reaching MIN_LOGO_CONTRAST if any can.

    mode "auto": no plate when a variant reads on the backdrop itself (the one made for that
    kind of background first), else a plate; "light"/"dark": always that plate; "none": never.
    """
    light, dark = variants
    mean_is_dark = luminance(backdrop.color) < 0.18
    order = [("dark", dark), ("light", light)] if mean_is_dark else [("light", light),
                                                                   ("dark", dark)]
    if mode in ("auto", "none"):
        for name, logo in order:
            contrast = logo_contrast(inks(logo), backdrop)
            if contrast >= MIN_LOGO_CONTRAST or mode == "none" and name == order[-1][0]:
                if contrast < MIN_LOGO_CONTRAST:
                    contrast, name, logo = _best(order, inks, backdrop)
                return LogoChoice(logo, name, None, contrast)
    plates = [plate_color] if plate_color is not None else []
    if mode == "light":
        plates = [LIGHT_PLATE]
    elif mode == "dark":
        plates = [DARK_PLATE]
    else:
        plates += [LIGHT_PLATE, DARK_PLATE]
    best: LogoChoice | None = None
    for plate in plates:
        contrast, name, logo = _best(order, inks, Backdrop.solid(plate))
        if best is None or contrast > best.contrast + 0.01:
            best = LogoChoice(logo, name, plate, contrast)
        if contrast >= MIN_LOGO_CONTRAST:
            return LogoChoice(logo, name, plate, contrast)
    return best


def contrast_warning(name: str, choice: LogoChoice) -> str | None:
    """What to tell the marketer when even the best variant and plate stay below 3:1."""
    if choice.contrast >= MIN_LOGO_CONTRAST:
        return None
    return (f"{name}: the logo reaches only {choice.contrast:.1f}:1 contrast against what is "
            f"behind it (at least {MIN_LOGO_CONTRAST:.0f}:1 is needed); upload a logo for "
            "light and one for dark backgrounds")


def plate_geometry(box: tuple[float, float, float, float], logo_size: tuple[float, float],
                   align: str, padding: float) -> tuple[tuple[float, float, float, float], float]:
    """The plate around a fitted logo: (x, y, w, h) hugging it with padding, and its radius."""
    x, y, w, h = box
    pw, ph = logo_size[0] + 2 * padding, logo_size[1] + 2 * padding
    left = {"left": x, "center": x + (w - pw) / 2, "right": x + w - pw}[align]
    return (left, y + (h - ph) / 2, pw, ph), padding * 0.6


@dataclass(frozen=True)
class LogoLayout:
    """A chosen logo placed in a frame: its rectangle, and the plate's rectangle and radius."""

    choice: LogoChoice
    rect: tuple[float, float, float, float]
    plate: tuple[float, float, float, float] | None
    radius: float


def plate_padding(box: tuple[float, float, float, float], padding: float) -> float:
    """The frame's padding, or 12% of its short side: the same look for every partner."""
    return padding if padding > 0 else min(box[2], box[3]) * 0.12


def lay_out_logo(choice: LogoChoice, box: tuple[float, float, float, float], align: str,
                 padding: float) -> LogoLayout:
    """Fit the chosen logo inside box less padding (never clipped); plate hugs it."""
    pad = plate_padding(box, padding)
    x, y, w, h = box
    scale = min((w - 2 * pad) / choice.logo.width, (h - 2 * pad) / choice.logo.height)
    size = (choice.logo.width * scale, choice.logo.height * scale)
    plate, radius = plate_geometry(box, size, align, pad)
    rect = (plate[0] + pad, plate[1] + pad, size[0], size[1])
    return LogoLayout(choice, rect, plate if choice.plate is not None else None, radius)


cached_variants = functools.lru_cache(maxsize=512)(logo_variants)
_inks: dict[str, LogoInk] = {}
_inks_lock = threading.Lock()
INKS_KEPT = 4096


def cached_ink(logo: Logo) -> LogoInk:
    """measure_ink, once per logo (by its hash, so the cache holds no images)."""
    with _inks_lock:
        ink = _inks.get(logo.sha256)
    if ink is None:
        ink = measure_ink(logo)
        with _inks_lock:
            if len(_inks) >= INKS_KEPT:  # the oldest entry goes (dicts keep insertion order)
                del _inks[next(iter(_inks))]
            _inks[logo.sha256] = ink
    return ink


def choose_brand_logo(brand: BrandKit, backdrop_color: str, stored_only: bool = False,
                      plate_color: str = "") -> LogoChoice | None:
    """The brand's logo variant and plate on a solid #rrggbb backdrop (an email header).

    stored_only: only the logo the brand kit holds can be shown (an email links to stored
    files), so a missing variant is not derived: a plate makes the stored one read instead.
    """
    return _choose_brand_logo(brand.logo, brand.logo_dark, backdrop_color, stored_only, plate_color)


@functools.lru_cache(maxsize=512)  # as cached_variants: the same logos, worked out once
def _choose_brand_logo(logo: Logo | None, logo_dark: Logo | None, backdrop_color: str,
                       stored_only: bool, plate_color: str) -> LogoChoice | None:
    variants = cached_variants(logo, logo_dark)
    if variants is None:
        return None
    plate = _rgb(plate_color) if plate_color else None
    backdrop = Backdrop.solid(_rgb(backdrop_color))
    if stored_only and (logo is None or logo_dark is None):
        slot = "light" if logo is not None else "dark"
        only = variants[0] if slot == "light" else variants[1]
        return replace(choose_logo((only, only), backdrop, "auto", plate, inks=cached_ink), variant=slot)
    return choose_logo(variants, backdrop, "auto", plate, inks=cached_ink)


def _rgb(color: str) -> RGB:
    """#rrggbb to an RGB tuple."""
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
