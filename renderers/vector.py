"""SVG and PDF logos rasterised in a sandbox: no DTDs, entities, scripts or outside references.

SVG: the XML is parsed with defusedxml (DTDs, entity declarations and external entities are
refused before anything expands), every element and attribute is checked (no <script>, no
event handlers, no <foreignObject>, no href or url() that leaves the document except embedded
``data:image/...``), and only then is the text rasterised by resvg (resvg_py: Rust, no
scripting, no network), with the project's own fonts instead of the system's.

PDF: the first page is drawn by PDFium (pypdfium2, built without JavaScript) on a transparent
background. Both come out as PNG bytes for the ordinary logo checks.
"""

from __future__ import annotations

import io
import re

from .fonts import FONT_DIR

MAX_VECTOR_BYTES = 2 * 1024 * 1024
RASTER_SIDE = 2048  # long side of a rasterised vector logo: 17 cm at 300 ppi
SVG_NS = "{http://www.w3.org/2000/svg}"
FORBIDDEN_ELEMENTS = {"script", "foreignObject", "iframe", "object", "embed", "audio", "video",
                      "handler", "listener", "animate", "set", "animateTransform",
                      "animateMotion"}
HREF_NAMES = {"href", "{http://www.w3.org/1999/xlink}href"}
EMBEDDED_IMAGE = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp);base64,", re.I)
URL_REFERENCE = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.I)
SVG_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!DOCTYPE[^>]*>\s*)?<svg[\s>]",
                       re.S)


class VectorError(ValueError):
    """A vector logo that was refused, with the reason fit for the partner."""


def sniff_vector(data: bytes) -> str | None:
    """'svg' or 'pdf' when data looks like one (by content, never by file name), else None."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    if head.startswith(b"%PDF-"):
        return "pdf"
    if SVG_START.match(head) or (head.lstrip().startswith(b"<") and b"<svg" in head):
        return "svg"
    return None


def _local(name: str) -> str:
    """Element or attribute name without its namespace."""
    return name.rpartition("}")[2]


def _check_reference(value: str, where: str) -> None:
    """Only same-document fragments and embedded raster images may be referenced."""
    value = value.strip()
    if value.startswith("#") or EMBEDDED_IMAGE.match(value):
        return
    raise VectorError(f"SVG logo refers to an outside resource ({where}: {value[:60]!r}); "
                      "only references inside the file (#id) and embedded data: images "
                      "are allowed")


def _check_css(text: str, where: str) -> None:
    """CSS may not import sheets or load anything from outside the document."""
    if "@import" in text.lower():
        raise VectorError(f"SVG logo imports a style sheet ({where}); outside resources are "
                          "refused")
    for target in URL_REFERENCE.findall(text):
        _check_reference(target, where)


def sanitize_svg(data: bytes) -> str:
    """Parse and check an SVG; return its text, or raise VectorError naming what was refused."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise VectorError("SVG logo declares a DTD or entities; they are refused (entity "
                          "expansion and outside references)") from None
    except ParseError as exc:
        raise VectorError(f"SVG logo is not well-formed XML: {exc}") from None
    if root.tag != f"{SVG_NS}svg":
        raise VectorError("SVG logo has no <svg> root element in the SVG namespace")
    for element in root.iter():
        name = _local(str(element.tag))
        if name in FORBIDDEN_ELEMENTS:
            kind = "scripts are" if name in ("script", "handler", "listener") else "it is"
            raise VectorError(f"SVG logo contains a <{name}> element; {kind} refused")
        for attribute, value in element.attrib.items():
            local = _local(attribute)
            if local.lower().startswith("on"):
                raise VectorError(f"SVG logo has an event handler ({local}); scripts are refused")
            if attribute in HREF_NAMES:
                _check_reference(value, f"<{name} {local}>")
            elif "url(" in value.lower():
                _check_css(value, f"<{name} {local}>")
        if name == "style":
            _check_css(element.text or "", "<style>")
    return data.decode("utf-8", errors="strict") if isinstance(data, bytes) else data


def rasterize_svg(data: bytes) -> bytes:
    """A checked SVG drawn as PNG bytes, its long side RASTER_SIDE pixels."""
    import resvg_py

    try:
        text = sanitize_svg(data)
    except UnicodeDecodeError:
        raise VectorError("SVG logo is not UTF-8 text") from None
    fonts = [str(p) for p in sorted(FONT_DIR.glob("*.ttf"))]
    try:
        natural = _png_size(resvg_py.svg_to_bytes(svg_string=text, skip_system_fonts=True,
                                                  font_files=fonts))
        scale = RASTER_SIDE / max(natural)
        size = (max(round(natural[0] * scale), 1), max(round(natural[1] * scale), 1))
        return bytes(resvg_py.svg_to_bytes(
            svg_string=text, width=size[0], height=size[1], skip_system_fonts=True,
            font_files=fonts, sans_serif_family="DejaVu Sans", font_family="DejaVu Sans"))
    except (ValueError, RuntimeError, OSError) as exc:
        raise VectorError(f"SVG logo could not be drawn: {exc}") from None


def _png_size(png: bytes | list[int]) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = bytes(png[:24])
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def rasterize_pdf(data: bytes) -> bytes:
    """The first page of a PDF logo drawn on transparency as PNG bytes (long side RASTER_SIDE)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise VectorError(f"PDF logo cannot be read: {exc}") from None
    try:
        page = document[0]  # PDFium refuses a document without pages when opening it
        width, height = page.get_size()
        scale = RASTER_SIDE / max(width, height, 1.0)
        bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 0), may_draw_forms=False)
        out = io.BytesIO()
        bitmap.to_pil().save(out, "PNG", compress_level=1)
        return out.getvalue()
    finally:
        document.close()


def rasterize_vector(data: bytes, kind: str) -> bytes:
    """An SVG or PDF logo as PNG bytes (raises VectorError with a partner-readable reason)."""
    if len(data) > MAX_VECTOR_BYTES:
        raise VectorError(f"{kind.upper()} logo is {len(data) / 1e6:.1f} MB; vector logos may "
                          f"be at most {MAX_VECTOR_BYTES / 1e6:.1f} MB")
    return rasterize_svg(data) if kind == "svg" else rasterize_pdf(data)
