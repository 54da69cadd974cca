"""Post texts: each network's counting rule and limit, enforced at render time."""

from __future__ import annotations

import pytest

import renderers

LONG_URL = "https://go.example.com/l/" + "a" * 200
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one grapheme of five code points


def test_x_counts_every_url_as_23():
    assert renderers.post_length("x", f"hi {LONG_URL}") == 3 + 23
    assert renderers.post_length("x", "hi http://a.b") == 3 + 23
    assert renderers.post_length("x", "a.co/abc") == 8  # no scheme, not a link


@pytest.mark.parametrize(("text", "expected"), [
    ("HTTPS://A.CO/abc", 23),
    ("go https://a.co/x.", 3 + 23 + 1),  # the full stop ends the sentence, not the link
    ("(see https://a.co/x)", 5 + 23 + 1),
    ("https://a.co/x, https://b.co/y!", 23 + 2 + 23 + 1),
])
def test_x_links_end_before_trailing_punctuation(text, expected):
    assert renderers.post_length("x", text) == expected


def test_x_weighs_cjk_and_emoji_double():
    assert renderers.post_length("x", "\u4f60\u597d") == 4
    assert renderers.post_length("x", "\U0001f44d\U0001f3fd") == 2  # one grapheme with skin tone
    assert renderers.post_length("x", FAMILY) == 2


@pytest.mark.parametrize(("text", "expected"), [
    ("\U0001f1e9\U0001f1ea", 2),  # a flag: two regional indicators, one grapheme
    ("1\ufe0f\u20e3", 2),  # keycap one
    ("\u00a9", 2),  # the copyright sign is an emoji to X although it is Latin-1
    ("\u2764\ufe0f", 2),
])
def test_x_weighs_flags_keycaps_and_emoji_presentations_two(text, expected):
    assert renderers.post_length("x", text) == expected


@pytest.mark.parametrize(("code_point", "weight"), [
    (0x0000, 1), (0x0041, 1), (0x10FF, 1), (0x1100, 2),  # up to the end of Georgian
    (0x1FFF, 2), (0x2002, 1), (0x200D, 1), (0x200E, 2), (0x200F, 2),  # spaces and joiners
    (0x2010, 1), (0x201F, 1), (0x2020, 2),  # dashes and quotes
    (0x2031, 2), (0x2032, 1), (0x2037, 1), (0x2038, 2),  # primes
])
def test_x_weight_ranges_edges(code_point, weight):
    assert renderers.post_length("x", chr(code_point)) == weight


def test_counting_is_on_composed_text():
    decomposed = "e\u0301"  # e + combining acute: one character once composed
    for network in ("x", "linkedin", "facebook", "mastodon", "bluesky"):
        assert renderers.post_length(network, decomposed) == 1, network


def test_bluesky_counts_graphemes():
    assert renderers.post_length("bluesky", FAMILY + "e\u0301") == 2
    assert renderers.post_length("bluesky", "hi https://a.co/" + "x" * 50) == 66  # links in full


def test_linkedin_and_facebook_count_code_points_and_links_in_full():
    assert renderers.post_length("linkedin", FAMILY) == 5
    assert renderers.post_length("facebook", "go https://a.co/x") == 17


def test_mastodon_counts_urls_as_23_and_chars():
    assert renderers.post_length("mastodon", f"{LONG_URL} ok") == 23 + 3


def test_mastodon_counts_graphemes_and_short_mentions():
    assert renderers.post_length("mastodon", FAMILY) == 1
    assert renderers.post_length("mastodon", "hi @alice@example.social") == 9  # "hi @alice"
    assert renderers.post_length("mastodon", "mail @bob@mx.example.org.") == 10  # "mail @bob."
    assert renderers.post_length("mastodon", "hi @alice") == 9


# Written out here, not read from the module: a wrong limit in the module must fail this test.
LIMITS = [("x", 280, "weighted characters"), ("linkedin", 3000, "characters"),
          ("mastodon", 500, "characters"), ("bluesky", 300, "graphemes"),
          ("facebook", 63206, "characters"), ("webhook", 10000, "characters")]


@pytest.mark.parametrize(("network", "limit", "unit"), LIMITS)
def test_limit_exact_passes_one_more_fails(renderer, network, limit, unit):
    ok = renderer.render(renderers.PostSpec(network, "a" * limit))
    assert ok.data == b"a" * limit and ok.text == "a" * limit
    assert ok.extra == {"network": network, "length": limit, "limit": limit}
    with pytest.raises(renderers.RenderError) as refused:
        renderer.render(renderers.PostSpec(network, "a" * (limit + 1)))
    assert str(refused.value) == f"{network} post is {limit + 1} {unit}; the limit is {limit}"


def test_every_network_has_a_limit():
    assert sorted(renderers.POST_LIMITS) == sorted(renderers.NETWORKS)


def test_a_post_is_utf8_plain_text(renderer):
    result = renderer.render(renderers.PostSpec("linkedin", "Grüße \u4f60\u597d"))
    assert result.data == "Grüße \u4f60\u597d".encode()
    assert (result.media_type, result.extension) == ("text/plain; charset=utf-8", "txt")
    assert result.warnings == ()


def test_x_post_with_long_link_fits(renderer):
    text = "b" * (280 - 24) + " " + LONG_URL
    assert renderer.render(renderers.PostSpec("x", text)).extra["length"] == 280
    with pytest.raises(renderers.RenderError, match="^x post is 281 weighted characters"):
        renderer.render(renderers.PostSpec("x", "b" + text))


def test_x_limit_counts_weights_not_characters(renderer):
    assert renderer.render(renderers.PostSpec("x", "\u4f60" * 140)).extra["length"] == 280
    with pytest.raises(renderers.RenderError, match="^x post is 282 weighted characters"):
        renderer.render(renderers.PostSpec("x", "\u4f60" * 141))


def test_unknown_network_refused(renderer):
    with pytest.raises(renderers.RenderError) as refused:
        renderer.render(renderers.PostSpec("myspace", "hi"))
    assert str(refused.value) == ("unknown network 'myspace'; expected one of ('linkedin', 'x', "
                                  "'facebook', 'mastodon', 'bluesky', 'webhook')")
