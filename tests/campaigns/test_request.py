"""Resolving requests: personalization with fallbacks, variants, links, keys, hostile values."""

from __future__ import annotations

import io

import pdfplumber
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

import campaigns
import renderers


def tracked(name: str, url: str, channel: str) -> str:
    """A stand-in for the tracked-links service."""
    return f"https://go.example.com/l/{channel.replace(':', '-')}-{name}"


def pdf_text(data: bytes) -> str:
    """All text of a PDF."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() for page in pdf.pages)


def frame_text(request, name: str) -> str:
    """Resolved text of a named frame in a PDF/image request."""
    pages = getattr(request.spec, "pages", None) or (request.spec.page,)
    return next(f.text for p in pages for f in p.frames if f.name == name)


@pytest.mark.parametrize("attrs, expected", [
    ({"vertical": "healthcare"}, "Protect patient data"),
    ({"vertical": "finance"}, "Stop lateral movement"),
    ({"vertical": "retail"}, "Secure every connection"),  # default
])
def test_headline_by_vertical(catalogue, profile, attrs, expected):
    request = campaigns.resolve_request(catalogue["solution-brief"], profile(**attrs), "pdf")
    assert frame_text(request, "headline").startswith(expected)


@pytest.mark.parametrize("region, expected", [
    ("emea-de", "Offer valid in Germany"), ("emea-fr", "Offer valid in the EEA"),
    ("na-us", "Offer valid in the US"), ("apac", "Product names are trademarks"),
])
def test_disclaimer_by_region_falls_back_along_prefixes(catalogue, profile, region, expected):
    request = campaigns.resolve_request(catalogue["solution-brief"], profile(region=region), "pdf")
    assert frame_text(request, "disclaimer").startswith(expected)


def test_offer_by_tier_and_locale_labels(catalogue, profile):
    tpl = catalogue["solution-brief"]
    gold = campaigns.resolve_request(tpl, profile(tier="gold", locale="de-DE"), "pdf")
    plain = campaigns.resolve_request(tpl, profile(tier="registered", locale="pt-BR"), "pdf")
    assert frame_text(gold, "offer").startswith("Angebot für Gold-Partner")
    assert frame_text(gold, "cta-label") == "Scannen und mehr erfahren"
    assert frame_text(plain, "offer") == "Book a free 30-minute architecture review."
    assert frame_text(plain, "cta-label") == "Scan to learn more"


def test_variant_overrides_and_partner_fields_win(catalogue, profile):
    tpl = catalogue["solution-brief"]
    b = campaigns.resolve_request(tpl, profile(), "pdf", variant="b")
    assert frame_text(b, "headline") == "Zero trust in weeks, not years"
    edited = campaigns.resolve_request(tpl, profile(), "pdf", variant="b",
                                       fields={"intro": "Our own words."})
    assert frame_text(edited, "intro") == "Our own words."
    assert edited.key != b.key
    with pytest.raises(campaigns.RequestError, match="no variant"):
        campaigns.resolve_request(tpl, profile(), "pdf", variant="c")


def test_key_is_stable_and_covers_every_input(catalogue, profile, logo_png):
    tpl = catalogue["social-card"]
    key = campaigns.resolve_request(tpl, profile(), "png").key
    assert campaigns.resolve_request(tpl, profile(), "png").key == key
    changes = [campaigns.resolve_request(tpl, profile(), "jpg"),
               campaigns.resolve_request(tpl, profile(primary="#000000"), "png"),
               campaigns.resolve_request(tpl, profile(logo=logo_png), "png"),
               campaigns.resolve_request(tpl, profile(), "png", link_for=tracked),
               campaigns.resolve_request(tpl, profile(), "png", variant="b")]
    assert len({key, *(c.key for c in changes)}) == 6


@pytest.fixture
def logo_png():
    """A second logo (different bytes) to prove the logo hash is part of the key."""
    out = io.BytesIO()
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    image.paste((10, 10, 10, 255), (20, 20, 280, 80))
    image.save(out, "PNG")
    return renderers.load_logo(out.getvalue())


def test_pdf_qr_decodes_to_the_tracked_link(catalogue, profile, renderer):
    request = campaigns.resolve_request(catalogue["solution-brief"], profile(), "pdf",
                                        link_for=tracked)
    data = renderer.render(request.spec).data
    page = pdfium.PdfDocument(data)[1].render(scale=2).to_pil()
    # A scan is told apart from a typed link: the QR code has a link of its own on channel "qr".
    assert [c.text for c in zxingcpp.read_barcodes(page)] == ["https://go.example.com/l/qr-landing"]
    text = pdf_text(data)
    # Print shows readable link text; the tracked URL is the link annotation behind it.
    assert "go.example.com" not in text and "Learn more: vendor.example.com/zero-trust" in text
    links = [a.get_object()["/A"]["/URI"] for p in PdfReader(io.BytesIO(data)).pages
             for a in p.get("/Annots", [])]
    assert links == ["https://go.example.com/l/print-landing",
                     "https://go.example.com/l/print-trial", "https://go.example.com/l/print-landing"]
    assert "Jane Doe" in text and "jane@acme.example" in text and "Hauptstr. 1" in text


def test_image_qr_decodes_to_the_tracked_link(catalogue, profile, renderer):
    request = campaigns.resolve_request(catalogue["square-post"], profile(), "jpg",
                                        link_for=tracked)
    image = Image.open(io.BytesIO(renderer.render(request.spec).data))
    assert [c.text for c in zxingcpp.read_barcodes(image)] == ["https://go.example.com/l/qr-landing"]
    assert dict(request.links) == {"qr:landing": "https://go.example.com/l/qr-landing"}


def test_link_for_must_return_http_urls(catalogue, profile):
    with pytest.raises(campaigns.RequestError, match="http"):
        campaigns.resolve_request(catalogue["social-card"], profile(), "png",
                                  link_for=lambda n, u, c: "javascript:alert(1)")


HOSTILE = ["<script>alert(1)</script>", "{{ 7*7 }}", "\u202eReversed\u202c Name\u200f",
           "N" * 300]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_partner_names_in_print(catalogue, profile, renderer, name):
    request = campaigns.resolve_request(catalogue["solution-brief"], profile(name=name), "pdf")
    result = renderer.render(request.spec)
    text = pdf_text(result.data)
    if "7*7" in name:
        assert "{{ 7*7 }}" in text and "49" not in frame_text(request, "page-title")
    if len(name) == 300:
        assert any("does not fit" in w for w in result.warnings)
    if "\u202e" in name:
        assert "\u202e" not in text and any("bidi override marks" in w for w in result.warnings)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_partner_values_in_email(catalogue, profile, renderer, name):
    brand_profile = profile(name=name, address="<b>1 Main</b>\n{{ config }}")
    request = campaigns.resolve_request(catalogue["newsletter"], brand_profile, "email",
                                        unsubscribe_url="https://go.example.com/u/1",
                                        pixel_url="https://go.example.com/p/1.gif")
    result = renderer.render(request.spec)
    html = result.data.decode()
    assert "<script>" not in html and "<b>1 Main" not in html
    assert "&lt;b&gt;1 Main&lt;/b&gt;<br>{{ config }}" in html
    assert 'href="https://go.example.com/u/1"' in html and "https://go.example.com/p/1.gif" in html
    assert "Unsubscribe: https://go.example.com/u/1" in result.text
    if "7*7" in name:
        assert "{{ 7*7 }}" in html and "{{ 7*7 }}" in request.spec.subject


def test_email_tracks_links_per_channel(catalogue, profile, renderer):
    request = campaigns.resolve_request(catalogue["event-invitation"], profile(), "email",
                                        link_for=tracked,
                                        fields={"event_date": "12 March", "venue": "Dock Road 4"})
    html = renderer.render(request.spec).data.decode()
    assert 'href="https://go.example.com/l/email-register"' in html
    assert "vendor.example.com" not in html
    assert dict(request.links) == {"agenda": "https://go.example.com/l/email-agenda",
                                   "register": "https://go.example.com/l/email-register"}


def test_posts_use_tracked_links_and_enforce_limits(catalogue, profile, renderer):
    tpl = catalogue["launch-posts"]
    for output in tpl.outputs:
        request = campaigns.resolve_request(tpl, profile(), output, link_for=tracked)
        text = renderer.render(request.spec).data.decode()
        network = output.removeprefix("post:")  # each network is a channel of its own
        assert f"https://go.example.com/l/{network}-landing" in text
        assert "vendor.example.com" not in text
    long_name = profile(name="B" * 300)
    request = campaigns.resolve_request(tpl, long_name, "post:bluesky")
    renderer.render(request.spec)  # the name is not in the bluesky text
    request = campaigns.resolve_request(tpl, long_name, "post:mastodon",
                                        fields={"comment": "c" * 120})
    with pytest.raises(renderers.RenderError, match="mastodon post is .* the limit is 500"):
        renderer.render(request.spec)


def test_unavailable_tier_and_output_refused(catalogue, profile):
    with pytest.raises(campaigns.RequestError, match="tier"):
        campaigns.resolve_request(catalogue["event-flyer"], profile(tier="registered"), "pdf")
    with pytest.raises(campaigns.RequestError, match="no output"):
        campaigns.resolve_request(catalogue["event-flyer"], profile(), "png")


def test_a_request_says_what_it_renders(catalogue, profile):
    request = campaigns.resolve_request(catalogue["solution-brief"], profile(), "pdf", variant="b")
    assert (request.template, request.output, request.format, request.variant, request.partner) == (
        "solution-brief", "pdf", "pdf", "b", "acme")
    assert request.links == (("landing", "https://vendor.example.com/zero-trust"),
                             ("qr:landing", "https://vendor.example.com/zero-trust"),
                             ("trial", "https://vendor.example.com/zero-trust/trial"))
    assert len(request.key) == 64 and int(request.key, 16) >= 0


@pytest.mark.parametrize(("output", "fmt"), [("pdf", "pdf"), ("png", "png"), ("jpg", "jpg"),
                                             ("email", "html"), ("post:x", "txt")])
def test_output_formats(output, fmt):
    assert campaigns.output_format(output) == fmt


def test_refusals_name_the_template_and_what_was_asked(catalogue, profile):
    flyer = catalogue["event-flyer"]
    with pytest.raises(campaigns.RequestError) as refused:
        campaigns.resolve_request(flyer, profile(), "png")
    assert str(refused.value) == "template 'event-flyer' has no output 'png' (('pdf',))"
    with pytest.raises(campaigns.RequestError) as refused:
        campaigns.resolve_request(catalogue["social-card"], profile(), "png", variant="c")
    assert str(refused.value) == "template 'social-card' has no variant 'c' (('a', 'b'))"
    with pytest.raises(campaigns.RequestError) as refused:
        campaigns.resolve_request(flyer, profile(tier="registered"), "pdf")
    assert str(refused.value) == "template 'event-flyer' is not available to tier 'registered'"
    with pytest.raises(campaigns.RequestError) as refused:
        campaigns.resolve_request(catalogue["social-card"], profile(), "png",
                                  link_for=lambda n, u, c: "javascript:alert(1)")
    assert str(refused.value) == ("link_for returned 'javascript:alert(1)' for 'landing'; need an "
                                  "http(s) URL")


def test_the_contact_block_lists_what_the_partner_gave(catalogue, profile):
    request = campaigns.resolve_request(catalogue["solution-brief"], profile(), "pdf")
    assert frame_text(request, "contact") == ("Jane Doe\njane@acme.example  \u00b7  +49 30 1\n"
                                              "acme.de\nHauptstr. 1 \u00b7 10115 Berlin")


def test_a_contact_block_without_a_contact_skips_the_empty_parts(catalogue):
    brand = renderers.BrandKit("Acme", address="Hauptstr. 1\n\n  10115 Berlin  ")
    partner = campaigns.PartnerProfile("Acme GmbH", "acme", "gold", "retail", "emea", "de", brand)
    request = campaigns.resolve_request(catalogue["solution-brief"], partner, "pdf")
    assert frame_text(request, "contact") == "Acme\nHauptstr. 1 \u00b7 10115 Berlin"


def test_brand_colour_tokens_resolve_to_the_partners_colours(catalogue, profile):
    request = campaigns.resolve_request(catalogue["solution-brief"], profile(primary="#000000"),
                                        "pdf")
    frames = {f.name: f for p in request.spec.pages for f in p.frames}
    assert frames["headline-band"].color == "#000000"  # primary
    assert frames["headline"].color == "#ffffff"  # on-primary: white reads on black
    assert frames["accent"].color == "#1d2b3a"  # secondary
    assert frames["page-title"].color == "#000000"  # primary-ink: black already reads on white
    assert frames["kicker"].color == "#ffffff"  # a literal colour stays as written


def test_an_email_carries_its_subject_values_and_clean_partner_data(catalogue, profile):
    request = campaigns.resolve_request(
        catalogue["newsletter"], profile(name="\u202eAcme"), "email",
        unsubscribe_url="https://go.example.com/u/1", pixel_url="https://go.example.com/p/1.gif",
        logo_url="https://cdn.example.com/acme.png")
    values = dict(request.spec.values)
    assert request.spec.subject == values["subject"] == (
        "Acme: How hospitals roll out zero trust without disrupting care")
    assert (values["unsubscribe_url"], values["pixel_url"], values["logo_url"]) == (
        "https://go.example.com/u/1", "https://go.example.com/p/1.gif",
        "https://cdn.example.com/acme.png")
    assert (values["primary"], values["secondary"]) == ("#c83c14", "#1d2b3a")
    assert dict(values["partner"])["name"] == "Acme"


def test_emails_default_to_placeholder_footer_links(catalogue, profile):
    values = dict(campaigns.resolve_request(catalogue["newsletter"], profile(), "email").spec.values)
    # Outside tcma the sender fills the unsubscribe link per recipient; no pixel is added.
    assert (values["unsubscribe_url"], values["pixel_url"], values["logo_url"]) == (
        "%%UNSUBSCRIBE_URL%%", "", "")


def test_print_keeps_partner_data_as_given_for_the_renderer_to_clean(catalogue, profile):
    request = campaigns.resolve_request(catalogue["solution-brief"], profile(name="\u202eAcme"),
                                        "pdf")
    assert frame_text(request, "page-title") == "Why \u202eAcme for zero trust"


def test_a_post_request_is_the_networks_text(catalogue, profile):
    request = campaigns.resolve_request(catalogue["launch-posts"], profile(), "post:x",
                                        fields={"comment": "Ask us."})
    assert request.spec.network == "x" and request.format == "txt"
    assert "Ask us." in request.spec.text and "https://vendor.example.com/" in request.spec.text
