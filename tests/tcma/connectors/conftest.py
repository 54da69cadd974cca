"""Fake networks on loopback ports, and connectors with short timeouts pointed at them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tcma.connectors import Account, ConnectorSettings, Post, idempotency_key
from tcma.connectors.bluesky import BlueskyConnector
from tcma.connectors.facebook import FacebookConnector
from tcma.connectors.linkedin import LinkedInConnector
from tcma.connectors.mastodon import MastodonConnector
from tcma.connectors.webhook import WebhookConnector
from tcma.connectors.x import XConnector
from tests.support.fake_networks import FakeBluesky, FakeMastodon, FakeWebhookReceiver, serve
from tests.support.fake_oauth_networks import FakeFacebook, FakeLinkedIn, FakeX

# A slow answer waits SLOW seconds, past the client's read timeout.
TIMEOUT = 1.5  # generous: a loaded machine (two test processes, a bench) must not time out a quick answer
SLOW = 3.0
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# The clock of the tests that need one: what tcma thinks "now" is.
NOW = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)


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


@pytest.fixture
def linkedin_fake():
    with serve(FakeLinkedIn()) as fake:
        yield fake


@pytest.fixture
def linkedin_settings(settings, linkedin_fake):
    return replace(settings, **linkedin_fake.settings())


@pytest.fixture
def linkedin_account(linkedin_fake):
    """The member, as a finished consent stores them."""
    return Account(network="linkedin", base_url="", handle=FakeLinkedIn.MEMBER_NAME,
                   external_id=FakeLinkedIn.MEMBER_URN,
                   credentials={"access_token": linkedin_fake.issue_token(),
                                "author": FakeLinkedIn.MEMBER_URN})


@pytest.fixture
def linkedin_page(linkedin_fake):
    """The organization page the member administers."""
    return Account(network="linkedin", base_url="", handle=FakeLinkedIn.ORGANIZATION_VANITY,
                   external_id=FakeLinkedIn.ORGANIZATION_URN,
                   credentials={"access_token": linkedin_fake.issue_token(),
                                "author": FakeLinkedIn.ORGANIZATION_URN})


@pytest.fixture
def linkedin(linkedin_settings):
    connector = LinkedInConnector(linkedin_settings, clock=lambda: NOW)
    yield connector
    connector.close()


@pytest.fixture
def x_fake():
    with serve(FakeX()) as fake:
        yield fake


@pytest.fixture
def x_settings(settings, x_fake):
    return replace(settings, **x_fake.settings())


@pytest.fixture
def x_account(x_fake):
    token = x_fake.issue_token()
    return Account(network="x", base_url="", handle="@" + FakeX.USERNAME, external_id=FakeX.USER_ID,
                   credentials={"access_token": token["access_token"],
                                "refresh_token": token["refresh_token"]})


@pytest.fixture
def x(x_settings):
    connector = XConnector(x_settings, clock=lambda: NOW, sleep=lambda seconds: None)
    yield connector
    connector.close()


@pytest.fixture
def facebook_fake():
    with serve(FakeFacebook()) as fake:
        yield fake


@pytest.fixture
def facebook_settings(settings, facebook_fake):
    return replace(settings, **facebook_fake.settings())


@pytest.fixture
def facebook_account(facebook_fake):
    """The first Page, as a finished consent stores it."""
    return Account(network="facebook", base_url="", handle=FakeFacebook.PAGE_USERNAME,
                   external_id=FakeFacebook.PAGE_ID,
                   credentials={"access_token": facebook_fake.issue_page_token(),
                                "user_id": FakeFacebook.USER_ID})


@pytest.fixture
def facebook(facebook_settings):
    connector = FacebookConnector(facebook_settings, clock=lambda: NOW)
    yield connector
    connector.close()
