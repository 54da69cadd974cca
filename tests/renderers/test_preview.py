"""Previews: a spec drawn small and fast as PNG (a PDF's page, an image, an email's top)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import renderers


def pdf_spec(brand):
    frames = (renderers.RectFrame("band", (-8.5, -8.5, 612, 100), "#1f4e79"),
              renderers.TextFrame("headline", (36, 150, 523, 80), "Secure every connection",
                                  size=28, min_size=14, font="bold"),
              renderers.RectFrame("hairline", (36, 300, 523, 0.5), "#d0d5dd"),
              renderers.QrFrame("qr", (440, 600, 120, 120), "https://go.example.com/l/Ab3dE9"))
    return renderers.PdfSpec((595.28, 841.89), (renderers.Page(frames), renderers.Page(frames)),
                             brand, bleed=8.5)


def test_a_pdf_page_previews_at_the_asked_width_keeping_its_proportions(renderer, brand):
    result = renderer.preview(pdf_spec(brand), 240)
    image = Image.open(io.BytesIO(result.data))
    assert result.media_type == "image/png" and image.size == (240, round(841.89 * 240 / 595.28))
    assert image.getpixel((120, 10))[:3] == (0x1f, 0x4e, 0x79)  # the band, bleed cut off
    assert result.warnings == ()  # the QR's module size is judged on the real output only


def test_an_email_previews_its_header_hero_and_subject(renderer, brand):
    spec = renderers.EmailSpec("<mjml></mjml>", "", "Zero trust in weeks", (), brand,
                               preheader="Book a review")
    image = Image.open(io.BytesIO(renderer.preview(spec, 300).data))
    assert image.width == 300
    header = image.getpixel((280, 5))[:3]
    assert header == (0x1f, 0x4e, 0x79)  # the partner's colour: white text reads on it


def test_an_email_preview_uses_the_header_colour_the_email_has(renderer, brand):
    spec = renderers.EmailSpec("<mjml></mjml>", "", "Zero trust in weeks", (), brand,
                               preheader="Book a review", header_color="#ffffff")
    image = Image.open(io.BytesIO(renderer.preview(spec, 300).data))
    assert image.getpixel((280, 5))[:3] == (255, 255, 255)


@pytest.mark.parametrize("width", [8, 2000])
def test_a_preview_width_out_of_range_is_refused(renderer, brand, width):
    with pytest.raises(renderers.RenderError) as refused:
        renderer.preview(pdf_spec(brand), width)
    assert str(refused.value) == f"a preview is 16 to 1600 pixels wide, not {width}"


def test_a_post_has_no_preview_picture(renderer):
    with pytest.raises(renderers.RenderError) as refused:
        renderer.preview(renderers.PostSpec("mastodon", "Hello"))
    assert str(refused.value) == "a post has no picture of its own to preview (show its text)"


def test_something_not_a_spec_cannot_be_previewed(renderer):
    with pytest.raises(renderers.RenderError) as refused:
        renderer.preview("not a spec")
    assert str(refused.value) == "cannot preview str"
