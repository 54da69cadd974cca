"""Fit text into a box: shrink down to a minimum size, wrap, and report what does not fit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ELLIPSIS = "\u2026"
Measure = Callable[[str], float]  # width of a string at size 1


@dataclass(frozen=True)
class FittedText:
    """Lines to draw at size, and whether some text had to be left out."""

    size: float
    lines: tuple[str, ...]
    line_height: float
    overflow: bool


def _break_word(word: str, width: float, measure: Measure) -> list[str]:
    """Split a word wider than the box into pieces that fit."""
    pieces, current = [], ""
    for char in word:
        if current and measure(current + char) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    return pieces + ([current] if current else [])


def wrap_text(text: str, width: float, measure: Measure) -> list[str]:
    """Greedy word wrap at size 1 widths (width already divided by the font size)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if measure(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            pieces = _break_word(word, width, measure) if measure(word) > width else [word]
            lines.extend(pieces[:-1])
            current = pieces[-1]
        lines.append(current)
    return lines


def _sizes(max_size: float, min_size: float) -> list[float]:
    """Candidate sizes from largest to smallest in half-point steps."""
    sizes, size = [], max_size
    while size > min_size:
        sizes.append(size)
        size = round(size - 0.5, 2)
    return sizes + [min_size]


def _truncate(lines: list[str], keep: int, width: float, measure: Measure) -> tuple[str, ...]:
    """Keep the lines that fit, ending the last one with an ellipsis."""
    if keep <= 0:
        return ()
    kept = lines[:keep]
    last = kept[-1]
    while last and measure(last + ELLIPSIS) > width:
        last = last[:-1]
    kept[-1] = last.rstrip() + ELLIPSIS
    return tuple(kept)


def fit_text(
    text: str, box: tuple[float, float], sizes: tuple[float, float], leading: float,
    measure: Measure,
) -> FittedText:
    """Largest size in [min, max] at which text wraps inside box; else truncate and flag."""
    width, height = box
    max_size, min_size = sizes
    lines: list[str] = []
    for size in _sizes(max_size, min_size):
        lines = wrap_text(text, width / size, measure)
        if len(lines) * size * leading <= height + 0.01:
            return FittedText(size, tuple(lines), size * leading, overflow=False)
    keep = int((height + 0.01) // (min_size * leading))
    kept = _truncate(lines, keep, width / min_size, measure)
    return FittedText(min_size, kept, min_size * leading, overflow=True)


def overflow_warning(name: str, fitted: FittedText, min_size: float, unit: str) -> str | None:
    """What to tell the marketer when text did not fit its frame (None when it did)."""
    if not fitted.overflow:
        return None
    if not fitted.lines:
        return (f"{name}: not even one line fits the frame at {min_size}{unit}; the frame is "
                "empty (make the frame taller or the minimum size smaller)")
    return (f"{name}: text does not fit its frame at {min_size}{unit}; "
            "the end was cut and marked with an ellipsis")
