"""Goldens of the shipped templates for one fixed partner: pixels for images, HTML for email."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

import campaigns
import renderers

ROOT = Path(__file__).resolve().parents[2]
FAILURES = Path(__file__).resolve().parents[1] / "_failures"


@pytest.fixture(scope="module")
def partner() -> campaigns.PartnerProfile:
    """The sample Acme partner with its transparent logo."""
    logo = renderers.load_logo((ROOT / "assets/samples/partners/acme.png").read_bytes())
    brand = renderers.BrandKit("Acme Cloud Services", "#c83c14", "#1d2b3a", logo,
                               renderers.Contact("Jane Doe", "jane@acme.example", "+49 30 1",
                                                 "https://acme.example"), "Hauptstr. 1\nBerlin")
    return campaigns.PartnerProfile("Acme", "acme", "gold", "healthcare", "emea-de", "de-DE",
                                    brand)


@pytest.fixture(scope="module")
def catalogue():
    """The shipped library."""
    return campaigns.load_catalogue(ROOT / "templates")


def _render(renderer, catalogue, partner, slug, output):
    """Render one template output for the golden partner."""
    fields = {"event_date": "Donnerstag, 12. März, 08:30 Uhr",
              "venue": "Hafenzentrum\nDockstraße 4"}
    request = campaigns.resolve_request(catalogue[slug], partner, output,
                                        fields=fields if slug.startswith("event-") else {},
                                        link_for=lambda n, u, c: f"https://go.example.com/l/{n}")
    return renderer.render(request.spec)


@pytest.mark.parametrize("slug, output", [("social-card", "png"), ("social-card", "jpg"),
                                          ("square-post", "png"), ("square-post", "jpg")])
def test_image_templates_match_goldens(renderer, catalogue, partner, assert_golden, slug,
                                       output):
    result = _render(renderer, catalogue, partner, slug, output)
    assert result.warnings == ()
    assert_golden(f"{slug}-{output}", Image.open(io.BytesIO(result.data)))


@pytest.mark.parametrize("slug", ["solution-brief", "event-flyer"])
def test_pdf_templates_match_goldens(renderer, catalogue, partner, assert_golden, slug):
    result = _render(renderer, catalogue, partner, slug, "pdf")
    assert result.warnings == ()
    document = pdfium.PdfDocument(result.data)
    for index in range(len(document)):
        assert_golden(f"{slug}-page{index + 1}", document[index].render(scale=0.6).to_pil())


@pytest.mark.parametrize("slug", ["newsletter", "event-invitation"])
def test_email_templates_match_golden_html(renderer, catalogue, partner, assert_golden_text,
                                           slug):
    result = _render(renderer, catalogue, partner, slug, "email")
    assert_golden_text(slug, "html", result.data.decode())
    assert_golden_text(slug, "txt", result.text)


def test_a_changed_email_fails_and_is_saved_beside_its_golden(renderer, catalogue, partner,
                                                              assert_golden_text):
    html = _render(renderer, catalogue, partner, "newsletter", "email").data.decode()
    changed = html.replace("Acme Cloud Services", "Acme Cloud Servers")
    with pytest.raises(pytest.fail.Exception, match="newsletter.html differs from its golden"):
        assert_golden_text("newsletter", "html", changed, update=False)
    assert (FAILURES / "newsletter.actual.html").read_text(encoding="utf-8") == changed
    assert (FAILURES / "newsletter.expected.html").read_text(encoding="utf-8") == html
    page = (FAILURES / "newsletter.side-by-side.html").read_text(encoding="utf-8")
    assert page.index('src="newsletter.actual.html"') < page.index('src="newsletter.expected.html"')
    diff = (FAILURES / "newsletter.html.diff").read_text(encoding="utf-8")
    assert diff.startswith("--- expected/newsletter.html\n+++ actual/newsletter.html\n")
    removed = [line for line in diff.splitlines() if line.startswith("-") and "Services" in line]
    added = [line for line in diff.splitlines() if line.startswith("+") and "Servers" in line]
    assert removed and added
