"""A published post's numbers, read back from each network's fake: what each gives, a deleted post, and a
rate-limited read that holds the next one (nothing sent while held)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tcma.connectors import (
    LIVE_NETWORKS,
    METRIC_FIELDS,
    Account,
    AuthExpired,
    ConnectorSettings,
    PostMetrics,
    RateLimited,
    RateLimitState,
    Rejected,
    Temporary,
    Unsupported,
    build_connector,
)
from tcma.connectors.bluesky import BlueskyConnector
from tcma.connectors.dryrun import DryRunConnector
from tcma.connectors.limits import LimitedConnector, SharedLimiter
from tcma.connectors.mastodon import MastodonConnector
from tests.tcma.connectors.conftest import NOW, make_post

HELD = "tcma holds the request to stay within the account's rate limit until"


def limited(connector):
    """The connector behind an in-process limiter on the tests' clock."""
    return LimitedConnector(connector, SharedLimiter(None, clock=lambda: NOW))


@pytest.fixture
def mastodon_now(settings):
    connector = MastodonConnector(settings, clock=lambda: NOW)
    yield connector
    connector.close()


@pytest.fixture
def bluesky_now(settings):
    connector = BlueskyConnector(settings, clock=lambda: NOW)
    yield connector
    connector.close()


def test_post_metrics_keep_counts_only_and_name_what_the_network_gave():
    numbers = PostMetrics.of(3, "7", -1, True, rate_limit=RateLimitState(300, 2, NOW))
    assert numbers == PostMetrics(3, None, None, None)
    assert numbers.rate_limit == RateLimitState(300, 2, NOW)
    assert numbers.numbers() == {"likes": 3}
    assert PostMetrics(0, 1, 2, 40).numbers() == {"likes": 0, "reposts": 1, "replies": 2, "impressions": 40}


def test_what_each_network_gives():
    assert METRIC_FIELDS == {
        "mastodon": ("likes", "reposts", "replies"), "bluesky": ("likes", "reposts", "replies"),
        "x": ("likes", "reposts", "replies", "impressions"), "facebook": ("likes", "reposts", "replies"),
        "linkedin": ("likes", "replies"), "webhook": ()}
    assert sorted(METRIC_FIELDS) == sorted(LIVE_NETWORKS)


@pytest.mark.parametrize("network", LIVE_NETWORKS)
def test_every_live_connector_and_its_limited_wrapper_read_metrics(network):
    connector = build_connector(network, ConnectorSettings())
    try:
        assert callable(connector.metrics)
        assert callable(limited(connector).metrics)
    finally:
        connector.close()


# --- Mastodon -----------------------------------------------------------------------------------------

def test_mastodon_reads_favourites_boosts_and_replies(mastodon, mastodon_account, mastodon_fake):
    published = mastodon.publish(mastodon_account, make_post())
    assert mastodon.metrics(mastodon_account, published.external_id) == PostMetrics(0, 0, 0, None)

    mastodon_fake.set_metrics(published.external_id, likes=12, reposts=3, replies=2)
    numbers = mastodon.metrics(mastodon_account, published.external_id)
    assert numbers == PostMetrics(12, 3, 2, None)
    assert (numbers.rate_limit.limit, numbers.rate_limit.remaining) == (300, mastodon_fake.remaining)
    assert mastodon_fake.count(f"/api/v1/statuses/{published.external_id}") == 2


def test_mastodon_deleted_status_is_rejected_naming_it(mastodon, mastodon_account, mastodon_fake):
    published = mastodon.publish(mastodon_account, make_post())
    mastodon_fake.delete_post(published.external_id)
    with pytest.raises(Rejected) as refused:
        mastodon.metrics(mastodon_account, published.external_id)
    assert str(refused.value) == (f"mastodon no longer has status {published.external_id} "
                                  "(answered 404: Record not found)")


def test_mastodon_a_revoked_token_is_auth_expired(mastodon, mastodon_account, mastodon_fake):
    published = mastodon.publish(mastodon_account, make_post())
    mastodon_fake.fail_next(f"/api/v1/statuses/{published.external_id}", 401,
                            {"error": "The access token was revoked"})
    with pytest.raises(AuthExpired) as refused:
        mastodon.metrics(mastodon_account, published.external_id)
    assert str(refused.value) == "mastodon answered 401: The access token was revoked"


