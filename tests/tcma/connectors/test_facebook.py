"""Facebook Pages connector against a fake Graph API on loopback."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
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
from tcma.connectors.facebook import app_usage, page_usage
from tests.support.fake_oauth_networks import FakeFacebook
from tests.tcma.connectors.conftest import NOW, PNG, SLOW, make_post

FEED = f"/v24.0/{FakeFacebook.PAGE_ID}/feed"
PHOTOS = f"/v24.0/{FakeFacebook.PAGE_ID}/photos"


def _envelope(code: int, message: str, subcode: int | None = None, **extra) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Ab12", **extra}
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


def test_publishes_a_feed_post_and_reads_the_usage_headers(facebook, facebook_account, facebook_fake):
    facebook_fake.app_usage = {"call_count": 28, "total_time": 25, "total_cputime": 25}
    facebook_fake.page_usage = {"call_count": 40, "total_time": 91, "total_cputime": 12,
                                "estimated_time_to_regain_access": 0}
    published = facebook.publish(facebook_account, make_post("Spring offer https://acme.test/o"))

    [post] = facebook_fake.posts[FakeFacebook.PAGE_ID]
    assert post["message"] == "Spring offer https://acme.test/o" and post["photo"] is None
    assert published.external_id == post["id"] and post["id"].startswith("104815924761239_")
    assert published.url == f"https://www.facebook.com/{post['id']}"
    assert published.rate_limit == RateLimitState(limit=100, remaining=9, reset=None)  # 91% of the Page's
    assert published.app_rate_limit == RateLimitState(limit=100, remaining=72, reset=None)  # 28% of the app's


def test_publishes_a_photo_post_with_its_alt_text(facebook, facebook_account, facebook_fake):
    published = facebook.publish(facebook_account, make_post("New tents", image=True, alt_text="Two tents"))

    [post] = facebook_fake.posts[FakeFacebook.PAGE_ID]
    assert post["message"] == "New tents"
    assert post["photo"] == {"size": len(PNG), "type": "image/png", "alt_text": "Two tents"}
    assert published.external_id == post["id"]  # the post's id, not the photo's


def test_limits_are_checked_before_any_request(facebook, facebook_account, facebook_fake):
    with pytest.raises(Rejected, match="limit is 63206"):
        facebook.publish(facebook_account, make_post("a" * 63_207))
    with pytest.raises(Rejected, match="facebook takes images up to 4194304 bytes"):
        facebook.publish(facebook_account, Post(text="ok", idempotency_key="k", image=b"x" * 4_194_305,
                                                image_type="image/png"))
    assert facebook_fake.calls == []


def test_the_same_message_twice_is_a_duplicate(facebook, facebook_account, facebook_fake):
    facebook.publish(facebook_account, make_post("Twice", ref=1))
    with pytest.raises(Rejected) as raised:
        facebook.publish(facebook_account, make_post("Twice", ref=2))
    assert raised.value.reason == "facebook answered 400 (code 506): (#506) Duplicate status message"


def test_a_dead_token_is_auth_expired(facebook, facebook_account, facebook_fake):
    facebook_fake.expire_tokens()
    with pytest.raises(AuthExpired) as raised:
        facebook.publish(facebook_account, make_post())
    assert raised.value.reason == (
        "facebook answered 400 (code 190/463): Error validating access token: Session has expired on "
        "Tuesday, 01-Apr-25 12:00:00 PDT. The current time is Tuesday, 01-Apr-25 13:00:00 PDT.")


@pytest.mark.parametrize(("code", "message", "app_wide"), [
    (4, "(#4) Application request limit reached", True),
    (17, "(#17) User request limit reached", True),
    (32, "(#32) Page request limit reached", False),
    (613, "(#613) Calls to this api have exceeded the rate limit.", False),
    (80001, "(#80001) There have been too many calls to this Page account.", False),
])
def test_throttles_wait_an_hour_and_say_who_waits(facebook, facebook_account, facebook_fake, code, message,
                                                   app_wide):
    facebook_fake.fail_next(FEED, 403 if code == 4 else 400, _envelope(code, message))
    with pytest.raises(RateLimited) as raised:
        facebook.publish(facebook_account, make_post())
    assert raised.value.app_wide is app_wide
    assert raised.value.until == NOW + timedelta(hours=1)
    status = 403 if code == 4 else 400
    assert raised.value.reason.startswith(f"facebook answered {status} (code {code}): {message} until ")


def test_a_page_throttle_waits_as_long_as_graph_says(facebook, facebook_account, facebook_fake):
    usage = {FakeFacebook.PAGE_ID: [{"type": "pages", "call_count": 100, "total_cputime": 20,
                                     "total_time": 30, "estimated_time_to_regain_access": 15}]}
    facebook_fake.fail_next(FEED, 400, _envelope(80001, "(#80001) There have been too many calls"),
                            {"X-Business-Use-Case-Usage": json.dumps(usage),
                             "X-App-Usage": '{"call_count": 5, "total_time": 5, "total_cputime": 5}'})
    with pytest.raises(RateLimited) as raised:
        facebook.publish(facebook_account, make_post())
    assert raised.value.until == NOW + timedelta(minutes=15) and not raised.value.app_wide
    assert raised.value.rate_limit == RateLimitState(100, 0, NOW + timedelta(minutes=15))
    assert raised.value.app_rate_limit == RateLimitState(100, 95, None)


@pytest.mark.parametrize(("status", "body", "failure", "reason"), [
    (400, _envelope(100, "(#100) Invalid parameter"), Rejected, "facebook answered 400 (code 100): (#100) "
     "Invalid parameter"),
    (403, _envelope(200, "(#200) Requires pages_manage_posts permission"), Rejected,
     "facebook answered 403 (code 200): (#200) Requires pages_manage_posts permission"),
    (400, _envelope(368, "The action attempted has been deemed abusive", 1390008), Rejected,
     "facebook answered 400 (code 368/1390008): The action attempted has been deemed abusive"),
    (400, _envelope(190, "Error validating access token: The user has not authorized application 1.", 458),
     AuthExpired, "facebook answered 400 (code 190/458): Error validating access token: The user has not "
     "authorized application 1."),
    (500, _envelope(2, "An unexpected error has occurred. Please retry your request later.",
                    is_transient=True), Temporary, "facebook answered 500 (code 2): An unexpected error has "
     "occurred. Please retry your request later."),
    (400, _envelope(1, "An unknown error occurred"), Temporary, "facebook answered 400 (code 1): An unknown "
     "error occurred"),
    (502, "<html>Bad Gateway</html>", Temporary, 'facebook answered 502: "<html>Bad Gateway</html>"'),
    (504, "<html>Gateway Time-out</html>", UnknownOutcome,
     'facebook answered 504: "<html>Gateway Time-out</html>"'),
])
def test_failures_are_classified(facebook, facebook_account, facebook_fake, status, body, failure, reason):
    facebook_fake.fail_next(FEED, status, body)
    with pytest.raises(failure) as raised:
        facebook.publish(facebook_account, make_post())
    assert type(raised.value) is failure and raised.value.reason == reason


def test_a_slow_answer_is_reconciled_from_the_pages_posts_without_a_duplicate(
        facebook, facebook_account, facebook_fake):
    post = make_post("Reconcile me\n\nhttps://acme.test/r")
    facebook_fake.slow_next(PHOTOS, SLOW)
    attempted = datetime.now(UTC)
    with pytest.raises(UnknownOutcome) as raised:
        facebook.publish(facebook_account, make_post(post.text, image=True))
    assert raised.value.reason == ("facebook: no answer from 127.0.0.1 after the request was sent "
                                   "(ReadTimeout)")

    found = facebook.reconcile(facebook_account, post, since=attempted)
    [stored] = facebook_fake.posts[FakeFacebook.PAGE_ID]
    assert found is not None and found.external_id == stored["id"]
    assert found.url == stored["permalink_url"]


def test_reconcile_says_none_when_the_post_is_not_there(facebook, facebook_account, facebook_fake):
    facebook.publish(facebook_account, make_post("Older", ref="older"))
    assert facebook.reconcile(facebook_account, make_post("Never sent")) is None


def test_verify_names_the_page(facebook, facebook_account, facebook_fake):
    assert facebook.verify(facebook_account) == ("acmeoutdoor", "104815924761239")
    token = facebook_fake.issue_page_token(FakeFacebook.SECOND_PAGE_ID)
    second = Account(network="facebook", base_url="", handle="h", external_id=FakeFacebook.SECOND_PAGE_ID,
                     credentials={"access_token": token})
    assert facebook.verify(second) == ("Acme Outlet", "104815924761240")


def test_odd_accounts_and_answers_are_classified(facebook, facebook_account, facebook_fake):
    no_page = Account(network="facebook", base_url="", handle="h", credentials={"access_token": "t"})
    with pytest.raises(Rejected) as raised:
        facebook.publish(no_page, make_post())
    assert raised.value.reason == "facebook account has no Page id (external_id)"
    no_token = Account(network="facebook", base_url="", handle="h", external_id=FakeFacebook.PAGE_ID)
    with pytest.raises(AuthExpired) as missing:
        facebook.publish(no_token, make_post())
    assert missing.value.reason == "facebook account has no access_token"

    facebook_fake.fail_next(FEED, 200, {})
    with pytest.raises(UnknownOutcome) as no_id:
        facebook.publish(facebook_account, make_post())
    assert no_id.value.reason == "facebook answered 200 without the post's id: the post may exist"


def test_usage_headers_are_read_as_percent_left():
    headers = httpx.Headers({
        "X-App-Usage": '{"call_count":28,"total_time":25,"total_cputime":25}',
        "X-Page-Usage": '{"call_count":50,"total_time":10,"total_cputime":10}',
        "X-Business-Use-Case-Usage": '{"999":[{"type":"pages","call_count":70,"total_time":5,'
                                     '"total_cputime":5,"estimated_time_to_regain_access":0}]}'})
    assert app_usage(headers) == RateLimitState(100, 72, None)
    assert page_usage(headers, "999", NOW) == RateLimitState(100, 30, None)  # BUC tighter than page
    # a Page token's answers name its business: read whatever is there when the id differs
    assert page_usage(headers, "other-page", NOW) == RateLimitState(100, 30, None)
    garbled = httpx.Headers({"X-App-Usage": "not json", "X-Business-Use-Case-Usage": '{"1": "x"}'})
    assert app_usage(garbled) is None and page_usage(garbled, "1", NOW) is None
    assert app_usage(httpx.Headers({"X-App-Usage": '{"call_count":130}'})) == RateLimitState(100, 0, None)


def test_tokens_never_reach_logs_errors_or_reprs_nor_urls(facebook, facebook_account, facebook_fake, caplog):
    caplog.set_level(logging.DEBUG)
    token = facebook_account.credentials["access_token"]
    facebook_fake.fail_next(FEED, 400, _envelope(100, f"bad token {token}"))
    with pytest.raises(Rejected) as raised:
        facebook.publish(facebook_account, make_post())
    facebook.publish(facebook_account, make_post(ref="ok", image=True))
    facebook.recent_posts(facebook_account)

    assert raised.value.reason == "facebook answered 400 (code 100): bad token ***"
    assert caplog.records
    assert token not in caplog.text + repr(facebook_account) + repr(facebook)
