"""PDF renderer: embedded fonts, fitted text with overflow reports, QR decoding, determinism."""

from __future__ import annotations

import io

import pdfplumber
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

import renderers

URL = "https://go.example.com/l/Ab3dE9"


def brief_spec(brand, headline="Secure every connection", **page_options):
    """A one-page print spec with every frame kind."""
    frames = (
        renderers.RectFrame("band", (0, 0, 595, 120), "#1f4e79"),
        renderers.LogoFrame("logo", (36, 30, 180, 60)),
        renderers.TextFrame("headline", (36, 150, 523, 80), headline, size=28, min_size=14,
                            font="bold"),
        renderers.TextFrame("greek", (36, 250, 523, 20), "Ασφάλεια · Безопасность · Sécurité"),
        renderers.QrFrame("qr", (440, 600, 120, 120), URL),
        renderers.TextFrame("url", (36, 780, 523, 14), URL, size=8),
    )
    return renderers.PdfSpec((595, 842), (renderers.Page(frames, **page_options),), brand,
                             bleed=8.5, title="Brief")


def test_pdf_embeds_fonts_and_text(renderer, brand):
    result = renderer.render(brief_spec(brand))
    assert result.media_type == "application/pdf" and result.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(result.data))
    text = reader.pages[0].extract_text()
    assert "Secure every connection" in text
    assert "Ασφάλεια" in text and "Безопасность" in text
    fonts = {f["/BaseFont"] for f in _fonts(reader)}
    assert any("DejaVuSans" in name for name in fonts)
    assert _has_embedded(reader)


def _fonts(reader):
    """Font dictionaries used on the first page."""
    resources = reader.pages[0]["/Resources"]["/Font"]
    return [resources[k].get_object() for k in resources]


def _has_embedded(reader) -> bool:
    """Whether some font on page one carries an embedded font program."""
    for font in _fonts(reader):
        descriptor = font.get("/FontDescriptor")
        if descriptor and "/FontFile2" in descriptor.get_object():
            return True
    return False


def test_pdf_has_bleed_and_trim_boxes(renderer, brand):
    page = PdfReader(io.BytesIO(renderer.render(brief_spec(brand)).data)).pages[0]
    assert float(page.mediabox.width) == pytest.approx(595 + 17)
    assert float(page.trimbox.left) == pytest.approx(8.5)
    assert float(page.trimbox.width) == pytest.approx(595)


def test_text_stays_inside_its_frame(renderer, brand):
    long = "Protect patient data on every device in every ward and every clinic " * 2
    data = renderer.render(brief_spec(brand, headline=long)).data
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        frame = (36 + 8.5, 150 + 8.5, 36 + 523 + 8.5 + 1, 150 + 80 + 8.5 + 2)
        words = page.within_bbox(frame).extract_words()
        all_words = page.extract_words()
    assert " ".join(w["text"] for w in words).startswith("Protect patient")
    for word in all_words:
        if word["text"] in ("Protect", "ward"):
            assert 8.5 + 36 - 0.5 <= word["x0"] and word["x1"] <= 8.5 + 36 + 523 + 0.5


def test_overflow_is_reported_not_silent(renderer, brand):
    result = renderer.render(brief_spec(brand, headline="word " * 400))
    assert any("headline" in w and "does not fit" in w for w in result.warnings)
    text = PdfReader(io.BytesIO(result.data)).pages[0].extract_text()
    assert "\u2026" in text


def test_text_that_fits_gives_no_warning(renderer, brand):
    assert renderer.render(brief_spec(brand)).warnings == ()


def test_qr_decodes_to_the_tracked_url(renderer, brand):
    data = renderer.render(brief_spec(brand)).data
    image = pdfium.PdfDocument(data)[0].render(scale=2).to_pil()
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [URL]


def test_same_inputs_same_bytes_across_renderers(brand):
    spec = brief_spec(brand)
    first = renderers.Renderer().render(spec).data
    assert renderers.Renderer().render(spec).data == first


