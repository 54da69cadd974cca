"""PDF and image layouts: frames, pages and canvases as templates write them, and their errors."""

from __future__ import annotations

import copy

import pytest

import campaigns
from campaigns.layouts import FrameDef, PageDef, parse_frame, parse_image_layout, parse_pdf_layout

TEXT = {"kind": "text", "name": "title", "box": [10, 20, 300, 40], "text": "Hi"}


def known(name, where, file):
    """A resources lookup that knows every file."""
    return b""


def _refusal(call) -> tuple[str, str, str]:
    with pytest.raises(campaigns.TemplateError) as refused:
        call()
    return refused.value.file, refused.value.field, refused.value.message


def test_a_frame_takes_the_defaults_of_its_kind():
    assert parse_frame(TEXT, "p.toml", "f", known) == FrameDef(
        "text", "title", (10.0, 20.0, 300.0, 40.0), "Hi", "#222222", "regular", 12.0, 8.0,
        "left", 1.25, "", "", "auto", 0.0)
    assert parse_frame({"kind": "rect", "box": [0, 0, 1, 1], "color": "primary"}, "p.toml", "f",
                       known).name == "rect"  # unnamed frames are named after their kind


def test_a_frame_accepts_the_edges_of_its_ranges():
    raw = dict(TEXT, size=400, min_size=1, leading=3, padding=19.5, color="#ABCDEF")
    frame = parse_frame(raw, "p.toml", "f", known)
    assert (frame.size, frame.min_size, frame.leading, frame.padding, frame.color) == (
        400, 1, 3, 19.5, "#abcdef")
    assert parse_frame(dict(TEXT, leading=0.8, size=1, min_size=1), "p.toml", "f",
                       known).leading == 0.8


FRAME_ERRORS = [
    ("title", "f", "must be a table"),
    (dict(TEXT, sise=3), "f", "unknown keys ['sise'] (did you mean 'size'?); "
        "known: ['align', 'box', 'color', 'font', "
     "'kind', 'leading', 'link', 'min_size', 'name', 'padding', 'picture', 'plate', "
     "'plate_color', 'size', 'text', 'valign']"),
    (dict(TEXT, sise=3, colour="#fff", zorder=2), "f",
     "unknown keys ['colour', 'sise', 'zorder'] (did you mean 'color' for 'colour', 'size' for 'sise'?); "
     "known: ['align', 'box', 'color', 'font', 'kind', 'leading', 'link', 'min_size', 'name', 'padding', "
     "'picture', 'plate', 'plate_color', 'size', 'text', 'valign']"),
    (dict(TEXT, kind="video"), "f.kind",
     "must be one of ('text', 'contact', 'rect', 'logo', 'qr', 'picture')"),
    (dict(TEXT, size=0.5), "f.size", "must be a number from 1 to 400"),
    (dict(TEXT, size=401), "f.size", "must be a number from 1 to 400"),
    (dict(TEXT, size="34"), "f.size", "must be a number from 1 to 400"),
    (dict(TEXT, size=True), "f.size", "must be a number from 1 to 400"),
    (dict(TEXT, leading=0.79), "f.leading", "must be a number from 0.8 to 3"),
    (dict(TEXT, padding=-1), "f.padding", "must be a number from 0 to 1000"),
    (dict(TEXT, name=5), "f.name", "must be text"),
    (dict(TEXT, box=[0, 0, 10]), "f.box", "must be [x, y, width, height]"),
    (dict(TEXT, box=[0, 0, "10", 5]), "f.box", "must be [x, y, width, height]"),
    (dict(TEXT, box=[0, 0, 0, 5]), "f.box", "width and height must be positive"),
    (dict(TEXT, box=[0, 0, 5, -1]), "f.box", "width and height must be positive"),
    (dict(TEXT, color="red"), "f.color", "f.color: 'red' is not a #rrggbb colour; or use "
     "('primary', 'secondary', 'on-primary', 'on-secondary', 'primary-ink', 'secondary-ink')"),
    (dict(TEXT, font="italic"), "f.font", "must be one of ('regular', 'bold')"),
    (dict(TEXT, align="justify"), "f.align", "must be one of ('left', 'center', 'right')"),
    (dict(TEXT, kind="logo", plate="grey"), "f.plate",
     "must be one of ('auto', 'none', 'light', 'dark')"),
    ({"kind": "text", "box": [0, 0, 5, 5]}, "f.text", "a text frame needs text"),
    ({"kind": "qr", "box": [0, 0, 5, 5]}, "f.link", "a QR frame needs a link destination"),
    (dict(TEXT, size=10, min_size=11), "f.min_size", "must be positive and at most size"),
    (dict(TEXT, kind="contact", min_size=13), "f.min_size", "must be positive and at most size"),
    (dict(TEXT, padding=20), "f.padding", "must leave room inside the box"),
]


