"""Embedded DejaVu fonts: ReportLab registration, Pillow font cache, coverage checks.

DejaVu Sans covers Latin, Greek and Cyrillic and stays the template font. Arabic, Hebrew,
CJK and emoji are drawn with the packaged Noto fallbacks and shaped (renderers.shaping,
renderers.textdraw); what no installed font has (or colour emoji in print) is reported as a
warning before launch, never drawn as empty boxes silently.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from pathlib import Path

from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from .shaping import FALLBACKS, PDF_FALLBACKS, available, needs_shaping, script_of
from .textdraw import image_line_width, pdf_line_width, register_pdf_fallbacks

FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
PDF_NAMES = {"regular": "TCMA-DejaVuSans", "bold": "TCMA-DejaVuSans-Bold"}
# Bidi embedding/override/isolate marks: meaningless without a bidi engine, so dropped.
BIDI_CONTROLS = frozenset(
    "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_lock = threading.Lock()


def register_pdf_fonts(font_dir: Path = FONT_DIR) -> dict[str, str]:
    """Register the TTF fonts with ReportLab once per process; return style -> font name."""
    with _lock:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for style, file in FONT_FILES.items():
            if PDF_NAMES[style] not in registered:
                pdfmetrics.registerFont(TTFont(PDF_NAMES[style], str(font_dir / file)))
    return dict(PDF_NAMES)


@functools.cache
def covered_characters(font_dir: Path = FONT_DIR) -> frozenset[str]:
    """Characters that have a glyph in both regular and bold fonts."""
    register_pdf_fonts(font_dir)
    maps = [pdfmetrics.getFont(PDF_NAMES[s]).face.charToGlyph for s in FONT_FILES]
    common = set(maps[0]).intersection(*maps[1:])
    return frozenset(chr(c) for c in common)


def _fallback_covers(char: str, kind: str) -> bool:
    """Whether an installed fallback font draws char in this kind of output."""
    script = script_of(char)
    table = PDF_FALLBACKS if kind == "pdf" else FALLBACKS
    return bool(script) and script in table and available(table[script][0])


def clean_text(text: str, covered: frozenset[str],
               kind: str = "image") -> tuple[str, tuple[str, ...]]:
    """Drop control and bidi marks; report characters no installed font can draw."""
    kept, missing, dropped = [], [], False
    for char in text:
        if char in BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char != "\n"):
            dropped = True
            continue
        if (char != "\n" and char not in covered and unicodedata.category(char) != "Zs"
                and not _fallback_covers(char, kind)):
            missing.append(char)
            if kind == "pdf" and script_of(char) == "emoji":
                continue  # left out of print rather than drawn as an empty box
        kept.append(char)
    warnings = []
    if dropped:
        warnings.append("removed control or bidi override marks (the direction of each line "
                        "comes from its letters)")
    emoji = [c for c in missing if script_of(c) == "emoji"]
    if emoji and kind == "pdf":
        sample = "".join(dict.fromkeys(emoji))[:12]
        warnings.append(f"emoji are left out of print (colour bitmap fonts): {sample!r}")
    missing = [c for c in missing if not (kind == "pdf" and script_of(c) == "emoji")]
    if missing:
        sample = "".join(dict.fromkeys(missing))[:12]
        warnings.append(f"characters no installed font can draw: {sample!r} (they would "
                        "print as empty boxes)")
    return "".join(kept), tuple(warnings)


class PillowFonts:
    """Cache of Pillow FreeType fonts by (style, size) and text widths at size 1."""

    def __init__(self, font_dir: Path = FONT_DIR) -> None:
        self._dir = font_dir
        self._lock = threading.Lock()
        self._fonts: dict[tuple[str, float], ImageFont.FreeTypeFont] = {}
        self._measurers = {s: functools.lru_cache(4096)(self._make_measure(s)) for s in FONT_FILES}

    def font(self, style: str, size: float) -> ImageFont.FreeTypeFont:
        """Return the font for style at a pixel size, loading it once."""
        key = (style, size)
        with self._lock:
            if key not in self._fonts:
                path = str(self._dir / FONT_FILES[style])
                self._fonts[key] = ImageFont.truetype(
                    path, size, layout_engine=ImageFont.Layout.BASIC
                )
            return self._fonts[key]

    def _make_measure(self, style: str):
        """Build a width-at-size-1 function for style (measured at 200 px for precision)."""
        def measure(text: str) -> float:
            if needs_shaping(text):
                return image_line_width(text, self.font(style, 200), style, 200) / 200
            return self.font(style, 200).getlength(text) / 200
        return measure

    def measure(self, style: str):
        """Return the cached width-at-size-1 function for style."""
        return self._measurers[style]


@functools.lru_cache(maxsize=8192)
def _pdf_width(text: str, font_name: str, style: str) -> float:
    """Width of text at size 1 in a registered ReportLab font (shaped when it needs it)."""
    if needs_shaping(text):
        return pdf_line_width(text, font_name, style, 1.0, register_pdf_fallbacks())
    return pdfmetrics.stringWidth(text, font_name, 1.0)


def pdf_measure(style: str):
    """Return the width-at-size-1 function for a ReportLab font style."""
    name = PDF_NAMES[style]
    return functools.partial(_pdf_width, font_name=name, style=style)
