"""Print PDFs with ReportLab: background, frames of fitted text, logo, QR; fonts embedded."""

from __future__ import annotations

import io

from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from .assets import AssetCache, LruCache
from .fonts import PDF_NAMES, clean_text, covered_characters, pdf_measure, register_pdf_fonts
from .placement import contrast_warning, lay_out_logo
from .printing import SLUG, CmykCanvas, add_output_intent, draw_crop_marks
from .qr import draw_qr_pdf, qr_size_warning
from .shaping import needs_shaping
from .spec import (
    LogoFrame,
    Page,
    PdfSpec,
    PictureFrame,
    QrFrame,
    RectFrame,
    RenderResult,
    TextFrame,
)
from .textdraw import draw_pdf_line, register_pdf_fallbacks
from .textfit import fit_text, overflow_warning

PRINT_DPI = 300  # backgrounds and pictures are resampled to this resolution at their printed size


class _JpegByName(str):
    """A JPEG handed to ReportLab 'by file name' without touching the disk.

    ReportLab names a file-name image by hashing the name (cheap, deterministic) and
    embeds JPEG bytes as they are; an ImageReader would hash all decoded pixels per document.
    """

    def __new__(cls, name: str, data: bytes):
        """Make a str whose value is the stable name and that reads as the JPEG bytes."""
        obj = super().__new__(cls, name)
        obj._stream = io.BytesIO(data)
        return obj

    def read(self, *args):
        """Read JPEG bytes (ReportLab's open_for_read returns objects that have read)."""
        return self._stream.read(*args)

    def seek(self, *args):
        """Seek in the JPEG bytes."""
        return self._stream.seek(*args)

    def tell(self):
        """Position in the JPEG bytes."""
        return self._stream.tell()

    def close(self):
        """Nothing to close: bytes stay cached."""


