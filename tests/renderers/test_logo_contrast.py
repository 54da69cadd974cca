"""Every shipped image template, 30 brand kits: the logo reads (>= 3:1) and is never clipped.

The check is made on the pixels: the card is rendered with the logo and without it; what is
behind the logo is the plate (when one was drawn) or the card without the logo, and the logo's
ink is what differs from that.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import campaigns
import renderers

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "assets" / "fonts" / "DejaVuSans-Bold.ttf"
COLOURS = ["#1f2a44", "#6a1b9a", "#ffcc00", "#f0f0f0", "#00838f", "#000000"]
STYLES = ["light", "dark", "wide", "tall", "svg"]


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _logo_bytes(style: str, color: str) -> bytes:
    """A logo of one style in one colour (on transparency unless it is an SVG)."""
    if style == "svg":
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="120">'
                f'<circle cx="60" cy="60" r="50" fill="{color}"/><text x="125" y="85" '
                f'font-family="DejaVu Sans" font-size="64" fill="{color}">Kit</text></svg>').encode()
    size = {"wide": (1600, 160), "tall": (200, 600)}.get(style, (600, 200))
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    ink = "#ffffff" if style == "dark" else color
    side = min(size) - 20
    draw.rounded_rectangle((10, 10, 10 + side, 10 + side), radius=side // 5, fill=color)
    font = ImageFont.truetype(str(FONT), side // 2)
    if style == "tall":
        draw.text((size[0] // 2, size[1] - 60), "Kit", font=font, fill=ink, anchor="mm")
    else:
        draw.text((side + 30, size[1] // 2), "Partner Kit", font=font, fill=ink, anchor="lm")
    return _png(image)


def _kits():
    for index, (style, color) in enumerate((s, c) for c in COLOURS for s in STYLES):
        logo = renderers.load_logo(_logo_bytes(style, color))
        given = {"logo_dark": logo} if style == "dark" else {"logo": logo}
        primary = color if color not in ("#f0f0f0", "#ffcc00") else "#1f4e79"
        brand = renderers.BrandKit(f"Kit {index}", primary, color, **given)
        yield pytest.param(brand, id=f"{style}-{color[1:]}")


@pytest.fixture(scope="module")
def catalogue():
    return campaigns.load_catalogue(ROOT / "templates")


def _render(renderer, tpl, brand):
    profile = campaigns.PartnerProfile("Kit", "kit", "gold", "finance", "na", "en-US", brand)
    result = renderer.render(campaigns.resolve_request(tpl, profile, "png").spec)
    return np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"), dtype=float), result


def _luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255
    linear = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


@pytest.mark.parametrize("slug", ["social-card", "square-post"])
@pytest.mark.parametrize("brand", list(_kits()))
def test_the_logo_reads_at_3_to_1_and_is_not_clipped(renderer, catalogue, slug, brand):
    tpl = catalogue[slug]
    with_logo, result = _render(renderer, tpl, brand)
    without, _ = _render(renderer, tpl, dataclasses.replace(brand, logo=None, logo_dark=None))
    frame = next(f for f in tpl.image.page.frames if f.kind == "logo")
    (placed,) = result.extra["logos"]
    x, y, w, h = placed["rect"]
    fx, fy, fw, fh = (round(v) for v in frame.box)
    assert fx <= x and fy <= y and x + w <= fx + fw and y + h <= fy + fh  # inside its frame
    behind = without.copy()
    if placed["plate"] is not None:
        behind[y:y + h, x:x + w] = placed["plate"]
    region, back = with_logo[fy:fy + fh, fx:fx + fw], behind[fy:fy + fh, fx:fx + fw]
    ink = np.abs(region - back).max(axis=2) > 60
    rows, cols = np.nonzero(ink)
    assert rows.size, "no logo drawn"
    # The ink fills the logo's rectangle edge to edge (trimmed logos): nothing cut off.
    drawn = (cols.min() + fx, rows.min() + fy, cols.max() + fx + 1, rows.max() + fy + 1)
    assert abs(drawn[0] - x) <= 2 and abs(drawn[2] - (x + w)) <= 2
    assert abs(drawn[1] - y) <= 2 and abs(drawn[3] - (y + h)) <= 2
    lum_ink, lum_back = _luminance(region[ink]), _luminance(back[ink])
    ratio = (np.maximum(lum_ink, lum_back) + 0.05) / (np.minimum(lum_ink, lum_back) + 0.05)
    # 80% of the clearly drawn logo pixels reach 3:1 against what is really behind them.
    assert np.percentile(ratio, 20) >= 3.0, (placed, np.percentile(ratio, 20))
