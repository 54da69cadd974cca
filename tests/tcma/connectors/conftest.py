"""Fake networks on loopback ports, and connectors with short timeouts pointed at them."""

from __future__ import annotations

import pytest

from tcma.connectors import Account, ConnectorSettings, Post, idempotency_key
from tcma.connectors.bluesky import BlueskyConnector
from tcma.connectors.mastodon import MastodonConnector
from tcma.connectors.webhook import WebhookConnector
from tests.support.fake_networks import FakeBluesky, FakeMastodon, FakeWebhookReceiver, serve

# A slow answer waits SLOW seconds, past the client's read timeout.
TIMEOUT = 0.4
SLOW = 1.0
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def settings():
    return ConnectorSettings(timeout=TIMEOUT, connect_timeout=TIMEOUT, media_poll_interval=0.01,
                             media_wait=1.0)


def make_post(text: str = "Spring offer from Acme and Globex", *, ref: object = 1, image: bool = False,
              **extra) -> Post:
    """A post for the tests; `ref` picks its idempotency key."""
    if image:
        extra.update(image=PNG, image_type="image/png", alt_text=extra.get("alt_text", "A spring banner"))
    return Post(text=text, idempotency_key=idempotency_key(ref, "account-1"), **extra)


@pytest.fixture
def mastodon_fake():
    with serve(FakeMastodon()) as fake:
        yield fake


@pytest.fixture
def mastodon_account(mastodon_fake):
    return Account(network="mastodon", base_url=mastodon_fake.base_url, handle="@acme@fake.social",
                   external_id=FakeMastodon.ACCOUNT_ID, credentials={"access_token": FakeMastodon.TOKEN})


@pytest.fixture
def mastodon(settings):
    connector = MastodonConnector(settings)
    yield connector
    connector.close()


@pytest.fixture
def bluesky_fake():
    with serve(FakeBluesky()) as fake:
        yield fake


@pytest.fixture
def bluesky_account(bluesky_fake):
    return Account(network="bluesky", base_url=bluesky_fake.base_url, handle=FakeBluesky.HANDLE,
                   credentials={"app_password": FakeBluesky.APP_PASSWORD})


@pytest.fixture
def bluesky(settings):
    connector = BlueskyConnector(settings)
    yield connector
    connector.close()


@pytest.fixture
def webhook_fake():
    with serve(FakeWebhookReceiver()) as fake:
        yield fake


@pytest.fixture
def webhook_account(webhook_fake):
    return Account(network="webhook", base_url=webhook_fake.base_url + "/hooks/tcma", handle="acme-crm",
                   credentials={"secret": FakeWebhookReceiver.SECRET})


@pytest.fixture
def webhook(settings):
    connector = WebhookConnector(settings)
    yield connector
    connector.close()
