"""LinkedIn connector against a fake LinkedIn on loopback (versioned REST API, little text, images)."""

from __future__ import annotations

import logging
from dataclasses import replace
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
    Unsupported,
)
from tcma.connectors.linkedin import LinkedInConnector, little_text, plain_text
from tests.tcma.connectors.conftest import NOW, PNG, SLOW, make_post

POSTS = "/rest/posts"
IMAGES = "/rest/images"


def test_publishes_text_with_reserved_characters_intact(linkedin, linkedin_account, linkedin_fake):
    text = "Spring (new) offer #outdoors: 50% off @ Acme_Shop [today] {only} *really* ~ok~ https://acme.test/o"
    published = linkedin.publish(linkedin_account, make_post(text))

    [post] = linkedin_fake.posts
    assert post["text"] == text  # LinkedIn would cut it at the first unescaped "(" otherwise
    assert post["author"] == "urn:li:person:8rJt2KqWxY"
    assert published.external_id == post["id"] and published.external_id.startswith("urn:li:share:")
    assert published.url == f"https://www.linkedin.com/feed/update/{post['id']}/"
    assert published.rate_limit is None and published.app_rate_limit is None  # LinkedIn sends no headers


def test_the_fake_cuts_unescaped_text_and_refuses_calls_without_the_headers(linkedin_fake, linkedin_account):
    """The fake behaves as LinkedIn does, so the test above proves something."""
    assert linkedin_fake.rendered("Spring (new) offer") == "Spring "
    token = linkedin_account.credentials["access_token"]
    missing = httpx.post(f"{linkedin_fake.base_url}/rest/posts", json={},
                         headers={"Authorization": f"Bearer {token}"})
    assert (missing.status_code, missing.json()["code"]) == (400, "VERSION_MISSING")
    no_protocol = httpx.post(f"{linkedin_fake.base_url}/rest/posts", json={},
                             headers={"Authorization": f"Bearer {token}", "Linkedin-Version": "202610"})
    assert no_protocol.status_code == 400


def test_little_text_escapes_and_reads_back():
    assert little_text("a (b) #c \\ d") == "a \\(b\\) \\#c \\\\ d"
    assert plain_text(little_text("(50%) @Acme_Shop #1 ~ *")) == "(50%) @Acme_Shop #1 ~ *"


def test_publishes_an_image_as_the_organization(linkedin, linkedin_page, linkedin_fake):
    published = linkedin.publish(linkedin_page, make_post("New tents are in", image=True, alt_text="Tents"))

    [post] = linkedin_fake.posts
    [(image_id, image)] = linkedin_fake.images.items()
    assert post["author"] == "urn:li:organization:2414183"
    assert post["media"] == {"id": f"urn:li:image:{image_id}", "altText": "Tents"}
    assert image == {"owner": "urn:li:organization:2414183", "status": "AVAILABLE", "size": len(PNG),
                     "type": "image/png"}
    assert published.external_id == post["id"]
    assert linkedin_fake.count(IMAGES) == 1 and linkedin_fake.count(f"/dms-uploads/{image_id}") == 1


def test_images_and_text_linkedin_cannot_take_are_refused_before_any_request(
        linkedin, linkedin_account, linkedin_fake):
    webp = Post(text="ok", idempotency_key="k", image=b"RIFF....WEBP", image_type="image/webp")
    with pytest.raises(Rejected) as raised:
        linkedin.publish(linkedin_account, webp)
    assert raised.value.reason == ("linkedin takes images of type image/png, image/jpeg, image/gif, "
                                   "not 'image/webp'")
    with pytest.raises(Rejected, match="linkedin takes images up to 10485760 bytes; this one is 10485761"):
        linkedin.publish(linkedin_account, Post(text="ok", idempotency_key="k", image=b"x" * 10_485_761,
                                                image_type="image/png"))
    with pytest.raises(Rejected, match="limit is 3000"):
        linkedin.publish(linkedin_account, make_post("a" * 3001))
    assert linkedin_fake.calls == []


def test_a_retired_version_tells_the_operator_which_setting_to_change(linkedin_settings, linkedin_account):
    connector = LinkedInConnector(replace(linkedin_settings, linkedin_version="202504"))
    try:
        with pytest.raises(Rejected) as raised:
            connector.publish(linkedin_account, make_post())
    finally:
        connector.close()
    assert raised.value.reason == (
        "linkedin answered 426 NONEXISTENT_VERSION: Requested version 202504 is not active; LinkedIn no "
        "longer serves version 202504: set TCMA_CONNECTORS_LINKEDIN_VERSION to a current one (YYYYMM)")


