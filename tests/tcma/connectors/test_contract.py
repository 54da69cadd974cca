"""The connector contract: text rules, keys, rate-limit headers, reprs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tcma.connectors import (
    LIVE_NETWORKS,
    Account,
    ConnectorSettings,
    Post,
    RateLimited,
    RateLimitState,
    RecentPost,
    Rejected,
    Unsupported,
    build_connector,
    check_text,
    find_published,
    idempotency_key,
)
from tcma.connectors.oauth import OAUTH_NETWORKS, build_oauth_flow
from tcma.connectors.transport import (
    clip_secrets,
    next_utc_midnight,
    rate_limit_state,
    rate_limited_until,
    retry_after,
    tighter,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("network", "text", "limit"), [
    ("x", "a" * 281, 280),
    ("x", "字" * 141, 280),  # CJK weighs 2 on X
    ("bluesky", "é" * 301, 300),
    ("mastodon", "a" * 501, 500),
    ("linkedin", "a" * 3001, 3000),
    ("facebook", "a" * 63_207, 63_206),
])
def test_text_over_a_networks_limit_is_rejected(network, text, limit):
    with pytest.raises(Rejected, match=f"limit is {limit}"):
        check_text(network, text)


def test_text_rules_count_as_the_network_does():
    assert check_text("x", "https://example.com/" + "a" * 200) == 23  # every link weighs 23
    assert check_text("bluesky", "👩‍👩‍👧" * 300) == 300  # graphemes, not bytes or code points
    assert check_text("mastodon", "x" * 600, limit=1000) == 600  # the instance's own limit


def test_empty_text_and_unknown_networks_are_refused():
    with pytest.raises(Rejected, match="empty"):
        check_text("mastodon", "  \n")
    with pytest.raises(Unsupported):
        check_text("myspace", "hello")


def test_idempotency_keys_are_stable_per_post_and_account():
    assert idempotency_key(7, 3) == idempotency_key(7, 3)
    assert len({idempotency_key(7, 3), idempotency_key(7, 4), idempotency_key(8, 3)}) == 3


def test_a_post_needs_its_key_and_an_image_its_type():
    with pytest.raises(ValueError, match="idempotency_key"):
        Post(text="t", idempotency_key="")
    with pytest.raises(ValueError, match="image_type"):
        Post(text="t", idempotency_key="k", image=b"x")


def test_reprs_leave_out_credentials_and_image_bytes():
    account = Account(network="mastodon", base_url="https://m.test", handle="@a",
                      credentials={"access_token": "s3cr3t-token"})
    post = Post(text="t", idempotency_key="k", image=b"\x89PNG-bytes", image_type="image/png")
    assert "s3cr3t-token" not in repr(account) and "PNG-bytes" not in repr(post)
    assert account == Account(network="mastodon", base_url="https://m.test", handle="@a")


def test_mastodon_headers_reset_in_iso_time():
    headers = httpx.Headers({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "220",
                             "X-RateLimit-Reset": "2022-12-01T21:00:00.558186Z"})
    assert rate_limit_state(headers, "x-ratelimit-", "iso") == RateLimitState(
        300, 220, datetime(2022, 12, 1, 21, 0, 0, 558186, tzinfo=UTC))


def test_bluesky_and_x_headers_reset_in_epoch_seconds():
    bluesky = httpx.Headers({"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                             "ratelimit-reset": "1735689600"})
    x = httpx.Headers({"x-rate-limit-limit": "200", "x-rate-limit-remaining": "199",
                       "x-rate-limit-reset": "1635976418"})
    assert rate_limit_state(bluesky, "ratelimit-", "epoch") == RateLimitState(
        3000, 0, datetime(2025, 1, 1, tzinfo=UTC))
    assert rate_limit_state(x, "x-rate-limit-", "epoch").reset == datetime.fromtimestamp(1635976418, UTC)


def test_missing_or_garbled_headers_give_what_can_be_read():
    assert rate_limit_state(httpx.Headers({}), "ratelimit-", "epoch") is None
    garbled = httpx.Headers({"ratelimit-remaining": "lots", "ratelimit-reset": "soon",
                             "ratelimit-limit": "9"})
    assert rate_limit_state(garbled, "ratelimit-", "epoch") == RateLimitState(9, None, None)


def test_when_to_retry_after_a_429():
    past = RateLimitState(reset=NOW - timedelta(seconds=5))
    assert rate_limited_until(RateLimitState(reset=NOW + timedelta(minutes=2)), httpx.Headers(), NOW) \
        == NOW + timedelta(minutes=2)
    assert rate_limited_until(past, httpx.Headers({"Retry-After": "30"}), NOW) == NOW + timedelta(seconds=30)
    assert rate_limited_until(None, httpx.Headers(), NOW) == NOW + timedelta(minutes=5)
    assert retry_after(httpx.Headers({"Retry-After": "Sat, 01 Mar 2025 12:10:00 GMT"}), NOW) \
        == NOW + timedelta(minutes=10)


def test_rate_limited_names_the_time():
    assert "2025-03-01T12:00:00+00:00" in str(RateLimited(NOW))


def test_find_published_matches_text_after_the_attempt():
    recent = [RecentPost("2", None, "Spring  offer\n", NOW),
              RecentPost("1", None, "Spring offer", NOW - timedelta(days=2))]
    post = Post(text="Spring offer", idempotency_key="k")
    assert find_published(recent, post).external_id == "2"
    assert find_published(recent[1:], post, since=NOW) is None


@pytest.mark.parametrize("network", LIVE_NETWORKS)
def test_every_live_connector_offers_the_whole_contract(network):
    connector = build_connector(network, ConnectorSettings())
    try:
        assert connector.network == network
        for name in ("publish", "verify", "recent_posts", "reconcile", "metrics", "close"):
            assert callable(getattr(connector, name)), name
    finally:
        connector.close()


@pytest.mark.parametrize("network", OAUTH_NETWORKS)
def test_every_oauth_flow_offers_the_whole_interface(network):
    flow = build_oauth_flow(network, ConnectorSettings())
    try:
        assert flow.network == network
        for name in ("configured", "authorization_url", "complete", "refresh", "revoke", "close"):
            assert callable(getattr(flow, name)), name
    finally:
        flow.close()


def test_the_tighter_of_two_limits_is_the_one_closer_to_exhaustion():
    window, day, spent = RateLimitState(200, 150), RateLimitState(17, 3), RateLimitState(1500, 0)
    assert tighter(window, day) == day and tighter(day, window) == day
    assert tighter(day, spent) == spent and tighter(None, window) == window and tighter(None, None) is None
    assert tighter(RateLimitState(100, None), day) == day


def test_daily_quotas_start_again_at_midnight_utc():
    assert next_utc_midnight(NOW) == datetime(2025, 3, 2, tzinfo=UTC)
    assert next_utc_midnight(datetime(2025, 3, 1, 0, 0, tzinfo=UTC)) == datetime(2025, 3, 2, tzinfo=UTC)


def test_clip_secrets_removes_every_secret_and_cuts():
    assert clip_secrets("code abc and\n secret xyz", ["abc", "xyz", None, ""]) == "code *** and secret ***"
    assert clip_secrets("a" * 20, [], limit=5) == "aaaaa..."
