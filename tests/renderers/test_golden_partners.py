"""Goldens of every shipped template for five partners that each stress one thing: a light logo,
a dark logo on a dark brand colour, a very wide and a very tall logo, an SVG logo; locales
en-US, de-DE, fr-FR, ar and ja (Arabic and Japanese names and addresses shaped and drawn).

Pixels are compared downscaled with a tolerance (see conftest.assert_golden); regenerate with
TCMA_UPDATE_GOLDEN=1 after a deliberate change, and look at the new PNGs before committing.
"""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

import campaigns
import renderers
from tests.renderers.conftest import encode, logo_image, make_logo

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 240  # small goldens: the 35 PNGs take about a megabyte
SVG_LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" width="320" height="100" viewBox="0 0 320 100">'
            b'<circle cx="50" cy="50" r="40" fill="#6a1b9a"/>'
            b'<rect x="105" y="30" width="200" height="40" rx="8" fill="#f2a900"/></svg>')


def _logo(case: str) -> renderers.Logo:
    if case == "light":  # a near-white wordmark, made for dark backgrounds
        return renderers.load_logo(encode(logo_image(ink=(246, 244, 236)), "PNG"))
    if case == "dark":
        return renderers.load_logo(encode(logo_image(ink=(20, 33, 61)), "PNG"))
    if case == "svg":
        return renderers.load_logo(SVG_LOGO)
    return renderers.load_logo(make_logo({"wide": "very-wide", "tall": "very-tall"}[case]))


# slug: (logo case, locale, name, primary, secondary, address)
PARTNERS = {
    "light-en": ("light", "en-US", "Polar Light Studio", "#0b3d91", "#f2a900",
                 "200 Harbor Way\nSeattle, WA 98104"),
    "dark-de": ("dark", "de-DE", "Nordwerk Systeme GmbH", "#1d2b3a", "#e4572e",
                "Speicherstraße 12\n20457 Hamburg"),
    "wide-fr": ("wide", "fr-FR", "Lumière Réseaux SARL", "#c0392b", "#2c3e50",
                "14 rue de la Paix\n75002 Paris"),
    "tall-ar": ("tall", "ar", "شركة النخيل للحلول", "#00695c", "#ffb300",
                "شارع الملك فهد ١٢\nالرياض"),
    "svg-ja": ("svg", "ja", "富士クラウド株式会社", "#6a1b9a", "#f2a900",
               "東京都千代田区丸の内1-1\n100-0005"),
}
FIELDS = {"event_date": "12.03.2027, 08:30", "venue": "Harbour Centre\nDock Road 4"}
PICTURED = [("social-card", "png"), ("square-post", "png"), ("solution-brief", "pdf"),
            ("event-flyer", "pdf"), ("newsletter", "email"), ("event-invitation", "email")]


@pytest.fixture(scope="module")
def catalogue():
    return campaigns.load_catalogue(ROOT / "templates")


@pytest.fixture(scope="module")
def profiles():
    made = {}
    for slug, (case, locale, name, primary, secondary, address) in PARTNERS.items():
        brand = renderers.BrandKit(name, primary, secondary, _logo(case),
                                   renderers.Contact("Sam Lee", f"sam@{slug}.example", "+1 555 0100",
                                                     f"https://{slug}.example"), address)
        made[slug] = campaigns.PartnerProfile(name, slug, "gold", "healthcare", "na", locale, brand)
    return made


def _render(renderer, catalogue, profile, slug, output):
    fields = FIELDS if slug.startswith("event-") else {}
    request = campaigns.resolve_request(catalogue[slug], profile, output, fields=fields,
                                        link_for=lambda n, u, c: f"https://go.example.com/l/{n}")
    return request, renderer.render(request.spec)


def _drawable(warnings) -> list[str]:
    """Warnings about characters that could not be drawn (none are expected for these partners)."""
    return [w for w in warnings if "no installed font can draw" in w or "emoji are left out" in w]


@pytest.mark.parametrize("partner", list(PARTNERS))
@pytest.mark.parametrize("slug, output", PICTURED)
def test_every_template_matches_its_golden_for_each_partner(renderer, catalogue, profiles,
                                                            assert_golden, slug, output, partner):
    request, result = _render(renderer, catalogue, profiles[partner], slug, output)
    assert _drawable(result.warnings) == []
    assert not [w for w in result.warnings if "contrast" in w], result.warnings
    name = f"partners/{slug}-{output}-{partner}"
    if output == "pdf":
        document = pdfium.PdfDocument(result.data)
        for index in range(len(document)):
            assert_golden(f"{name}-page{index + 1}", document[index].render(scale=0.5).to_pil(),
                          width=WIDTH)
    elif output == "email":
        assert_golden(name, Image.open(io.BytesIO(renderer.preview(request.spec, 480).data)),
                      width=WIDTH)
    else:
        assert_golden(name, Image.open(io.BytesIO(result.data)), width=WIDTH)


@pytest.mark.parametrize("partner", list(PARTNERS))
def test_launch_posts_match_their_golden_text_for_each_partner(renderer, catalogue, profiles,
                                                               assert_golden_text, partner):
    _, result = _render(renderer, catalogue, profiles[partner], "launch-posts", "post:linkedin")
    assert_golden_text(f"partners/launch-posts-linkedin-{partner}", "txt", result.data.decode())


def test_the_golden_set_covers_every_shipped_template(catalogue):
    covered = {slug for slug, _ in PICTURED} | {"launch-posts"}
    assert covered == set(catalogue)
