"""Uniques agree whichever way events reach the database: through Redis, or straight from web processes."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from tcma.clickbuffer import encode_events
from tcma.extensions import db
from tcma.models import Event, EventRollup
from tcma.services.tracking.ingest import flush_events
from tests.support.apps import app_on, base_config
from tests.support.redis_db import redis_url
from tests.support.tracking import build_world

REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def web_apps(migrated_pg, tmp_path, make_app, redis_client):
    """Two web processes' apps on one database; Redis down for both unless `redis` says otherwise."""
    url, tables = migrated_pg

    def build(redis: str) -> tuple:
        settings = {"DATABASE_URL": url, "REDIS_URL": redis, "CLICK_SHIP_INTERVAL": 0}
        return (make_app(**settings, CLICK_SPOOL_DIR=str(tmp_path / "spool-a")),
                make_app(**settings, CLICK_SPOOL_DIR=str(tmp_path / "spool-b")))

    # The test runs in an app of its own, which empties the tables afterwards.
    for _ in app_on(base_config(tmp_path, DATABASE_URL=url), tables):
        yield build


def visits(world, offset: float) -> list[dict]:
    """Two visitors clicking the same link once each, `offset` seconds after a common start."""
    start = time.time() - 120
    return [{"uid": uuid.uuid4().hex, "kind": "click", "at": start + offset + i,
             "partner_id": world["acme"].id,
             "campaign_id": world["campaign"].id, "asset_id": None, "link_id": None, "channel": "email",
             "variant": "a", "send_id": None, "visitor": visitor, "bot": None, "data": {}}
            for i, visitor in enumerate(("visitor-1", "visitor-2"))]


def uniques() -> tuple[int, int]:
    """(unique events stored, uniques in the rollups) for clicks."""
    db.session.rollback()
    stored = db.session.scalar(select(func.count()).select_from(Event).where(Event.is_unique.is_(True)))
    rolled = db.session.scalar(select(func.coalesce(func.sum(EventRollup.uniques), 0))
                               .where(EventRollup.kind == "click"))
    return stored, rolled


@pytest.fixture
def side_by_side():
    """Hold each writer at its INSERT INTO event until the other gets there too (3 s at most).

    Two writers that read what is stored at the same time both reach their insert and go on
    together; a writer that waits for the other's commit first lets the barrier time out.
    """
    barrier = threading.Barrier(2, timeout=3)

    def hold(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO EVENT "):
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass

    event.listen(Engine, "before_cursor_execute", hold)
    yield
    event.remove(Engine, "before_cursor_execute", hold)


def ship_from(application, events: list[dict], errors: list) -> None:
    """What a web process's shipper does with its spool: push to Redis, or write to the database."""
    try:
        with application.app_context():
            application.extensions["tcma"].tracking.ship_lines(encode_events(events).splitlines())
    except Exception as exc:  # reported by the test
        errors.append(exc)


def test_with_redis_down_two_web_processes_count_each_visitor_unique_once(web_apps, side_by_side):
    world = build_world()
    first, second = web_apps(REDIS_DOWN)
    errors: list = []
    threads = [threading.Thread(target=ship_from, args=(first, visits(world, 0), errors)),
               threading.Thread(target=ship_from, args=(second, visits(world, 10), errors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert uniques() == (2, 2)  # 2 visitors (it was 4: each process counted both)


def test_through_redis_the_same_clicks_count_the_same(web_apps, side_by_side):
    world = build_world()
    first, second = web_apps(redis_url())
    errors: list = []
    ship_from(first, visits(world, 0), errors)
    ship_from(second, visits(world, 10), errors)
    assert errors == []
    with first.app_context():  # the flusher, on a worker host
        assert flush_events().inserted == 4
    assert uniques() == (2, 2)
