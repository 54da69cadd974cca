"""Print-ready PDF parts: the output intent (CMYK press condition) and crop marks."""

from __future__ import annotations

from reportlab.lib.colors import CMYKColor, toColor
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFString
from reportlab.pdfgen.canvas import Canvas

SLUG = 24.0  # points outside the bleed where the crop marks stand
MARK_OFFSET = 3.0  # marks start this far outside the bleed so they never print on the sheet
REGISTRATION = CMYKColor(1, 1, 1, 1)
# A registered characterization (ICC registry): a printer's RIP knows it by name, so no profile
# has to ship inside every PDF.
OUTPUT_CONDITION = "FOGRA39"
OUTPUT_INFO = "Coated FOGRA39 (ISO 12647-2:2004)"


def cmyk(color) -> CMYKColor:
    """Any ReportLab colour (hex, name, RGB) as device CMYK; greys become black ink only."""
    rgb = toColor(color)
    if isinstance(rgb, CMYKColor):
        return rgb
    r, g, b = rgb.red, rgb.green, rgb.blue
    black = 1 - max(r, g, b)
    if black >= 1:
        return CMYKColor(0, 0, 0, 1)
    return CMYKColor(*((1 - v - black) / (1 - black) for v in (r, g, b)), black)


class CmykCanvas(Canvas):
    """A canvas that writes every fill and stroke colour in CMYK (the print-ready variant)."""

    def setFillColor(self, aColor, alpha=None):  # noqa: N802 - ReportLab's name
        super().setFillColor(cmyk(aColor), alpha)

    def setStrokeColor(self, aColor, alpha=None):  # noqa: N802 - ReportLab's name
        super().setStrokeColor(cmyk(aColor), alpha)

    def setFillColorRGB(self, r, g, b, alpha=None):  # noqa: N802 - ReportLab's name
        from reportlab.lib.colors import Color
        super().setFillColor(cmyk(Color(r, g, b)), alpha)


def add_output_intent(canvas) -> None:
    """Name the press condition the CMYK values are meant for (/OutputIntents in the catalog)."""
    intent = PDFDictionary({
        "Type": PDFName("OutputIntent"), "S": PDFName("GTS_PDFX"),
        "OutputConditionIdentifier": PDFString(OUTPUT_CONDITION),
        "RegistryName": PDFString("http://www.color.org"), "Info": PDFString(OUTPUT_INFO),
    })
    catalog = canvas._doc.Catalog
    # ReportLab writes only the catalog keys it lists; the list is per instance here.
    catalog.__NoDefault__ = [*type(catalog).__NoDefault__, "OutputIntents"]
    catalog.OutputIntents = PDFArray([intent])


def draw_crop_marks(canvas, page: tuple[float, float], bleed: float) -> None:
    """Eight hairlines at the trim corners, in the slug outside the bleed, in registration black."""
    width, height = page
    left, bottom, right, top = SLUG + bleed, SLUG + bleed, width - SLUG - bleed, height - SLUG - bleed
    near, far = bleed + MARK_OFFSET, SLUG + bleed
    canvas.saveState()
    canvas.setStrokeColor(REGISTRATION)
    canvas.setLineWidth(0.25)
    lines = []
    for x, sx in ((left, -1), (right, 1)):
        for y, sy in ((bottom, -1), (top, 1)):
            lines.append((x, y + sy * near, x, y + sy * far))
            lines.append((x + sx * near, y, x + sx * far, y))
    canvas.lines(lines)
    canvas.restoreState()
