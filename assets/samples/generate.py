"""Regenerate the sample partner logos and the template backgrounds (deterministic)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "assets" / "samples"
FONT = ROOT / "assets" / "fonts" / "DejaVuSans-Bold.ttf"


def gradient(size: tuple[int, int], top: tuple, bottom: tuple, rings: int = 6) -> Image.Image:
    """A vertical gradient with soft concentric rings: a stand-in for stock photography."""
    w, h = size
    column = Image.new("RGB", (1, h))
    for y in range(h):
        t = y / max(h - 1, 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    image = column.resize(size)
    draw = ImageDraw.Draw(image, "RGBA")
    for i in range(rings):
        r = (i + 1) * max(w, h) / (rings + 2)
        cx, cy = w * 0.8, h * 0.3 + 40 * math.sin(i)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(255, 255, 255, 40), width=6)
    return image


def wordmark(text: str, color, size=(760, 180), background=None, mode="RGBA") -> Image.Image:
    """A simple logo: a mark and a word on transparent or solid background."""
    image = Image.new(mode, size, background or (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    h = size[1]
    pad = h // 6
    draw.ellipse((pad, pad, h - pad, h - pad), fill=color)
    font = ImageFont.truetype(str(FONT), int(h * 0.42))
    draw.text((h + pad // 2, h // 2), text, font=font, fill=color, anchor="lm")
    return image


def make_backgrounds() -> None:
    """Template backgrounds as JPEGs sized for their layouts (print ones at 300 ppi)."""
    jobs = {
        "solution-brief/hero.jpg": ((2552, 1536), (18, 52, 86), (40, 110, 150)),
        "event-flyer/flyer-bg.jpg": ((2621, 3371), (250, 246, 240), (226, 232, 240)),
        "social-card/card-bg.jpg": ((1200, 627), (14, 30, 60), (30, 90, 120)),
        "newsletter/hero.jpg": ((1200, 480), (16, 44, 78), (36, 104, 140)),
        "event-invitation/hero.jpg": ((1200, 480), (246, 240, 230), (214, 226, 236)),
        "square-post/square-bg.jpg": ((1080, 1080), (246, 244, 238), (214, 226, 236)),
    }
    for name, (size, top, bottom) in jobs.items():
        gradient(size, top, bottom).save(ROOT / "templates" / name, "JPEG", quality=80)


def make_partners() -> None:
    """Sample partner logos and JSON files for the CLI and the demo."""
    out = SAMPLES / "partners"
    out.mkdir(parents=True, exist_ok=True)
    wordmark("Acme Cloud", (200, 60, 20)).save(out / "acme.png")
    wordmark("Northwind", (20, 40, 90), mode="RGB", background=(255, 255, 255)).save(
        out / "northwind.jpg", quality=90)
    wordmark("Ολυμπος IT", (240, 240, 240)).save(out / "olympos.png")
    partners = [
        ("acme.json", "Acme Cloud Services", "gold", "healthcare", "emea-de", "de-DE",
         "acme.png", "#c83c14", "#1d2b3a"),
        ("northwind.json", "Northwind Traders", "silver", "finance", "na-us", "en-US",
         "northwind.jpg", "#14285a", "#f2a900"),
        ("olympos.json", "Όλυμπος IT Λύσεις", "platinum", "manufacturing", "emea-gr", "el-GR",
         "olympos.png", "#0d5eaf", "#ffffff"),
    ]
    for file, name, tier, vertical, region, locale, logo, primary, secondary in partners:
        data = {"name": name, "tier": tier, "vertical": vertical, "region": region,
                "locale": locale, "logo": logo, "colors": {"primary": primary,
                                                           "secondary": secondary},
                "contact": {"name": "Partner Sales", "email": "sales@example.com",
                            "phone": "+1 555 0100", "website": "https://partner.example.com"},
                "address": "1 Example Street\n10115 Berlin"}
        (out / file).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")


def make_vendor_logo() -> None:
    """The vendor's wordmark on white, for the print templates (at 600 ppi for a 150 pt box)."""
    mark = wordmark("Veridian Networks", (16, 94, 84), size=(1800, 300), background=(255, 255, 255),
                    mode="RGB")
    for folder in ("solution-brief", "event-flyer"):
        mark.save(ROOT / "templates" / folder / "vendor-logo.png")


if __name__ == "__main__":
    make_backgrounds()
    make_vendor_logo()
    make_partners()
