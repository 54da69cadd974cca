"""Launch jobs: create a large launch's assets in chunks, each chunk's renders enqueued with it."""

from __future__ import annotations

from tcma.jobs import job
from tcma.services.launch.launches import expand_launch as expand


@job(queue="default", timeout=1800, result_ttl=3600)
def expand_launch(campaign_id: int) -> dict[str, int]:
    """Create the campaign's missing assets for its segment (idempotent: existing ones are kept)."""
    return expand(campaign_id)
