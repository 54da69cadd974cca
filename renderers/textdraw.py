"""Measure and draw lines that need shaping (RTL, Arabic joining, CJK, emoji) in images and PDFs.

Lines of plain Latin, Greek or Cyrillic never come here: they keep the fast path (Pillow's
basic layout, ReportLab's drawString). The pieces and their order come from renderers.shaping.
"""

from __future__ import annotations

import functools
import threading
import unicodedata

import uharfbuzz
from PIL import Image, ImageFont
from reportlab.lib.abag import ABag
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, shapeFragWord

from .shaping import FALLBACKS, PDF_FALLBACKS, available, visual_pieces

# HarfBuzz features for PDF pieces; ReportLab's default adds dlig, which turns DejaVu's "st"
# into a historic ligature.
PDF_FEATURES = {"kern": True, "liga": True}
EMOJI_STRIKE = 109  # Noto Color Emoji has bitmaps at this size only
STYLE_INDEX = {"regular": 0, "bold": 1}
_lock = threading.Lock()


@functools.lru_cache(maxsize=256)
def fallback_font(key: str, style: str, size: float) -> ImageFont.FreeTypeFont:
    """A Noto fallback font for Pillow with Raqm layout (emoji only at its bitmap size)."""
    path = FALLBACKS[key][STYLE_INDEX[style]]
    size = EMOJI_STRIKE if key == "emoji" else size
    return ImageFont.truetype(str(path), size, index=FALLBACKS[key][2],
                              layout_engine=ImageFont.Layout.RAQM)


def _raqm(font: ImageFont.FreeTypeFont) -> ImageFont.FreeTypeFont:
    """The same font file and size with Raqm layout (for right-to-left DejaVu pieces)."""
    return _raqm_font(font.path, font.size, getattr(font, "index", 0))


@functools.lru_cache(maxsize=256)
def _raqm_font(path: str, size: float, index: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index, layout_engine=ImageFont.Layout.RAQM)


def _image_font(piece, main: ImageFont.FreeTypeFont, style: str, size: float):
    """The Pillow font for a piece, and the scale to apply to its drawing (emoji)."""
    if piece.font and available(FALLBACKS[piece.font][STYLE_INDEX[style]]):
        scale = size / EMOJI_STRIKE if piece.font == "emoji" else 1.0
        return fallback_font(piece.font, style, size), scale
    return (_raqm(main) if piece.rtl else main), 1.0


def _direction(font, rtl: bool) -> dict:
    """Pillow keyword for the direction (only Raqm layout takes one)."""
    if font.layout_engine == ImageFont.Layout.RAQM:
        return {"direction": "rtl" if rtl else "ltr"}
    return {}


def image_line_width(line: str, main: ImageFont.FreeTypeFont, style: str, size: float) -> float:
    """Width in pixels of a shaped line at size."""
    total = 0.0
    for piece in visual_pieces(line)[1]:
        font, scale = _image_font(piece, main, style, size)
        total += font.getlength(piece.text, **_direction(font, piece.rtl)) * scale
    return total


def draw_image_line(canvas: Image.Image, draw, line: str, main, style: str, size: float,
                    position: tuple[float, float, float, float], align: str, color) -> None:
    """Draw a shaped line in its frame (x, w) with its top at top; RTL lines mirror the align."""
    x, w, top, ascent = position
    base_rtl, pieces = visual_pieces(line)
    if base_rtl:
        align = {"left": "right", "right": "left"}.get(align, align)
    width = image_line_width(line, main, style, size)
    left = {"left": x, "center": x + (w - width) / 2, "right": x + w - width}[align]
    baseline = top + ascent
    for piece in pieces:
        font, scale = _image_font(piece, main, style, size)
        direction = _direction(font, piece.rtl)
        if scale != 1.0:
            _paste_emoji(canvas, piece.text, font, scale, (left, baseline))
        else:
            draw.text((left, baseline), piece.text, font=font, fill=color, anchor="ls",
                      **direction)
        left += font.getlength(piece.text, **direction) * scale


