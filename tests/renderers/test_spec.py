"""Render specs: colours checked on the way in, binaries named by hash, specs digested stably."""

from __future__ import annotations

import hashlib

import pytest

import renderers
from renderers.spec import check_color


def test_colours_are_rrggbb_and_lowercased():
    assert check_color("#1F4E79", "primary colour") == "#1f4e79"
    for bad in ("#1f4e7", "1f4e79", "#1f4e79ff", "#gggggg", "red", None):
        with pytest.raises(renderers.RenderError) as refused:
            check_color(bad, "primary colour")
        assert str(refused.value) == f"primary colour: {bad!r} is not a #rrggbb colour"


def test_a_brand_kit_checks_both_colours():
    kit = renderers.BrandKit("Acme", "#AABBCC", "#DDEEFF")
    assert (kit.primary, kit.secondary) == ("#aabbcc", "#ddeeff")
    assert (renderers.BrandKit("Acme").primary, renderers.BrandKit("Acme").secondary) == (
        "#1f4e79", "#f2a900")
    with pytest.raises(renderers.RenderError, match="^secondary colour: 'gold' is not"):
        renderers.BrandKit("Acme", "#aabbcc", "gold")


def test_a_resource_is_named_by_the_sha256_of_its_bytes():
    resource = renderers.Resource("bg.jpg", b"pixels")
    assert resource.sha256 == hashlib.sha256(b"pixels").hexdigest()
    assert renderers.Resource("bg.jpg", b"other", sha256="given").sha256 == "given"
    assert resource == renderers.Resource("bg.jpg", b"different bytes, same name and hash",
                                          sha256=resource.sha256)


def _card(**frame):
    text = renderers.TextFrame("title", (0, 0, 100, 20), **{"text": "Hello", **frame})
    return renderers.ImageSpec((200, 100), renderers.Page((text,)), renderers.BrandKit("Acme"))


def test_the_digest_is_stable_and_changes_with_every_input():
    digest = renderers.spec_digest(_card())
    assert digest == renderers.spec_digest(_card()) and len(digest) == 64
    others = {renderers.spec_digest(_card(text="Hello!")), renderers.spec_digest(_card(size=13)),
              renderers.spec_digest(renderers.PostSpec("x", "Hello")),
              renderers.spec_digest(renderers.PostSpec("bluesky", "Hello"))}
    assert digest not in others and len(others) == 4


def test_the_digest_names_binaries_by_their_hash_only():
    one = renderers.Page((), renderers.Resource("a.jpg", b"x", sha256="h1"))
    same = renderers.Page((), renderers.Resource("a.jpg", b"y", sha256="h1"))
    other = renderers.Page((), renderers.Resource("a.jpg", b"x", sha256="h2"))
    assert renderers.spec_digest(one) == renderers.spec_digest(same) != renderers.spec_digest(other)


def test_the_digest_of_plain_values_is_sha256_of_canonical_json():
    expected = hashlib.sha256('{"renderer":"3","spec":{"a":[1,"é"],"b":{"bytes":"%s"}}}'.encode()
                              % hashlib.sha256(b"z").hexdigest().encode()).hexdigest()
    assert renderers.spec_digest({"b": b"z", "a": (1, "é")}) == expected
