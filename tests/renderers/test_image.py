"""Image renderer: PNG/JPEG, goldens with pixel tolerance, QR decoding, plates, determinism."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image, ImageStat

import renderers

URL = "https://go.example.com/l/card42"


def card_spec(brand, fmt="png", headline="Zero trust for every ward", band="#1f4e79"):
    """A 1200x627 social card with every frame kind."""
    frames = (
        renderers.RectFrame("band", (0, 0, 1200, 200), band),
        renderers.LogoFrame("logo", (60, 40, 320, 120), padding=8),
        renderers.TextFrame("headline", (60, 240, 800, 200), headline, "#1a1a1a", "bold", 64, 30),
        renderers.QrFrame("qr", (940, 330, 220, 220), URL),
    )
    return renderers.ImageSpec((1200, 627), renderers.Page(frames), brand, fmt)


@pytest.mark.parametrize("fmt, media", [("png", "image/png"), ("jpg", "image/jpeg")])
def test_formats_and_qr_decoding(renderer, brand, fmt, media):
    result = renderer.render(card_spec(brand, fmt))
    assert result.media_type == media
    image = Image.open(io.BytesIO(result.data))
    assert image.size == (1200, 627)
    assert [c.text for c in zxingcpp.read_barcodes(image)] == [URL]


def test_card_matches_golden(renderer, brand, assert_golden):
    image = Image.open(io.BytesIO(renderer.render(card_spec(brand)).data))
    assert_golden("renderer-card", image)


def test_golden_comparison_detects_a_change(renderer, brand, assert_golden):
    changed = card_spec(brand, headline="A completely different headline, longer")
    image = Image.open(io.BytesIO(renderer.render(changed).data))
    with pytest.raises(pytest.fail.Exception, match="mean abs diff"):
        assert_golden("renderer-card", image, threshold=0.5, update=False)


def test_same_inputs_same_bytes(brand):
    assert renderers.Renderer().render(card_spec(brand)).data == \
        renderers.Renderer().render(card_spec(brand)).data


def test_plate_appears_only_when_logo_lacks_contrast(renderer, brand):
    def logo_box_mean(band: str) -> float:
        data = renderer.render(card_spec(brand, band=band)).data
        crop = Image.open(io.BytesIO(data)).convert("L").crop((62, 42, 70, 50))
        return ImageStat.Stat(crop).mean[0]
    # dark blue logo on a dark blue band: a light plate shows in the box corner
    assert logo_box_mean("#142850") > 200
    # same logo on white: no plate, the corner stays the band colour
    assert logo_box_mean("#ffffff") == pytest.approx(255, abs=1)
    assert logo_box_mean("#f0c000") < 200


def test_text_overflow_reported(renderer, brand):
    result = renderer.render(card_spec(brand, headline="overflow " * 200))
    assert any("headline" in w and "does not fit" in w for w in result.warnings)


def test_enlarged_tiny_logo_warns(renderer, logo_bytes):
    brand = renderers.BrandKit("T", logo=renderers.load_logo(logo_bytes("tiny")))
    assert any("enlarged" in w for w in renderer.render(card_spec(brand)).warnings)


def test_background_picture_is_cropped_to_cover(renderer, brand):
    photo = Image.new("RGB", (4000, 1000), (200, 30, 30))
    out = io.BytesIO()
    photo.save(out, "JPEG")
    page = renderers.Page((), background=renderers.Resource("photo.jpg", out.getvalue()))
    spec = renderers.ImageSpec((300, 300), page, brand, "png")
    image = Image.open(io.BytesIO(renderer.render(spec).data)).convert("RGB")
    assert image.size == (300, 300)
    r, g, b = image.getpixel((5, 5))
    assert r > 180 and g < 60


def _image(*frames):
    return renderers.ImageSpec((400, 300), renderers.Page(tuple(frames)), renderers.BrandKit("Acme"))


def test_a_qr_code_too_small_to_scan_is_reported(renderer):
    url = "https://go.example.com/l/" + "a" * 40
    small = renderer.render(_image(renderers.QrFrame("qr", (10, 10, 40, 40), url)))
    assert small.warnings == ("qr: the QR code for this link needs 37 modules; in a 40px frame "
                              "each is 0.89px, under the 2px phones read reliably (make the "
                              "frame larger)",)
    large = renderer.render(_image(renderers.QrFrame("qr", (10, 10, 200, 200), url)))
    assert large.warnings == ()


def test_text_in_a_frame_too_short_for_one_line_is_reported_as_empty(renderer):
    spec = _image(renderers.TextFrame("title", (10, 10, 300, 5), "Hello", size=20, min_size=12))
    assert renderer.render(spec).warnings == (
        "title: not even one line fits the frame at 12px; the frame is empty (make the frame "
        "taller or the minimum size smaller)",)
