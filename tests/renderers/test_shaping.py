"""Arabic, Hebrew, CJK and emoji: shaped and ordered as HarfBuzz does, never empty boxes."""

from __future__ import annotations

import io

import numpy as np
import pdfplumber
import pytest
import uharfbuzz as hb
from PIL import Image, ImageDraw, ImageFont

import renderers
from renderers.shaping import FALLBACKS, visual_pieces

ARABIC = "مرحبا بالعالم"
HEBREW = "שלום עולם"
FRAME = (20, 20, 560, 80)


def _image(text: str, align: str = "right", size: float = 40) -> Image.Image:
    frame = renderers.TextFrame("t", FRAME, text, "#000000", "regular", size, size, align)
    spec = renderers.ImageSpec((600, 120), renderers.Page((frame,)), renderers.BrandKit("X"))
    return Image.open(io.BytesIO(renderers.Renderer().render(spec).data)).convert("L")


def _reference(text: str, key: str, size: float = 40) -> Image.Image:
    """The line drawn by Pillow's Raqm (HarfBuzz shaping, FriBidi order) in the script's font,
    right-aligned in the frame on the same baseline as the renderer's."""
    font = ImageFont.truetype(str(FALLBACKS[key][0]), size, layout_engine=ImageFont.Layout.RAQM)
    dejavu = ImageFont.truetype(str(renderers.fonts.FONT_DIR / "DejaVuSans.ttf"), size)
    image = Image.new("L", (600, 120), 255)
    baseline = FRAME[1] + dejavu.getmetrics()[0]
    width = font.getlength(text, direction="rtl")
    ImageDraw.Draw(image).text((FRAME[0] + FRAME[2] - width, baseline), text, font=font, fill=0,
                               anchor="ls", direction="rtl")
    return image


def _difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, float) - np.asarray(b, float)).mean())


@pytest.mark.parametrize("text, key", [(ARABIC, "arabic"), (HEBREW, "hebrew")])
def test_right_to_left_lines_match_a_harfbuzz_shaped_reference(text, key):
    ours, reference = _image(text, "left"), _reference(text, key)  # "left" mirrors to right
    unshaped = Image.new("L", (600, 120), 255)  # what was drawn before: logical order, unjoined
    ImageDraw.Draw(unshaped).text((FRAME[0], FRAME[1]), text, fill=0, font=ImageFont.truetype(
        str(FALLBACKS[key][0]), 40, layout_engine=ImageFont.Layout.BASIC))
    assert _difference(ours, reference) < 0.5
    assert _difference(unshaped, reference) > 3 * max(_difference(ours, reference), 0.3)


def _harfbuzz_advances(text: str, key: str, size: float) -> list[float]:
    """Glyph advances in visual order, in points, as HarfBuzz shapes the text right to left."""
    blob = hb.Blob.from_file_path(str(FALLBACKS[key][0]))
    font = hb.Font(hb.Face(blob))
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(font, buffer, {"kern": True, "liga": True})
    scale = size / font.face.upem
    return [p.x_advance * scale for p in buffer.glyph_positions]


@pytest.mark.parametrize("text, key", [(ARABIC, "arabic"), (HEBREW, "hebrew")])
def test_pdf_glyphs_sit_where_harfbuzz_puts_them(text, key):
    frame = renderers.TextFrame("t", FRAME, text, "#000000", "regular", 20, 20, "left")
    spec = renderers.PdfSpec((600, 120), (renderers.Page((frame,)),), renderers.BrandKit("X"))
    result = renderers.Renderer().render(spec)
    assert result.warnings == ()
    with pdfplumber.open(io.BytesIO(result.data)) as pdf:
        chars = sorted(pdf.pages[0].chars, key=lambda c: c["x0"])
    advances = _harfbuzz_advances(text, key, 20)
    assert len(chars) == len(advances)  # one glyph each, joined forms included
    right = FRAME[0] + FRAME[2]  # a right-to-left line starts at the frame's right edge
    expected = np.cumsum([0, *advances])[:-1] + right - sum(advances)
    # within 0.3 pt (1.5% of the em): ReportLab writes kerning as whole 1/1000 em steps
    assert np.allclose([c["x0"] for c in chars], expected, atol=0.3)
    assert all(key[:4].lower() in c["fontname"].lower() for c in chars)


def test_words_of_a_mixed_line_keep_their_own_direction():
    base_rtl, pieces = visual_pieces("Zero Trust مع شريكك 2026")
    assert not base_rtl
    assert [(p.text, p.rtl) for p in pieces] == [
        ("Zero Trust ", False), ("مع شريكك", True), (" ", False), ("2026", False)]
    base_rtl, pieces = visual_pieces("شريكك 2026 Zero")
    assert base_rtl
    assert [p.text for p in pieces] == ["2026 Zero", "شريكك "]  # the space drawn at its left


