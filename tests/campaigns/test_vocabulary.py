"""One vocabulary: outputs, channels and networks are spelt one way everywhere."""

from __future__ import annotations

import pytest

from campaigns.vocabulary import CHANNELS, NETWORKS, OUTPUTS, channel_for, post_output, tier_allows


@pytest.mark.parametrize(("output", "channel"), [
    ("pdf", "print"), ("png", "image"), ("jpg", "image"), ("email", "email"),
    ("post:linkedin", "linkedin"), ("post:x", "x"), ("post:facebook", "facebook"),
    ("post:mastodon", "mastodon"), ("post:bluesky", "bluesky"), ("post:webhook", "webhook"),
])
def test_each_output_reaches_people_through_its_channel(output, channel):
    assert channel_for(output) == channel


@pytest.mark.parametrize("output", ["html", "post:myspace", "post:", "PDF", "linkedin"])
def test_an_unknown_output_has_no_channel(output):
    with pytest.raises(ValueError) as refused:
        channel_for(output)
    assert str(refused.value) == (
        f"unknown output {output!r}; expected one of pdf, png, jpg, email, post:linkedin, post:x, "
        "post:facebook, post:mastodon, post:bluesky, post:webhook")


def test_the_six_networks_are_channels_and_outputs_of_their_own():
    assert NETWORKS == ("linkedin", "x", "facebook", "mastodon", "bluesky", "webhook")
    assert CHANNELS == ("print", "image", "email", "download", "qr",
                        "linkedin", "x", "facebook", "mastodon", "bluesky", "webhook")
    assert OUTPUTS[:4] == ("pdf", "png", "jpg", "email")
    assert post_output("x") == "post:x" and "post:x" in OUTPUTS


@pytest.mark.parametrize(("tiers", "tier", "allowed"), [
    ((), "silver", True), (None, "gold", True), (("gold", "platinum"), "gold", True),
    (("gold", "platinum"), "Gold", True), (("Gold",), "gold", True), (("gold",), " gold ", True),
    (("gold", "platinum"), "silver", False), (("gold",), "", False),
])
def test_tier_availability_is_one_rule(tiers, tier, allowed):
    assert tier_allows(tiers, tier) is allowed
