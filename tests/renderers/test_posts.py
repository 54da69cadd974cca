"""Post texts: each network's counting rule and limit, enforced at render time."""

from __future__ import annotations

import pytest

import renderers

LONG_URL = "https://go.example.com/l/" + "a" * 200


def test_x_counts_every_url_as_23():
    assert renderers.post_length("x", f"hi {LONG_URL}") == 3 + 23
    assert renderers.post_length("x", "hi http://a.b") == 3 + 23


def test_x_weighs_cjk_and_emoji_double():
    assert renderers.post_length("x", "\u4f60\u597d") == 4
    assert renderers.post_length("x", "\U0001f44d\U0001f3fd") == 2  # one grapheme with skin tone


def test_bluesky_counts_graphemes():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert renderers.post_length("bluesky", family + "e\u0301") == 2


def test_mastodon_counts_urls_as_23_and_chars():
    assert renderers.post_length("mastodon", f"{LONG_URL} ok") == 23 + 3


@pytest.mark.parametrize("network", sorted(renderers.POST_LIMITS))
def test_limit_exact_passes_one_more_fails(renderer, network):
    limit = renderers.POST_LIMITS[network]
    ok = renderer.render(renderers.PostSpec(network, "a" * limit))
    assert ok.data == b"a" * limit and ok.extra["length"] == limit
    with pytest.raises(renderers.RenderError, match=f"the limit is {limit}"):
        renderer.render(renderers.PostSpec(network, "a" * (limit + 1)))


def test_x_post_with_long_link_fits(renderer):
    text = "b" * (280 - 24) + " " + LONG_URL
    assert renderer.render(renderers.PostSpec("x", text)).extra["length"] == 280


def test_unknown_network_refused(renderer):
    with pytest.raises(renderers.RenderError, match="unknown network"):
        renderer.render(renderers.PostSpec("myspace", "hi"))
