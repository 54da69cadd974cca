"""The shipped print templates as a printer and a reader get them: fonts, links, pictures, pages."""

from __future__ import annotations

import io
import re

import pdfplumber
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

import campaigns

PDF_TEMPLATES = ["solution-brief", "event-flyer"]
PARTNERS = [  # (name, locale, primary colour)
    ("Northwind Traders", "en-US", "#14285a"), ("Acme Cloud", "de-DE", "#c83c14"),
    ("Soleil Réseaux", "fr-FR", "#f2a900"),
]


EVENT = {"event_date": "Thursday, 12 March, 08:30", "venue": "Harbour Centre\nDock Road 4, Hamburg"}


def fields_for(slug: str) -> dict[str, str]:
    """The fields only a partner can give (an event's date and venue), for the event templates."""
    return dict(EVENT) if slug.startswith("event-") else {}


def tracked(name, url, channel):
    return f"https://go.example.com/l/{channel}-{name}"


def render(catalogue, renderer, profile, slug, partner, print_ready=False):
    """One template's PDF for one partner, with its tracked links."""
    name, locale, primary = partner
    request = campaigns.resolve_request(catalogue[slug], profile(name=name, locale=locale,
                                                                 primary=primary), "pdf",
                                        link_for=tracked, fields=fields_for(slug))
    spec = request.spec
    if print_ready:
        import dataclasses
        spec = dataclasses.replace(spec, print_ready=True)
    return renderer.render(spec).data


def fonts(reader: PdfReader) -> list[dict]:
    """Every font dictionary the pages use."""
    found = []
    for page in reader.pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            found.append(ref.get_object())
    return found


@pytest.mark.parametrize("slug", PDF_TEMPLATES)
@pytest.mark.parametrize("partner", PARTNERS, ids=lambda p: p[1])
def test_every_font_is_embedded_and_the_document_is_the_partners(catalogue, renderer, profile,
                                                                 slug, partner):
    reader = PdfReader(io.BytesIO(render(catalogue, renderer, profile, slug, partner)))
    used = fonts(reader)
    assert used and all("/FontFile2" in f["/FontDescriptor"].get_object() for f in used)
    assert not [f["/BaseFont"] for f in used if "Helvetica" in f["/BaseFont"]]
    assert reader.metadata.title.endswith(f"\u2013 {partner[0]}")
    assert reader.trailer["/Root"]["/Lang"] == partner[1]


@pytest.mark.parametrize("slug, links", [
    ("solution-brief", ["print-landing", "print-trial", "print-landing"]),
    ("event-flyer", ["print-register"]),
])
def test_links_are_readable_text_over_a_tracked_link_annotation(catalogue, renderer, profile, slug,
                                                                links):
    data = render(catalogue, renderer, profile, slug, PARTNERS[0])
    reader = PdfReader(io.BytesIO(data))
    annotations = [a.get_object() for p in reader.pages for a in p.get("/Annots", [])]
    assert [a["/A"]["/URI"] for a in annotations] == [f"https://go.example.com/l/{n}" for n in links]
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "go.example.com" not in text and "http" not in text  # no raw URL is printed
    assert "vendor.example.com/" in text


@pytest.mark.parametrize("slug", PDF_TEMPLATES)
def test_pictures_are_printed_at_300_ppi_or_more(catalogue, renderer, profile, slug):
    data = render(catalogue, renderer, profile, slug, PARTNERS[1])
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        # The template's pictures (the partner's logo is as sharp as its upload: warned below 150)
        images = [i for page in pdf.pages for i in page.images if "SMask" not in i["stream"].attrs]
    assert len(images) >= 2
    for image in images:
        ppi = image["srcsize"][0] / ((image["x1"] - image["x0"]) / 72)
        assert ppi >= 299, (image["name"], ppi)


def blank_share(image) -> float:
    """The tallest run of blank (near-white, uniform) rows as a share of the page height."""
    grey = image.convert("L")
    width, height = grey.size
    longest = run = 0
    for y in range(height):
        lo, hi = grey.crop((0, y, width, y + 1)).getextrema()
        run = run + 1 if lo > 235 and hi - lo < 8 else 0
        longest = max(longest, run)
    return longest / height


@pytest.mark.parametrize("slug", PDF_TEMPLATES)
def test_no_page_is_mostly_empty(catalogue, renderer, profile, slug):
    document = pdfium.PdfDocument(render(catalogue, renderer, profile, slug, PARTNERS[0]))
    for index in range(len(document)):
        share = blank_share(document[index].render(scale=0.5).to_pil())
        assert share < 0.15, f"page {index + 1}: {share:.0%} of its height is one empty band"


def test_band_text_is_vertically_centred(catalogue, renderer, profile):
    data = render(catalogue, renderer, profile, "solution-brief", PARTNERS[0])
    bleed = 8.5
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[1]
        band = (36 + bleed, 384 + bleed, 559 + bleed, 456 + bleed)  # the trial band
        words = page.within_bbox(band).extract_words()
    assert " ".join(w["text"] for w in words).startswith("Start a free trial")
    top, bottom = min(w["top"] for w in words), max(w["bottom"] for w in words)
    assert abs((top - band[1]) - (band[3] - bottom)) < 4  # as much room above as below


def test_the_print_ready_variant_is_cmyk_with_output_intent_bleed_and_crop_marks(
        catalogue, renderer, profile):
    data = render(catalogue, renderer, profile, "solution-brief", PARTNERS[2], print_ready=True)
    reader = PdfReader(io.BytesIO(data))
    intent = reader.trailer["/Root"]["/OutputIntents"][0].get_object()
    assert (intent["/S"], intent["/OutputConditionIdentifier"]) == ("/GTS_PDFX", "FOGRA39")
    for page in reader.pages:
        content = page.get_contents().get_data().decode("latin-1")
        assert not re.search(r"\b(rg|RG)\b", content)  # no RGB colour is set
        assert re.search(r"\bk\b", content)
        trim, bleed, media = page.trimbox, page.bleedbox, page.mediabox
        assert float(trim.left) - float(bleed.left) == pytest.approx(8.5, abs=0.05)
        assert float(bleed.left) - float(media.left) == pytest.approx(24)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        marks = [line for line in pdf.pages[0].lines if line["x0"] < 24 or line["top"] < 24]
        images = pdf.pages[0].images
    assert len(marks) >= 4  # crop marks in the slug outside the bleed
    assert any(i["colorspace"] == ["/DeviceCMYK"] or "CMYK" in str(i["colorspace"]) for i in images)


def test_the_screen_pdf_has_no_crop_marks_or_output_intent(catalogue, renderer, profile):
    data = render(catalogue, renderer, profile, "solution-brief", PARTNERS[2])
    reader = PdfReader(io.BytesIO(data))
    assert "/OutputIntents" not in reader.trailer["/Root"]
    assert float(reader.pages[0].mediabox.width) == pytest.approx(595.28 + 17, abs=0.05)