def test_missing_glyphs_and_bidi_marks_are_reported(renderer, brand):
    spec = brief_spec(brand, headline="Partner \u200f\u05e9\u05dc\u05d5\u05dd \u1230\u120b")
    warnings = renderer.render(spec).warnings
    assert any("bidi override marks" in w for w in warnings)
    assert any("no installed font can draw" in w and "\u1230" in w for w in warnings)


def test_low_resolution_logo_warns(renderer, logo_bytes):
    brand = renderers.BrandKit("Tiny", logo=renderers.load_logo(logo_bytes("tiny")))
    warnings = renderer.render(brief_spec(brand)).warnings
    assert any("dpi at its printed size" in w for w in warnings)


def _two_colour_logo(size) -> renderers.Logo:
    """An opaque logo with nothing to trim: red left half, blue right half."""
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, "PNG")
    return renderers.load_logo(out.getvalue())


def _small(renderer, *frames, bleed=10.0, logo=None, background="#00ff00", **options):
    """A 100 x 50 pt page; returns the result and the page drawn at 1 px per point."""
    spec = renderers.PdfSpec((100, 50), (renderers.Page(frames, background_color=background),),
                             renderers.BrandKit("Acme", logo=logo), bleed=bleed, **options)
    result = renderer.render(spec)
    return result, pdfium.PdfDocument(result.data)[0].render(scale=1).to_pil().convert("RGB")


def test_a_rectangle_is_placed_from_the_top_left_of_the_trim_box(renderer):
    _, page = _small(renderer, renderers.RectFrame("r", (10, 5, 20, 10), "#ff0000"))
    assert page.size == (120, 70)  # 10 pt of bleed on each side
    assert page.getpixel((0, 0)) == (0, 255, 0)  # the background colour covers the bleed
    assert page.getpixel((21, 16)) == page.getpixel((38, 23)) == (255, 0, 0)
    for outside in ((18, 16), (42, 16), (21, 13), (21, 27)):
        assert page.getpixel(outside) == (0, 255, 0)


def test_without_bleed_the_page_is_the_trim_size(renderer):
    result, page = _small(renderer, renderers.RectFrame("r", (0, 0, 10, 10), "#ff0000"), bleed=0)
    assert page.size == (100, 50) and page.getpixel((1, 1)) == (255, 0, 0)
    pdf_page = PdfReader(io.BytesIO(result.data)).pages[0]
    assert "/TrimBox" not in pdf_page and "/BleedBox" not in pdf_page


def test_bleed_and_trim_boxes_are_recorded(renderer):
    result, _ = _small(renderer, renderers.RectFrame("r", (0, 0, 10, 10), "#ff0000"))
    pdf_page = PdfReader(io.BytesIO(result.data)).pages[0]
    assert [float(v) for v in pdf_page.trimbox] == [10, 10, 110, 60]
    assert [float(v) for v in pdf_page.bleedbox] == [0, 0, 120, 70]


def test_the_document_is_titled_and_credited(renderer):
    result, _ = _small(renderer, renderers.RectFrame("r", (0, 0, 10, 10), "#ff0000"), title="Brief")
    meta = PdfReader(io.BytesIO(result.data)).metadata
    assert (meta["/Title"], meta["/Author"], meta["/Creator"]) == ("Brief", "Acme", "tcma renderers")
    untitled, _ = _small(renderer, renderers.RectFrame("r", (0, 0, 10, 10), "#ff0000"))
    assert PdfReader(io.BytesIO(untitled.data)).metadata["/Title"] == "Acme"
    assert (result.media_type, result.extension) == ("application/pdf", "pdf")


# The frame spans 20 to 120 pt on the page: 10 pt of bleed, then 10 pt in.
@pytest.mark.parametrize(("align", "left", "right"), [("left", 20, None), ("right", None, 120),
                                                      ("center", 70, 70)])
