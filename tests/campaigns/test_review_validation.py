"""Template validation found lax in review: misspelt keys and wrong types fail at load, named."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

import campaigns

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture(scope="module")
def brief():
    return campaigns.load_template(TEMPLATES / "solution-brief")


@pytest.fixture(scope="module")
def card():
    return campaigns.load_template(TEMPLATES / "social-card")


def _reload(tpl, change):
    spec = copy.deepcopy(tpl.to_spec())
    change(spec)
    return campaigns.template_from_spec(spec, lambda name: tpl.resources[name].data)


@pytest.mark.parametrize(("change", "field"), [
    (lambda s: s["pdf"].update(bleed=5), "(top level)"),
    (lambda s: s["pdf"]["pages"][0].update(backgroud="x.jpg"), "pages[0]"),
    (lambda s: s["pdf"]["pages"][0]["frames"][0].update(size="34"), "size"),
    (lambda s: s["pdf"]["pages"][0]["frames"][0].update(leading=0), "leading"),
    (lambda s: s["pdf"]["pages"][0]["frames"][0].update(name=5), "name"),
    (lambda s: s["pdf"].update(page_size=[1, 2, 3]), "page_size"),
])
def test_a_broken_pdf_layout_is_refused_naming_the_field(brief, change, field):
    with pytest.raises(campaigns.TemplateError, match=re.escape(field)):
        _reload(brief, change)


def test_a_misspelt_image_key_is_refused(card):
    with pytest.raises(campaigns.TemplateError, match="backround"):
        _reload(card, lambda s: s["image"].update(backround="card-bg.jpg"))


def test_a_logo_padding_that_leaves_no_room_is_refused(brief):
    def pad(spec):
        for frame in spec["pdf"]["pages"][0]["frames"]:
            if frame["kind"] == "logo":
                frame["padding"] = 1000
    with pytest.raises(campaigns.TemplateError, match="padding"):
        _reload(brief, pad)


@pytest.mark.parametrize(("raw", "key"), [
    ({"type": "text", "required": "false"}, "required"),
    ({"type": "choice", "choices": "abc"}, "choices"),
])
def test_field_tables_are_typed(raw, key):
    from campaigns.fields import parse_field

    with pytest.raises(campaigns.TemplateError, match=key):
        parse_field("note", raw, "manifest.toml")