def test_an_expired_token_is_auth_expired(linkedin, linkedin_account, linkedin_fake):
    linkedin_fake.oauth.expire_access_tokens()
    with pytest.raises(AuthExpired) as raised:
        linkedin.publish(linkedin_account, make_post())
    assert raised.value.reason == ("linkedin answered 401 EXPIRED_ACCESS_TOKEN: The token used in the "
                                   "request has expired")


def test_a_revoked_token_is_auth_expired(linkedin, linkedin_account, linkedin_fake):
    linkedin_fake.oauth.revoke_all()
    with pytest.raises(AuthExpired) as raised:
        linkedin.verify(linkedin_account)
    assert raised.value.reason == ("linkedin answered 401 REVOKED_ACCESS_TOKEN: The token used in the "
                                   "request has been revoked by the user")


def test_the_same_text_twice_is_refused_as_a_duplicate(linkedin, linkedin_account, linkedin_fake):
    first = linkedin.publish(linkedin_account, make_post("Once", ref=1))
    with pytest.raises(Rejected) as raised:
        linkedin.publish(linkedin_account, make_post("Once", ref=2))
    assert raised.value.reason == ("linkedin answered 422 DUPLICATE_POST: Content is a duplicate of "
                                   f"{first.external_id}")


@pytest.mark.parametrize(("status", "body", "failure", "reason"), [
    (403, {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
           "message": "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260101"}, Rejected,
     "linkedin answered 403 ACCESS_DENIED: Not enough permissions to access: "
     "partnerApiPostsExternal.CREATE.20260101"),
    (400, {"status": 400, "message": "Invalid commentary"}, Rejected,
     "linkedin answered 400: Invalid commentary"),
    (500, {"status": 500, "message": "Unable to obtain activity"}, Temporary,
     "linkedin answered 500: Unable to obtain activity"),
    (503, "<html>Service Unavailable</html>", Temporary,
     'linkedin answered 503: "<html>Service Unavailable</html>"'),
    (504, {"status": 504, "message": "Gateway Timeout"}, UnknownOutcome,
     "linkedin answered 504: Gateway Timeout"),
])
def test_failures_are_classified(linkedin, linkedin_account, linkedin_fake, status, body, failure, reason):
    linkedin_fake.fail_next(POSTS, status, body)
    with pytest.raises(failure) as raised:
        linkedin.publish(linkedin_account, make_post())
    assert type(raised.value) is failure and raised.value.reason == reason


def test_a_429_waits_until_midnight_utc(linkedin, linkedin_account, linkedin_fake):
    throttled = "Resource level throttle limit for calls to this resource is reached."
    linkedin_fake.fail_next(POSTS, 429, {"serviceErrorCode": 101, "status": 429, "message": throttled})
    with pytest.raises(RateLimited) as raised:
        linkedin.publish(linkedin_account, make_post())
    midnight = datetime(2026, 3, 2, tzinfo=UTC)
    assert raised.value.until == midnight and not raised.value.app_wide
    assert raised.value.rate_limit == RateLimitState(limit=None, remaining=0, reset=midnight)
    assert raised.value.reason == ("linkedin answered 429: Resource level throttle limit for calls to this "
                                   "resource is reached. until 2026-03-02T00:00:00+00:00")


def test_a_429_with_retry_after_waits_that_long(linkedin, linkedin_account, linkedin_fake):
    linkedin_fake.fail_next(POSTS, 429, {"status": 429, "message": "Too Many Requests"},
                            {"Retry-After": "90"})
    with pytest.raises(RateLimited) as raised:
        linkedin.publish(linkedin_account, make_post())
    assert raised.value.until == NOW + timedelta(seconds=90)


def test_a_slow_answer_is_reconciled_from_the_pages_posts_without_a_duplicate(
        linkedin, linkedin_page, linkedin_fake):
    post = make_post("Reconcile (me) #now https://acme.test/r")
    linkedin_fake.slow_next(POSTS, SLOW)
    attempted = datetime.now(UTC)
    with pytest.raises(UnknownOutcome) as raised:
        linkedin.publish(linkedin_page, post)
    assert raised.value.reason == ("linkedin: no answer from 127.0.0.1 after the request was sent "
                                   "(ReadTimeout)")

    found = linkedin.reconcile(linkedin_page, post, since=attempted)
    assert found is not None and found.external_id == linkedin_fake.posts[0]["id"]
    assert found.url == f"https://www.linkedin.com/feed/update/{found.external_id}/"
    assert len(linkedin_fake.posts) == 1


