"""Complex text: right-to-left runs, joined Arabic, CJK and emoji, each in a font that has it.

A line is cut into runs in visual order (a small bidi resolution: strong letters set a run's
direction, digits read left to right, neutrals take their neighbours' direction or the line's),
then each run into pieces by font: DejaVu Sans where it has the glyph, else the packaged Noto
font for the script (Arabic, Hebrew, CJK, emoji). Pieces are shaped by HarfBuzz: through
Pillow's Raqm layout in images, through ReportLab's uharfbuzz shaping in PDFs (ReportLab has
no bidi without rlbidi, which is not on PyPI, so the visual order is made here).

The Noto fonts are Debian's fonts-noto-* packages, installed by ``make install`` (OFL, never
downloaded at run time). CJK in PDFs uses Droid Sans Fallback (TrueType): Noto Sans CJK is
CFF-based and ReportLab embeds TrueType outlines only. Colour emoji are bitmaps: drawn in
images, reported as missing in PDFs.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

NOTO = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto")
DROID = Path("/usr/share/fonts/truetype/droid")
# Fallback fonts by script: (regular, bold, index in a collection); first that covers wins.
FALLBACKS = {
    "arabic": (NOTO / "NotoSansArabic-Regular.ttf", NOTO / "NotoSansArabic-Bold.ttf", 0),
    "hebrew": (NOTO / "NotoSansHebrew-Regular.ttf", NOTO / "NotoSansHebrew-Bold.ttf", 0),
    "cjk": (NOTO_CJK / "NotoSansCJK-Regular.ttc", NOTO_CJK / "NotoSansCJK-Bold.ttc", 0),
    "emoji": (NOTO / "NotoColorEmoji.ttf", NOTO / "NotoColorEmoji.ttf", 0),
}
PDF_FALLBACKS = {
    "arabic": FALLBACKS["arabic"][:2], "hebrew": FALLBACKS["hebrew"][:2],
    "cjk": (DROID / "DroidSansFallbackFull.ttf", DROID / "DroidSansFallbackFull.ttf"),
}
RTL_CLASSES = {"R", "AL"}
LTR_NUMBERS = {"EN", "AN"}


@dataclass(frozen=True)
class Piece:
    """A part of a line drawn in one font and direction (text in logical order)."""

    text: str
    font: str  # "" for the template's own font (DejaVu), else a FALLBACKS key
    rtl: bool


def script_of(char: str) -> str:
    """The fallback script a character belongs to, or '' for ordinary text."""
    code = ord(char)
    if 0x0590 <= code <= 0x05FF or 0xFB1D <= code <= 0xFB4F:
        return "hebrew"
    if (0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF
            or 0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFF):
        return "arabic"
    if (0x1100 <= code <= 0x11FF or 0x2E80 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF
            or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF or 0x20000 <= code <= 0x3FFFF):
        return "cjk"
    if (0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or code in (0xFE0F, 0x200D)
            or 0x1F1E6 <= code <= 0x1F1FF):
        return "emoji"
    return ""


def needs_shaping(text: str) -> bool:
    """Whether a text has right-to-left or fallback-script characters (the slow path)."""
    return any(ord(c) >= 0x0590 and (script_of(c) or unicodedata.bidirectional(c) in RTL_CLASSES)
               for c in text)


def _direction(char: str) -> str:
    """'R', 'L' or 'N' (neutral) for run building; numbers read left to right."""
    kind = unicodedata.bidirectional(char)
    if kind in RTL_CLASSES:
        return "R"
    if kind == "L" or kind in LTR_NUMBERS:
        return "L"
    return "N"


def _resolved(line: str) -> tuple[bool, list[bool]]:
    """(line is right-to-left, per character: drawn right-to-left)."""
    kinds = [_direction(c) for c in line]
    strong = [k for k in kinds if k != "N"]
    base_rtl = bool(strong) and strong[0] == "R"
    resolved = []
    for i, kind in enumerate(kinds):
        if kind == "N":
            before = next((k for k in reversed(kinds[:i]) if k != "N"), None)
            after = next((k for k in kinds[i + 1:] if k != "N"), None)
            kind = before if before == after and before else ("R" if base_rtl else "L")
        resolved.append(kind == "R")
    return base_rtl, resolved


@functools.lru_cache(maxsize=4096)
def visual_pieces(line: str, fonts: str = "image") -> tuple[bool, tuple[Piece, ...]]:
    """(line is right-to-left, its pieces in visual order, left to right)."""
    base_rtl, rtl = _resolved(line)
    runs: list[list] = []
    for char, char_rtl in zip(line, rtl, strict=True):
        font = _font_for(char, fonts, runs[-1][1] if runs else "")
        if runs and runs[-1][1] == font and runs[-1][2] == char_rtl:
            runs[-1][0] += char
        else:
            runs.append([char, font, char_rtl])
    pieces = [Piece(text, font, is_rtl) for text, font, is_rtl in runs]
    if base_rtl:
        pieces = _reverse_levels(pieces)
    else:
        pieces = _reverse_rtl_groups(pieces)
    return base_rtl, tuple(pieces)


def _font_for(char: str, fonts: str, previous: str) -> str:
    """The font key for a character; spaces and marks stay in the previous piece's font."""
    script = script_of(char)
    if script == "emoji" and fonts == "pdf":
        return ""  # no colour emoji in print: reported as missing, drawn in the main font
    if script:
        return script
    # Spaces and combining marks stay with their neighbours; punctuation goes to DejaVu,
    # which has it (Noto Sans Hebrew has no em dash).
    if unicodedata.category(char)[0] in "ZM" and previous and previous != "emoji":
        return previous
    return ""


def _reverse_rtl_groups(pieces: list[Piece]) -> list[Piece]:
    """In a left-to-right line, consecutive right-to-left pieces are shown in reverse order."""
    out, group = [], []
    for piece in pieces:
        if piece.rtl:
            group.append(piece)
            continue
        out.extend(reversed(group))
        group = []
        out.append(piece)
    return out + list(reversed(group))


def _reverse_levels(pieces: list[Piece]) -> list[Piece]:
    """In a right-to-left line the pieces go right to left; left-to-right groups keep order."""
    groups: list[list[Piece]] = []
    for piece in pieces:
        if groups and not piece.rtl and not groups[-1][-1].rtl:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    return [piece for group in reversed(groups) for piece in group]


def available(path: Path) -> bool:
    """Whether a fallback font file is installed (make install puts them there)."""
    return path.is_file()