def test_mastodon_an_answer_without_counts_is_temporary(mastodon, mastodon_account, mastodon_fake):
    mastodon_fake.fail_next("/api/v1/statuses/110000001", 200, {"id": "110000001"})
    with pytest.raises(Temporary) as failed:
        mastodon.metrics(mastodon_account, "110000001")
    assert str(failed.value) == "mastodon answered status 110000001 without its counts"


def test_mastodon_a_429_holds_the_next_read_without_sending_it(mastodon_now, mastodon_account, mastodon_fake):
    reader = limited(mastodon_now)
    mastodon_fake.fail_next("/api/v1/statuses/110000001", 429, {"error": "Too many requests"},
                            {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                             "X-RateLimit-Reset": "2026-03-01T17:45:00.000000Z"})
    with pytest.raises(RateLimited) as refused:
        reader.metrics(mastodon_account, "110000001")
    assert str(refused.value) == "mastodon answered 429: Too many requests until 2026-03-01T17:45:00+00:00"
    sent = list(mastodon_fake.calls)

    with pytest.raises(RateLimited) as held:
        reader.metrics(mastodon_account, "110000001")
    assert str(held.value) == f"mastodon: {HELD} 2026-03-01T17:45:00+00:00"
    with pytest.raises(RateLimited, match="tcma holds the request"):
        reader.publish(mastodon_account, make_post())
    assert mastodon_fake.calls == sent


def test_mastodon_a_read_that_uses_the_last_call_holds_the_next(mastodon_now, mastodon_account,
                                                                mastodon_fake):
    reader = limited(mastodon_now)
    status = {"id": "110000001", "favourites_count": 4, "reblogs_count": 0, "replies_count": 1}
    mastodon_fake.fail_next("/api/v1/statuses/110000001", 200, status,
                            {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                             "X-RateLimit-Reset": "2026-03-01T17:40:00.000000Z"})
    assert reader.metrics(mastodon_account, "110000001") == PostMetrics(4, 0, 1, None)
    with pytest.raises(RateLimited) as held:
        reader.metrics(mastodon_account, "110000001")
    assert str(held.value) == f"mastodon: {HELD} 2026-03-01T17:40:00+00:00"
    assert mastodon_fake.count("/api/v1/statuses/110000001") == 1


# --- Bluesky ------------------------------------------------------------------------------------------

def test_bluesky_reads_likes_reposts_and_replies(bluesky, bluesky_account, bluesky_fake):
    published = bluesky.publish(bluesky_account, make_post())
    assert published.external_id.startswith("at://did:plc:acme7kq3zvx/app.bsky.feed.post/")
    bluesky_fake.set_metrics(published.external_id, likes=9, reposts=2, replies=5)

    numbers = bluesky.metrics(bluesky_account, published.external_id)
    assert numbers == PostMetrics(9, 2, 5, None)
    assert (numbers.rate_limit.limit, numbers.rate_limit.remaining) == (3000, 2999)


def test_bluesky_deleted_post_is_rejected_naming_it(bluesky, bluesky_account, bluesky_fake):
    published = bluesky.publish(bluesky_account, make_post())
    bluesky_fake.delete_post(published.external_id)
    with pytest.raises(Rejected) as refused:
        bluesky.metrics(bluesky_account, published.external_id)
    assert str(refused.value) == (f"bluesky no longer has post {published.external_id} "
                                  "(getPosts did not return it)")


def test_bluesky_an_id_that_is_no_at_uri_is_refused_before_any_request(bluesky, bluesky_account,
                                                                       bluesky_fake):
    with pytest.raises(Rejected) as refused:
        bluesky.metrics(bluesky_account, "3l00000000001")
    assert str(refused.value) == "bluesky post ids are at:// URIs, not '3l00000000001'"
    assert bluesky_fake.calls == []


