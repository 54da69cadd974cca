"""Render throughput against the bare-library floor, measured in the same run.

python bench/bench_render.py --out bench/results.d/render.json
Each entry: ms per partner in batch mode (50 partners) for our Renderer vs hand-written,
well-done ReportLab / Pillow / Jinja+mjml code drawing the same output (best of N repeats).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qrcode  # noqa: E402
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402
from mjml import mjml2html  # noqa: E402
from PIL import Image, ImageDraw, ImageFont, ImageOps  # noqa: E402
from reportlab import rl_config  # noqa: E402
from reportlab.lib.utils import ImageReader, simpleSplit  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

import campaigns  # noqa: E402
import renderers  # noqa: E402

PARTNERS = 50
REPEATS = 5
FONT = ROOT / "assets" / "fonts" / "DejaVuSans.ttf"
BOLD = ROOT / "assets" / "fonts" / "DejaVuSans-Bold.ttf"
HEADLINE = "Protect patient data on every device, in every ward"
BODY = "We help organisations like yours deploy zero-trust networking in weeks. " * 3
TARGETS = {"pdf": 1.3, "jpg": 1.3, "png": 1.3, "email": 2.0}


def make_partners() -> list[renderers.BrandKit]:
    """Fifty partners, each with its own logo bytes and colours."""
    kits = []
    for i in range(PARTNERS):
        logo = Image.new("RGBA", (900, 300), (0, 0, 0, 0))
        draw = ImageDraw.Draw(logo)
        draw.ellipse((20, 20, 280, 280), fill=(i * 5 % 255, 60, 160, 255))
        draw.rectangle((300, 110, 880, 190), fill=(40, i * 4 % 255, 90, 255))
        out = io.BytesIO()
        logo.save(out, "PNG")
        kits.append(renderers.BrandKit(
            f"Partner {i}", f"#{i * 4 % 256:02x}4e79", "#f2a900",
            renderers.load_logo(out.getvalue()),
            renderers.Contact("Jane Doe", f"p{i}@example.com", "+1 555 0100", "https://p.example"),
            "1 Example Street\nSpringfield"))
    return kits


def url_for(i: int) -> str:
    """A distinct tracked URL per partner."""
    return f"https://go.example.com/l/p{i:04d}x"


def background_bytes(size: tuple[int, int]) -> bytes:
    """An oversized stock-photo-like JPEG background."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# --- PDF -----------------------------------------------------------------------------------

def pdf_spec(kit, i, background) -> renderers.PdfSpec:
    """Our spec: background, logo, headline, body, contact, QR on an A4 page."""
    frames = (renderers.LogoFrame("logo", (36, 36, 190, 70), plate="none"),
              renderers.TextFrame("headline", (36, 200, 523, 70), HEADLINE, "#ffffff", "bold",
                                  26, 16),
              renderers.TextFrame("body", (36, 330, 523, 120), BODY, size=13, min_size=9),
              renderers.TextFrame("contact", (36, 600, 380, 60),
                                  f"{kit.contact.email}  ·  {kit.contact.phone}", size=11),
              renderers.QrFrame("qr", (459, 580, 100, 100), url_for(i)))
    page = renderers.Page(frames, background=background)
    return renderers.PdfSpec((595.28, 841.89), (page,), kit)


class PdfFloor:
    """Hand-written ReportLab drawing the same page, every known trick applied."""

    def __init__(self, background: renderers.Resource):
        rl_config.useA85 = 0
        for name, path in (("F", FONT), ("FB", BOLD)):
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, str(path)))
        image = ImageOps.fit(Image.open(io.BytesIO(background.data)).convert("RGB"),
                             (2480, 3508), Image.Resampling.LANCZOS)  # 300 ppi on A4
        self._dir = tempfile.TemporaryDirectory()
        self.bg_path = str(Path(self._dir.name) / "bg.jpg")
        image.save(self.bg_path, "JPEG", quality=85)
        self.logos: dict[str, ImageReader] = {}

    def logo(self, kit) -> ImageReader:
        """Pre-scaled logo, once per partner."""
        if kit.logo.sha256 not in self.logos:
            scaled = kit.logo.image.resize((792, 264), Image.Resampling.LANCZOS)
            self.logos[kit.logo.sha256] = ImageReader(scaled)
        return self.logos[kit.logo.sha256]

    def render(self, kit, i) -> bytes:
        """Draw the page."""
        out = io.BytesIO()
        c = Canvas(out, pagesize=(595.28, 841.89), invariant=1)
        c.drawImage(self.bg_path, 0, 0, 595.28, 841.89)
        c.drawImage(self.logo(kit), 36, 841.89 - 106, 190, 63.3, mask="auto")
        for font, size, color, text, top, width in (
                ("FB", 26, "#ffffff", HEADLINE, 200, 523), ("F", 13, "#222222", BODY, 330, 523),
                ("F", 11, "#222222", f"{kit.contact.email}  ·  {kit.contact.phone}", 600, 380)):
            c.setFont(font, size)
            c.setFillColor(color)
            y = 841.89 - top - size
            for line in simpleSplit(text, font, size, width):
                c.drawString(36, y, line)
                y -= size * 1.25
        self.qr(c, url_for(i), 459, 841.89 - 680, 100)
        c.showPage()
        c.save()
        return out.getvalue()

    @staticmethod
    def qr(c, url, x, y, size):
        """QR as one vector path."""
        code = qrcode.QRCode(border=0, mask_pattern=2)
        code.add_data(url)
        code.make(fit=True)
        matrix = code.get_matrix()
        module = size / (len(matrix) + 8)
        path = c.beginPath()
        for r, row in enumerate(matrix):
            col = 0
            while col < len(row):
                start = col
                while col < len(row) and row[col]:
                    col += 1
                if col > start:
                    path.rect(x + (start + 4) * module, y + size - (r + 5) * module,
                              (col - start) * module, module)
                col += 1
        c.setFillColor("#000000")
        c.drawPath(path, stroke=0, fill=1)


