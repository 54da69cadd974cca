"""Fixtures for tracking: the run's Redis db, an app that buffers clicks there, and a `world`."""

from __future__ import annotations

import pytest

from tests.support import redis_db
from tests.support.apps import app_on, base_config
from tests.support.tracking import build_world


@pytest.fixture
def tracking_redis(redis_client):
    """The run's Redis db, flushed before and after each test without giving up the run's claim."""
    return redis_client


@pytest.fixture
def redis_app(migrated_pg, tmp_path, tracking_redis):
    """PostgreSQL + Redis; clicks are spooled and shipped only when a test says so."""
    url, tables = migrated_pg
    config = base_config(tmp_path, DATABASE_URL=url, REDIS_URL=redis_db.redis_url(),
                         CLICK_SPOOL_DIR=str(tmp_path / "spool"), CLICK_SHIP_INTERVAL=0)
    yield from app_on(config, tables)


@pytest.fixture
def world():
    """Two partners, one campaign, two destinations and their links (request an app first)."""
    return build_world()
