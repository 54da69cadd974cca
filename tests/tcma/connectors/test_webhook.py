"""Webhook connector against a receiver on loopback that verifies Standard Webhooks signatures."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta

import pytest

from tcma.connectors import Account, AuthExpired, RateLimited, Rejected, Temporary, UnknownOutcome
from tcma.connectors.webhook import WebhookConnector, generate_secret, secret_bytes, sign
from tests.support.fake_networks import FakeWebhookReceiver
from tests.tcma.connectors.conftest import PNG, SLOW, make_post

HOOK = "/hooks/tcma"


def test_signature_matches_the_standard_webhooks_test_vector():
    key = secret_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_generated_secrets_are_32_random_bytes():
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_") and len(secret_bytes(first)) == 32 and first != second


def test_publishes_a_signed_event_with_text_and_image(webhook, webhook_account, webhook_fake):
    post = make_post("Hello ✨ partners", image=True, alt_text="Banner")
    published = webhook.publish(webhook_account, post)

    [delivery] = webhook_fake.deliveries
    assert delivery.message_id == post.idempotency_key
    event = delivery.event
    assert event["type"] == "post.published"
    assert event["data"]["text"] == "Hello ✨ partners"
    assert event["data"]["account"]["handle"] == "acme-crm"
    assert base64.b64decode(event["data"]["image"]["data"]) == PNG
    assert event["data"]["image"]["alt_text"] == "Banner"
    assert published.external_id == f"hook-{post.idempotency_key}"
    assert published.url.endswith(f"/posts/{post.idempotency_key}")


def test_a_wrong_secret_is_refused_by_the_receiver(webhook, webhook_account):
    account = Account(network="webhook", base_url=webhook_account.base_url, handle="acme-crm",
                      credentials={"secret": generate_secret()})
    with pytest.raises(AuthExpired, match="401"):
        webhook.publish(account, make_post())


@pytest.mark.parametrize("secret", ["whsec_not base64!", "", None, "whsec_c2hvcnQ="])
def test_a_malformed_secret_fails_before_sending_and_is_never_shown(webhook, webhook_account, webhook_fake,
                                                                     secret):
    account = Account(network="webhook", base_url=webhook_account.base_url, handle="h",
                      credentials={"secret": secret})
    with pytest.raises(AuthExpired) as raised:
        webhook.publish(account, make_post())
    assert webhook_fake.calls == []
    assert not secret or secret.removeprefix("whsec_") not in str(raised.value)


@pytest.mark.parametrize(("status", "failure"), [
    (400, Rejected), (404, Rejected), (410, Rejected), (422, Rejected), (403, AuthExpired),
    (408, Temporary), (500, Temporary), (503, Temporary), (504, UnknownOutcome),
])
def test_answers_are_classified(webhook, webhook_account, webhook_fake, status, failure):
    webhook_fake.fail_next(HOOK, status, {"error": "no"})
    with pytest.raises(failure, match=str(status)):
        webhook.publish(webhook_account, make_post())


def test_429_waits_for_retry_after(webhook, webhook_account, webhook_fake):
    webhook_fake.fail_next(HOOK, 429, {"error": "slow down"}, {"Retry-After": "120"})
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as raised:
        webhook.publish(webhook_account, make_post())
    assert before + timedelta(seconds=119) <= raised.value.until <= datetime.now(UTC) + timedelta(seconds=121)


def test_text_over_the_limit_is_refused_before_sending(webhook, webhook_account, webhook_fake):
    with pytest.raises(Rejected, match="limit is 10000"):
        webhook.publish(webhook_account, make_post("a" * 10_001))
    assert webhook_fake.calls == []


def test_a_slow_receiver_is_an_unknown_outcome_and_a_resend_is_dropped_by_its_id(
        webhook, webhook_account, webhook_fake):
    post = make_post("Once only")
    webhook_fake.slow_next(HOOK, SLOW)
    with pytest.raises(UnknownOutcome):
        webhook.publish(webhook_account, post)

    assert webhook.reconcile(webhook_account, post) is None  # resending is safe: same webhook-id
    webhook.publish(webhook_account, post)
    assert len(webhook_fake.deliveries) == 1 and webhook_fake.count(HOOK) == 2


def test_an_unreachable_receiver_is_temporary(settings):
    account = Account(network="webhook", base_url="http://127.0.0.1:9/hook", handle="h",
                      credentials={"secret": generate_secret()})
    connector = WebhookConnector(settings)
    try:
        with pytest.raises(Temporary, match="could not reach"):
            connector.publish(account, make_post())
    finally:
        connector.close()


def test_verify_sends_a_signed_ping(webhook, webhook_account, webhook_fake):
    assert webhook.verify(webhook_account) == ("acme-crm", webhook_account.base_url)
    assert webhook_fake.deliveries[0].event["type"] == "webhook.ping"


def test_the_secret_never_reaches_logs_errors_or_reprs(webhook, webhook_account, webhook_fake, caplog):
    caplog.set_level(logging.DEBUG)
    secret = FakeWebhookReceiver.SECRET
    webhook_fake.fail_next(HOOK, 400, {"error": f"bad secret {secret}"})
    with pytest.raises(Rejected) as raised:
        webhook.publish(webhook_account, make_post())
    webhook.publish(webhook_account, make_post(ref=2))
    assert secret not in caplog.text + str(raised.value) + repr(webhook_account) + repr(webhook)


@pytest.mark.parametrize("url", ["", "ftp://files.acme.test/in", "acme.test/hook"])
def test_a_url_that_is_not_http_is_rejected(webhook, url):
    account = Account(network="webhook", base_url=url, handle="h", credentials={"secret": generate_secret()})
    with pytest.raises(Rejected, match="not an http"):
        webhook.publish(account, make_post())
