"""Text fitting: the size chosen, where lines break, and what an overflowing frame shows."""

from __future__ import annotations

import pytest

from renderers.textfit import FittedText, fit_text, overflow_warning, wrap_text


def chars(text: str) -> float:
    """A monospaced measure: every character is 1 wide at size 1."""
    return float(len(text))


def test_words_wrap_greedily_and_a_line_may_be_exactly_full():
    assert wrap_text("aa bb cc", 5, chars) == ["aa bb", "cc"]
    assert wrap_text("aa bb cc", 4.99, chars) == ["aa", "bb", "cc"]


def test_a_word_wider_than_the_box_is_broken_into_pieces_that_fit():
    assert wrap_text("abcdefgh", 3, chars) == ["abc", "def", "gh"]
    assert wrap_text("ab abcdefg c", 3, chars) == ["ab", "abc", "def", "g c"]
    assert wrap_text("abcdef", 3, chars) == ["abc", "def"]


def test_newlines_start_new_lines_and_blank_lines_are_kept():
    assert wrap_text("one\n\ntwo  three", 20, chars) == ["one", "", "two three"]


def test_text_that_fits_at_the_largest_size_stays_there():
    fitted = fit_text("aaaa bbbb", (100, 10), (10, 8), 1.0, chars)
    assert fitted == FittedText(10, ("aaaa bbbb",), 10.0, overflow=False)


def test_one_line_exactly_as_tall_as_the_frame_fits():
    fitted = fit_text("Hello", (100, 12), (10, 8), 1.2, chars)
    assert (fitted.size, fitted.lines, fitted.overflow) == (10, ("Hello",), False)
    assert fitted.line_height == pytest.approx(12)


def test_lines_whose_height_rounds_just_above_the_frame_still_fit():
    # 3 * 10 * 1.1 is 33.000000000000004 in floating point.
    fitted = fit_text("a b c", (10, 33), (10, 8), 1.1, chars)
    assert (fitted.size, fitted.lines, fitted.overflow) == (10, ("a", "b", "c"), False)


def test_a_frame_a_little_too_short_shrinks_the_text_by_half_points():
    fitted = fit_text("Hello", (100, 11.9), (10, 8), 1.2, chars)
    assert (fitted.size, fitted.lines, fitted.overflow) == (9.5, ("Hello",), False)
    assert fitted.line_height == pytest.approx(11.4)


@pytest.mark.parametrize(("height", "size"), [(19.9, 9.5), (18, 9.0), (17, 8.5), (16, 8)])
def test_the_largest_half_point_size_that_fits_is_chosen(height, size):
    fitted = fit_text("aaaa bbbb", (40, height), (10, 8), 1.0, chars)
    assert fitted == FittedText(size, ("aaaa", "bbbb"), size, overflow=False)


def test_shrinking_can_rewrap_into_fewer_lines():
    # At 10 only 4 characters fit a line (two lines, too tall); at 8, 5 do: one line.
    fitted = fit_text("aa bb", (40, 9), (10, 8), 1.0, chars)
    assert fitted == FittedText(8, ("aa bb",), 8, overflow=False)


def test_overflowing_text_is_cut_at_the_minimum_size_and_ends_with_an_ellipsis():
    fitted = fit_text("aa bb cc dd", (24, 16), (10, 8), 1.0, chars)
    assert fitted == FittedText(8, ("aa", "bb\u2026"), 8, overflow=True)


def test_as_many_lines_are_kept_as_fit_at_the_minimum_size():
    # 8pt lines at leading 1.25 are 10 high: a 25 high frame keeps two, a 29.9 high one too.
    for height in (25, 29.9):
        fitted = fit_text("aa bb cc dd", (24, height), (10, 8), 1.25, chars)
        assert fitted == FittedText(8, ("aa", "bb\u2026"), 10, overflow=True)
    fitted = fit_text("aa bb cc dd", (24, 19.5), (10, 8), 1.25, chars)
    assert fitted.lines == ("aa\u2026",)


def test_the_last_kept_line_loses_characters_until_the_ellipsis_fits():
    fitted = fit_text("aaaaa bbbbb", (40, 8), (10, 8), 1.0, chars)
    assert fitted.lines == ("aaaa\u2026",) and fitted.overflow


def test_a_cut_does_not_leave_a_space_before_the_ellipsis():
    fitted = fit_text("ab c de", (32, 8), (10, 8), 1.0, chars)
    assert fitted.lines == ("ab\u2026",)


def test_a_frame_too_short_for_one_line_is_left_empty():
    fitted = fit_text("Hello", (300, 5), (20, 12), 1.25, chars)
    assert fitted == FittedText(12, (), 15.0, overflow=True)


def test_overflow_warnings_say_what_happened_and_what_to_do():
    fitted = FittedText(12, ("a", "b"), 15, overflow=False)
    assert overflow_warning("title", fitted, 12, "pt") is None
    cut = FittedText(8, ("aa", "bb\u2026"), 8, overflow=True)
    assert overflow_warning("title", cut, 8, "pt") == (
        "title: text does not fit its frame at 8pt; the end was cut and marked with an ellipsis")
    empty = FittedText(12, (), 15, overflow=True)
    assert overflow_warning("body", empty, 12, "px") == (
        "body: not even one line fits the frame at 12px; the frame is empty (make the frame "
        "taller or the minimum size smaller)")