class PdfRenderer:
    """Draw PdfSpec documents; all expensive preparation lives in the shared AssetCache."""

    def __init__(self, cache: AssetCache) -> None:
        self._cache = cache
        self._cmyk = LruCache(64)
        register_pdf_fonts(cache.font_dir)
        self._covered = covered_characters(cache.font_dir)

    def render(self, spec: PdfSpec) -> RenderResult:
        """Render a PdfSpec to PDF bytes with warnings for overflow, glyphs and logo dpi.

        A print-ready spec adds a slug around the bleed for crop marks, sets every colour in
        CMYK, embeds pictures as CMYK JPEGs and names the output intent (FOGRA39).
        """
        buffer = io.BytesIO()
        bleed, slug = spec.bleed, SLUG if spec.print_ready else 0.0
        width, height = spec.size[0] + 2 * (bleed + slug), spec.size[1] + 2 * (bleed + slug)
        canvas_type = CmykCanvas if spec.print_ready else Canvas
        canvas = canvas_type(buffer, pagesize=(width, height), invariant=1, pageCompression=1,
                             initialFontName=PDF_NAMES["regular"], lang=spec.lang or None)
        canvas.setTitle(spec.title or spec.brand.name)
        canvas.setSubject(spec.subject)
        canvas.setCreator("tcma renderers")
        canvas.setAuthor(spec.brand.name)
        canvas.setViewerPreference("DisplayDocTitle", "true")  # the partner's title, not a file name
        if spec.print_ready:
            add_output_intent(canvas)
        warnings: list[str] = []
        for page in spec.pages:
            if bleed or slug:
                canvas.setTrimBox((slug + bleed, slug + bleed, width - slug - bleed,
                                   height - slug - bleed))
                canvas.setBleedBox((slug, slug, width - slug, height - slug))
            canvas.saveState()
            canvas.translate(slug, slug)
            self._draw_page(canvas, spec, page, warnings)
            canvas.restoreState()
            if spec.print_ready:
                draw_crop_marks(canvas, (width, height), bleed)
            canvas.showPage()
        canvas.save()
        unique = tuple(dict.fromkeys(warnings))
        return RenderResult(buffer.getvalue(), "application/pdf", "pdf", unique)

    def _draw_page(self, canvas: Canvas, spec: PdfSpec, page: Page, warnings: list[str]) -> None:
        """Background first, then frames in order (later frames on top)."""
        full = (spec.size[0] + 2 * spec.bleed, spec.size[1] + 2 * spec.bleed)
        canvas.setFillColor(page.background_color)
        canvas.rect(0, 0, full[0], full[1], stroke=0, fill=1)
        if page.background is not None:
            self._draw_picture(canvas, spec, page.background, (-spec.bleed, -spec.bleed) + full)
        for frame in page.frames:
            self._draw_frame(canvas, spec, page, frame, warnings)

    def _to_pdf(self, spec: PdfSpec, box) -> tuple[float, float, float, float]:
        """Top-left trim-box coordinates to ReportLab's bottom-left page coordinates."""
        x, y, w, h = box
        return x + spec.bleed, spec.bleed + spec.size[1] - y - h, w, h

    def _draw_frame(self, canvas, spec: PdfSpec, page: Page, frame, warnings) -> None:
        """Dispatch one frame to its drawing method."""
        if isinstance(frame, TextFrame):
            self._draw_text(canvas, spec, frame, warnings)
        elif isinstance(frame, RectFrame):
            x, y, w, h = self._to_pdf(spec, frame.box)
            canvas.setFillColor(frame.color)
            canvas.rect(x, y, w, h, stroke=0, fill=1)
        elif isinstance(frame, LogoFrame):
            self._draw_logo(canvas, spec, page, frame, warnings)
        elif isinstance(frame, QrFrame):
            x, y, w, h = self._to_pdf(spec, frame.box)
            side = min(w, h)
            draw_qr_pdf(canvas, frame.url, x, y + h - side, side, frame.color)
            # 0.4 mm modules: about the smallest a phone camera reads from paper.
            if problem := qr_size_warning(frame.name, frame.url, side, 1.13, "pt"):
                warnings.append(problem)
        elif isinstance(frame, PictureFrame):
            self._draw_picture(canvas, spec, frame.picture, frame.box)

    def _draw_picture(self, canvas, spec: PdfSpec, resource, box) -> None:
        """Draw a resource covering box, pre-cropped and resampled to PRINT_DPI as a JPEG."""
        x, y, w, h = self._to_pdf(spec, box)
        pixels = (max(round(w / 72 * PRINT_DPI), 1), max(round(h / 72 * PRINT_DPI), 1))
        jpeg = self._cache.cover_jpeg(resource, pixels)
        space = "rgb"
        if spec.print_ready:
            jpeg, space = self._cmyk_jpeg(resource, pixels), "cmyk"
        name = f"tcma-{resource.sha256[:20]}-{pixels[0]}x{pixels[1]}-{space}.jpg"
        canvas.drawImage(_JpegByName(name, jpeg), x, y, w, h)

    def _cmyk_jpeg(self, resource, pixels: tuple[int, int]) -> bytes:
        """The cover image converted to CMYK (device conversion) and encoded once."""
        def compute() -> bytes:
            out = io.BytesIO()
            image: Image.Image = self._cache.cover_image(resource, pixels).convert("CMYK")
            image.save(out, "JPEG", quality=88, optimize=False)
            return out.getvalue()
        return self._cmyk.get((resource.sha256, pixels), compute)

    def _draw_text(self, canvas, spec: PdfSpec, frame: TextFrame, warnings: list[str]) -> None:
        """Fit, then draw text lines placed by valign; a linked frame gets a link annotation."""
        text, problems = clean_text(frame.text, self._covered, "pdf")
        warnings.extend(f"{frame.name}: {p}" for p in problems)
        x, y, w, h = self._to_pdf(spec, frame.box)
        measure = pdf_measure(frame.font)
        fitted = fit_text(text, (w, h), (frame.size, frame.min_size), frame.leading, measure)
        if problem := overflow_warning(frame.name, fitted, frame.min_size, "pt"):
            warnings.append(problem)
        canvas.setFillColor(frame.color)
        canvas.setFont(PDF_NAMES[frame.font], fitted.size)
        # The block's height: line gaps between lines, and the cap-to-descender of the last.
        block = fitted.line_height * (len(fitted.lines) - 1) + fitted.size * 1.17
        slack = max(h - block, 0)
        top = y + h - {"top": 0, "middle": slack / 2, "bottom": slack}[frame.valign]
        baseline = top - fitted.size * 0.93
        for line in fitted.lines:
            self._draw_line(canvas, frame.align, line, x, w, baseline, frame.font)
            baseline -= fitted.line_height
        if frame.link and fitted.lines:
            widest = max(measure(line) for line in fitted.lines) * fitted.size
            left = _aligned_left(frame.align, x, w, widest)
            canvas.linkURL(frame.link, (left, top - block, left + widest, top), relative=1,
                           thickness=0)

    @staticmethod
    def _draw_line(canvas, align: str, line: str, x: float, w: float, baseline: float,
                   style: str = "regular") -> None:
        """Draw one line aligned in the frame width (shaped when it needs it)."""
        if needs_shaping(line):
            draw_pdf_line(canvas, line, PDF_NAMES[style], style, canvas._fontsize,
                          (x, w, baseline), align, register_pdf_fallbacks())
        elif align == "center":
            canvas.drawCentredString(x + w / 2, baseline, line)
        elif align == "right":
            canvas.drawRightString(x + w, baseline, line)
        else:
            canvas.drawString(x, baseline, line)

    def _draw_logo(self, canvas, spec: PdfSpec, page: Page, frame: LogoFrame, warnings) -> None:
        """Pick the logo variant or plate for what is behind it (shared rule); warn below dpi."""
        below = Page(page.frames[: page.frames.index(frame)], page.background,
                     page.background_color)
        backdrop = self._cache.backdrop(below, frame.box, spec.size, spec.bleed)
        choice = self._cache.choose_logo(spec.brand, backdrop, frame.plate, frame.plate_color)
        if choice is None:
            warnings.append(f"{frame.name}: partner has no logo; frame left empty")
            return
        if problem := contrast_warning(frame.name, choice):
            warnings.append(problem)
        placed = lay_out_logo(choice, self._to_pdf(spec, frame.box), frame.align, frame.padding)
        if placed.plate is not None:
            canvas.setFillColorRGB(*(c / 255 for c in choice.plate))
            canvas.roundRect(*placed.plate, placed.radius, stroke=0, fill=1)
        logo = choice.logo
        left, bottom, draw_w, draw_h = placed.rect
        dpi = logo.width / (draw_w / 72)
        if dpi < spec.min_logo_dpi:
            warnings.append(f"{frame.name}: logo is {dpi:.0f} dpi at its printed size "
                            f"({draw_w / 72:.2f} in wide); upload at least "
                            f"{round(draw_w / 72 * 300)} px wide for print")
        reader = self._cache.logo_reader(logo, (draw_w / 72 * 300, draw_h / 72 * 300))
        canvas.drawImage(reader, left, bottom, draw_w, draw_h, mask="auto")


def _aligned_left(align: str, x: float, w: float, inner: float) -> float:
    """Left edge of content of width inner aligned in (x, w)."""
    if align == "center":
        return x + (w - inner) / 2
    if align == "right":
        return x + w - inner
    return x
