"""The dry-run connector and the choice of backend by settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tcma.connectors import (
    LIVE_NETWORKS,
    Account,
    ConnectorSettings,
    Rejected,
    Unsupported,
    build_connector,
)
from tcma.connectors.bluesky import BlueskyConnector
from tcma.connectors.dryrun import DryRunConnector
from tcma.connectors.facebook import FacebookConnector
from tcma.connectors.linkedin import LinkedInConnector
from tcma.connectors.mastodon import MastodonConnector
from tcma.connectors.webhook import WebhookConnector
from tcma.connectors.x import XConnector
from tests.tcma.connectors.conftest import PNG, make_post

ACCOUNT = Account(network="x", base_url="", handle="@acme", credentials={"token": "dry-secret-123"})
NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_records_each_post_once_per_idempotency_key(tmp_path):
    connector = DryRunConnector("x", folder=tmp_path, clock=lambda: NOW)
    first = connector.publish(ACCOUNT, make_post("Hello", image=True))
    again = connector.publish(ACCOUNT, make_post("Hello", image=True))
    other = connector.publish(ACCOUNT, make_post("Other", ref=2))

    assert first == again != other
    assert [r.text for r in connector.sent] == ["Hello", "Other"]
    written = json.loads((tmp_path / "x" / f"{first.external_id}.json").read_text())
    assert written["text"] == "Hello" and written["at"] == NOW.isoformat()
    assert written["image_bytes"] == len(PNG)
    assert (tmp_path / "x" / f"{first.external_id}.png").read_bytes() == PNG
    assert "dry-secret-123" not in "".join(p.read_text(errors="replace") for p in (tmp_path / "x").iterdir())
    assert first.url.startswith("file://")


def test_checks_the_networks_limits_like_the_real_one():
    connector = DryRunConnector("x")
    with pytest.raises(Rejected, match="limit is 280"):
        connector.publish(ACCOUNT, make_post("字" * 141))
    assert connector.sent == []


def test_reads_back_and_reconciles_what_it_recorded():
    connector = DryRunConnector("linkedin")
    published = connector.publish(ACCOUNT, make_post("Recorded"))
    assert connector.recent_posts(ACCOUNT)[0].external_id == published.external_id
    assert connector.reconcile(ACCOUNT, make_post("Recorded", ref=9)) == published
    assert connector.reconcile(ACCOUNT, make_post("Never sent")) is None
    assert connector.verify(ACCOUNT) == ("@acme", "dryrun:@acme")


@pytest.mark.parametrize("network", ["linkedin", "x", "facebook", "mastodon", "bluesky", "webhook"])
def test_the_dryrun_backend_serves_every_network(network, tmp_path):
    connector = build_connector(network, ConnectorSettings(backend="dryrun", dryrun_dir=tmp_path))
    assert isinstance(connector, DryRunConnector) and connector.network == network


@pytest.mark.parametrize(("network", "kind"), [
    ("mastodon", MastodonConnector), ("bluesky", BlueskyConnector), ("webhook", WebhookConnector),
    ("linkedin", LinkedInConnector), ("x", XConnector), ("facebook", FacebookConnector),
])
def test_the_live_backend_picks_the_networks_connector(network, kind):
    connector = build_connector(network, ConnectorSettings())
    try:
        assert isinstance(connector, kind) and connector.network == network
    finally:
        connector.close()


def test_an_unknown_network_has_no_connector():
    with pytest.raises(Unsupported) as raised:
        build_connector("myspace", ConnectorSettings())
    assert raised.value.reason == ("unknown network 'myspace'; expected one of linkedin, x, facebook, "
                                   "mastodon, bluesky, webhook")
    assert LIVE_NETWORKS == ("linkedin", "x", "facebook", "mastodon", "bluesky", "webhook")


@pytest.mark.parametrize(("config", "message"), [
    ({"CONNECTORS_BACKEND": "carrier-pigeon"}, "TCMA_CONNECTORS_BACKEND"),
    ({"CONNECTORS_TIMEOUT": 0}, "TCMA_CONNECTORS_TIMEOUT"),
    ({"CONNECTORS_MEDIA_WAIT": "60"}, "TCMA_CONNECTORS_MEDIA_WAIT"),
])
def test_settings_name_the_variable_they_refuse(config, message):
    with pytest.raises(ValueError, match=message):
        ConnectorSettings.from_config(config)


def test_settings_from_config():
    settings = ConnectorSettings.from_config({"CONNECTORS_BACKEND": "dryrun", "CONNECTORS_TIMEOUT": 3.5,
                                              "OTHER": 1})
    assert settings.backend == "dryrun" and settings.timeout == 3.5
