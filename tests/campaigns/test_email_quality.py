"""The shipped emails as a reader gets them: AA contrast for any brand colour, language, links,
the logo on its header, dark mode, and a complete .eml."""

from __future__ import annotations

import base64
import colorsys
import email
import io
import re
import shutil
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

import campaigns
import renderers
from campaigns.template import load_template

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

EMAILS = ["newsletter", "event-invitation"]
PAGE, CARD, WHITE = "#f4f5f7", "#ffffff", "#ffffff"


EVENT = {"event_date": "Thursday, 12 March, 08:30", "venue": "Harbour Centre\nDock Road 4, Hamburg"}


def fields_for(slug: str) -> dict[str, str]:
    """The fields only a partner can give (an event's date and venue), for the event templates."""
    return dict(EVENT) if slug.startswith("event-") else {}


def partner_colours(count=30):
    """Brand colours across hues, lightness and saturation, the awkward mid-tones included."""
    colours = []
    for i in range(count):
        hue, light, sat = (i * 0.137) % 1, 0.25 + (i % 6) * 0.1, 0.45 + (i % 4) * 0.18
        colours.append("#" + "".join(f"{round(c * 255):02x}"
                                     for c in colorsys.hls_to_rgb(hue, light, min(sat, 1))))
    return colours


def contrast(a: str, b: str) -> float:
    """WCAG ratio, computed here from the formula (not the renderer's own function)."""
    def lum(color):
        def channel(v):
            v = int(v, 16) / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        r, g, b = (channel(color[i:i + 2]) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((lum(a), lum(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


class Links(HTMLParser):
    """Every link's href, inline style and text."""

    def __init__(self):
        super().__init__()
        self.links, self._open = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open = [dict(attrs).get("href"), dict(attrs).get("style") or "", ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[2] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            self.links.append(tuple(self._open))
            self._open = None


def style_value(style: str, name: str) -> str:
    return re.search(rf"(?:^|;)\s*{name}:\s*(#[0-9a-fA-F]{{6}})", style).group(1).lower()


def render(catalogue, renderer, profile, slug, **brand):
    request = campaigns.resolve_request(
        catalogue[slug], profile(**brand), "email", fields=fields_for(slug),
        link_for=lambda n, u, c: f"https://go.example.com/l/{n}",
        unsubscribe_url="https://go.example.com/u/1")
    return renderer.render(request.spec)


@pytest.mark.parametrize("slug", EMAILS)
def test_buttons_headlines_and_links_meet_wcag_aa_for_30_brand_colours(catalogue, renderer,
                                                                      profile, slug):
    for primary in partner_colours():
        html = render(catalogue, renderer, profile, slug, primary=primary).data.decode()
        parser = Links()
        parser.feed(html)
        button = next(s for h, s, t in parser.links if "background" in s)
        assert contrast(style_value(button, "color"), style_value(button, "background")) >= 4.5, primary
        for href, style, text in parser.links:
            if "background" not in style:
                back = PAGE if "/u/" in href else CARD
                assert contrast(style_value(style, "color"), back) >= 4.5, (primary, text)
        headline = re.search(r'class="headline".*?color:(#[0-9a-f]{6})', html, re.S).group(1)
        assert contrast(headline, WHITE) >= 4.5, primary
        for muted in re.findall(r"font-size:13px;line-height:1.5;text-align:left;color:(#[0-9a-f]{6})",
                                html):
            assert contrast(muted, PAGE) >= 4.5, primary


@pytest.mark.parametrize("slug", EMAILS)
@pytest.mark.parametrize("locale, lang, direction", [("de-DE", "de-DE", "ltr"),
                                                     ("fr-FR", "fr-FR", "ltr"),
                                                     ("en-GB", "en-GB", "ltr"),
                                                     ("ar", "en", "ltr")])
def test_lang_and_direction_come_from_the_locale(catalogue, renderer, profile, slug, locale,
                                                 lang, direction):
    # A locale the template is not translated to gets the template's own language: an
    # English email never claims to be Arabic (nor is laid out right to left).
    result = render(catalogue, renderer, profile, slug, locale=locale)
    assert f'<html lang="{lang}" dir="{direction}"' in result.data.decode()
    message = email.message_from_bytes(result.extra["eml"], policy=default)
    assert message["Content-Language"] == lang


def test_an_email_translated_to_a_right_to_left_language_is_laid_out_right_to_left(
        tmp_path, renderer, profile):
    folder = tmp_path / "newsletter"
    shutil.copytree(TEMPLATES / "newsletter", folder)
    # Arabic texts are not what this test is about: any complete language file will do.
    shutil.copy(folder / "locales" / "de.toml", folder / "locales" / "ar.toml")
    catalogue = {"newsletter": load_template(folder)}
    result = render(catalogue, renderer, profile, "newsletter", locale="ar-EG")
    assert '<html lang="ar-EG" dir="rtl"' in result.data.decode()


@pytest.mark.parametrize("slug", EMAILS)
def test_no_raw_url_link_text_no_placeholder_and_valid_image_sizes(catalogue, renderer, profile,
                                                                   slug):
    result = render(catalogue, renderer, profile, slug)
    html = result.data.decode()
    parser = Links()
    parser.feed(html)
    assert parser.links and all(not re.match(r"\s*(https?://|www\.)", t) for _, _, t in parser.links)
    assert "example.invalid" not in html and "example.invalid" not in result.text
    assert 'height="auto"' not in html
    assert 'name="color-scheme" content="light dark"' in html
    assert "prefers-color-scheme: dark" in html
    # The preheader opens the body, hidden, and stays out of the text part.
    preheader = result.extra["preheader"]
    hidden = re.search(r'<body[^>]*><div style="display:none;[^>]*>([^<]*)</div>', html).group(1)
    assert preheader and hidden == preheader and not result.text.startswith(preheader)


def test_the_text_part_says_what_the_html_says(catalogue, renderer, profile):
    result = render(catalogue, renderer, profile, "newsletter")
    text = result.text
    assert text.startswith("How hospitals roll out zero trust without disrupting care\n")
    assert "Read the story: https://go.example.com/l/story" in text
    assert "Save your seat at the zero-trust webinar: https://go.example.com/l/webinar" in text
    assert "Hauptstr. 1\n10115 Berlin" in text
    assert "Unsubscribe: https://go.example.com/u/1" in text
    assert "<" not in text and "{{" not in text


@pytest.mark.parametrize("slug", EMAILS)
def test_the_eml_is_complete_with_the_logo_and_hero_as_cid_parts(catalogue, renderer, profile,
                                                                 slug):
    result = render(catalogue, renderer, profile, slug)
    message = email.message_from_bytes(result.extra["eml"], policy=default)
    assert message["Subject"] == result.extra["subject"] and message["From"] is None
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content().replace("\r\n", "\n") == result.text
    assert related.get_content_type() == "multipart/related"
    html, *images = related.get_payload()
    body = html.get_content()
    assert [(i.get_content_type(), i["Content-ID"]) for i in images] == [
        ("image/png", "<partner-logo@tcma>"), ("image/jpeg", "<hero@tcma>")]
    assert 'src="cid:partner-logo@tcma"' in body and 'src="cid:hero@tcma"' in body
    # The standalone HTML carries the same images inline.
    standalone = result.data.decode()
    assert "cid:" not in standalone and standalone.count('src="data:image/') == 2


def logo_in(colour: str) -> renderers.Logo:
    """A transparent wordmark-like logo drawn in one colour."""
    image = Image.new("RGBA", (600, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 150, 150), fill=colour)
    draw.rectangle((170, 50, 590, 110), fill=colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return renderers.load_logo(out.getvalue())


@pytest.mark.parametrize("primary, logo_colour", [
    ("#1f4e79", "#1f4e79"), ("#ffffff", "#ffffff"), ("#f2a900", "#ffd200"), ("#c83c14", "#ffffff"),
])
def test_the_logo_reads_on_the_header_behind_it(catalogue, renderer, profile, primary, logo_colour):
    # The shown logo is the variant (or a plate) that reads on the header: the shared rule.
    html = render(catalogue, renderer, profile, "newsletter", primary=primary,
                  logo=logo_in(logo_colour)).data.decode()
    header = re.search(r'<div style="background:(#[0-9a-f]{6});background-color', html).group(1)
    shown = re.search(r'<td style="(?:background:(#[0-9a-f]{6});[^"]*)?"><img '
                      r'src="data:image/png;base64,([^"]+)" width="\d+" height="\d+" '
                      r'alt="Acme Cloud"', html)
    behind = shown.group(1) or header
    image = Image.open(io.BytesIO(base64.b64decode(shown.group(2)))).convert("RGBA")
    colours = image.getcolors(image.width * image.height)
    ink = "#{:02x}{:02x}{:02x}".format(*max(c for c in colours if c[1][3] > 200)[1][:3])
    assert contrast(behind, ink) >= 3, (primary, header, behind, ink)
