"""Logos as partners upload them: every case loads, trims, fits, gets a plate when needed."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

import renderers
from renderers.logos import LIGHT_PLATE, choose_plate, measure_ink

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
    ink = measure_ink(logo)
    assert choose_plate(logo, ink, (20, 20, 30), "auto") == LIGHT_PLATE
    assert choose_plate(logo, ink, (250, 250, 250), "auto") is None
    on_white = renderers.load_logo(logo_bytes("jpeg-on-white"))
    assert choose_plate(on_white, measure_ink(on_white), (20, 20, 30), "auto") is None


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (the decompression-bomb shape)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.4 not a logo", "not a readable image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a readable image"),
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
