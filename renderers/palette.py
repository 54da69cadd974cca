"""Colours that read: shades of a brand colour that meet a WCAG contrast ratio on a background."""

from __future__ import annotations

import colorsys
import functools

from .logos import contrast_ratio, luminance

AA_TEXT = 4.5  # WCAG 2.x AA for body text
AA_LARGE = 3.0  # AA for large text (18.66 px bold, 24 px regular) and user-interface parts
WHITE, INK = "#ffffff", "#1a1a1a"


def rgb(color: str) -> tuple[int, int, int]:
    """#rrggbb to an (r, g, b) tuple of 0-255 channels."""
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def hex_color(channels) -> str:
    """(r, g, b) 0-255 to #rrggbb."""
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in channels)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two #rrggbb colours."""
    return contrast_ratio(luminance(rgb(a)), luminance(rgb(b)))


@functools.lru_cache(maxsize=4096)
def shade_for(color: str, background: str, ratio: float = AA_TEXT) -> str:
    """color itself when it meets ratio on background, else the nearest lighter or darker shade.

    The hue and saturation stay (it still reads as the brand's colour); only lightness moves,
    towards black on a light background and towards white on a dark one.
    """
    if contrast(color, background) >= ratio:
        return color
    hue, light, sat = colorsys.rgb_to_hls(*(c / 255 for c in rgb(color)))
    darker = luminance(rgb(background)) > 0.18
    low, high = (0.0, light) if darker else (light, 1.0)
    for _ in range(24):  # bisect lightness for the shade closest to the brand colour
        middle = (low + high) / 2
        candidate = hex_color(c * 255 for c in colorsys.hls_to_rgb(hue, middle, sat))
        meets = contrast(candidate, background) >= ratio
        if darker:
            low, high = (middle, high) if meets else (low, middle)
        else:
            low, high = (low, middle) if meets else (middle, high)
    final = low if darker else high
    shade = hex_color(c * 255 for c in colorsys.hls_to_rgb(hue, final, sat))
    return shade if contrast(shade, background) >= ratio else (INK if darker else WHITE)


@functools.lru_cache(maxsize=4096)
def on_color(background: str, ratio: float = AA_TEXT) -> str:
    """White or near-black text on background, whichever contrasts more (both checked to ratio)."""
    return WHITE if contrast(WHITE, background) >= contrast(INK, background) else INK


@functools.lru_cache(maxsize=4096)
def fill_for_text(color: str, ratio: float = AA_TEXT) -> tuple[str, str]:
    """(fill, text) for a button or band in a brand colour: the colour, shaded if neither white
    nor near-black text reaches ratio on it (mid-tones such as #ff6a00), with the better text."""
    fill = color
    if max(contrast(WHITE, fill), contrast(INK, fill)) < ratio:
        fill = shade_for(color, WHITE, ratio)  # darker until white text reads on it
    return fill, on_color(fill)


def email_palette(primary: str, secondary: str) -> dict[str, str]:
    """The colours an email uses, each meeting AA on what it sits on (any brand colours)."""
    header, on_header = fill_for_text(primary)
    button, on_button = fill_for_text(primary)
    accent, on_accent = fill_for_text(secondary)
    return {
        "header": header, "on_header": on_header, "button": button, "on_button": on_button,
        "accent": accent, "on_accent": on_accent,
        "headline": shade_for(primary, WHITE, AA_TEXT), "link": shade_for(primary, WHITE, AA_TEXT),
        "rule": secondary, "text": "#222222", "muted": "#4a5565", "page": "#f4f5f7",
        "card": "#ffffff",
        # Dark mode: the same roles on a dark card
        "dark_page": "#121417", "dark_card": "#1d2127", "dark_text": "#e8eaed",
        "dark_muted": "#b4bac3", "dark_headline": shade_for(primary, "#1d2127", AA_TEXT),
        "dark_link": shade_for(primary, "#1d2127", AA_TEXT),
    }