def _paste_emoji(canvas: Image.Image, text: str, font, scale: float, at) -> None:
    """Colour emoji drawn at their bitmap size, then scaled to the line's size."""
    width = max(round(font.getlength(text)), 1)
    ascent, descent = font.getmetrics()
    strip = Image.new("RGBA", (width, ascent + descent))
    from PIL import ImageDraw

    ImageDraw.Draw(strip).text((0, ascent), text, font=font, embedded_color=True, anchor="ls")
    size = (max(round(strip.width * scale), 1), max(round(strip.height * scale), 1))
    strip = strip.resize(size, Image.Resampling.LANCZOS)
    canvas.paste(strip, (round(at[0]), round(at[1] - ascent * scale)), strip)


def register_pdf_fallbacks() -> dict[tuple[str, str], str]:
    """Register the installed TrueType fallback fonts with ReportLab; (key, style) -> name."""
    names = {}
    with _lock:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for key, paths in PDF_FALLBACKS.items():
            for style, path in zip(("regular", "bold"), paths, strict=True):
                if not available(path):
                    continue
                name = f"TCMA-{path.stem}"
                if name not in registered:
                    pdfmetrics.registerFont(TTFont(name, str(path)))
                    registered.add(name)
                names[(key, style)] = name
    return names


def _pdf_pieces(line: str, main: str, style: str, size: float, fallbacks):
    """(font name, shaped text, width) per piece in visual order."""
    out = []
    for piece in visual_pieces(line, "pdf")[1]:
        name = fallbacks.get((piece.font, style), main) if piece.font else main
        shaped = _neutral_rtl(piece.text) if piece.rtl else _guessed_ltr(piece.text, piece.font)
        if piece.rtl or piece.font:  # plain left-to-right text keeps the fast, unshaped path
            word = [pdfmetrics.stringWidth(shaped, name, size),
                    (ABag(fontName=name, fontSize=size), shaped)]
            shaped = shapeFragWord(word, features=PDF_FEATURES)[1][1]
        data = getattr(shaped, "__shapeData__", None)
        if data:
            width = sum(d.x_advance for d in data) * size / 1000
        else:
            width = pdfmetrics.stringWidth(str(shaped), name, size)
        out.append((name, shaped, width))
    return out


def _guessed_ltr(text: str, font: str) -> str:
    """A left-to-right piece that HarfBuzz would lay out right to left, made to come out in order.

    ReportLab's shaping lets HarfBuzz guess a buffer's direction from its script, and it takes
    Arabic-Indic digits (١٢ is twelve) for right-to-left: they are fed reversed so the glyphs
    land left to right. Digits do not join, so reversing them changes nothing else.
    """
    if font not in ("arabic", "hebrew"):
        return text
    return text[::-1] if _harfbuzz_guesses_rtl(text) else text


@functools.lru_cache(maxsize=1024)
def _harfbuzz_guesses_rtl(text: str) -> bool:
    buffer = uharfbuzz.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    return buffer.direction == "rtl"


MIRRORED = str.maketrans("()[]{}<>«»", ")(][}{><»«")


def _neutral_rtl(text: str) -> str:
    """Spaces and punctuation inside a right-to-left line, in visual order.

    HarfBuzz (through ReportLab) guesses a buffer's direction from its letters, so a piece
    without any reads left to right; in a right-to-left line it is reversed and mirrored here.
    """
    if any(unicodedata.bidirectional(c) in ("R", "AL") for c in text):
        return text
    return text[::-1].translate(MIRRORED)


def pdf_line_width(line: str, main: str, style: str, size: float, fallbacks) -> float:
    """Width in points of a shaped line at size."""
    return sum(width for _, _, width in _pdf_pieces(line, main, style, size, fallbacks))


def draw_pdf_line(canvas, line: str, main: str, style: str, size: float,
                  position: tuple[float, float, float], align: str, fallbacks) -> None:
    """Draw a shaped line at a baseline in its frame (x, w); RTL lines mirror the align."""
    x, w, baseline = position
    base_rtl, _ = visual_pieces(line, "pdf")
    if base_rtl:
        align = {"left": "right", "right": "left"}.get(align, align)
    pieces = _pdf_pieces(line, main, style, size, fallbacks)
    width = sum(p[2] for p in pieces)
    left = {"left": x, "center": x + (w - width) / 2, "right": x + w - width}[align]
    for name, shaped, piece_width in pieces:
        canvas.setFont(name, size)
        canvas.drawString(left, baseline, shaped)
        left += piece_width
    canvas.setFont(main, size)
