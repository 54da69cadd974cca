"""Logos as partners upload them: every case loads, trims, fits, gets a plate when needed."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

import renderers
from renderers.logos import (
    LIGHT_PLATE,
    contrast_ratio,
    fit_size,
    luminance,
    measure_ink,
    scaled_logo,
)
from renderers.placement import Backdrop, choose_logo, logo_contrast, logo_variants

LOGO_CASES = ("png-alpha", "png-opaque", "jpeg-on-white", "very-wide", "very-tall", "tiny",
              "huge", "cmyk-jpeg", "palette-png")


@pytest.mark.parametrize("case", LOGO_CASES)
def test_every_upload_case_loads_trimmed(case, logo_bytes):
    data = logo_bytes(case)
    logo = renderers.load_logo(data)
    original = Image.open(io.BytesIO(data))
    assert logo.image.mode == "RGBA"
    assert logo.width < original.width or logo.height < original.height  # margins trimmed
    assert logo.image.getbbox() is not None


@pytest.mark.parametrize("case", LOGO_CASES)
def test_every_case_fits_its_box_keeping_aspect(case, logo_bytes, renderer):
    logo = renderers.load_logo(logo_bytes(case))
    page = renderers.Page((renderers.LogoFrame("logo", (10, 10, 200, 80)),))
    spec = renderers.ImageSpec((220, 100), page, renderers.BrandKit("P", logo=logo))
    image = Image.open(io.BytesIO(renderer.render(spec).data)).convert("RGB")
    box = Image.eval(image, lambda v: 255 - v).getbbox()  # ink on white
    assert box[0] >= 10 and box[1] >= 10 and box[2] <= 210 and box[3] <= 90
    drawn = (box[2] - box[0]) / (box[3] - box[1])
    assert drawn == pytest.approx(logo.width / logo.height, rel=0.2)


def test_cmyk_and_palette_colours_survive(logo_bytes):
    for case in ("cmyk-jpeg", "palette-png"):
        logo = renderers.load_logo(logo_bytes(case))
        r, g, b, _ = logo.image.getpixel((logo.width // 2, logo.height // 2))
        assert b > 100 and r < 90, case  # the blue ink, not inverted


def test_transparent_logo_keeps_alpha_and_jpeg_gets_backing(logo_bytes):
    assert renderers.load_logo(logo_bytes("png-alpha")).has_alpha
    jpeg = renderers.load_logo(logo_bytes("jpeg-on-white"))
    assert not jpeg.has_alpha and jpeg.backing is not None and min(jpeg.backing) > 240


def test_low_contrast_logo_gets_a_plate_measured(logo_bytes):
    dark = Image.new("RGBA", (400, 120))
    dark.paste((30, 30, 40, 255), (20, 20, 380, 100))
    out = io.BytesIO()
    dark.save(out, "PNG")
    logo = renderers.load_logo(out.getvalue())
    only_this_one = (logo, logo)  # as in an email: only the stored file can be shown
    navy, white = Backdrop.solid((20, 20, 30)), Backdrop.solid((250, 250, 250))
    on_navy = choose_logo(only_this_one, navy)
    assert on_navy.plate == LIGHT_PLATE and on_navy.contrast >= 3
    assert choose_logo(only_this_one, white).plate is None
    derived = choose_logo(logo_variants(logo, None), navy)  # a white version reads on navy
    assert (derived.variant, derived.plate) == ("dark", None) and derived.contrast >= 3


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (the decompression-bomb shape)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.4 not a logo", "PDF logo cannot be read"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "logo is empty"),
    (b"GIF89a-not-really", "not a readable image"),
    (b"", "empty"),
    (_png_header(8000, 6000), "possible decompression bomb"),
    (_png_header(60000, 60000), "decompression bomb"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (11 * 1024 * 1024), "the limit is"),
])
def test_refuses_bad_uploads_with_clear_errors(data, message):
    with pytest.raises(renderers.LogoError, match=message):
        renderers.load_logo(data)


def test_truncated_image_is_refused(logo_bytes):
    with pytest.raises(renderers.LogoError, match="damaged or truncated"):
        renderers.load_logo(logo_bytes("png-alpha")[:400])


def test_fully_transparent_logo_is_refused():
    out = io.BytesIO()
    Image.new("RGBA", (50, 50)).save(out, "PNG")
    with pytest.raises(renderers.LogoError, match="empty"):
        renderers.load_logo(out.getvalue())


def test_a_16_bit_greyscale_logo_keeps_its_shades():
    image = Image.new("I;16", (300, 100), 65535)
    image.paste(Image.new("I;16", (200, 60), 16 * 257), (50, 20))
    out = io.BytesIO()
    image.save(out, "PNG")
    logo = renderers.load_logo(out.getvalue())
    assert logo.image.convert("L").getextrema()[0] == 16  # scaled by 1/257, not clipped to 0


def test_a_damaged_webp_is_refused_with_a_clear_message():
    with pytest.raises(renderers.LogoError, match="damaged"):
        renderers.load_logo(b"RIFF\x10\x00\x00\x00WEBPVP8 \x00\x00\x00\x00")


@pytest.mark.parametrize(("case", "alpha", "backing", "source"), [
    ("png-alpha", True, None, "PNG"),
    ("png-opaque", False, (255, 255, 255), "PNG"),
    ("jpeg-on-white", False, (255, 255, 255), "JPEG"),
])
def test_margins_are_trimmed_to_the_marks(logo_bytes, case, alpha, backing, source):
    # The test logo's disc starts 45 px in and its bar ends at 1155: 1111 x 271 of ink.
    logo = renderers.load_logo(logo_bytes(case))
    assert (logo.width, logo.height, logo.has_alpha, logo.backing, logo.source_format) == (
        1111, 271, alpha, backing, source)
    assert logo.image.size == (1111, 271)


def test_an_opaque_logo_whose_corners_differ_is_kept_whole():
    image = Image.new("RGB", (100, 50), (255, 0, 0))
    image.paste((0, 0, 255), (50, 0, 100, 50))
    logo = renderers.load_logo(_encode(image, "PNG"))
    assert (logo.width, logo.height, logo.has_alpha, logo.backing) == (100, 50, True, None)


def test_gif_and_webp_are_accepted_and_bmp_is_not():
    image = Image.new("RGB", (60, 30), (255, 255, 255))
    image.paste((0, 0, 0), (10, 10, 50, 20))
    for fmt in ("GIF", "WEBP"):
        assert renderers.load_logo(_encode(image, fmt)).source_format == fmt
    with pytest.raises(renderers.LogoError) as refused:
        renderers.load_logo(_encode(image, "BMP"))
    assert str(refused.value) == ("logo format BMP is not accepted: upload an SVG, PNG, JPEG, "
                                  "WebP or PDF file")


def test_size_limits_are_inclusive_and_their_messages_give_the_numbers():
    data = _encode(_bar((100, 50)), "PNG")
    assert renderers.load_logo(data, max_bytes=len(data), max_pixels=5000).width == 100
    with pytest.raises(renderers.LogoError) as refused:
        renderers.load_logo(data, max_pixels=4999)
    assert str(refused.value) == ("logo is 100x50 pixels, over the limit of 4,999 pixels "
                                  "(possible decompression bomb)")
    with pytest.raises(renderers.LogoError) as refused:
        renderers.load_logo(b"\x89PNG" + b"\0" * 1_499_996, max_bytes=1_000_000)
    assert str(refused.value) == "logo file is 1.5 MB; the limit is 1.0 MB"
    with pytest.raises(renderers.LogoError) as refused:
        renderers.load_logo(b"")
    assert str(refused.value) == "logo file is empty"
    with pytest.raises(renderers.LogoError) as refused:
        renderers.load_logo(_png_header(8000, 6000))
    assert str(refused.value) == ("logo is 8000x6000 pixels, over the limit of 8,000,000 pixels "
                                  "(possible decompression bomb)")


def test_unreadable_and_empty_logos_are_refused_with_the_partners_next_step():
    with pytest.raises(renderers.LogoError) as refused:
        renderers.load_logo(b"\x00\x01 not a logo")
    assert str(refused.value) == ("logo is not a readable image: upload an SVG, PNG, JPEG, WebP "
                                  "or PDF file")
    with pytest.raises(renderers.LogoError) as refused:
        renderers.load_logo(_encode(Image.new("RGB", (40, 40), (255, 255, 255)), "PNG"))
    assert str(refused.value) == "logo is empty: every pixel is transparent or background"


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(("rgb", "expected"), [
    ((255, 255, 255), 1.0), ((0, 0, 0), 0.0), ((128, 128, 128), 0.21586050011389923),
    ((10, 10, 10), 0.003035269835488375),  # the last level on the linear part of sRGB
    ((11, 11, 11), 0.0033465357638991604),
    ((255, 0, 0), 0.2126), ((0, 255, 0), 0.7152), ((0, 0, 255), 0.0722),
])
def test_luminance_follows_wcag(rgb, expected):
    assert luminance(rgb) == pytest.approx(expected)


def test_contrast_ratio_is_symmetric_and_21_for_black_on_white():
    assert contrast_ratio(1.0, 0.0) == contrast_ratio(0.0, 1.0) == pytest.approx(21.0)
    assert contrast_ratio(0.5, 0.5) == 1.0


@pytest.mark.parametrize(("background", "text"), [
    ("#ffffff", "#1a1a1a"), ("#888888", "#1a1a1a"), ("#777777", "#ffffff"), ("#000000", "#ffffff"),
    ("#f2a900", "#1a1a1a"), ("#1f4e79", "#ffffff"),
    ("#007eff", "#1a1a1a"), ("#007e00", "#ffffff"),  # the blue channel tips the balance
])
def test_text_on_a_colour_is_near_black_or_white_whichever_reads_better(background, text):
    assert renderers.readable_on(background) == text


def test_a_plate_can_be_forced_or_refused(logo_bytes):
    variants = logo_variants(renderers.load_logo(logo_bytes("png-alpha")), None)
    black, white = Backdrop.solid((0, 0, 0)), Backdrop.solid((255, 255, 255))
    assert choose_logo(variants, black, "none").plate is None
    assert choose_logo(variants, black, "light").plate == (255, 255, 255)
    assert choose_logo(variants, white, "dark").plate == (34, 34, 34)


def test_a_white_logo_on_white_gets_its_derived_dark_version_not_a_plate():
    image = Image.new("RGBA", (200, 100))
    image.paste((250, 250, 250, 255), (20, 20, 180, 80))
    variants = logo_variants(renderers.load_logo(_encode(image, "PNG")), None)
    on_white = choose_logo(variants, Backdrop.solid((255, 255, 255)))
    assert (on_white.variant, on_white.plate) == ("light", None)
    assert on_white.logo.image.getpixel((80, 30))[:3] == (26, 26, 26)  # one-colour near-black
    on_dark = choose_logo(variants, Backdrop.solid((30, 30, 30)))
    assert (on_dark.variant, on_dark.plate) == ("dark", None)
    assert on_dark.logo.image.getpixel((80, 30)) == (250, 250, 250, 255)  # the partner's own


def test_an_opaque_logo_loses_its_own_background_only_where_it_meets_the_edge(logo_bytes):
    logo = renderers.load_logo(logo_bytes("jpeg-on-white"))
    light, _ = logo_variants(logo, None)
    assert light.image.getpixel((0, 0))[3] == 0  # the white JPEG backing is gone
    assert logo_contrast(measure_ink(light), Backdrop.solid((255, 255, 255))) >= 3


def test_a_logo_fits_its_box_by_the_tighter_side():
    logo = renderers.load_logo(_encode(_bar((200, 100)), "PNG"))
    assert (logo.width, logo.height) == (200, 100)
    assert fit_size(logo, (100, 100)) == (100, 50)
    assert fit_size(logo, (400, 100)) == (200, 100)


def test_a_scaled_logo_has_the_exact_size_asked():
    logo = renderers.load_logo(_encode(_bar((1000, 500)), "PNG"))
    for size in ((1000, 500), (300, 150), (99, 49), (2000, 1000)):
        assert scaled_logo(logo, size).size == size
    assert scaled_logo(logo, (1000, 500)) is not logo.image  # a copy the caller may draw on


def _bar(size):
    """An opaque logo with nothing to trim: red left half, blue right half."""
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    return image


def test_an_opaque_logos_ink_is_its_marks_not_its_background(logo_bytes):
    transparent = measure_ink(renderers.load_logo(logo_bytes("png-alpha")))
    opaque = measure_ink(renderers.load_logo(logo_bytes("png-opaque")))
    assert opaque.total == pytest.approx(transparent.total, rel=0.05)  # white not counted