def test_bluesky_a_429_holds_the_next_read_without_sending_it(bluesky_now, bluesky_account, bluesky_fake):
    reader = limited(bluesky_now)
    reset = int(datetime(2026, 3, 1, 17, 35, tzinfo=UTC).timestamp())
    bluesky_fake.fail_next("/xrpc/app.bsky.feed.getPosts", 429,
                           {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                           {"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                            "ratelimit-reset": str(reset)})
    uri = f"at://{bluesky_fake.DID}/app.bsky.feed.post/3l00000000001"
    with pytest.raises(RateLimited) as refused:
        reader.metrics(bluesky_account, uri)
    assert str(refused.value) == ("bluesky answered 429 RateLimitExceeded: Rate Limit Exceeded "
                                  "until 2026-03-01T17:35:00+00:00")
    sent = list(bluesky_fake.calls)
    with pytest.raises(RateLimited) as held:
        reader.metrics(bluesky_account, uri)
    assert str(held.value) == f"bluesky: {HELD} 2026-03-01T17:35:00+00:00"
    assert bluesky_fake.calls == sent


# --- X ------------------------------------------------------------------------------------------------

def test_x_reads_likes_reposts_replies_and_impressions(x, x_account, x_fake):
    published = x.publish(x_account, make_post())
    x_fake.set_metrics(published.external_id, likes=31, reposts=4, replies=6, impressions=2_750)

    numbers = x.metrics(x_account, published.external_id)
    assert numbers == PostMetrics(31, 4, 6, 2_750)
    assert (numbers.rate_limit.limit, numbers.rate_limit.remaining) == (900, 899)


def test_x_deleted_post_is_rejected_naming_it(x, x_account, x_fake):
    published = x.publish(x_account, make_post())
    x_fake.delete_post(published.external_id)
    with pytest.raises(Rejected) as refused:
        x.metrics(x_account, published.external_id)
    assert str(refused.value) == (f"x no longer shows post {published.external_id} "
                                  f"(Could not find tweet with id: [{published.external_id}].)")


def test_x_a_404_is_a_post_it_no_longer_has_and_an_empty_answer_temporary(x, x_account, x_fake):
    x_fake.fail_next("/2/tweets/1880000000000000001", 404,
                     {"title": "Not Found Error", "detail": "Could not find tweet.", "status": 404})
    with pytest.raises(Rejected) as refused:
        x.metrics(x_account, "1880000000000000001")
    assert str(refused.value) == "x no longer shows post 1880000000000000001 (Could not find tweet.)"
    x_fake.fail_next("/2/tweets/1880000000000000001", 200, {})
    with pytest.raises(Temporary) as failed:
        x.metrics(x_account, "1880000000000000001")
    assert str(failed.value) == "x answered post 1880000000000000001 without the post or an error"


def test_x_a_429_holds_the_next_read_without_sending_it(x, x_account, x_fake):
    reader = limited(x)
    reset = int(datetime(2026, 3, 1, 17, 45, tzinfo=UTC).timestamp())
    x_fake.fail_next("/2/tweets/1880000000000000001", 429,
                     {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
                     {"x-rate-limit-limit": "900", "x-rate-limit-remaining": "0",
                      "x-rate-limit-reset": str(reset)})
    with pytest.raises(RateLimited) as refused:
        reader.metrics(x_account, "1880000000000000001")
    assert str(refused.value) == "x answered 429: Too Many Requests until 2026-03-01T17:45:00+00:00"
    sent = list(x_fake.calls)
    with pytest.raises(RateLimited) as held:
        reader.metrics(x_account, "1880000000000000001")
    assert str(held.value) == f"x: {HELD} 2026-03-01T17:45:00+00:00"
    assert x_fake.calls == sent


# --- Facebook -----------------------------------------------------------------------------------------

def test_facebook_reads_reactions_shares_and_comments(facebook, facebook_account, facebook_fake):
    published = facebook.publish(facebook_account, make_post())
    # No share yet: Graph leaves `shares` out, which is 0.
    assert facebook.metrics(facebook_account, published.external_id) == PostMetrics(0, 0, 0, None)

    facebook_fake.set_metrics(published.external_id, likes=17, reposts=2, replies=3)
    numbers = facebook.metrics(facebook_account, published.external_id)
    assert numbers == PostMetrics(17, 2, 3, None)
    assert numbers.app_rate_limit == RateLimitState(100, 97, None)


def test_facebook_deleted_post_is_rejected_naming_it(facebook, facebook_account, facebook_fake):
    published = facebook.publish(facebook_account, make_post())
    facebook_fake.delete_post(published.external_id)
    with pytest.raises(Rejected) as refused:
        facebook.metrics(facebook_account, published.external_id)
    post_id = published.external_id
    assert str(refused.value) == (
        f"facebook no longer shows post {post_id} to the Page (facebook answered 400 (code 100/33): "
        f"Unsupported get request. Object with ID '{post_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation. Please read the Graph API documentation "
        "at https://developers.facebook.com/docs/graph-api)")


def test_facebook_an_answer_without_summaries_is_temporary(facebook, facebook_account, facebook_fake):
    post_id = f"{facebook_fake.PAGE_ID}_1116689038356557"
    facebook_fake.fail_next(f"/v24.0/{post_id}", 200, {"id": post_id})
    with pytest.raises(Temporary) as failed:
        facebook.metrics(facebook_account, post_id)
    assert str(failed.value) == f"facebook answered post {post_id} without its reaction and comment summaries"


def test_facebook_a_page_throttle_holds_the_next_read_without_sending_it(facebook, facebook_account,
                                                                         facebook_fake):
    reader = limited(facebook)
    post_id = f"{facebook_fake.PAGE_ID}_1116689038356557"
    facebook_fake.fail_next(f"/v24.0/{post_id}", 400, {"error": {
        "message": "(#32) Page request limit reached", "type": "OAuthException", "code": 32}})
    with pytest.raises(RateLimited) as refused:
        reader.metrics(facebook_account, post_id)
    assert str(refused.value) == ("facebook answered 400 (code 32): (#32) Page request limit reached "
                                  "until 2026-03-01T18:30:00+00:00")
    sent = list(facebook_fake.calls)
    with pytest.raises(RateLimited) as held:
        reader.metrics(facebook_account, post_id)
    assert str(held.value) == f"facebook: {HELD} 2026-03-01T18:30:00+00:00"
    assert facebook_fake.calls == sent


# --- LinkedIn -----------------------------------------------------------------------------------------

def test_linkedin_reads_a_pages_reactions_and_comments(linkedin, linkedin_page, linkedin_fake):
    published = linkedin.publish(linkedin_page, make_post())
    linkedin_fake.set_metrics(published.external_id, likes=8, replies=3)
    assert linkedin.metrics(linkedin_page, published.external_id) == PostMetrics(8, None, 3, None)


def test_linkedin_adds_up_every_kind_of_reaction(linkedin, linkedin_page, linkedin_fake):
    urn = "urn:li:share:7100000000000000001"
    linkedin_fake.fail_next(f"/rest/socialMetadata/{urn}", 200, {
        "entity": urn, "commentsState": "OPEN", "commentSummary": {"count": 4, "topLevelCount": 3},
        "reactionSummaries": {"LIKE": {"reactionType": "LIKE", "count": 5},
                              "PRAISE": {"reactionType": "PRAISE", "count": 2},
                              "EMPATHY": {"reactionType": "EMPATHY", "count": 1}}})
    assert linkedin.metrics(linkedin_page, urn) == PostMetrics(8, None, 4, None)
    linkedin_fake.fail_next(f"/rest/socialMetadata/{urn}", 200, {"entity": urn})
    with pytest.raises(Temporary) as failed:
        linkedin.metrics(linkedin_page, urn)
    assert str(failed.value) == f"linkedin answered socialMetadata of {urn} without its commentSummary"


def test_linkedin_members_posts_need_r_member_social(linkedin, linkedin_account, linkedin_fake):
    published = linkedin.publish(linkedin_account, make_post())
    with pytest.raises(Unsupported) as refused:
        linkedin.metrics(linkedin_account, published.external_id)
    assert str(refused.value) == (f"linkedin does not let tcma read the numbers of {published.external_id} "
                                  "(403: Not enough permissions to access: socialMetadata.GET.20260101)")
    linkedin_fake.member_posts_readable = True
    linkedin_fake.set_metrics(published.external_id, likes=2)
    assert linkedin.metrics(linkedin_account, published.external_id) == PostMetrics(2, None, 0, None)


def test_linkedin_deleted_post_is_rejected_naming_it(linkedin, linkedin_page, linkedin_fake):
    published = linkedin.publish(linkedin_page, make_post())
    linkedin_fake.delete_post(published.external_id)
    with pytest.raises(Rejected) as refused:
        linkedin.metrics(linkedin_page, published.external_id)
    urn = published.external_id
    assert str(refused.value) == f"linkedin no longer has post {urn} (404: Not found: {urn})"


def test_linkedin_an_id_that_is_no_post_urn_is_refused_before_any_request(linkedin, linkedin_page,
                                                                          linkedin_fake):
    with pytest.raises(Rejected) as refused:
        linkedin.metrics(linkedin_page, "urn:li:person:8rJt2KqWxY")
    assert str(refused.value) == "linkedin post ids are share or ugcPost URNs, not 'urn:li:person:8rJt2KqWxY'"
    assert linkedin_fake.calls == []


def test_linkedin_a_429_holds_the_next_read_until_midnight_without_sending_it(linkedin, linkedin_page,
                                                                              linkedin_fake):
    reader = limited(linkedin)
    urn = "urn:li:share:7100000000000000001"
    linkedin_fake.fail_next(f"/rest/socialMetadata/{urn}", 429, {
        "serviceErrorCode": 101, "status": 429,
        "message": "Resource level throttle limit for calls to this resource is reached."})
    with pytest.raises(RateLimited) as refused:
        reader.metrics(linkedin_page, urn)
    assert str(refused.value) == ("linkedin answered 429: Resource level throttle limit for calls to this "
                                  "resource is reached. until 2026-03-02T00:00:00+00:00")
    sent = list(linkedin_fake.calls)
    with pytest.raises(RateLimited) as held:
        reader.metrics(linkedin_page, urn)
    assert str(held.value) == f"linkedin: {HELD} 2026-03-02T00:00:00+00:00"
    assert linkedin_fake.calls == sent


def test_the_linkedin_fake_wants_the_urn_encoded_in_the_path(linkedin_fake, linkedin_page):
    answer = httpx.get(f"{linkedin_fake.base_url}/rest/socialMetadata/urn:li:share:1",
                       headers={"Authorization": f"Bearer {linkedin_page.credentials['access_token']}",
                                "Linkedin-Version": "202610", "X-Restli-Protocol-Version": "2.0.0"})
    assert answer.status_code == 400
    assert answer.json()["message"] == "Syntax exception in path variables: encode the URN"


# --- webhook and dry run ------------------------------------------------------------------------------

def test_a_webhook_gives_no_numbers(webhook, webhook_account, webhook_fake):
    with pytest.raises(Unsupported) as refused:
        webhook.metrics(webhook_account, "hook-tcma-1")
    assert str(refused.value) == "a webhook cannot report a post's likes, reposts, replies or impressions"
    assert webhook_fake.calls == []


@pytest.mark.parametrize(("network", "expected"), [
    ("mastodon", PostMetrics(0, 0, 0, None)), ("bluesky", PostMetrics(0, 0, 0, None)),
    ("x", PostMetrics(0, 0, 0, 0)), ("facebook", PostMetrics(0, 0, 0, None)),
    ("linkedin", PostMetrics(0, None, 0, None)),
])
def test_a_dry_run_reports_zeros_for_what_the_network_gives(network, expected):
    dryrun = DryRunConnector(network, clock=lambda: NOW)
    account = Account(network=network, base_url="", handle="acme")
    published = dryrun.publish(account, make_post())
    assert dryrun.metrics(account, published.external_id) == expected
    # Another process's dry run published it: its id is still one of ours.
    assert DryRunConnector(network).metrics(account, published.external_id) == expected


def test_a_dry_run_knows_no_other_post_and_no_webhook_numbers():
    account = Account(network="x", base_url="", handle="acme")
    with pytest.raises(Rejected) as refused:
        DryRunConnector("x").metrics(account, "1880000000000000001")
    assert str(refused.value) == "x dry run has no post 1880000000000000001"
    with pytest.raises(Unsupported) as refused:
        DryRunConnector("webhook").metrics(Account(network="webhook", base_url="", handle="h"), "dryrun-1")
    assert str(refused.value) == "webhook gives no numbers of a post (dry run)"
