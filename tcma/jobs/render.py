"""Render jobs: one job renders a chunk of assets (amortizes the fork of rq's work horse)."""

from __future__ import annotations

from tcma.config import get_settings
from tcma.jobs import job
from tcma.services.launch.launches import campaigns_of, complete_if_done
from tcma.services.launch.render_jobs import render_claimed
from tcma.services.launch.renders import claim_assets, relaxed_durability


@job(queue="render", timeout=900, result_ttl=600)
def render_assets(asset_ids: list[int]) -> dict[str, int]:
    """Render each asset still to do; done, paused or claimed ones are skipped (idempotent)."""
    with relaxed_durability():
        claimed = claim_assets(asset_ids, get_settings().render_lease_seconds)
        counts = render_claimed(claimed)
    counts["skipped"] = len(asset_ids) - len(claimed)
    complete_if_done(campaigns_of(asset_ids))
    return dict(counts)