@pytest.mark.parametrize(("raw", "field", "message"), FRAME_ERRORS)
def test_a_bad_frame_is_refused_naming_the_key(raw, field, message):
    assert _refusal(lambda: parse_frame(raw, "p.toml", "f", known)) == ("p.toml", field, message)


def test_a_picture_frame_names_a_resource_that_must_exist():
    asked = []
    parse_frame({"kind": "picture", "box": [0, 0, 5, 5], "picture": "team.jpg"}, "p.toml",
                "pages[0].frames[2]", lambda *a: asked.append(a))
    assert asked == [("team.jpg", "pages[0].frames[2].picture", "p.toml")]


PAGE = {"background": "bg.jpg", "background_color": "secondary", "frames": [TEXT]}


def test_a_pdf_layout_has_a4_pages_and_3mm_bleed_by_default():
    layout = parse_pdf_layout({"pages": [PAGE]}, "p.toml", known)
    assert layout.size == (595.28, 841.89) and layout.bleed == pytest.approx(8.503937)
    assert layout.pages == (PageDef((parse_frame(TEXT, "p.toml", "f", known),), "bg.jpg",
                                    "secondary"),)


@pytest.mark.parametrize(("page_size", "size"), [
    ("letter", (612.0, 792.0)), ("A5", (419.53, 595.28)), ([300, 400], (300.0, 400.0))])
def test_page_sizes_by_name_or_in_points(page_size, size):
    layout = parse_pdf_layout({"page_size": page_size, "bleed_mm": 0, "pages": [PAGE]}, "p.toml",
                              known)
    assert (layout.size, layout.bleed) == (size, 0)


def test_bleed_may_be_up_to_10mm():
    assert parse_pdf_layout({"bleed_mm": 10, "pages": [PAGE]}, "p.toml",
                            known).bleed == pytest.approx(28.346457)


SIZES = "['A4', 'A5', 'letter']"
PDF_ERRORS = [
    ({"bleed": 5, "pages": [PAGE]}, "(top level)",
     "unknown keys ['bleed'] (did you mean 'bleed_mm'?); known: ['bleed_mm', 'page_size', 'pages']"),
    ({"page_size": "A3", "pages": [PAGE]}, "page_size", f"must be one of {SIZES}"),
    ({"page_size": [1, 2, 3], "pages": [PAGE]}, "page_size",
     f"must be one of {SIZES} or [width, height] in points"),
    ({"page_size": [100, 0], "pages": [PAGE]}, "page_size", "width and height must be positive"),
    ({"bleed_mm": 11, "pages": [PAGE]}, "bleed_mm", "must be a number from 0 to 10"),
    ({"bleed_mm": -1, "pages": [PAGE]}, "bleed_mm", "must be a number from 0 to 10"),
    ({"bleed_mm": "3", "pages": [PAGE]}, "bleed_mm", "must be a number from 0 to 10"),
    ({}, "pages", "must list at least one page"),
    ({"pages": []}, "pages", "must list at least one page"),
    ({"pages": ["cover"]}, "pages[0]", "must be a table"),
    ({"pages": [dict(PAGE, backgroud="x.jpg")]}, "pages[0]",
     "unknown keys ['backgroud'] (did you mean 'background'?); "
         "known: ['background', 'background_color', 'frames']"),
    ({"pages": [dict(PAGE, background=3)]}, "pages[0].background",
     "must be the name of a resource file"),
    ({"pages": [dict(PAGE, frames=[])]}, "pages[0].frames", "must list at least one frame"),
    ({"pages": [dict(PAGE, background_color="white")]}, "pages[0].background_color",
     "pages[0].background_color: 'white' is not a #rrggbb colour; or use ('primary', "
     "'secondary', 'on-primary', 'on-secondary', 'primary-ink', 'secondary-ink')"),
    ({"pages": [dict(PAGE, frames=[TEXT, TEXT])]}, "pages[0].frames", "frame names must be unique"),
    ({"pages": [PAGE, dict(PAGE, frames=[dict(TEXT, size=0)])]}, "pages[1].frames[0].size",
     "must be a number from 1 to 400"),
]


