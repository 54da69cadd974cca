"""The scale bench's flows beside the pages: launching a campaign to every partner, and the scheduler.

Each leaves the database as it found it: the launched campaign is deleted (its assets with it), claimed
posts go back to waiting, and the bench's own Redis db is emptied.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from bench.common import entry

LAUNCH_ANSWER, LAUNCH_ENQUEUED = 200.0, 5000.0  # ms: the page target; all jobs on rq in 5 s
SCHEDULER = 200.0  # ms per scheduler step
OUTPUTS = [{"template": t, "output": o} for t, o in (
    ("solution-brief", "pdf"), ("social-card", "png"), ("newsletter", "email"),
    ("launch-posts", "post:linkedin"), ("launch-posts", "post:x"))]


def run_flows(app: Any, repeat: int) -> list[dict[str, Any]]:
    """Entries for the launch and the scheduler's steps."""
    with app.app_context():
        return [*launch_to_everyone(app), *scheduler_steps(repeat)]


def _flow_entry(name: str, times: list[float], target: float, queries: int | None = None) -> dict[str, Any]:
    from bench.bench_scale import percentile

    p95 = percentile(times, 0.95)
    return {**entry(f"scale.flow.{name}", "ms p95", p95, target, 1.0, "lower"),
            "p50_ms": round(percentile(times, 0.5), 2), "queries": queries, "runs": len(times)}


def launch_to_everyone(app: Any) -> list[dict[str, Any]]:
    """POST .../launch of a new five-output campaign to all partners: the answer, then all jobs on rq.

    A launch this large answers "launching" and leaves its assets to a launch job; no worker listens
    on the bench's queues, so the job runs here, as a worker would, right after the answer
    (`launch_expand`: its time and statements). `launch_enqueued` runs from the POST until every
    render job is on rq.
    """
    from rq.job import Job
    from sqlalchemy import delete, event, func, select

    from bench.seed_scale import TOKENS
    from tcma.extensions import db
    from tcma.models import Campaign, JobOutbox
    from tcma.queue import get_queue
    from tcma.services.accounts.auth import OPERATOR
    from tcma.services.launch.launches import create_campaign

    redis = get_queue().redis
    redis.flushdb()
    campaign = create_campaign(OPERATOR, f"Scale launch {time.time():.0f}", OUTPUTS, {})
    campaign_id, first_job = campaign.id, db.session.scalar(select(func.max(JobOutbox.id))) or 0
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
    client = app.test_client()
    expanded, expand_queries = None, None
    try:
        start = time.perf_counter()
        answer = client.post(f"/api/v1/campaigns/{campaign_id}/launch",
                             headers={"Authorization": f"Bearer {TOKENS['admin']}"})
        answered = (time.perf_counter() - start) * 1000
        if answer.status_code >= 400:
            raise RuntimeError(f"launch answered {answer.status_code}: {answer.get_data(as_text=True)[:300]}")
        queries = len(statements)
        if answer.get_json()["status"] == "launching":
            job = Job.fetch(f"launch-{campaign_id}", connection=redis)
            get_queue().rq_queue("default").remove(job)  # off the queue, as a worker takes it
            begun, statements[:] = time.perf_counter(), []
            created = job.perform()
            expanded, expand_queries = (time.perf_counter() - begun) * 1000, len(statements)
            print(f"launch job: {created} in {expanded:.0f} ms, {expand_queries} statements", flush=True)
        while _pending_jobs(db, JobOutbox, first_job) and time.perf_counter() - start < 600:
            time.sleep(0.05)
        enqueued = (time.perf_counter() - start) * 1000
        jobs = sum(q.count for q in get_queue().all_queues())
        print(f"launch of campaign {campaign_id}: {answer.get_json()} ; {jobs} jobs on rq", flush=True)
    finally:
        db.session.rollback()
        db.session.execute(delete(Campaign).where(Campaign.id == campaign_id))
        db.session.execute(delete(JobOutbox).where(JobOutbox.id > first_job))
        db.session.commit()
        redis.flushdb()
    entries = [_flow_entry("launch_answer", [answered], LAUNCH_ANSWER, queries),
               _flow_entry("launch_enqueued", [enqueued], LAUNCH_ENQUEUED)]
    if expanded is not None:
        entries.append(_flow_entry("launch_expand", [expanded], LAUNCH_ENQUEUED, expand_queries))
    return entries


def _pending_jobs(db: Any, outbox: Any, after: int) -> int:
    from sqlalchemy import func, select

    db.session.rollback()
    return db.session.scalar(select(func.count()).where(outbox.id > after, outbox.enqueued_at.is_(None)))


def scheduler_steps(repeat: int) -> list[dict[str, Any]]:
    """A pass's steps timed apart: making posts for newcomers to active plans, expiring, claiming."""
    from tcma.extensions import db
    from tcma.models import ScheduledPost
    from tcma.models.base import utcnow
    from tcma.queue import get_queue
    from tcma.services.syndication import scheduler
    from tcma.services.syndication.plans import fill_active_plans
    from tcma.services.transaction import commit

    redis = get_queue().redis
    fill, claim, found = [], [], []
    # Two days ahead: the latest campaigns' posts are due, as after a scheduler outage.
    ahead = utcnow() + timedelta(days=2)
    for _ in range(max(3, repeat // 3)):
        start = time.perf_counter()
        fill_active_plans()
        commit()
        fill.append((time.perf_counter() - start) * 1000)
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            found.append(scheduler.claim_due(ahead))
            claim.append((time.perf_counter() - start) * 1000)
            _unclaim(db, ScheduledPost, scheduler.worker_name())
    finally:
        _unclaim(db, ScheduledPost, scheduler.worker_name())
        redis.flushdb()
    print(f"scheduler: claimed {found} posts per call", flush=True)
    return [_flow_entry("scheduler_fill_plans", fill, SCHEDULER),
            _flow_entry("scheduler_claim", claim, SCHEDULER)]


def _unclaim(db: Any, post: Any, worker: str) -> None:
    """The bench's claims back to waiting, as they were."""
    from sqlalchemy import update

    db.session.execute(update(post).where(post.status == "claimed", post.claimed_by == worker)
                       .values(status="scheduled", claimed_by=None, claimed_until=None))
    db.session.commit()
