"""A large launch answers at once ("preparing N partners") and a launch job creates its assets in
chunks: exactly once under a relaunch, two jobs at once, and a job killed mid-way then rerun."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

from sqlalchemy import func, select, update

from tcma.extensions import db
from tcma.models import Asset, Campaign, Render
from tcma.models.base import utcnow
from tcma.queue import get_queue
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.launch import launches
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.launch import launch, work
from tests.support.portal import post_form, sign_in

PREPARING_5 = {"status": "launching", "preparing": 5, "total": 0, "queued": 0, "running": 0,
               "done": 0, "failed": 0, "waiting": 0}
COMPLETED_15 = {"status": "completed", "total": 15, "queued": 0, "running": 0, "done": 15,
                "failed": 0, "waiting": 0}


def _large_from(app, partners: int = 2, chunk: int = 2) -> None:
    """Launches to more than `partners` partners go to the launch job, `chunk` partners at a time."""
    settings = app.extensions["tcma.settings"]
    app.extensions["tcma.settings"] = dataclasses.replace(
        settings, launch_inline_partners=partners, launch_chunk_partners=chunk)


TAXONOMY: dict[str, list] = {}


def _five_partners_campaign(client):
    TAXONOMY.update(make_taxonomy())
    for i in range(5):
        make_partner(TAXONOMY, tier=i % 2)
    import_catalogue()
    user, marketer = make_user("marketer")
    return user, marketer, launch(client, marketer)


def _assets() -> list[tuple[int, int]]:
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(select(Asset.partner_id, Asset.campaign_output_id))]


def _render_job_assets() -> list[int]:
    """Every asset id named by a render job waiting on rq (an id twice: enqueued twice)."""
    return [i for job in get_queue().rq_queue("render").jobs for i in job.args[0]]


def test_a_large_launch_answers_preparing_and_its_job_creates_and_renders_the_assets(rq_app):
    client = rq_app.test_client()
    _large_from(rq_app)
    _, marketer, campaign_id = _five_partners_campaign(client)

    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert launched.status_code == 202
    assert launched.json == PREPARING_5
    assert launched.headers["Location"].endswith(f"/api/v1/campaigns/{campaign_id}/progress")
    assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=marketer).json == PREPARING_5
    assert _assets() == []
    shown = rq_app.test_cli_runner().invoke(args=["campaign", "progress", str(campaign_id)])
    assert shown.exit_code == 0, (shown.output, shown.exception)
    assert shown.output == "launching (preparing 5 partners): 0 done, 0 failed, 0 running, 0 queued of 0\n"

    paused = client.post(f"/api/v1/campaigns/{campaign_id}/pause", headers=marketer)
    assert paused.status_code == 409
    assert paused.json["message"] == ("the campaign is still preparing its assets; pause it once they "
                                      "exist (its progress says when it is running)")

    work()
    assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=marketer).json == COMPLETED_15
    assert len(set(_assets())) == 15
    assert db.session.scalar(select(func.count()).select_from(Render)) == 15


def test_the_portal_shows_a_large_launch_preparing_and_will_not_pause_it(rq_app):
    client = rq_app.test_client()
    _large_from(rq_app)
    user, _, campaign_id = _five_partners_campaign(client)
    sign_in(client, user)
    page_url = f"/portal/campaigns/{campaign_id}"

    launched = post_form(client, page_url, f"{page_url}/launch", {})
    page = client.get(launched.headers["Location"]).get_data(as_text=True)
    assert ("Campaign launched without a contact-sheet review: preparing the assets of 5 partners; "
            "they appear here as they are created.") in page
    assert "Preparing 5 partners: their assets are being created" in page
    assert ">Pause</button>" not in page

    paused = post_form(client, page_url, f"{page_url}/pause", {})  # a page shown before the launch
    page = client.get(paused.headers["Location"]).get_data(as_text=True)
    assert "Not paused: the campaign is still preparing its assets" in page

    work()
    page = client.get(page_url).get_data(as_text=True)
    assert "Preparing" not in page and '<dd id="n-done">15</dd>' in page


def test_a_launch_job_killed_mid_way_and_rerun_creates_and_renders_each_asset_once(rq_app, monkeypatch):
    client = rq_app.test_client()
    _large_from(rq_app)
    _, marketer, campaign_id = _five_partners_campaign(client)
    assert client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer).status_code == 202

    chunks = []
    real_chunk = launches._expand_chunk

    def dies_in_the_second_chunk(cid, partner_ids):
        chunks.append(partner_ids)
        if len(chunks) == 2:  # as a killed worker: the chunk's transaction never commits
            raise RuntimeError("worker killed")
        return real_chunk(cid, partner_ids)

    monkeypatch.setattr(launches, "_expand_chunk", dies_in_the_second_chunk)
    assert _render_job_assets() == []  # only the launch job is on rq
    from rq import SimpleWorker

    queue = get_queue()
    SimpleWorker([queue.rq_queue("default")], connection=queue.redis).work(burst=True)
    first = _assets()
    assert len(first) == 6  # the first chunk's two partners, committed with their render jobs
    assert sorted(_render_job_assets()) == sorted(db.session.scalars(select(Asset.id)))
    assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=marketer).json["preparing"] == 5

    monkeypatch.setattr(launches, "_expand_chunk", real_chunk)
    # No heartbeat from its job for a lease: the maintenance pass enqueues the launch job again.
    db.session.execute(update(Campaign).where(Campaign.id == campaign_id)
                       .values(updated_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    launches.recover_stalled()
    work()

    assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=marketer).json == COMPLETED_15
    assets = _assets()
    assert len(assets) == 15 == len(set(assets)) and set(first) <= set(assets)
    assert db.session.scalar(select(func.count()).select_from(Render)) == 15
    assert db.session.scalar(select(func.max(Asset.attempts))) == 1  # no asset rendered twice


def test_a_relaunch_while_preparing_and_two_launch_jobs_at_once_create_each_asset_once(rq_app):
    client = rq_app.test_client()
    _large_from(rq_app)
    _, marketer, campaign_id = _five_partners_campaign(client)
    for _ in range(2):  # a double submit
        answer = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
        assert answer.status_code == 202 and answer.json == PREPARING_5
    assert [job.id for job in get_queue().rq_queue("default").jobs] == [f"launch-{campaign_id}"]

    failures = []

    def run_job():
        with rq_app.app_context():
            try:
                launches.expand_launch(campaign_id)
            except Exception as exc:  # pragma: no cover - reported below
                failures.append(exc)

    threads = [threading.Thread(target=run_job) for _ in range(2)]  # e.g. a retried job beside the first
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assets = _assets()
    assert len(assets) == 15 == len(set(assets))
    enqueued = _render_job_assets()
    assert sorted(enqueued) == sorted(db.session.scalars(select(Asset.id)))  # each asset in one job

    work()  # the launch job still queued finds nothing to create
    assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=marketer).json == COMPLETED_15
    assert db.session.scalar(select(func.max(Asset.attempts))) == 1


def test_a_large_launch_without_redis_runs_its_job_in_process(app, client):
    _large_from(app)
    _, marketer, campaign_id = _five_partners_campaign(client)
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert launched.status_code == 202
    assert launched.json == COMPLETED_15  # the job, then the renders, ran before the answer
    assert len(set(_assets())) == 15


def test_a_relaunch_of_a_large_campaign_adds_only_partners_who_joined(rq_app):
    client = rq_app.test_client()
    _large_from(rq_app)
    _, marketer, campaign_id = _five_partners_campaign(client)
    client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    work()
    make_partner(TAXONOMY, tier=0)  # joined after the launch
    again = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert again.json == {**COMPLETED_15, "status": "launching", "preparing": 6}
    work()
    assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=marketer).json == {
        **COMPLETED_15, "total": 18, "done": 18}
    assert db.session.scalar(select(func.max(Asset.attempts))) == 1

