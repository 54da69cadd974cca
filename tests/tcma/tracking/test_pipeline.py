"""Nothing lost, nothing counted twice: spool -> Redis -> flusher -> database, and every outage."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select

from tcma.clickbuffer import encode_events
from tcma.extensions import db
from tcma.models import Event, EventRollup
from tcma.services.tracking.ingest import (
    buffer_key,
    flush_events,
    inflight_key,
    pending_events,
    ship_spooled_events,
    write_events,
)
from tests.support.apps import SECRET_KEY
from tests.support.redis_db import redis_url
from tests.support.tracking import build_world, path_of

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15"
ROOT = Path(__file__).resolve().parents[3]


def events_stored() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Event))


def clicks_counted() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.coalesce(func.sum(EventRollup.total), 0))
                             .where(EventRollup.kind == "click"))


def click(client, world, n: int, ip: str = "198.51.100.7") -> None:
    for _ in range(n):
        response = client.get(path_of(world["links"][world["acme"].slug, "a"]),
                              headers={"User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": ip})
        assert response.status_code == 302


def synthetic_events(world, count: int) -> list[dict]:
    """Events in the buffer's wire format, as the web processes ship them."""
    now = time.time() - 60
    return [{"uid": uuid.uuid4().hex, "kind": "click", "at": now + i / 1000, "partner_id": world["acme"].id,
             "campaign_id": world["campaign"].id, "asset_id": None, "link_id": None, "channel": "email",
             "variant": "a", "send_id": None, "visitor": f"v{i % 500}", "bot": None, "data": {}}
            for i in range(count)]


def test_clicks_wait_in_the_spool_then_redis_then_reach_the_database(redis_app, world, tracking_redis):
    client = redis_app.test_client()
    click(client, world, 5)
    assert events_stored() == 0  # the redirect did not touch the database
    assert ship_spooled_events() == 5
    assert pending_events() == 5
    report = flush_events()
    assert (report.received, report.inserted) == (5, 5)
    assert events_stored() == 5
    assert clicks_counted() == 5
    assert pending_events() == 0


def test_the_flush_command_drains_everything(redis_app, world):
    click(redis_app.test_client(), world, 3)
    result = redis_app.test_cli_runner().invoke(args=["events", "flush"])
    assert result.exit_code == 0, result.output
    assert "shipped 3" in result.output and "3 new" in result.output
    assert clicks_counted() == 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis():
    """A redis-server of our own that the test may kill."""
    port = _free_port()
    server = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port),
                               "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    client = Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except Exception:
            time.sleep(0.05)
    yield server, f"redis://127.0.0.1:{port}/0"
    client.close()
    if server.poll() is None:
        server.kill()
    server.wait()


def test_when_redis_dies_the_redirect_answers_and_the_click_is_recorded(migrated_pg, tmp_path, own_redis,
                                                                         make_app):
    server, url = own_redis
    app = make_app(DATABASE_URL=migrated_pg[0], REDIS_URL=url, CLICK_SPOOL_DIR=str(tmp_path / "spool"),
                   CLICK_SHIP_INTERVAL=0)
    with app.app_context():
        world = build_world()
        server.kill()
        server.wait()
        click(app.test_client(), world, 4)
        assert ship_spooled_events() == 4  # Redis refused: written straight to the database
        assert clicks_counted() == 4
        _empty_tables(migrated_pg[1])


def _empty_tables(tables: list[str]) -> None:
    from sqlalchemy import text

    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


def test_a_web_process_killed_before_shipping_loses_nothing(redis_app, world, tmp_path):
    """A real process spools clicks and dies; any shipper adopts its orphaned spool."""
    spool = tmp_path / "spool"
    lines = encode_events(synthetic_events(world, 25))
    code = ("import os, sys; from pathlib import Path; from tcma.clickbuffer import Spool;"
            f"s = Spool(Path({str(spool)!r})); s.append(sys.stdin.buffer.read()); os._exit(9)")
    died = subprocess.run([sys.executable, "-c", code], input=lines, cwd=ROOT)
    assert died.returncode == 9
    assert [p.suffix for p in spool.iterdir()] == [".spool"]
    assert ship_spooled_events() == 25
    flush_events()
    assert clicks_counted() == 25
    assert list(spool.iterdir()) == []


def test_a_batch_committed_by_a_flusher_that_died_before_acknowledging_counts_once(redis_app, world,
                                                                                   tracking_redis):
    events = synthetic_events(world, 50)
    encoded = [json.dumps(e).encode() for e in events]
    tracking_redis.rpush(buffer_key(), *encoded[:30])
    tracking_redis.rpush(inflight_key(), *encoded[30:])  # the dead flusher's batch ...
    write_events(events[30:])                        # ... which it had committed
    tracking_redis.rpush(buffer_key(), *encoded[:5])   # and a spool shipped twice
    report = flush_events()
    assert report.received == 55
    assert events_stored() == 50
    assert clicks_counted() == 50


def test_a_flusher_killed_mid_batch_loses_and_doubles_nothing(redis_app, world, tracking_redis, migrated_pg):
    total = 12_000
    encoded = [json.dumps(e).encode() for e in synthetic_events(world, total)]
    for start in range(0, total, 2000):
        tracking_redis.rpush(buffer_key(), *encoded[start:start + 2000])
    env = {**os.environ, "TCMA_DATABASE_URL": migrated_pg[0], "TCMA_REDIS_URL": redis_url(),
           "TCMA_SECRET_KEY": SECRET_KEY, "TCMA_ENV": "testing"}
    flusher = subprocess.Popen([str(Path(sys.executable).parent / "tcma"), "flusher", "--interval", "0.1",
                                "--lock-ttl", "2"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while events_stored() == 0 and time.time() < deadline:
            time.sleep(0.01)
        flusher.send_signal(signal.SIGKILL)
    finally:
        flusher.wait()
    assert 0 < events_stored() < total  # it died part-way
    report = flush_events(wait=10)
    assert not report.busy, report
    assert events_stored() == total, report
    assert clicks_counted() == total
    assert pending_events() == 0
