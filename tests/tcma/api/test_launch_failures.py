"""Renders under failure: a worker killed mid-launch, failed renders and retries, stalled renders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Asset, BrandKit, Render
from tcma.services.catalogue.templates import import_catalogue
from tcma.storage import get_storage
from tests.support.factories import logo_png, make_partner, make_taxonomy, make_user
from tests.support.launch import launch, work
from tests.support.redis_db import redis_url

TCMA = str(Path(sys.executable).with_name("tcma"))


def _count(status: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Asset).where(Asset.status == status))


def _worker(app, *extra: str) -> subprocess.Popen:
    config = app.config
    env = dict(os.environ, TCMA_DATABASE_URL=config["DATABASE_URL"], TCMA_REDIS_URL=redis_url(),
               TCMA_STORAGE="local", TCMA_STORAGE_PATH=config["STORAGE_PATH"],
               TCMA_SECRET_KEY=config["SECRET_KEY"], TCMA_PUBLIC_URL=config["PUBLIC_URL"],
               TCMA_RENDER_LEASE_SECONDS="2", TCMA_RENDER_CHUNK="5", TCMA_ENV="testing")
    return subprocess.Popen([TCMA, "worker", *extra], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


def test_a_worker_killed_mid_launch_loses_nothing_and_renders_each_asset_once(rq_app):
    client = rq_app.test_client()
    taxonomy = make_taxonomy()
    for i in range(30):
        make_partner(taxonomy, tier=i % 2)
    import_catalogue()
    _, marketer = make_user("marketer")
    campaign_id = launch(client, marketer)
    rq_app.config["RENDER_CHUNK"] = 45  # two jobs: the kill lands well inside the first
    assert client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer).status_code == 202

    worker = _worker(rq_app, "--without-scheduler")
    deadline = time.monotonic() + 60
    while _count("done") < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    # As a crashed machine would: the worker and its work horse (rq puts the horse in a
    # process group of its own) both die mid-job.
    for child in _children(worker.pid):
        os.kill(child, signal.SIGKILL)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    worker.stdout.close()
    done_at_kill = _count("done")
    assert 15 <= done_at_kill < 45

    time.sleep(2.5)  # the killed job's lease runs out
    restarted = _worker(rq_app, "--burst", "--without-scheduler")
    output = restarted.communicate(timeout=120)[0].decode()
    assert restarted.returncode == 0, output
    assert "recovered" in output and "recovered 0 assets" not in output  # the start-up pass

    assert (_count("done"), _count("failed"), _count("queued"), _count("running")) == (90, 0, 0, 0), output
    renders = db.session.scalars(select(Render)).all()
    assert len(renders) == 90 == len({r.key for r in renders})
    assert db.session.scalar(select(func.count(func.distinct(Asset.render_id)))) == 90
    # Content-addressed keys: a render redone after the kill overwrote the same object.
    # (A write cut short leaves only a hidden .tmp- file, never a partial object.)
    files = [p for p in (Path(rq_app.config["STORAGE_PATH"]) / "renders").rglob("*")
             if p.is_file() and not p.name.startswith(".tmp-")]
    assert len([p for p in files if not p.name.endswith((".txt", ".eml"))]) == 90  # besides parts


def test_a_failed_render_keeps_its_reason_and_can_be_retried(app, client):
    taxonomy = make_taxonomy()
    good, broken = make_partner(taxonomy), make_partner(taxonomy)
    get_storage().put(broken.brand_kit.logo_key, b"this is not an image", "image/png")
    import_catalogue()
    _, marketer = make_user("marketer")
    campaign_id = launch(client, marketer)
    progress = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer).json
    assert progress["done"] == 3 and progress["failed"] == 3
    failed = client.get(f"/api/v1/assets?campaign_id={campaign_id}&status=failed", headers=marketer).json
    assert {a["partner_id"] for a in failed["items"]} == {broken.id}
    assert all("logo" in a["error"].lower() for a in failed["items"])
    assert good.id not in {a["partner_id"] for a in failed["items"]}

    kit = db.session.get(BrandKit, broken.brand_kit.id)
    get_storage().put(kit.logo_key + ".fixed.png", logo_png(), "image/png")
    kit.logo_key = kit.logo_key + ".fixed.png"
    db.session.commit()
    one = failed["items"][0]["id"]
    retried = client.post(f"/api/v1/assets/{one}/retry", headers=marketer)
    assert retried.status_code == 202 and retried.json["status"] == "done"
    rest = client.post(f"/api/v1/campaigns/{campaign_id}/retry", headers=marketer, json={})
    assert rest.json == {"retried": 2}
    final = client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=marketer).json
    assert final["done"] == 6 and final["failed"] == 0 and final["status"] == "completed"


def test_a_paused_campaign_renders_nothing_until_resumed(rq_app):
    client = rq_app.test_client()
    taxonomy = make_taxonomy()
    make_partner(taxonomy)
    import_catalogue()
    _, marketer = make_user("marketer")
    campaign_id = launch(client, marketer)
    client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert client.post(f"/api/v1/campaigns/{campaign_id}/pause", headers=marketer).json["status"] == "paused"
    work()
    assert _count("queued") == 3 and _count("done") == 0
    resumed = client.post(f"/api/v1/campaigns/{campaign_id}/resume", headers=marketer)
    assert resumed.json["status"] == "running"
    work()
    assert _count("done") == 3


def test_a_self_served_render_left_running_by_a_dead_worker_is_recovered(app):
    from tcma.models.base import utcnow
    from tcma.services.launch.launches import recover_stalled

    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy)
    import_catalogue()
    from tcma.services.catalogue.templates import get_version

    version = get_version("solution-brief")
    stale = Asset(partner_id=partner.id, template_version_id=version.id, output="pdf",
                  fields={}, status="running", updated_at=utcnow().replace(year=2020))
    db.session.add(stale)
    db.session.commit()
    assert recover_stalled() == 1
    db.session.expire_all()
    assert db.session.get(Asset, stale.id).status == "done"
