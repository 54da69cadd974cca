"""Demo partner logos shaped like real brand kits: wordmarks that fit, icons, light, dark, SVG.

Every drawing is measured before the canvas is made, so a name is never cut off; the kinds
cover what partners really upload: a transparent wordmark, a wordmark on a white JPEG, a long
wide one, a stacked (tall) one, a bare icon, a white logo meant for dark backgrounds, a
16-colour palette PNG and an SVG.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

FONT = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "DejaVuSans-Bold.ttf"
LOGO_KINDS = ["wordmark", "white-jpeg", "wide", "stacked", "icon", "dark", "palette", "svg"]
EXTENSIONS = {"white-jpeg": "jpg", "svg": "svg"}
MEDIA_TYPES = {"jpg": "image/jpeg", "svg": "image/svg+xml", "png": "image/png"}
TEXT_SIZE = 120  # px of the name; the icon is as tall as the text's cap height plus margins


def logo_extension(kind: str) -> str:
    """File extension of a demo logo kind."""
    return EXTENSIONS.get(kind, "png")


def initials(name: str) -> str:
    """One or two letters for the icon ("Fourth Coffee" -> "FC")."""
    words = [w for w in name.replace("'", "").split() if w[:1].isalpha()]
    return "".join(w[0] for w in words[:2]).upper() or name[:1].upper()


def _hex(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _icon(size: int, color: tuple[int, int, int], letters: str, letter_color) -> Image.Image:
    """A rounded square with the partner's initials knocked out in letter_color."""
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=color)
    font = ImageFont.truetype(str(FONT), round(size * (0.5 if len(letters) > 1 else 0.62)))
    draw.text((size / 2, size / 2), letters, font=font, fill=letter_color, anchor="mm")
    return icon


def _word(text: str, color, size: int = TEXT_SIZE) -> Image.Image:
    """The name drawn on a canvas measured to fit it (with a small margin on every side)."""
    font = ImageFont.truetype(str(FONT), size)
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    margin = size // 10
    image = Image.new("RGBA", (right - left + 2 * margin, bottom - top + 2 * margin), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((margin - left, margin - top), text, font=font, fill=color,
                               anchor="ls")
    return image


def _lockup(name: str, mark, ink, stacked: bool = False, tagline: str = "") -> Image.Image:
    """Icon beside (or above) the name, both measured; nothing drawn past the canvas."""
    word = _word(name, ink)
    icon = _icon(round(word.height * 1.25), mark, initials(name), (255, 255, 255, 0))
    gap = word.height // 3
    if stacked:
        size = (max(icon.width, word.width), icon.height + gap + word.height)
        image = Image.new("RGBA", size, (0, 0, 0, 0))
        image.alpha_composite(icon, ((size[0] - icon.width) // 2, 0))
        image.alpha_composite(word, ((size[0] - word.width) // 2, icon.height + gap))
        return image
    extra = _word(tagline, ink, TEXT_SIZE // 2) if tagline else None
    width = icon.width + gap + max(word.width, extra.width if extra else 0)
    text_height = word.height + (extra.height if extra else 0)
    image = Image.new("RGBA", (width, max(icon.height, text_height)), (0, 0, 0, 0))
    image.alpha_composite(icon, (0, (image.height - icon.height) // 2))
    top = (image.height - text_height) // 2
    image.alpha_composite(word, (icon.width + gap, top))
    if extra:
        image.alpha_composite(extra, (icon.width + gap, top + word.height))
    return image


def _padded(image: Image.Image, background=(0, 0, 0, 0), share: float = 0.08) -> Image.Image:
    """The image on a canvas with an even margin, as uploads usually come."""
    pad = round(max(image.size) * share)
    canvas = Image.new("RGBA", (image.width + 2 * pad, image.height + 2 * pad), background)
    canvas.alpha_composite(image, (pad, pad))
    return canvas


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def _svg(name: str, color: str) -> bytes:
    """An SVG wordmark: rounded icon with initials and the name as text, sized to fit."""
    letters, text = escape(initials(name)), escape(name)
    width = 150 + round(len(name) * 58)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="130" '
            f'viewBox="0 0 {width} 130"><rect x="5" y="5" width="120" height="120" rx="24" '
            f'fill="{color}"/><text x="65" y="85" font-family="DejaVu Sans" font-weight="bold" '
            f'font-size="{56 if len(letters) > 1 else 68}" fill="#ffffff" '
            f'text-anchor="middle">{letters}</text><text x="145" y="88" '
            f'font-family="DejaVu Sans" font-weight="bold" font-size="72" fill="{color}" '
            f'textLength="{width - 160}" lengthAdjust="spacingAndGlyphs">{text}</text>'
            '</svg>').encode()


def generate_logo(name: str, color: str, kind: str) -> bytes:
    """Logo bytes of one kind for a partner called name in its brand colour."""
    rgb = _hex(color)
    dark_ink = (34, 34, 34, 255)
    if kind == "svg":
        return _svg(name, color)
    if kind == "white-jpeg":
        out = io.BytesIO()
        _padded(_lockup(name, rgb, rgb), (255, 255, 255, 255)).convert("RGB").save(
            out, "JPEG", quality=90)
        return out.getvalue()
    if kind == "wide":
        return _png(_padded(_lockup(name, rgb, dark_ink, tagline="Solutions & Services"), share=0.03))
    if kind == "stacked":
        return _png(_padded(_lockup(name, rgb, rgb, stacked=True)))
    if kind == "icon":
        return _png(_icon(512, rgb, initials(name), (255, 255, 255, 255)))
    if kind == "dark":
        return _png(_padded(_lockup(name, rgb, (255, 255, 255, 255))))
    if kind == "palette":
        out = io.BytesIO()
        _padded(_lockup(name, rgb, rgb), (255, 255, 255, 255)).convert("RGB").quantize(16).save(
            out, "PNG")
        return out.getvalue()
    return _png(_padded(_lockup(name, rgb, rgb)))