# --- Images --------------------------------------------------------------------------------

def image_spec(kit, i, background, fmt) -> renderers.ImageSpec:
    """Our 1200x627 card: background, logo, headline, body, QR."""
    frames = (renderers.LogoFrame("logo", (60, 50, 320, 110), plate="none"),
              renderers.TextFrame("headline", (60, 220, 820, 200), HEADLINE, "#ffffff", "bold",
                                  64, 34),
              renderers.TextFrame("body", (60, 450, 820, 100), "Book your review today",
                                  "#dbe7f0", size=34, min_size=20),
              renderers.QrFrame("qr", (940, 330, 220, 220), url_for(i)))
    return renderers.ImageSpec((1200, 627), renderers.Page(frames, background=background), kit,
                               fmt)


class ImageFloor:
    """Hand-written Pillow drawing the same card with background, fonts and logos cached."""

    def __init__(self, background: renderers.Resource):
        source = Image.open(io.BytesIO(background.data))
        source.draft("RGB", (1200, 627))
        self.bg = ImageOps.fit(source.convert("RGB"), (1200, 627), Image.Resampling.LANCZOS)
        self.bold = ImageFont.truetype(str(BOLD), 64, layout_engine=ImageFont.Layout.BASIC)
        self.regular = ImageFont.truetype(str(FONT), 34, layout_engine=ImageFont.Layout.BASIC)
        self.logos: dict[str, Image.Image] = {}

    def render(self, kit, i, fmt) -> bytes:
        """Draw and encode the card."""
        canvas = self.bg.copy()
        draw = ImageDraw.Draw(canvas)
        if kit.logo.sha256 not in self.logos:
            self.logos[kit.logo.sha256] = kit.logo.image.resize((300, 100),
                                                                 Image.Resampling.LANCZOS)
        logo = self.logos[kit.logo.sha256]
        canvas.paste(logo, (70, 55), logo)
        y = 220
        for line in ("Protect patient data on", "every device, in every", "ward"):
            draw.text((60, y), line, font=self.bold, fill="#ffffff")
            y += 80
        draw.text((60, 450), "Book your review today", font=self.regular, fill="#dbe7f0")
        code = qrcode.QRCode(border=0, mask_pattern=2)
        code.add_data(url_for(i))
        code.make(fit=True)
        matrix = code.get_matrix()
        module = 220 // (len(matrix) + 8)
        draw.rectangle((940, 330, 1159, 549), fill="#ffffff")
        for r, row in enumerate(matrix):
            col = 0
            while col < len(row):
                start = col
                while col < len(row) and row[col]:
                    col += 1
                if col > start:
                    x0, y0 = 940 + (start + 4) * module, 330 + (r + 4) * module
                    draw.rectangle((x0, y0, x0 + (col - start) * module - 1, y0 + module - 1),
                                   fill="#000000")
                col += 1
        out = io.BytesIO()
        if fmt == "png":
            canvas.save(out, "PNG", compress_level=1)
        else:
            canvas.save(out, "JPEG", quality=88)
        return out.getvalue()


# --- Email ---------------------------------------------------------------------------------

def email_setup():
    """The shipped newsletter template and its per-partner values."""
    return campaigns.load_template(ROOT / "templates" / "newsletter")


