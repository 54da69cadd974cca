"""Image renderer: PNG/JPEG, goldens with pixel tolerance, QR decoding, plates, determinism."""

from __future__ import annotations

import dataclasses
import io

import pytest
import zxingcpp
from PIL import Image

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


def test_the_logo_variant_follows_the_band_behind_it(renderer, brand):
    def logo_ink(band: str) -> tuple[int, int, int]:
        data = renderer.render(card_spec(brand, band=band)).data
        crop = Image.open(io.BytesIO(data)).convert("RGB").crop((60, 40, 380, 160))
        colours = sorted(crop.getcolors(320 * 120), reverse=True)
        return colours[1][1]  # the most common colour after the band: the logo's ink
    # the partner's blue logo on white as it is; on dark navy its derived white version
    assert logo_ink("#ffffff")[2] > 150 > logo_ink("#ffffff")[0]
    assert min(logo_ink("#142850")) > 240


def test_a_plate_appears_when_no_variant_reads(renderer, brand):
    # The partner gave both logos, and both are dark blue: on a dark band only a plate helps.
    own = dataclasses.replace(brand, logo_dark=brand.logo)
    data = renderer.render(card_spec(own, band="#142850")).data
    image = Image.open(io.BytesIO(data)).convert("RGB")
    # The wide logo fits 304x74 inside 8 px padding: the plate is 320x90, centred in the frame.
    assert image.getpixel((62, 100)) == (255, 255, 255)  # the light plate left of the mark
    assert image.getpixel((200, 50)) == (20, 40, 80)  # above it: the band


def test_text_overflow_reported(renderer, brand):
    result = renderer.render(card_spec(brand, headline="overflow " * 200))
    assert any("headline" in w and "does not fit" in w for w in result.warnings)


def test_warnings_alone_are_those_of_the_render_for_every_kind_of_spec(renderer, brand, logo_bytes):
    tiny = renderers.BrandKit("T", logo=renderers.load_logo(logo_bytes("tiny")))
    url = "https://go.example.com/l/" + "a" * 40
    specs = [card_spec(brand, headline="overflow " * 200), card_spec(tiny),
             _image(renderers.QrFrame("qr", (10, 10, 40, 40), url)), card_spec(brand, fmt="jpg")]
    for spec in specs:
        assert renderer.warnings(spec) == renderer.render(spec).warnings
    assert [len(renderer.warnings(spec)) > 0 for spec in specs] == [True, True, True, False]


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


def _two_colour_logo(size) -> renderers.Logo:
    """An opaque logo with nothing to trim: red left half, blue right half."""
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, "PNG")
    return renderers.load_logo(out.getvalue())


def _draw(renderer, size, *frames, logo=None, background="#ffffff"):
    spec = renderers.ImageSpec(size, renderers.Page(tuple(frames), background_color=background),
                               renderers.BrandKit("Acme", logo=logo))
    result = renderer.render(spec)
    return Image.open(io.BytesIO(result.data)).convert("RGB"), result.warnings


def test_a_rectangle_fills_exactly_its_box(renderer):
    image, warnings = _draw(renderer, (50, 40), renderers.RectFrame("r", (10, 5, 20, 10), "#ff0000"),
                            background="#00ff00")
    assert warnings == ()
    assert image.getpixel((10, 5)) == image.getpixel((29, 14)) == (255, 0, 0)
    for outside in ((9, 5), (30, 14), (29, 15), (10, 4)):
        assert image.getpixel(outside) == (0, 255, 0)


@pytest.mark.parametrize(("align", "left", "padding"), [
    ("left", 6, 0), ("center", 62, 0), ("right", 118, 0), ("left", 5, 5), ("right", 115, 5)])
def test_a_logo_is_fitted_aligned_and_centred_vertically(renderer, align, left, padding):
    frame = renderers.LogoFrame("logo", (0, 0, 200, 50), "none", align, padding)
    image, warnings = _draw(renderer, (200, 50), frame, logo=_two_colour_logo((200, 100)))
    # No padding given: 12% of the frame's short side (6 px), the same for every partner.
    width, height = (76, 38) if not padding else (80, 40)
    top = (50 - height) // 2
    assert warnings == ()
    ink = Image.eval(image.convert("L"), lambda v: 255 if v < 250 else 0).getbbox()
    assert ink == (left, top, left + width, top + height)


def test_a_missing_logo_leaves_the_frame_empty_and_says_so(renderer):
    image, warnings = _draw(renderer, (100, 50), renderers.LogoFrame("badge", (0, 0, 100, 50)))
    assert warnings == ("badge: partner has no logo; frame left empty",)
    assert image.getextrema() == ((255, 255), (255, 255), (255, 255))


