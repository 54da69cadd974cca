"""Frozen input and output types of the renderers: what a fully resolved render looks like."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
ALIGNS = ("left", "center", "right")
VALIGNS = ("top", "middle", "bottom")
PLATES = ("auto", "none", "light", "dark")
FONTS = ("regular", "bold")
# Where partners publish; "webhook" is a partner's own endpoint that receives posts as JSON.
NETWORKS = ("linkedin", "x", "facebook", "mastodon", "bluesky", "webhook")


class RenderError(ValueError):
    """A render spec that cannot be rendered as asked (post too long, bad value)."""


def check_color(value: str, what: str) -> str:
    """Return value if it is a #rrggbb colour, else raise RenderError naming what."""
    if not isinstance(value, str) or not HEX_COLOR.match(value):
        raise RenderError(f"{what}: {value!r} is not a #rrggbb colour")
    return value.lower()


@dataclass(frozen=True)
class Resource:
    """Binary content (background, picture) named by its sha256 so specs hash cheaply."""

    name: str
    data: bytes = field(repr=False, compare=False)
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", hashlib.sha256(self.data).hexdigest())


@dataclass(frozen=True)
class Logo:
    """A validated partner logo: original bytes, its hash and the decoded, trimmed RGBA image."""

    sha256: str
    width: int
    height: int
    has_alpha: bool
    backing: tuple[int, int, int] | None
    image: Image.Image = field(repr=False, compare=False)
    source_format: str = ""


@dataclass(frozen=True)
class Contact:
    """Partner contact details printed in the contact block."""

    name: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""


@dataclass(frozen=True)
class BrandKit:
    """A partner's brand: display name, colours, logo, contact and postal address."""

    name: str
    primary: str = "#1f4e79"
    secondary: str = "#f2a900"
    logo: Logo | None = None  # for light backgrounds (or the only one the partner gave)
    contact: Contact = Contact()
    address: str = ""
    logo_dark: Logo | None = None  # for dark backgrounds; derived from logo when missing

    def __post_init__(self) -> None:
        object.__setattr__(self, "primary", check_color(self.primary, "primary colour"))
        object.__setattr__(self, "secondary", check_color(self.secondary, "secondary colour"))


Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class TextFrame:
    """Text fitted into a box (x, y, w, h from the top-left): shrinks to min_size, then wraps."""

    name: str
    box: Box
    text: str
    color: str = "#222222"
    font: str = "regular"
    size: float = 12.0
    min_size: float = 8.0
    align: str = "left"
    leading: float = 1.25
    valign: str = "top"
    link: str = ""  # a URL the drawn text links to (a PDF link annotation); never printed


@dataclass(frozen=True)
class RectFrame:
    """A filled rectangle (colour already resolved)."""

    name: str
    box: Box
    color: str


@dataclass(frozen=True)
class LogoFrame:
    """The partner logo fitted into a box, on a plate when it lacks contrast."""

    name: str
    box: Box
    plate: str = "auto"
    align: str = "left"
    padding: float = 0.0
    plate_color: str = ""  # #rrggbb of the plate when one is needed; empty: white or dark

    def __post_init__(self) -> None:
        if self.plate_color:
            object.__setattr__(self, "plate_color", check_color(self.plate_color, "plate colour"))


@dataclass(frozen=True)
class QrFrame:
    """A QR code encoding url, drawn in a square box."""

    name: str
    box: Box
    url: str
    color: str = "#000000"


@dataclass(frozen=True)
class PictureFrame:
    """A picture (resource) covering its box, cropped to keep its aspect ratio."""

    name: str
    box: Box
    picture: Resource


Frame = TextFrame | RectFrame | LogoFrame | QrFrame | PictureFrame


@dataclass(frozen=True)
class Page:
    """One page or canvas: optional background picture and colour, then frames in order."""

    frames: tuple[Frame, ...]
    background: Resource | None = None
    background_color: str = "#ffffff"


@dataclass(frozen=True)
class PdfSpec:
    """A print document in points: trim size, bleed, pages."""

    size: tuple[float, float]
    pages: tuple[Page, ...]
    brand: BrandKit
    bleed: float = 0.0
    title: str = ""
    min_logo_dpi: float = 150.0
    lang: str = ""  # BCP 47 document language (the partner's locale)
    subject: str = ""
    print_ready: bool = False  # CMYK colours, output intent, crop marks outside the bleed


@dataclass(frozen=True)
class ImageSpec:
    """A raster image in pixels, encoded as png or jpg."""

    size: tuple[int, int]
    page: Page
    brand: BrandKit
    format: str = "png"
    jpeg_quality: int = 88


@dataclass(frozen=True)
class EmailSpec:
    """An MJML body and plain-text part, both Jinja with values passed as data."""

    mjml: str
    text: str
    subject: str
    values: tuple[tuple[str, Any], ...]
    brand: BrandKit
    preheader: str = ""
    lang: str = ""
    hero: Resource | None = None
    hero_alt: str = ""
    header_color: str = ""  # #rrggbb behind the header logo; empty: the brand's header colour
    logo_stored_only: bool = False  # hosted logos: only the brand kit's stored variants show


@dataclass(frozen=True)
class PostSpec:
    """A social post text for one network, already personalized, checked at render time."""

    network: str
    text: str


RenderSpec = PdfSpec | ImageSpec | EmailSpec | PostSpec


@dataclass(frozen=True)
class RenderResult:
    """Rendered bytes, their media type and file extension, warnings and extras."""

    data: bytes
    media_type: str
    extension: str
    warnings: tuple[str, ...] = ()
    text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
