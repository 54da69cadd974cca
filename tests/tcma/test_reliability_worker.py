"""Workers that die: the next worker's periodic pass recovers their renders, and their scheduler goes too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from rq.job import Job
from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Asset, Render
from tcma.models.base import utcnow
from tcma.queue import JobCall, get_queue
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.launch.assets import RENDER_JOB
from tests.support.apps import app_on, base_config
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.redis_db import redis_url

TCMA = str(Path(sys.executable).with_name("tcma"))
LEASE, PERIOD = 3, 1.0  # seconds: the render lease and the maintenance period of these workers
SCHEDULER_LOCK = "rq:scheduler-lock:tcma:default"
PARTNERS = 150  # x 2 outputs: 300 assets in 15 jobs


@pytest.fixture
def lease_app(migrated_pg, tmp_path, redis_client):
    """PostgreSQL + Redis, a short render lease and small chunks (many jobs per launch)."""
    url, tables = migrated_pg
    config = base_config(tmp_path, DATABASE_URL=url, REDIS_URL=redis_url(), RENDER_CHUNK=20,
                         RENDER_LEASE_SECONDS=LEASE)
    yield from app_on(config, tables)


@pytest.fixture
def workers(lease_app):
    """Start `tcma worker` processes; whatever is left of them is killed after the test."""
    started: list[subprocess.Popen] = []

    def start(*extra: str) -> subprocess.Popen:
        config = lease_app.config
        env = dict(os.environ, TCMA_DATABASE_URL=config["DATABASE_URL"], TCMA_REDIS_URL=redis_url(),
                   TCMA_STORAGE="local", TCMA_STORAGE_PATH=config["STORAGE_PATH"],
                   TCMA_SECRET_KEY=config["SECRET_KEY"], TCMA_PUBLIC_URL=config["PUBLIC_URL"],
                   TCMA_RENDER_LEASE_SECONDS=str(LEASE), TCMA_ENV="testing")
        worker = subprocess.Popen([TCMA, "worker", "--maintenance-interval", str(PERIOD), *extra],
                                  env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        for pid in _descendants(worker.pid):
            _kill(pid)
        _kill(worker.pid)
        worker.wait()


def _descendants(pid: int) -> list[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return []
    children = [int(c) for task in tasks for c in (task / "children").read_text().split()]
    return children + [d for child in children for d in _descendants(child)]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _until(condition, seconds: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def _statuses() -> dict[str, int]:
    db.session.rollback()
    return dict(db.session.execute(select(Asset.status, func.count()).group_by(Asset.status)).all())


def _scheduler(redis: Redis) -> tuple[str, int] | None:
    """(name, pid) of the scheduler holding the default queue's lock, once it registered."""
    owner = redis.get(SCHEDULER_LOCK)
    pid = owner and redis.hget(f"rq:scheduler:{owner.decode()}", "pid")
    return (owner.decode(), int(pid)) if pid else None


def test_a_worker_restarted_at_once_recovers_what_the_killed_one_held(lease_app, workers):
    client = lease_app.test_client()
    taxonomy = make_taxonomy()
    for _ in range(PARTNERS):
        make_partner(taxonomy)
    import_catalogue()
    _, marketer = make_user("marketer")
    created = client.post("/api/v1/campaigns", headers=marketer, json={
        "name": "Kill -9", "segment": {}, "outputs": [{"template": "social-card", "output": "png"},
                                                      {"template": "solution-brief", "output": "pdf"}]})
    campaign_id = created.json["id"]
    assert client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer).status_code == 202

    first = workers()
    assert _until(lambda: _statuses().get("done", 0) >= 30, 60)
    # As a crashed machine would: the worker, its scheduler and its work horse die at once.
    for pid in [*_descendants(first.pid), first.pid]:
        _kill(pid)
    first.wait()
    killed_at = utcnow()
    db.session.rollback()
    stalled = list(db.session.scalars(select(Asset.id).where(Asset.status == "running")))
    assert stalled, "the kill landed between two jobs; nothing was held"

    workers()  # a supervisor restarts it at once; nobody types a command
    started = time.monotonic()

    def recovered() -> bool:
        db.session.rollback()
        return not db.session.scalar(select(func.count()).select_from(Asset).where(
            Asset.id.in_(stalled), Asset.status == "running", Asset.updated_at < killed_at))

    # The lease runs out, then the next period's pass re-enqueues them (plus the worker's start-up).
    assert _until(recovered, LEASE + PERIOD + 5), _statuses()
    assert time.monotonic() - started <= LEASE + PERIOD + 5
    assert _until(lambda: _statuses() == {"done": 2 * PARTNERS}, 60), _statuses()

    renders = db.session.scalars(select(Render)).all()
    assert len(renders) == 2 * PARTNERS == len({r.key for r in renders})
    assert db.session.scalar(select(func.count(func.distinct(Asset.render_id)))) == 2 * PARTNERS
    files = [p for p in (Path(lease_app.config["STORAGE_PATH"]) / "renders").rglob("*")
             if p.is_file() and not p.name.startswith(".tmp-") and not p.name.endswith(".txt")]
    assert len(files) == 2 * PARTNERS


def test_a_killed_worker_leaves_no_scheduler_behind(lease_app, workers, redis_client):
    worker = workers()
    assert _until(lambda: _scheduler(redis_client) is not None, 30)
    _, scheduler_pid = _scheduler(redis_client)
    assert scheduler_pid in _descendants(worker.pid)

    os.kill(worker.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would
    worker.wait()
    try:
        # It was left running as an orphan (parent PID 1), holding the lock for good.
        assert _until(lambda: not _alive(scheduler_pid), 5)
        assert redis_client.get(SCHEDULER_LOCK) is None  # it released its locks on the way out
    finally:
        _kill(scheduler_pid)


def test_a_worker_start_takes_over_the_locks_of_a_dead_scheduler(lease_app, workers, redis_client):
    first = workers()
    assert _until(lambda: _scheduler(redis_client) is not None, 30)
    dead_name, dead_pid = _scheduler(redis_client)
    os.killpg(first.pid, signal.SIGKILL)  # worker and scheduler: nothing releases the lock
    first.wait()
    assert _until(lambda: not _alive(dead_pid), 5)
    assert redis_client.ttl(SCHEDULER_LOCK) > 30  # and its lock is held for another minute

    second = workers()
    assert _until(lambda: (_scheduler(redis_client) or (dead_name,))[0] != dead_name, 30)
    _, pid = _scheduler(redis_client)
    assert pid in _descendants(second.pid)
    # And the new scheduler works: a delayed job runs (a render job with nothing to render).
    get_queue().enqueue_many([JobCall(RENDER_JOB, ([],), job_id="delayed", delay=0.5)])
    assert _until(lambda: Job.fetch("delayed", connection=get_queue().redis).get_status() == "finished", 10)
