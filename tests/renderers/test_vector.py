"""SVG and PDF logos: drawn when safe, refused with a clear reason when not."""

from __future__ import annotations

import io

import pytest
from reportlab.pdfgen.canvas import Canvas

import renderers

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100" viewBox="0 0 300 100">'
       '{}</svg>')
MARK = '<rect x="10" y="10" width="280" height="80" rx="12" fill="#1f4e79"/>'


def svg(body: str = MARK, head: str = "") -> bytes:
    return (head + SVG.format(body)).encode()


def test_an_svg_logo_is_drawn_at_print_resolution_and_trimmed():
    logo = renderers.load_logo(svg())
    assert logo.source_format == "SVG"
    # 280x80 of ink at 2048/300 scale = 1911x546, plus one anti-aliased edge pixel
    assert (logo.width, logo.height) == (1912, 547)
    assert logo.image.getpixel((logo.width // 2, logo.height // 2)) == (31, 78, 121, 255)


def test_svg_text_is_drawn_with_the_projects_font():
    logo = renderers.load_logo(svg('<text x="10" y="70" font-size="60" font-family="DejaVu Sans"'
                                   ' fill="#000">Acme</text>'))
    assert logo.width > logo.height * 2  # four letters drawn, not nothing


def test_an_embedded_png_inside_an_svg_is_allowed():
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
           "rkJggg==")
    body = f'<image width="300" height="100" href="data:image/png;base64,{png}"/>'
    assert renderers.load_logo(svg(body)).source_format == "SVG"


@pytest.mark.parametrize("data, message", [
    (svg(MARK + '<image href="https://tracker.example/x.png" width="10" height="10"/>'),
     "SVG logo refers to an outside resource (<image href>: 'https://tracker.example/x.png'); "
     "only references inside the file (#id) and embedded data: images are allowed"),
    (svg(MARK + '<use xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="file:///etc/passwd#a"/>'),
     "SVG logo refers to an outside resource (<use href>: 'file:///etc/passwd#a'); only "
     "references inside the file (#id) and embedded data: images are allowed"),
    (svg(MARK + "<script>alert(1)</script>"),
     "SVG logo contains a <script> element; scripts are refused"),
    (svg(MARK.replace("<rect", '<rect onclick="alert(1)"')),
     "SVG logo has an event handler (onclick); scripts are refused"),
    (svg(MARK + '<foreignObject width="10" height="10"><p>hi</p></foreignObject>'),
     "SVG logo contains a <foreignObject> element; it is refused"),
    (svg(MARK + '<style>@import url(https://evil.example/a.css);</style>'),
     "SVG logo imports a style sheet (<style>); outside resources are refused"),
    (svg(MARK.replace('fill="#1f4e79"', 'fill="url(https://evil.example/p.svg#g)"')),
     "SVG logo refers to an outside resource (<rect fill>: 'https://evil.example/p.svg#g'); only "
     "references inside the file (#id) and embedded data: images are allowed"),
    (svg(MARK + "<text>&lol;</text>", '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY lol "lol">]>'),
     "SVG logo declares a DTD or entities; they are refused (entity expansion and outside "
     "references)"),
    (svg(MARK + "<text>&xxe;</text>",
         '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
     "SVG logo declares a DTD or entities; they are refused (entity expansion and outside "
     "references)"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>",
     "SVG logo is not well-formed XML: mismatched tag: line 1, column 48"),
    (b"<svg><rect width='5' height='5'/></svg>",
     "SVG logo has no <svg> root element in the SVG namespace"),
])
def test_unsafe_or_broken_svg_logos_are_refused_with_the_reason(data, message):
    with pytest.raises(renderers.LogoError) as refused:
        renderers.load_logo(data)
    assert str(refused.value) == message


def test_an_svg_over_the_vector_size_limit_is_refused():
    data = svg(MARK + "<!--" + "x" * 2_100_000 + "-->")
    with pytest.raises(renderers.LogoError, match=r"SVG logo is 2\.1 MB; vector logos may be at "
                                                  r"most 2\.1 MB"):
        renderers.load_logo(data)


def _pdf_logo(pages: int = 1) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(200, 80), invariant=1)
    for _ in range(pages):
        canvas.setFillColorRGB(0.8, 0.2, 0.1)
        canvas.rect(20, 20, 160, 40, stroke=0, fill=1)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def test_a_pdf_logo_is_drawn_on_transparency_from_its_first_page():
    logo = renderers.load_logo(_pdf_logo())
    assert logo.source_format == "PDF" and logo.has_alpha
    assert (logo.width, logo.height) == (1639, 410)  # 160x40 pt at 2048/200, an edge pixel
    r, g, b, a = logo.image.getpixel((logo.width // 2, logo.height // 2))
    assert (a, r > 180, b < 60) == (255, True, True)


def test_a_damaged_pdf_logo_is_refused():
    with pytest.raises(renderers.LogoError, match="PDF logo cannot be read"):
        renderers.load_logo(b"%PDF-1.7\n%garbage")


def test_an_svg_that_is_not_utf8_is_refused():
    latin1 = svg(MARK + "<text>caf\u00e9</text>", '<?xml version="1.0" encoding="ISO-8859-1"?>')
    with pytest.raises(renderers.LogoError) as refused:
        renderers.load_logo(latin1.replace("\u00e9".encode(), b"\xe9"))
    assert str(refused.value) == "SVG logo is not UTF-8 text"


def test_an_svg_without_a_size_is_refused():
    with pytest.raises(renderers.LogoError) as refused:
        renderers.load_logo(b'<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0">'
                            b'<rect width="5" height="5"/></svg>')
    assert str(refused.value) == "SVG logo could not be drawn: SVG has an invalid size"
