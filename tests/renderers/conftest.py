"""Fixtures for renderer tests: sample logos of every upload case and golden comparison."""

from __future__ import annotations

import difflib
import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

import renderers

GOLDEN = Path(__file__).parent / "golden"
FAILURES = Path(__file__).resolve().parents[1] / "_failures"
GOLDEN_WIDTH = 300  # goldens are stored downscaled to keep the repository light


def logo_image(size=(1200, 360), mode="RGBA", background=(0, 0, 0, 0), ink=(20, 40, 160)):
    """A wordmark-like test logo: a disc and a bar, with margins to trim."""
    image = Image.new(mode, size, background if mode != "RGB" else background[:3])
    draw = ImageDraw.Draw(image)
    w, h = size
    m = max(min(w, h) // 8, 1)
    draw.ellipse((m, m, min(h, w) - m, min(h, w) - m), fill=ink)
    if w >= h:
        draw.rectangle((h, h // 3, w - m, 2 * h // 3), fill=ink)
    else:
        draw.rectangle((w // 3, w, 2 * w // 3, h - m), fill=ink)
    return image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    """Image to file bytes."""
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def make_logo(case: str) -> bytes:
    """Logo bytes for one of the upload cases partners really send."""
    if case == "png-alpha":
        return encode(logo_image(), "PNG")
    if case == "png-opaque":
        return encode(logo_image(mode="RGB", background=(255, 255, 255)), "PNG")
    if case == "jpeg-on-white":
        return encode(logo_image(mode="RGB", background=(255, 255, 255)), "JPEG", quality=90)
    if case == "very-wide":
        return encode(logo_image((3000, 90)), "PNG")
    if case == "very-tall":
        return encode(logo_image((90, 1600)), "PNG")
    if case == "tiny":
        return encode(logo_image((32, 12)), "PNG")
    if case == "huge":
        image = logo_image((5000, 1500), mode="RGB", background=(255, 255, 255))
        return encode(image, "JPEG", quality=70)
    if case == "cmyk-jpeg":
        return encode(logo_image(mode="RGB", background=(255, 255, 255)).convert("CMYK"), "JPEG")
    if case == "palette-png":
        return encode(logo_image().convert("P"), "PNG", transparency=0)
    raise ValueError(case)


@pytest.fixture
def brand() -> renderers.BrandKit:
    """A partner brand with a transparent PNG logo."""
    return renderers.BrandKit(
        "Acme Cloud", "#1f4e79", "#f2a900", renderers.load_logo(make_logo("png-alpha")),
        renderers.Contact("Jane Doe", "jane@acme.example", "+1 555 0100", "https://acme.example"),
        "1 Example Street\nSpringfield",
    )


@pytest.fixture(scope="session")
def renderer() -> renderers.Renderer:
    """One renderer for the session, as batch jobs use it."""
    return renderers.Renderer()


def _side_by_side(actual: Image.Image, expected: Image.Image) -> Image.Image:
    """Actual on the left, expected on the right."""
    both = Image.new("RGB", (actual.width + expected.width, max(actual.height, expected.height)))
    both.paste(actual, (0, 0))
    both.paste(expected, (actual.width, 0))
    return both


@pytest.fixture
def assert_golden():
    """Compare an image with its downscaled golden by mean absolute difference per channel."""
    def check(name: str, image: Image.Image, threshold: float = 2.0, update: bool = True,
              width: int = GOLDEN_WIDTH) -> None:
        height = round(image.height * width / image.width)
        actual = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
        path = GOLDEN / f"{name}.png"
        updating = update and os.environ.get("TCMA_UPDATE_GOLDEN") == "1"
        if updating or not path.exists():
            if not updating:
                pytest.fail(f"golden {path} missing; run with TCMA_UPDATE_GOLDEN=1")
            actual.save(path, optimize=True)
            return
        expected = Image.open(path).convert("RGB")
        assert expected.size == actual.size, f"{name}: size {actual.size} != {expected.size}"
        diff = sum(ImageStat.Stat(ImageChops.difference(actual, expected)).mean) / 3
        if diff > threshold:
            FAILURES.mkdir(parents=True, exist_ok=True)
            _side_by_side(actual, expected).save(FAILURES / f"{name}.png")
            pytest.fail(f"{name}: mean abs diff {diff:.2f} > {threshold} "
                        f"(actual | expected saved in {FAILURES / name}.png)")
    return check


SIDE_BY_SIDE_HTML = """<!doctype html><meta charset="utf-8"><title>{name}: actual | expected</title>
<style>body{{margin:0;display:flex}} iframe{{width:50vw;height:100vh;border:0;border-left:1px solid}}</style>
<iframe src="{actual}"></iframe><iframe src="{expected}"></iframe>
"""


def save_text_failure(name: str, suffix: str, actual: str, expected: str) -> Path:
    """Save actual and expected beside each other, with a diff; return the file to open."""
    FAILURES.mkdir(parents=True, exist_ok=True)
    actual_path = FAILURES / f"{name}.actual.{suffix}"
    expected_path = FAILURES / f"{name}.expected.{suffix}"
    actual_path.write_text(actual, encoding="utf-8")
    expected_path.write_text(expected, encoding="utf-8")
    diff = difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                f"expected/{name}.{suffix}", f"actual/{name}.{suffix}")
    (FAILURES / f"{name}.{suffix}.diff").write_text("".join(diff), encoding="utf-8")
    if suffix != "html":
        return FAILURES / f"{name}.{suffix}.diff"
    page = FAILURES / f"{name}.side-by-side.html"
    page.write_text(SIDE_BY_SIDE_HTML.format(name=name, actual=actual_path.name,
                                             expected=expected_path.name), encoding="utf-8")
    return page


@pytest.fixture
def assert_golden_text():
    """Compare a text output (email HTML, text part) with its golden file, exactly."""
    def check(name: str, suffix: str, actual: str, update: bool = True) -> None:
        path = GOLDEN / f"{name}.{suffix}"
        if update and os.environ.get("TCMA_UPDATE_GOLDEN") == "1":
            path.write_text(actual, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"golden {path} missing; run with TCMA_UPDATE_GOLDEN=1")
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            saved = save_text_failure(name, suffix, actual, expected)
            pytest.fail(f"{name}.{suffix} differs from its golden (actual and expected saved "
                        f"in {FAILURES}; open {saved.name})")
    return check


@pytest.fixture
def logo_bytes():
    """Factory: logo file bytes for an upload case name (see LOGO_CASES)."""
    return make_logo
