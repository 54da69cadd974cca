"""Font coverage: what the embedded fonts cannot draw is reported, control marks removed."""

from __future__ import annotations

import pytest

from renderers.fonts import BIDI_CONTROLS, PillowFonts, clean_text, covered_characters, pdf_measure

DROPPED = ("removed control or bidi override marks (the direction of each line comes from its "
           "letters)")
ETHIOPIC = "\u1230\u120b\u121d"  # no packaged font has Ethiopic


def test_latin_greek_and_cyrillic_are_drawn_without_warnings():
    assert clean_text("Hello, Κόσμε, мир\nline two", covered_characters()) == (
        "Hello, Κόσμε, мир\nline two", ())


@pytest.mark.parametrize("text", ["שלום עולם", "مرحبا بالعالم", "你好", "日本語のテキスト",
                                  "한국어"])
@pytest.mark.parametrize("kind", ["image", "pdf"])
def test_right_to_left_and_cjk_text_is_drawn_without_warnings(text, kind):
    assert clean_text(text, covered_characters(), kind) == (text, ())


def test_emoji_are_drawn_in_images_and_left_out_of_print_with_a_warning():
    assert clean_text("Launch \U0001F680", covered_characters(), "image") == (
        "Launch \U0001F680", ())
    assert clean_text("Launch \U0001F680\U0001F680", covered_characters(), "pdf") == (
        "Launch ", ("emoji are left out of print (colour bitmap fonts): '\U0001F680'",))


def test_characters_no_font_has_are_reported_once_each_and_kept():
    kept, warnings = clean_text(ETHIOPIC * 2, covered_characters())
    assert kept == ETHIOPIC * 2
    assert warnings == (f"characters no installed font can draw: {ETHIOPIC!r} (they would print "
                        "as empty boxes)",)


def test_the_missing_characters_sample_stops_at_twelve():
    text = "".join(chr(0x1200 + i) for i in range(15))
    warning = clean_text(text, covered_characters())[1][0]
    assert f"{text[:12]!r}" in warning and text[12] not in warning


def test_bidi_and_control_marks_are_removed_and_reported():
    assert clean_text("\u202eAcme\u202c\u200f\x07 Cloud", covered_characters()) == (
        "Acme Cloud", (DROPPED,))
    assert len(BIDI_CONTROLS) == 12


def test_spaces_are_never_reported_missing():
    # A space of any width is drawn as a gap even where the font has no glyph for it.
    assert clean_text("a\u3000b", frozenset("ab")) == ("a\u3000b", ())


def test_pdf_widths_are_measured_at_size_one():
    regular, bold = pdf_measure("regular"), pdf_measure("bold")
    assert 0.5 < regular("M") < 1.0 and bold("M") > regular("M")
    assert regular("MM") == pytest.approx(2 * regular("M"))


def test_pillow_widths_are_measured_at_size_one_and_match_the_pdf_widths():
    fonts = PillowFonts()
    regular, bold = fonts.measure("regular"), fonts.measure("bold")
    assert regular("Hello") == pytest.approx(pdf_measure("regular")("Hello"), rel=0.02)
    assert bold("Hello") > regular("Hello")
    assert fonts.font("bold", 24) is fonts.font("bold", 24)
    assert fonts.font("bold", 24).size == 24 and fonts.font("regular", 12).size == 12
