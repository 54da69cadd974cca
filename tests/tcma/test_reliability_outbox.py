"""Work accepted while Redis is out of reach is kept in the job outbox and runs once Redis is back."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Asset, Campaign, JobOutbox
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.maintenance import run_maintenance
from tcma.services.transaction import OUTBOX_GRACE
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.launch import launch, work

REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1
RENDER = "/api/v1/library/solution-brief/render"


@pytest.fixture
def down_client(rq_app, make_app):
    """A client of a web process on the same database and files whose Redis is out of reach."""
    down = make_app(DATABASE_URL=rq_app.config["DATABASE_URL"], REDIS_URL=REDIS_DOWN)
    assert down.config["STORAGE_PATH"] == rq_app.config["STORAGE_PATH"]
    return down.test_client()


def statuses() -> dict[str, int]:
    db.session.rollback()
    return dict(db.session.execute(select(Asset.status, func.count()).group_by(Asset.status)).all())


def outbox_waiting() -> int:
    db.session.rollback()
    waiting = JobOutbox.enqueued_at.is_(None)
    return db.session.scalar(select(func.count()).select_from(JobOutbox).where(waiting))


def redis_is_back() -> None:
    """What a worker's periodic pass does once Redis answers again, then the worker itself."""
    time.sleep(OUTBOX_GRACE.total_seconds())  # the drain leaves commit() its moment to mark its rows
    report = run_maintenance()
    assert report.errors == {}, report.summary()
    assert report.outbox > 0
    work()


def test_a_self_served_render_in_an_outage_answers_503_and_renders_when_redis_is_back(rq_app, down_client):
    partner = make_partner(make_taxonomy())
    import_catalogue()
    _, headers = make_user("partner", partner)

    refused = down_client.post(RENDER, headers=headers, json={"output": "pdf"})
    assert refused.status_code == 503, refused.json  # it was a 500
    assert "try again later" in refused.json["message"]
    assert statuses() == {"queued": 1} and outbox_waiting() == 1  # saved, with its job on record

    again = down_client.post(RENDER, headers=headers, json={"output": "pdf"})
    assert again.status_code == 202 and again.json["status"] == "queued"  # the same asset, not a new one

    redis_is_back()
    assert statuses() == {"done": 1} and outbox_waiting() == 0
    after = rq_app.test_client().post(RENDER, headers=headers, json={"output": "pdf"})
    assert after.json["id"] == again.json["id"] and after.json["status"] == "done"


def test_a_launch_during_an_outage_renders_every_asset_when_redis_is_back(rq_app, down_client):
    taxonomy = make_taxonomy()
    for _ in range(4):
        make_partner(taxonomy)
    import_catalogue()
    _, marketer = make_user("marketer")
    campaign_id = launch(down_client, marketer)  # no job yet: Redis is not needed

    refused = down_client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert refused.status_code == 503, refused.json
    assert statuses() == {"queued": 12} and outbox_waiting() == 1  # one chunk of 12 assets

    redis_is_back()
    assert statuses() == {"done": 12} and outbox_waiting() == 0
    assert db.session.get(Campaign, campaign_id).status == "completed"


def test_the_503_tells_the_client_when_to_come_back(rq_app, down_client):
    partner = make_partner(make_taxonomy())
    import_catalogue()
    _, headers = make_user("partner", partner)
    refused = down_client.post(RENDER, headers=headers, json={"output": "pdf"})
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 0


def test_with_redis_up_jobs_are_enqueued_at_once_and_marked(rq_app):
    partner = make_partner(make_taxonomy())
    import_catalogue()
    _, headers = make_user("partner", partner)
    accepted = rq_app.test_client().post(RENDER, headers=headers, json={"output": "pdf"})
    assert accepted.status_code == 202 and accepted.json["status"] == "queued"
    row = db.session.scalars(select(JobOutbox)).one()
    assert row.enqueued_at is not None and row.job_id == f"self-serve-{accepted.json['id']}"
    assert row.job_name == "tcma.jobs.render.render_assets" and row.args == [[accepted.json["id"]]]
    work()
    assert statuses() == {"done": 1}
    assert run_maintenance().outbox == 0  # nothing to drain: nothing runs twice


def test_the_embedded_queue_runs_jobs_at_once_without_an_outbox(app, client):
    partner = make_partner(make_taxonomy())
    import_catalogue()
    _, headers = make_user("partner", partner)
    done = client.post(RENDER, headers=headers, json={"output": "pdf"})
    assert done.status_code == 202 and done.json["status"] == "done"
    assert db.session.scalar(select(func.count()).select_from(JobOutbox)) == 0
