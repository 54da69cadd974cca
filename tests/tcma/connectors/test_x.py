"""X connector against a fake X API v2 on loopback."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from tcma.connectors import (
    Account,
    AuthExpired,
    Post,
    RateLimited,
    RateLimitState,
    Rejected,
    Temporary,
    UnknownOutcome,
)
from tcma.connectors.x import tweet_text
from tests.tcma.connectors.conftest import SLOW, make_post

TWEETS = "/2/tweets"
IN_2100 = "4102444800"  # 2100-01-01T00:00:00Z


def test_publishes_a_post_and_reads_the_account_and_app_limits(x, x_account, x_fake):
    published = x.publish(x_account, make_post("Spring offer & more <3 https://acme.test/o?a=1&b=2"))

    [tweet] = x_fake.tweets
    assert published.external_id == tweet["id"]
    assert published.url == f"https://x.com/acme_outdoor/status/{tweet['id']}"
    # the 24-hour user cap (99 of 100 left) is tighter than the 15-minute window (199 of 200)
    assert (published.rate_limit.limit, published.rate_limit.remaining) == (100, 99)
    assert (published.app_rate_limit.limit, published.app_rate_limit.remaining) == (10000, 9999)
    assert published.app_rate_limit.reset > datetime.now(UTC)


def test_publishes_an_image_with_alt_text_after_processing(x, x_account, x_fake):
    x_fake.processing_polls = 2
    x.publish(x_account, make_post("Tents", image=True, alt_text="Two green tents"))

    [tweet] = x_fake.tweets
    [(media_id, media)] = x_fake.media.items()
    assert tweet["media_ids"] == [media_id]
    assert (media["state"], media["alt_text"], media["type"]) == ("succeeded", "Two green tents", "image/png")
    assert x_fake.count("/2/media/upload") == 3  # the upload, then two STATUS polls
    assert x_fake.count("/2/media/metadata") == 1


def test_media_x_cannot_process_is_rejected(x, x_account, x_fake):
    x_fake.processing_polls, x_fake.fail_processing = 1, True
    with pytest.raises(Rejected) as raised:
        x.publish(x_account, make_post(image=True))
    assert raised.value.reason == "x could not process the image: Unsupported image format"
    assert x_fake.tweets == []


def test_media_still_processing_after_the_wait_is_temporary(x, x_account, x_fake):
    x_fake.processing_polls = 10_000
    with pytest.raises(Temporary) as raised:
        x.publish(x_account, make_post(image=True))
    assert raised.value.reason.startswith("x was still processing media ")
    assert raised.value.reason.endswith(" after 1s")


def test_duplicate_text_is_rejected(x, x_account, x_fake):
    x.publish(x_account, make_post("Same words", ref=1))
    with pytest.raises(Rejected) as raised:
        x.publish(x_account, make_post("Same words", ref=2))
    assert raised.value.reason == ("x answered 403: You are not allowed to create a Tweet with duplicate "
                                   "content.")
    assert raised.value.rate_limit.remaining == 98  # the user cap after two posts


def test_limits_are_checked_before_any_request(x, x_account, x_fake):
    with pytest.raises(Rejected, match="limit is 280"):
        x.publish(x_account, make_post("字" * 141))
    with pytest.raises(Rejected, match="x takes images up to 5242880 bytes"):
        x.publish(x_account, Post(text="ok", idempotency_key="k", image=b"x" * 5_242_881,
                                  image_type="image/png"))
    assert x_fake.calls == []


def test_an_expired_access_token_is_auth_expired(x, x_account, x_fake):
    x_fake.oauth.expire_access_tokens()
    with pytest.raises(AuthExpired) as raised:
        x.publish(x_account, make_post())
    assert raised.value.reason == "x answered 401: Unauthorized"


@pytest.mark.parametrize(("status", "body", "failure", "reason"), [
    (400, {"errors": [{"message": "Your media IDs are invalid."}], "title": "Invalid Request"}, Rejected,
     "x answered 400: Your media IDs are invalid."),
    (403, {"title": "Forbidden", "detail": "You are not permitted to perform this action.", "status": 403},
     Rejected, "x answered 403: You are not permitted to perform this action."),
    (500, {"title": "Internal Server Error", "status": 500}, Temporary,
     "x answered 500: Internal Server Error"),
    (503, {"title": "Service Unavailable", "detail": "Service Unavailable", "status": 503}, Temporary,
     "x answered 503: Service Unavailable"),
    (504, "upstream timed out", UnknownOutcome, 'x answered 504: "upstream timed out"'),
])
def test_failures_are_classified(x, x_account, x_fake, status, body, failure, reason):
    x_fake.fail_next(TWEETS, status, body)
    with pytest.raises(failure) as raised:
        x.publish(x_account, make_post())
    assert type(raised.value) is failure and raised.value.reason == reason


def test_a_429_on_the_window_waits_for_its_reset(x, x_account, x_fake):
    x_fake.fail_next(TWEETS, 429, {"title": "Too Many Requests", "detail": "Too Many Requests",
                                   "status": 429},
                     {"x-rate-limit-limit": "200", "x-rate-limit-remaining": "0",
                      "x-rate-limit-reset": IN_2100})
    with pytest.raises(RateLimited) as raised:
        x.publish(x_account, make_post())
    assert raised.value.until == datetime(2100, 1, 1, tzinfo=UTC) and not raised.value.app_wide
    assert raised.value.rate_limit == RateLimitState(200, 0, datetime(2100, 1, 1, tzinfo=UTC))
    assert raised.value.reason == "x answered 429: Too Many Requests until 2100-01-01T00:00:00+00:00"


def test_a_429_on_the_users_day_cap_waits_for_that_reset(x, x_account, x_fake):
    x_fake.fail_next(TWEETS, 429, {"title": "Too Many Requests", "status": 429},
                     {"x-rate-limit-limit": "200", "x-rate-limit-remaining": "150",
                      "x-rate-limit-reset": "4102444000", "x-user-limit-24hour-limit": "17",
                      "x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": IN_2100})
    with pytest.raises(RateLimited) as raised:
        x.publish(x_account, make_post())
    assert raised.value.until == datetime(2100, 1, 1, tzinfo=UTC) and not raised.value.app_wide
    assert raised.value.rate_limit == RateLimitState(17, 0, datetime(2100, 1, 1, tzinfo=UTC))


def test_a_429_on_the_apps_day_cap_holds_every_account(x, x_account, x_fake):
    x_fake.fail_next(TWEETS, 429, {"title": "Too Many Requests", "status": 429},
                     {"x-rate-limit-limit": "200", "x-rate-limit-remaining": "150",
                      "x-rate-limit-reset": "4102444000", "x-app-limit-24hour-limit": "1500",
                      "x-app-limit-24hour-remaining": "0", "x-app-limit-24hour-reset": IN_2100})
    with pytest.raises(RateLimited) as raised:
        x.publish(x_account, make_post())
    assert raised.value.app_wide and raised.value.until == datetime(2100, 1, 1, tzinfo=UTC)
    assert raised.value.app_rate_limit == RateLimitState(1500, 0, datetime(2100, 1, 1, tzinfo=UTC))


def test_a_slow_answer_is_reconciled_from_the_timeline_without_a_duplicate(x, x_account, x_fake):
    post = make_post("Reconcile me & <you> https://acme.test/spring?x=1&y=2 today")
    x_fake.slow_next(TWEETS, SLOW)
    attempted = datetime.now(UTC)
    with pytest.raises(UnknownOutcome) as raised:
        x.publish(x_account, post)
    assert raised.value.reason == "x: no answer from 127.0.0.1 after the request was sent (ReadTimeout)"

    assert x_fake.tweets[0]["text"].startswith("Reconcile me &amp; &lt;you&gt; https://t.co/")
    found = x.reconcile(x_account, post, since=attempted)
    assert found is not None and found.external_id == x_fake.tweets[0]["id"]
    assert len(x_fake.tweets) == 1


def test_reconcile_says_none_when_the_post_is_not_there(x, x_account, x_fake):
    x.publish(x_account, make_post("Another post", ref="other"))
    assert x.reconcile(x_account, make_post("Not this one")) is None


def test_tweet_text_undoes_escapes_and_short_links():
    tweet = {"text": "A &amp; B https://t.co/abc", "entities": {"urls": [
        {"url": "https://t.co/abc", "expanded_url": "https://acme.test/a?b=1&c=2"}]}}
    assert tweet_text(tweet) == "A & B https://acme.test/a?b=1&c=2"
    assert tweet_text({"text": "short", "note_tweet": {"text": "the long one"}}) == "the long one"


def test_verify_names_the_user(x, x_account):
    assert x.verify(x_account) == ("@acme_outdoor", "1587216400137162752")


def test_odd_answers_are_classified(x, x_account, x_fake):
    x_fake.fail_next("/2/users/me", 200, {"data": {"name": "No id"}})
    with pytest.raises(Temporary) as no_user:
        x.verify(x_account)
    assert no_user.value.reason == "x answered /2/users/me without the user's id and username"

    x_fake.fail_next("/2/media/upload", 200, {"data": {}})
    with pytest.raises(Temporary) as no_media:
        x.publish(x_account, make_post(image=True))
    assert no_media.value.reason == "x answered the media upload without an id"

    x_fake.fail_next(TWEETS, 201, {"data": {}})
    with pytest.raises(UnknownOutcome) as no_id:
        x.publish(x_account, make_post())
    assert no_id.value.reason == "x answered 201 without the post's id: the post may exist"

    no_token = Account(network="x", base_url="", handle="@acme_outdoor")
    with pytest.raises(AuthExpired) as missing:
        x.publish(no_token, make_post())
    assert missing.value.reason == "x account has no access_token"


def test_tokens_never_reach_logs_errors_or_reprs(x, x_account, x_fake, caplog):
    caplog.set_level(logging.DEBUG)
    token, refresh = x_account.credentials["access_token"], x_account.credentials["refresh_token"]
    x_fake.fail_next(TWEETS, 400, {"detail": f"bad {token} and {refresh}"})
    with pytest.raises(Rejected) as raised:
        x.publish(x_account, make_post(image=True))
    x.publish(x_account, make_post(ref="ok"))

    assert raised.value.reason == "x answered 400: bad *** and ***"
    assert caplog.records
    seen = caplog.text + repr(x_account) + repr(x)
    assert token not in seen and refresh not in seen