def _ink_share(image: Image.Image) -> float:
    return float((np.asarray(image.convert("L")) < 128).mean())


def test_cjk_is_drawn_with_noto_not_as_empty_boxes():
    text = "日本語のテキスト"
    ours = _image(text, "left")
    font = ImageFont.truetype(str(FALLBACKS["cjk"][0]), 40, layout_engine=ImageFont.Layout.RAQM)
    dejavu = ImageFont.truetype(str(renderers.fonts.FONT_DIR / "DejaVuSans.ttf"), 40)
    reference, tofu = Image.new("L", (600, 120), 255), Image.new("L", (600, 120), 255)
    baseline = FRAME[1] + dejavu.getmetrics()[0]
    ImageDraw.Draw(reference).text((FRAME[0], baseline), text, font=font, anchor="ls", fill=0)
    ImageDraw.Draw(tofu).text((FRAME[0], baseline), text, font=dejavu, anchor="ls", fill=0)
    assert _difference(ours, reference) < 0.5
    assert _difference(ours, tofu) > 2


def test_cjk_in_a_pdf_is_embedded_in_a_truetype_fallback():
    frame = renderers.TextFrame("t", FRAME, "零信任网络", "#000000", "regular", 20, 20)
    spec = renderers.PdfSpec((600, 120), (renderers.Page((frame,)),), renderers.BrandKit("X"))
    result = renderers.Renderer().render(spec)
    assert result.warnings == ()
    with pdfplumber.open(io.BytesIO(result.data)) as pdf:
        fonts = {c["fontname"].split("+")[-1] for c in pdf.pages[0].chars}
    assert fonts == {"DroidSansFallback"}


def test_emoji_are_drawn_in_colour_in_images():
    image = Image.open(io.BytesIO(renderers.Renderer().render(renderers.ImageSpec(
        (600, 120), renderers.Page((renderers.TextFrame("t", FRAME, "Launch \U0001F680",
                                                        "#000000", size=40, min_size=40),)),
        renderers.BrandKit("X"))).data)).convert("RGB")
    pixels = np.asarray(image, dtype=int)
    colourful = (pixels.max(axis=2) - pixels.min(axis=2)) > 80
    assert colourful.sum() > 200  # the rocket's red and blue, not a black outline box


def _harfbuzz_ltr_advances(text: str, path, size: float) -> list[float]:
    """Glyph advances in points of a text HarfBuzz shapes left to right (digits, CJK)."""
    font = hb.Font(hb.Face(hb.Blob.from_file_path(str(path))))
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    buffer.direction = "ltr"
    hb.shape(font, buffer, {"kern": True, "liga": True})
    return [p.x_advance * size / font.face.upem for p in buffer.glyph_positions]


def _pdf_chars(text: str, size: float = 20):
    frame = renderers.TextFrame("t", FRAME, text, "#000000", "regular", size, size, "left")
    spec = renderers.PdfSpec((600, 120), (renderers.Page((frame,)),), renderers.BrandKit("X"))
    result = renderers.Renderer().render(spec)
    assert result.warnings == ()
    with pdfplumber.open(io.BytesIO(result.data)) as pdf:
        return sorted(pdf.pages[0].chars, key=lambda c: c["x0"])


def test_arabic_indic_digits_read_left_to_right_in_a_pdf():
    # "King Fahd Street 123": the number reads one-two-three from left to right, as in print;
    # HarfBuzz guessed the digits' run right to left and printed 321 before this was fixed.
    chars = _pdf_chars("شارع الملك فهد ١٢٣")
    digits = [c for c in chars if c["text"] in "١٢٣"]
    assert [c["text"] for c in digits] == ["١", "٢", "٣"]
    advances = _harfbuzz_ltr_advances("١٢٣", FALLBACKS["arabic"][0], 20)
    expected = np.cumsum([0, *advances])[:-1] + digits[0]["x0"]
    assert np.allclose([c["x0"] for c in digits], expected, atol=0.3)
    assert digits[-1]["x0"] < min(c["x0"] for c in chars if c["text"] not in "١٢٣ ")  # left of the words


def test_arabic_indic_digits_in_an_image_match_the_harfbuzz_shaped_line():
    text = "شارع الملك فهد ١٢٣"
    assert _difference(_image(text, "left"), _reference(text, "arabic")) < 0.5


def test_cjk_glyphs_in_a_pdf_sit_where_harfbuzz_puts_them():
    text = "零信任网络"
    chars = _pdf_chars(text)
    advances = _harfbuzz_ltr_advances(text, renderers.shaping.PDF_FALLBACKS["cjk"][0], 20)
    assert [c["text"] for c in chars] == list(text)
    expected = np.cumsum([0, *advances])[:-1] + FRAME[0]
    assert np.allclose([c["x0"] for c in chars], expected, atol=0.3)
