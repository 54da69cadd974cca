"""The spec digest's fast path gives the very digests of the reference rule (stored renders are
found by keys made from it, so a changed byte would make every stored render miss once)."""

from __future__ import annotations

import dataclasses

import pytest

import campaigns
import renderers
from renderers.digest import reference_digest


def tracked(name: str, url: str, channel: str) -> str:
    return f"https://go.example/{channel}/{name}"


def _profiles(profile):
    dark = dataclasses.replace(profile().brand, logo_dark=profile().brand.logo)
    return [profile(), profile(name="Nörd <b>&</b> \u202eCo", tier="silver", locale="de-DE"),
            profile(locale="fr", address=""), profile(logo=None, primary="#ffffff"),
            dataclasses.replace(profile(), brand=dark)]


def test_every_shipped_template_output_locale_and_variant_digests_as_the_reference(catalogue, profile):
    checked = set()
    for tpl in catalogue.values():
        for locale in ("en", *sorted(tpl.translations)):
            for partner in _profiles(profile):
                partner = dataclasses.replace(partner, locale=locale, tier=(tpl.tiers or ("gold",))[0])
                for output in tpl.outputs:
                    for variant in (None, *tpl.variants):
                        spec = campaigns.resolve_request(
                            tpl, partner, output, variant, tpl.stand_in_fields(), tracked,
                            "https://u.example/x", "https://p.example/x.gif",
                            "https://m.example/l.png", "").spec
                        assert renderers.spec_digest(spec) == reference_digest(spec), (
                            tpl.slug, output, locale, variant)
                        checked.add(renderers.spec_digest(spec))
    assert len(checked) > 100  # many distinct specs, not one checked many times


def test_a_digest_keeps_its_value():
    text = renderers.TextFrame("title", (0, 0, 100, 20), text="Hello")
    spec = renderers.ImageSpec((200, 100), renderers.Page((text,)), renderers.BrandKit("Acme"))
    assert renderers.spec_digest(spec) == "c23c8d5a9ef2dcb96adf10f1c4866fa94bcf6137463c787730aac4d038618db4"


@dataclasses.dataclass(frozen=True)
class Sized(renderers.Resource):
    """A subclass of a binary: still named by its hash only."""

    pixels: int = 0


class Label(str):
    pass


@pytest.mark.parametrize("value", [
    renderers.PostSpec("x", Label("Hi")),
    {"b": b"z", "a": (1, "é", None, True, 2.5), "c": [renderers.Contact("A")]},
    renderers.Page((renderers.PictureFrame("p", (0, 0, 1, 1), Sized("a", b"x", pixels=3)),)),
    (renderers.RectFrame("r", (0, 0, 1, 1), "#000000"), ["nested", ("tuple",)]),
])
def test_unusual_values_digest_as_the_reference(value):
    assert renderers.spec_digest(value) == reference_digest(value)
