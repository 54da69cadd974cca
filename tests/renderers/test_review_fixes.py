"""Cases found in review: right-to-left text, 16-bit and damaged logos, post counting, emails."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import campaigns
import renderers
from renderers import LogoError, load_logo, post_length
from renderers.fonts import clean_text, covered_characters


def test_hebrew_and_arabic_text_is_reported_as_unshaped():
    for text in ("שלום עולם", "مرحبا بالعالم"):
        _, warnings = clean_text(text, covered_characters())
        assert any("right-to-left" in w for w in warnings)
    assert clean_text("Hello, Κόσμε, мир", covered_characters())[1] == ()


def test_a_16_bit_greyscale_logo_keeps_its_shades():
    image = Image.new("I;16", (300, 100), 65535)
    image.paste(10000, (50, 20, 250, 80))
    out = io.BytesIO()
    image.save(out, "PNG")
    source_darkest = Image.open(io.BytesIO(out.getvalue())).getextrema()[0]
    logo = load_logo(out.getvalue())
    darkest = logo.image.convert("L").getextrema()[0]
    assert 0 < source_darkest < 65535 and darkest == source_darkest // 257  # scaled, not clipped


def test_a_damaged_webp_is_refused_with_a_clear_message():
    with pytest.raises(LogoError, match="damaged"):
        load_logo(b"RIFF\x10\x00\x00\x00WEBPVP8 \x00\x00\x00\x00")


@pytest.mark.parametrize(("text", "expected"), [
    ("HTTPS://A.CO/abc", 23),
    ("go https://a.co/x.", 3 + 23 + 1),
    ("🇩🇪", 2),
])
def test_x_counts_links_and_emoji_as_x_does(text, expected):
    assert post_length("x", text) == expected


def test_mastodon_counts_graphemes_and_short_mentions():
    assert post_length("mastodon", "👨‍👩‍👧") == 1
    assert post_length("mastodon", "hi @alice@example.social") == len("hi @alice")


def test_an_email_needs_the_partners_postal_address():
    catalogue = campaigns.load_catalogue(__import__("pathlib").Path(__file__).parents[2] / "templates")
    profile = campaigns.PartnerProfile("Acme", "acme", "gold", "healthcare", "emea", "en",
                                       renderers.BrandKit("Acme", address=""))
    request = campaigns.resolve_request(catalogue["newsletter"], profile, "email",
                                        unsubscribe_url="https://go.example.com/u/1",
                                        pixel_url="https://go.example.com/o/1.gif")
    with pytest.raises(renderers.RenderError, match="postal address"):
        renderers.Renderer().render(request.spec)


def test_field_names_that_clash_with_the_render_context_are_refused(tmp_path):
    from campaigns.fields import parse_field

    for name in ("partner", "links", "my-note", "Subject"):
        with pytest.raises(campaigns.TemplateError, match="field name"):
            parse_field(name, {"type": "text"}, "manifest.toml")


def _image(*frames):
    return renderers.ImageSpec((400, 300), renderers.Page(tuple(frames)), renderers.BrandKit("Acme"))


def test_a_qr_code_too_small_to_scan_is_reported():
    url = "https://go.example.com/l/" + "a" * 40
    small = renderers.Renderer().render(_image(renderers.QrFrame("qr", (10, 10, 40, 40), url)))
    assert any("qr: the QR code" in w and "make the frame larger" in w for w in small.warnings)
    large = renderers.Renderer().render(_image(renderers.QrFrame("qr", (10, 10, 200, 200), url)))
    assert not any("QR" in w for w in large.warnings)


def test_text_in_a_frame_too_short_for_one_line_is_reported_as_empty():
    spec = _image(renderers.TextFrame("title", (10, 10, 300, 5), "Hello", size=20, min_size=12))
    result = renderers.Renderer().render(spec)
    assert any("title: not even one line fits" in w for w in result.warnings)
