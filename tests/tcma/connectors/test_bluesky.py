"""Bluesky connector against a fake PDS on loopback."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from tcma.connectors import Account, AuthExpired, Post, RateLimited, Rejected, Temporary, UnknownOutcome
from tcma.connectors.bluesky import BlueskyConnector, link_facets
from tests.support.fake_networks import FakeBluesky
from tests.tcma.connectors.conftest import SLOW, make_post

CREATE = "/xrpc/com.atproto.repo.createRecord"


def _facet_texts(record):
    data = record["text"].encode("utf-8")
    return [data[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode("utf-8") for f in record["facets"]]


def test_publishes_a_post_with_a_link_facet(bluesky, bluesky_account, bluesky_fake):
    published = bluesky.publish(bluesky_account, make_post("Spring offer: https://acme.test/spring."))

    [stored] = bluesky_fake.records
    record = stored["value"]
    assert published.external_id == stored["uri"]
    assert published.url == f"https://bsky.app/profile/{FakeBluesky.HANDLE}/post/{stored['uri'].rsplit('/')[-1]}"
    assert _facet_texts(record) == ["https://acme.test/spring"]
    assert record["createdAt"].endswith("Z")
    limit = published.rate_limit
    assert limit.limit == 3000 and limit.remaining == 2999 and limit.reset > datetime.now(UTC)


def test_facets_count_utf8_bytes_through_emoji_and_accents(bluesky, bluesky_account, bluesky_fake):
    text = "Café 🎉👩‍👩‍👧 déjà vu — 日本語 https://acme.test/ü?q=ß then (https://globex.test/x)!"
    bluesky.publish(bluesky_account, make_post(text))

    [stored] = bluesky_fake.records
    assert _facet_texts(stored["value"]) == ["https://acme.test/ü?q=ß", "https://globex.test/x"]
    first = stored["value"]["facets"][0]["index"]
    assert first["byteStart"] == len("Café 🎉👩‍👩‍👧 déjà vu — 日本語 ".encode()) != text.index("https")


def test_a_facet_in_characters_instead_of_bytes_is_refused_by_the_fake(bluesky_fake):
    """The fake checks offsets as the PDS would: the test above proves something."""
    text = "é https://acme.test"
    wrong = {"index": {"byteStart": text.index("https"), "byteEnd": len(text)},
             "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://acme.test"}]}
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2025-01-01T00:00:00.000Z",
              "facets": [wrong]}
    assert "Invalid facet" in bluesky_fake.check_record(
        {"repo": FakeBluesky.DID, "collection": "app.bsky.feed.post"}, record)
    assert link_facets(text)[0]["index"] == {"byteStart": 3, "byteEnd": len(text.encode())}


def test_publishes_an_image_with_its_alt_text_and_ratio(bluesky, bluesky_account, bluesky_fake):
    bluesky.publish(bluesky_account, make_post(image=True, alt_text="Banner", image_size=(1200, 630)))

    [stored] = bluesky_fake.records
    [image] = stored["value"]["embed"]["images"]
    assert image["alt"] == "Banner" and image["aspectRatio"] == {"width": 1200, "height": 630}
    assert image["image"]["mimeType"] == "image/png"


def test_limits_are_checked_before_any_request(bluesky, bluesky_account, bluesky_fake):
    with pytest.raises(Rejected, match="limit is 300"):
        bluesky.publish(bluesky_account, make_post("a" * 301))
    with pytest.raises(Rejected, match="1000000 bytes"):
        bluesky.publish(bluesky_account, Post(text="ok", idempotency_key="k", image=b"x" * 1_000_001,
                                              image_type="image/png"))
    assert bluesky_fake.calls == []
    bluesky.publish(bluesky_account, make_post("👩‍👩‍👧" * 300))  # 300 graphemes, 5,400 bytes
    assert len(bluesky_fake.records) == 1


def test_one_session_serves_many_posts(bluesky, bluesky_account, bluesky_fake):
    for ref in range(3):
        bluesky.publish(bluesky_account, make_post(f"Post {ref}", ref=ref))
    assert bluesky_fake.sessions_created == 1 and len(bluesky_fake.records) == 3


def test_an_expired_token_is_refreshed_and_the_post_sent_once(bluesky, bluesky_account, bluesky_fake):
    bluesky.publish(bluesky_account, make_post("first", ref=1))
    bluesky_fake.expire_access_tokens()
    bluesky.publish(bluesky_account, make_post("second", ref=2, image=True))

    assert bluesky_fake.refreshes == 1 and bluesky_fake.sessions_created == 1
    assert [r["value"]["text"] for r in bluesky_fake.records] == ["first", "second"]


def test_an_expired_refresh_token_means_a_new_session(bluesky, bluesky_account, bluesky_fake):
    bluesky.publish(bluesky_account, make_post("first", ref=1))
    bluesky_fake.expire_access_tokens()
    bluesky_fake.expire_refresh_tokens()
    bluesky.publish(bluesky_account, make_post("second", ref=2))
    assert bluesky_fake.sessions_created == 2 and len(bluesky_fake.records) == 2


def test_a_wrong_app_password_is_auth_expired_and_never_shown(bluesky, bluesky_account, caplog):
    caplog.set_level(logging.DEBUG)
    account = Account(network="bluesky", base_url=bluesky_account.base_url, handle=FakeBluesky.HANDLE,
                      credentials={"app_password": "zzzz-yyyy-xxxx-wwww"})
    with pytest.raises(AuthExpired, match="AuthenticationRequired") as raised:
        bluesky.publish(account, make_post())
    assert "zzzz-yyyy-xxxx-wwww" not in str(raised.value) + caplog.text + repr(account)


def test_429_waits_until_the_epoch_reset(bluesky, bluesky_account, bluesky_fake):
    headers = {"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": "4102444800",
               "ratelimit-policy": "5000;w=3600"}
    bluesky_fake.fail_next(CREATE, 429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                           headers)
    with pytest.raises(RateLimited) as raised:
        bluesky.publish(bluesky_account, make_post())
    assert raised.value.until == datetime(2100, 1, 1, tzinfo=UTC)
    assert raised.value.rate_limit.remaining == 0


@pytest.mark.parametrize(("status", "body", "failure"), [
    (400, {"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record"}, Rejected),
    (401, {"error": "AccountTakedown", "message": "Account has been taken down"}, AuthExpired),
    (500, {"error": "InternalServerError", "message": "Internal Server Error"}, Temporary),
    (503, "<html>unavailable</html>", Temporary),
    (502, "<html>bad gateway</html>", UnknownOutcome),  # a proxy gave up: the record may exist
    (504, "<html>gateway timeout</html>", UnknownOutcome),
])
def test_failures_are_classified(bluesky, bluesky_account, bluesky_fake, status, body, failure):
    bluesky_fake.fail_next(CREATE, status, body)
    with pytest.raises(failure, match=str(status)):
        bluesky.publish(bluesky_account, make_post())


def test_a_slow_answer_is_reconciled_from_the_repo_without_a_duplicate(
        bluesky, bluesky_account, bluesky_fake):
    post = make_post("Reconcile me 🎉 https://acme.test/r")
    bluesky_fake.slow_next(CREATE, SLOW)
    attempted = datetime.now(UTC)
    with pytest.raises(UnknownOutcome):
        bluesky.publish(bluesky_account, post)

    found = bluesky.reconcile(bluesky_account, post, since=attempted)
    assert found is not None and found.external_id == bluesky_fake.records[0]["uri"]
    assert len(bluesky_fake.records) == 1


def test_a_post_that_was_not_written_is_reconciled_as_absent_then_sent(
        bluesky, bluesky_account, bluesky_fake):
    post = make_post("Lost on the way")
    bluesky.publish(bluesky_account, make_post("Older post", ref="older"))
    bluesky_fake.fail_next(CREATE, 500, {"error": "InternalServerError"})
    bluesky_fake.slow_next(CREATE, SLOW)
    with pytest.raises(UnknownOutcome):
        bluesky.publish(bluesky_account, post)

    assert bluesky.reconcile(bluesky_account, post) is None
    bluesky.publish(bluesky_account, post)
    assert [r["value"]["text"] for r in bluesky_fake.records] == ["Older post", "Lost on the way"]


def test_an_unreachable_pds_is_temporary(settings):
    account = Account(network="bluesky", base_url="http://127.0.0.1:9", handle="h",
                      credentials={"app_password": "p"})
    connector = BlueskyConnector(settings)
    try:
        with pytest.raises(Temporary, match="could not reach"):
            connector.publish(account, make_post())
    finally:
        connector.close()


def test_verify_returns_the_handle_and_did(bluesky, bluesky_account):
    assert bluesky.verify(bluesky_account) == (FakeBluesky.HANDLE, FakeBluesky.DID)


def test_tokens_and_password_never_reach_logs_or_reprs(bluesky, bluesky_account, bluesky_fake, caplog):
    caplog.set_level(logging.DEBUG)
    bluesky.publish(bluesky_account, make_post("one", ref=1))
    bluesky_fake.expire_access_tokens()
    bluesky.publish(bluesky_account, make_post("two", ref=2))
    bluesky_fake.fail_next(CREATE, 400, {"error": "InvalidRequest",
                                         "message": f"bad {FakeBluesky.APP_PASSWORD}"})
    with pytest.raises(Rejected) as raised:
        bluesky.publish(bluesky_account, make_post("three", ref=3))

    seen = caplog.text + str(raised.value) + repr(bluesky_account) + repr(bluesky._sessions)
    assert FakeBluesky.APP_PASSWORD not in seen
    assert "-jwt" not in seen
