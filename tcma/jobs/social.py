"""Social jobs: publish a chunk of claimed posts; reconcile one whose outcome is unknown.

Both run in the worker's own process (`fork=False`): they wait on the network and the database,
and a forked work horse (~75 ms) would cost more than the chunk's own work."""

from __future__ import annotations

from tcma.jobs import job
from tcma.services.syndication import scheduler


@job(queue="default", timeout=1800, result_ttl=600, fork=False)
def publish_posts(post_ids: list[int]) -> dict[str, int]:
    """Publish each post of the chunk that is still claimed (a second run of the job does nothing)."""
    return scheduler.publish_posts(post_ids)


@job(queue="default", timeout=300, result_ttl=600, fork=False)
def reconcile_post(post_id: int) -> str:
    """Look for a post that may have gone out before sending it again."""
    return scheduler.reconcile_post(post_id)
