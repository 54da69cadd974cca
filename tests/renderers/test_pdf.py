"""PDF renderer: embedded fonts, fitted text with overflow reports, QR decoding, determinism."""

from __future__ import annotations

import io

import pdfplumber
import pypdfium2 as pdfium
import pytest
import zxingcpp
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
    spec = brief_spec(brand, headline="Partner \u200f\u05e9\u05dc\u05d5\u05dd \u4f60\u597d")
    warnings = renderer.render(spec).warnings
    assert any("right-to-left marks" in w for w in warnings)
    assert any("without a glyph" in w and "\u4f60" in w for w in warnings)


def test_low_resolution_logo_warns(renderer, logo_bytes):
    brand = renderers.BrandKit("Tiny", logo=renderers.load_logo(logo_bytes("tiny")))
    warnings = renderer.render(brief_spec(brand)).warnings
    assert any("dpi at its printed size" in w for w in warnings)