def test_a_logo_enlarged_more_than_twice_is_reported(renderer):
    logo = _two_colour_logo((40, 20))
    frame = renderers.LogoFrame("logo", (0, 0, 82, 100), padding=1)
    _, warnings = _draw(renderer, (100, 100), frame, logo=logo)
    assert warnings == ()  # exactly twice: 80 px wide inside 1 px padding
    frame = renderers.LogoFrame("logo", (0, 0, 86, 100), padding=1)
    _, warnings = _draw(renderer, (100, 100), frame, logo=logo)
    assert warnings == ("logo: logo is 40x20 px and is enlarged 2.1x; it may look blurry",)


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_text_is_aligned_in_its_box(renderer, align):
    frame = renderers.TextFrame("t", (10, 10, 180, 30), "Hi", "#000000", size=20, align=align)
    image, warnings = _draw(renderer, (200, 50), frame)
    assert warnings == ()
    left, top, right, _ = Image.eval(image.convert("L"), lambda v: 255 if v < 128 else 0).getbbox()
    assert top >= 10
    if align == "left":
        assert 10 <= left <= 13
    elif align == "right":
        assert 187 <= right <= 190
    else:
        assert abs((left + right) / 2 - 100) <= 2


def test_repeated_warnings_are_given_once(renderer):
    url = "https://go.example.com/l/" + "a" * 40
    qr = renderers.QrFrame("qr", (0, 0, 40, 40), url)
    _, warnings = _draw(renderer, (100, 50), qr, qr)
    assert len(warnings) == 1 and warnings[0].startswith("qr: the QR code for this link needs")


def test_an_unknown_image_format_is_refused(renderer, brand):
    with pytest.raises(renderers.RenderError) as refused:
        renderer.render(card_spec(brand, "gif"))
    assert str(refused.value) == "image format must be png or jpg, not 'gif'"


def test_png_and_jpeg_results_name_their_type(renderer, brand):
    png = renderer.render(card_spec(brand, "png"))
    jpg = renderer.render(card_spec(brand, "jpg"))
    assert (png.media_type, png.extension, png.data[:4]) == ("image/png", "png", b"\x89PNG")
    assert (jpg.media_type, jpg.extension, jpg.data[:3]) == ("image/jpeg", "jpg", b"\xff\xd8\xff")


def test_a_picture_covers_exactly_its_box(renderer):
    photo = Image.new("RGB", (400, 100), (200, 30, 30))
    out = io.BytesIO()
    photo.save(out, "PNG")
    frame = renderers.PictureFrame("photo", (10, 5, 40, 20), renderers.Resource("p.png", out.getvalue()))
    image, warnings = _draw(renderer, (60, 30), frame, background="#00ff00")
    assert warnings == ()
    assert image.getpixel((10, 5)) == image.getpixel((49, 24)) == (200, 30, 30)
    assert image.getpixel((9, 5)) == image.getpixel((50, 24)) == image.getpixel((10, 25)) == (0, 255, 0)


def test_a_plate_hugs_the_logo_with_even_padding_and_round_corners(renderer):
    logo = renderers.load_logo(_white_mark())
    frame = renderers.LogoFrame("logo", (10, 10, 120, 60), "dark", "center", 10)
    image, _ = _draw(renderer, (140, 80), frame, logo=logo)
    # The 160x60 mark fits 100x37.5; the plate is 10 px around it, centred, corners rounded.
    plate = Image.eval(image.convert("L"), lambda v: 255 if v < 100 else 0).getbbox()
    assert plate == (10, 11, 130, 69)
    assert image.getpixel((10, 11)) == (255, 255, 255)  # a rounded corner
    assert image.getpixel((70, 15)) == (34, 34, 34)  # padding above the mark


def _white_mark() -> bytes:
    image = Image.new("RGBA", (200, 100))
    image.paste((250, 250, 250, 255), (20, 20, 180, 80))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_jpeg_quality_is_the_specs(renderer, brand):
    low = renderer.render(dataclasses.replace(card_spec(brand, "jpg"), jpeg_quality=40)).data
    high = renderer.render(dataclasses.replace(card_spec(brand, "jpg"), jpeg_quality=95)).data
    assert len(high) > len(low) * 1.5


def test_a_logo_that_cannot_reach_3_to_1_is_reported(renderer):
    # The partner gave both logos, both white, and the template forces a light plate.
    white = renderers.load_logo(_white_mark())
    spec = renderers.ImageSpec((140, 80), renderers.Page((renderers.LogoFrame(
        "logo", (10, 10, 120, 60), "light"),)), renderers.BrandKit("A", logo=white,
                                                                  logo_dark=white))
    assert renderer.render(spec).warnings == (
        "logo: the logo reaches only 1.0:1 contrast against what is behind it (at least 3:1 is "
        "needed); upload a logo for light and one for dark backgrounds",)
