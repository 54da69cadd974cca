"""QR codes: module matrix, drawing with a quiet zone, and the too-small-to-scan warning."""

from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from renderers.qr import draw_qr_image, qr_runs, qr_size_warning

URL = "https://go.example.com/l/abc"


def test_a_short_link_needs_29_modules_drawn_as_runs_inside_the_matrix():
    count, runs = qr_runs(URL)
    assert count == 29
    assert runs[0] == (0, 0, 7)  # the top-left finder pattern
    assert all(0 <= row < 29 and 0 <= col and col + length <= 29 and length >= 1
               for row, col, length in runs)
    assert sum(length for _, _, length in runs) > 200


def test_runs_are_maximal_and_do_not_overlap():
    _, runs = qr_runs(URL)
    for (row_a, col_a, len_a), (row_b, col_b, _) in zip(runs, runs[1:], strict=False):
        assert row_b > row_a or col_b > col_a + len_a  # a light module between two runs


@pytest.mark.parametrize("size", [148, 200])
def test_an_image_code_decodes_and_sits_centred_on_white(size):
    image = Image.new("RGB", (size + 20, size + 20), "#ff0000")
    draw_qr_image(ImageDraw.Draw(image), URL, 10, 10, size, "#000000")
    assert [c.text for c in zxingcpp.read_barcodes(image)] == [URL]
    module = size // 37  # 29 modules and 4 of quiet zone on each side
    offset = (size - module * 29) // 2
    assert image.getpixel((10, 10)) == (255, 255, 255)  # quiet zone
    assert image.getpixel((9, 9)) == (255, 0, 0)  # nothing drawn outside the square
    assert image.getpixel((size + 9, size + 9)) == (255, 255, 255)
    assert image.getpixel((size + 10, size + 10)) == (255, 0, 0)
    assert image.getpixel((size + 10, 10)) == image.getpixel((10, size + 10)) == (255, 0, 0)
    below_finder = 10 + offset + 7 * module  # the finder is 7 modules tall, then a light row
    assert image.getpixel((10 + offset, below_finder - 1)) == (0, 0, 0)
    assert image.getpixel((10 + offset, below_finder)) == (255, 255, 255)
    assert image.getpixel((10 + offset, 10 + offset)) == (0, 0, 0)  # finder corner
    assert image.getpixel((9 + offset, 9 + offset)) == (255, 255, 255)
    assert image.getpixel((10 + offset + 7 * module - 1, 10 + offset)) == (0, 0, 0)
    assert image.getpixel((10 + offset + 7 * module, 10 + offset)) == (255, 255, 255)


def test_a_qr_code_whose_modules_are_large_enough_gives_no_warning():
    assert qr_size_warning("qr", URL, 111, 3, "px") is None  # 111 / 37 = 3 exactly
    assert qr_size_warning("qr", URL, 110, 3, "px") == (
        "qr: the QR code for this link needs 29 modules; in a 110px frame each is 2.97px, under "
        "the 3px phones read reliably (make the frame larger)")
    assert qr_size_warning("code", URL, 55.5, 1.5, "pt") is None
    assert qr_size_warning("code", URL, 55.4, 1.5, "pt").startswith(
        "code: the QR code for this link needs 29 modules; in a 55.4pt frame each is 1.50pt, "
        "under the 1.5pt")
