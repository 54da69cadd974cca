"""Fixtures for tracking: partners, a campaign, registered destinations and their tracked links."""

from __future__ import annotations

import pytest

from tcma.extensions import db
from tcma.models import Campaign
from tcma.services.tracking import links as tracking
from tests.conftest import REDIS_URL, _app_on, base_config
from tests.support.factories import make_partner, make_taxonomy

# Not the suite's db 13: other test runs on a shared machine flush that one under our feet.
TRACKING_REDIS_URL = REDIS_URL  # the db this run claimed (see tests/conftest.py)


@pytest.fixture
def tracking_redis():
    """Redis db 12, flushed before and after each test."""
    from redis import Redis

    client = Redis.from_url(TRACKING_REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def redis_app(migrated_pg, tmp_path, tracking_redis):
    """PostgreSQL + Redis; clicks are spooled and shipped only when a test says so."""
    url, tables = migrated_pg
    config = base_config(tmp_path, DATABASE_URL=url, REDIS_URL=TRACKING_REDIS_URL,
                         CLICK_SPOOL_DIR=str(tmp_path / "spool"), CLICK_SHIP_INTERVAL=0)
    yield from _app_on(config, tables)


@pytest.fixture
def world():
    """Two partners, one campaign, two destinations and their links (request an app first)."""
    return build_world()


def build_world() -> dict:
    """Create the `world` fixture's rows in the current app."""
    taxonomy = make_taxonomy()
    acme, globex = make_partner(taxonomy), make_partner(taxonomy)
    campaign = Campaign(name="Spring launch", slug="spring-launch")
    db.session.add(campaign)
    db.session.commit()
    landing = tracking.register_destination("landing", "https://vendor.example/p?ref=doc&utm_source=own#top")
    other = tracking.register_destination("pricing", "https://vendor.example/pricing")
    links = {}
    for partner in (acme, globex):
        for variant in ("a", "b"):
            links[partner.slug, variant] = tracking.tracked_url(
                partner.id, campaign.id, None, "email", variant, landing.id)
        links[partner.slug, "pricing"] = tracking.tracked_url(
            partner.id, campaign.id, None, "email", "a", other.id)
    db.session.commit()
    return {"acme": acme, "globex": globex, "campaign": campaign, "links": links}


def path_of(url: str) -> str:
    """The path part of a public tracked URL."""
    return url.split("http://tcma.test", 1)[1]