@pytest.mark.parametrize(("raw", "field", "message"), PDF_ERRORS)
def test_a_bad_pdf_layout_is_refused_naming_the_key(raw, field, message):
    assert _refusal(lambda: parse_pdf_layout(raw, "p.toml", known)) == ("p.toml", field, message)


def test_a_background_must_be_a_resource_of_the_template():
    asked = []
    parse_pdf_layout({"pages": [PAGE]}, "p.toml", lambda *a: asked.append(a))
    assert asked == [("bg.jpg", "pages[0].background", "p.toml")]


def test_an_image_layout_is_one_canvas_of_layers():
    raw = {"canvas": [16, 4096], "background_color": "#FFFFFF", "layers": [TEXT]}
    layout = parse_image_layout(raw, "i.toml", known)
    assert layout.size == (16, 4096)
    assert layout.page == PageDef((parse_frame(TEXT, "i.toml", "f", known),), "", "#ffffff")


@pytest.mark.parametrize(("raw", "field", "message"), [
    ({"canvas": [1200, 627], "layers": [TEXT], "backround": "x.jpg"}, "(top level)",
     "unknown keys ['backround'] (did you mean 'background'?); "
         "known: ['background', 'background_color', 'canvas', 'layers']"),
    ({"canvas": [15, 627], "layers": [TEXT]}, "canvas", "must be [width, height] in pixels (16-4096)"),
    ({"canvas": [1200, 4097], "layers": [TEXT]}, "canvas",
     "must be [width, height] in pixels (16-4096)"),
    ({"canvas": [1200.0, 627], "layers": [TEXT]}, "canvas",
     "must be [width, height] in pixels (16-4096)"),
    ({"canvas": [1200], "layers": [TEXT]}, "canvas", "must be [width, height] in pixels (16-4096)"),
    ({"layers": [TEXT]}, "canvas", "must be [width, height] in pixels (16-4096)"),
    ({"canvas": [1200, 627]}, "canvas.layers", "must list at least one frame"),
])
def test_a_bad_image_layout_is_refused_naming_the_key(raw, field, message):
    assert _refusal(lambda: parse_image_layout(raw, "i.toml", known)) == ("i.toml", field, message)


# Through the whole template, as a marketer's upload is checked.

@pytest.fixture(scope="module")
def brief(catalogue):
    return catalogue["solution-brief"]


def _reload(tpl, change):
    spec = copy.deepcopy(tpl.to_spec())
    change(spec)
    return campaigns.template_from_spec(spec, lambda name: tpl.resources[name].data)


def test_a_misspelt_key_in_a_template_spec_is_refused_naming_the_table(brief):
    with pytest.raises(campaigns.TemplateError) as refused:
        _reload(brief, lambda s: s["pdf"]["pages"][0].update(backgroud="x.jpg"))
    assert (refused.value.file, refused.value.field) == ("spec:pdf", "pages[0]")
    assert refused.value.message.startswith("unknown keys ['backgroud']")


def test_a_logo_padding_that_leaves_no_room_is_refused(brief):
    def pad(spec):
        for frame in spec["pdf"]["pages"][0]["frames"]:
            if frame["kind"] == "logo":
                frame["padding"] = 1000
    with pytest.raises(campaigns.TemplateError, match="must leave room inside the box"):
        _reload(brief, pad)