class EmailFloor:
    """MJML compiled once per campaign, Jinja compiled once; per partner: fill, a text part from
    the HTML, and a complete message with the logo and hero as CID parts (stdlib email)."""

    def __init__(self, mjml: str, text: str, hero: bytes):
        env = ImmutableSandboxedEnvironment(autoescape=True)
        env.filters["nl2br"] = renderers.sandboxed_environment(True).filters["nl2br"]
        self.html = env.from_string(mjml2html(mjml, disable_comments=True, fonts={}))
        self.hero = hero
        self.logos: dict[str, bytes] = {}

    def logo(self, kit) -> bytes:
        """The logo at 2x its 200x56 header box, as PNG, once per partner."""
        if kit.logo.sha256 not in self.logos:
            out = io.BytesIO()
            kit.logo.image.resize((336, 112), Image.Resampling.LANCZOS).save(out, "PNG")
            self.logos[kit.logo.sha256] = out.getvalue()
        return self.logos[kit.logo.sha256]

    def render(self, item) -> bytes:
        """Fill the HTML, make the text part, build the .eml."""
        from email.message import EmailMessage
        from email.policy import SMTP

        kit, values = item
        colors = renderers.email_palette(kit.primary, kit.secondary)
        html = self.html.render({**values, "colors": colors, "lang": "en", "dir": "ltr",
                                 "preheader": "", "logo_src": "cid:logo", "logo_width": 168,
                                 "logo_height": 56, "hero_src": "cid:hero", "hero_alt": "",
                                 "header": {"background": colors["header"],
                                            "text": colors["on_header"]}})
        text = renderers.html_to_text(html)
        message = EmailMessage(policy=SMTP)
        message["Subject"] = values["subject"]
        message.set_content(text, charset="utf-8", cte="quoted-printable")
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        related = message.get_payload()[1]
        related.add_related(self.logo(kit), maintype="image", subtype="png", cid="<logo>")
        related.add_related(self.hero, maintype="image", subtype="jpeg", cid="<hero>")
        return message.as_bytes()


# --- Runner --------------------------------------------------------------------------------

def per_item_ms(run, items) -> float:
    """Best of REPEATS runs over items, in ms per item."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for item in items:
            run(item)
        times.append((time.perf_counter() - start) * 1000 / len(items))
    return min(times)


def entry(name: str, value: float, floor: float, target: float) -> dict:
    """One results.json entry."""
    return {"name": name, "unit": "ms/item", "value": round(value, 3), "floor": round(floor, 3),
            "ratio": round(value / floor, 3), "target": target, "better": "lower"}


def bench_pdf(kits) -> dict:
    """PDF page: our Renderer vs the ReportLab floor."""
    background = renderers.Resource("bg.jpg", background_bytes((3000, 4200)))
    floor, renderer = PdfFloor(background), renderers.Renderer()
    specs = [pdf_spec(k, i, background) for i, k in enumerate(kits)]
    floor_ms = per_item_ms(lambda ik: floor.render(*ik), list(zip(kits, range(len(kits)),
                                                                    strict=True)))
    ours_ms = per_item_ms(renderer.render, specs)
    return entry("render_pdf_page_batch", ours_ms, floor_ms, TARGETS["pdf"])


def bench_image(kits, fmt) -> dict:
    """Social card: our Renderer vs the Pillow floor."""
    background = renderers.Resource("bg.jpg", background_bytes((4000, 2100)))
    floor, renderer = ImageFloor(background), renderers.Renderer()
    specs = [image_spec(k, i, background, fmt) for i, k in enumerate(kits)]
    items = list(zip(kits, range(len(kits)), strict=True))
    floor_ms = per_item_ms(lambda ik: floor.render(ik[0], ik[1], fmt), items)
    ours_ms = per_item_ms(renderer.render, specs)
    return entry(f"render_card_{fmt}_batch", ours_ms, floor_ms, TARGETS[fmt])


def bench_email(kits) -> dict:
    """Newsletter: campaigns-resolved EmailSpecs through our Renderer vs the bare floor."""
    tpl, renderer = email_setup(), renderers.Renderer()
    mjml, text, _ = tpl.email
    requests = [campaigns.resolve_request(tpl, campaigns.PartnerProfile(
        k.name, f"p{i}", "gold", "healthcare", "emea", "en", k), "email") for i, k in
        enumerate(kits)]
    hero = renderers.Renderer().cache.cover_jpeg(tpl.resources[tpl.email_extras.hero], (1200, 480))
    floor = EmailFloor(mjml, text, hero)
    values = [(k, renderers.email.values_to_dict(r.spec.values)) for k, r in zip(kits, requests,
                                                                                  strict=True)]
    floor_ms = per_item_ms(floor.render, values)
    ours_ms = per_item_ms(renderer.render, [r.spec for r in requests])
    return entry("render_email_batch", ours_ms, floor_ms, TARGETS["email"])


def main() -> None:
    """Run every benchmark and write the JSON list."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results.d/render.json")
    args = parser.parse_args()
    kits = make_partners()
    results = [bench_pdf(kits), bench_image(kits, "jpg"), bench_image(kits, "png"),
               bench_email(kits)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for r in results:
        print(f"{r['name']:28} {r['value']:8.3f} ms  floor {r['floor']:8.3f} ms  "
              f"ratio {r['ratio']:.2f} (target {r['target']})")
    print(f"median ratio {statistics.median(r['ratio'] for r in results):.2f}")


if __name__ == "__main__":
    main()