def test_a_post_that_was_not_made_is_reconciled_as_absent(linkedin, linkedin_page, linkedin_fake):
    linkedin.publish(linkedin_page, make_post("Older post", ref="older"))
    assert linkedin.reconcile(linkedin_page, make_post("Never sent")) is None
    assert [p.text for p in linkedin.recent_posts(linkedin_page)] == ["Older post"]


def test_a_members_posts_cannot_be_read_back(linkedin, linkedin_account, linkedin_fake):
    with pytest.raises(Unsupported) as raised:
        linkedin.reconcile(linkedin_account, make_post())
    assert raised.value.reason == (
        "linkedin does not let tcma read the posts of urn:li:person:8rJt2KqWxY (403: Not enough permissions "
        "to access: partnerApiPostsExternal.FINDER-author.20260101); look on LinkedIn before publishing "
        "again")
    linkedin_fake.member_posts_readable = True
    linkedin.publish(linkedin_account, make_post("Mine"))
    assert linkedin.reconcile(linkedin_account, make_post("Mine")) is not None


def test_an_upload_url_outside_linkedin_is_never_sent_the_token(linkedin, linkedin_account, linkedin_fake):
    linkedin_fake.fail_next(IMAGES, 200, {"value": {"uploadUrl": "https://uploads.evil.test/put",
                                                    "image": "urn:li:image:C4E10AQ"}})
    with pytest.raises(Rejected) as raised:
        linkedin.publish(linkedin_account, make_post(image=True))
    assert raised.value.reason == ("linkedin gave an upload URL on uploads.evil.test, outside linkedin.com: "
                                   "the token is not sent there")
    assert linkedin_fake.posts == []


def test_odd_answers_are_classified(linkedin, linkedin_account, linkedin_fake):
    linkedin_fake.fail_next(IMAGES, 200, {"value": {}})
    with pytest.raises(Temporary) as raised:
        linkedin.publish(linkedin_account, make_post(image=True))
    assert raised.value.reason == "linkedin answered initializeUpload without an uploadUrl and image URN"

    linkedin_fake.fail_next(POSTS, 201, "")
    with pytest.raises(UnknownOutcome) as unknown:
        linkedin.publish(linkedin_account, make_post())
    assert unknown.value.reason == "linkedin answered 201 without x-restli-id: the post may exist"

    linkedin_fake.fail_next("/v2/userinfo", 200, {"name": "Nobody"})
    with pytest.raises(Temporary) as no_id:
        linkedin.verify(linkedin_account)
    assert no_id.value.reason == "linkedin answered userinfo without the member's id (sub)"


def test_verify_names_the_member_or_the_organization(linkedin, linkedin_account, linkedin_page):
    assert linkedin.verify(linkedin_account) == ("Ada Partner", "urn:li:person:8rJt2KqWxY")
    assert linkedin.verify(linkedin_page) == ("acme-outdoor", "urn:li:organization:2414183")
    bare = Account(network="linkedin", base_url="", handle="h",
                   credentials={"access_token": linkedin_account.credentials["access_token"]})
    assert linkedin.verify(bare) == ("Ada Partner", "urn:li:person:8rJt2KqWxY")


def test_accounts_without_what_posting_needs_are_auth_expired(linkedin, linkedin_account, linkedin_fake):
    no_author = Account(network="linkedin", base_url="", handle="h", external_id="12345",
                        credentials={"access_token": "t"})
    with pytest.raises(AuthExpired) as raised:
        linkedin.publish(no_author, make_post())
    assert raised.value.reason == ("linkedin account has no author URN (urn:li:person:... or "
                                   "urn:li:organization:...)")
    no_token = Account(network="linkedin", base_url="", handle="h", external_id="urn:li:person:8rJt2KqWxY")
    with pytest.raises(AuthExpired) as missing:
        linkedin.publish(no_token, make_post())
    assert missing.value.reason == "linkedin account has no access_token"
    assert linkedin_fake.calls == []


def test_the_token_never_reaches_logs_errors_or_reprs(linkedin, linkedin_account, linkedin_fake, caplog):
    caplog.set_level(logging.DEBUG)
    token = linkedin_account.credentials["access_token"]
    linkedin_fake.fail_next(POSTS, 400, {"status": 400, "message": f"bad token {token}"})
    with pytest.raises(Rejected) as raised:
        linkedin.publish(linkedin_account, make_post(image=True))
    linkedin.publish(linkedin_account, make_post(ref="ok"))

    assert raised.value.reason == "linkedin answered 400: bad token ***"
    assert caplog.records, "httpx logs its requests: the check below read something"
    assert token not in caplog.text + repr(linkedin_account) + repr(linkedin)