def test_pdf_text_is_aligned_in_its_frame(renderer, align, left, right):
    frame = renderers.TextFrame("t", (10, 10, 100, 20), "Hi", "#000000", size=12, align=align)
    result, _ = _small(renderer, frame)
    with pdfplumber.open(io.BytesIO(result.data)) as pdf:
        chars = pdf.pages[0].chars
    assert "".join(c["text"] for c in chars) == "Hi"
    assert abs(chars[0]["top"] - 20) < 3  # the first line starts at the frame's top
    if align == "left":
        assert chars[0]["x0"] == pytest.approx(left, abs=0.01)
    elif align == "right":
        assert chars[-1]["x1"] == pytest.approx(right, abs=0.01)
    else:
        assert (chars[0]["x0"] + chars[-1]["x1"]) / 2 == pytest.approx(left, abs=0.01)


def test_pdf_lines_are_one_line_height_apart(renderer):
    frame = renderers.TextFrame("t", (0, 0, 100, 50), "one\ntwo", "#000000", size=10, leading=1.5)
    result, _ = _small(renderer, frame)
    with pdfplumber.open(io.BytesIO(result.data)) as pdf:
        chars = pdf.pages[0].chars
    assert chars[3]["top"] - chars[0]["top"] == pytest.approx(15, abs=0.01)


# Inside 10 pt of bleed and 5 pt of padding the logo has 90 x 40 pt: it is drawn 80 x 40.
@pytest.mark.parametrize(("align", "left"), [("left", 15), ("center", 20), ("right", 25)])
def test_a_pdf_logo_is_fitted_and_aligned_inside_its_padding(renderer, align, left):
    frame = renderers.LogoFrame("logo", (0, 0, 100, 50), "none", align, padding=5)
    result, page = _small(renderer, frame, logo=_two_colour_logo((400, 200)), background="#ffffff")
    ink = Image.eval(page.convert("L"), lambda v: 255 if v < 200 else 0).getbbox()
    assert ink == pytest.approx((left, 15, left + 80, 55), abs=1)  # 80 x 40 pt, centred vertically
    assert result.warnings == ()


def test_a_logo_printed_below_150_dpi_is_reported_with_the_size_to_upload(renderer):
    logo = _two_colour_logo((300, 150))
    result, _ = _small(renderer, renderers.LogoFrame("logo", (0, 0, 146, 74), padding=1),
                       logo=logo)
    assert result.warnings == ()  # 300 px over 2 inches: 150 dpi exactly
    result, _ = _small(renderer, renderers.LogoFrame("logo", (0, 0, 82, 42), padding=1),
                       logo=_two_colour_logo((40, 20)))
    assert result.warnings == ("logo: logo is 36 dpi at its printed size (1.11 in wide); upload at "
                               "least 333 px wide for print",)


def test_a_pdf_without_a_logo_says_the_frame_is_empty(renderer):
    result, _ = _small(renderer, renderers.LogoFrame("badge", (0, 0, 80, 40)))
    assert result.warnings == ("badge: partner has no logo; frame left empty",)


def test_a_printed_qr_code_needs_modules_of_0_4_mm(renderer):
    url = "https://go.example.com/l/abc"  # 29 modules + 8 of quiet zone
    result, _ = _small(renderer, renderers.QrFrame("qr", (0, 0, 42, 42), url))
    assert result.warnings == ()
    result, _ = _small(renderer, renderers.QrFrame("qr", (0, 0, 40, 40), url))
    assert result.warnings == ("qr: the QR code for this link needs 29 modules; in a 40pt frame "
                               "each is 1.08pt, under the 1.13pt phones read reliably (make the "
                               "frame larger)",)


def test_pictures_are_embedded_at_300_ppi_at_their_printed_size(renderer):
    image = Image.new("RGB", (1000, 1000), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, "JPEG")
    picture = renderers.PictureFrame("photo", (0, 0, 72, 36), renderers.Resource("p.jpg", out.getvalue()))
    result, page = _small(renderer, picture)
    embedded = PdfReader(io.BytesIO(result.data)).pages[0].images
    assert [(i.image.width, i.image.height) for i in embedded] == [(300, 150)]
    assert page.getpixel((20, 20)) == pytest.approx((200, 30, 30), abs=8)
