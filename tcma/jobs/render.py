"""Render jobs: one job renders a chunk of assets (amortizes the fork of rq's work horse)."""

from __future__ import annotations

from flask import current_app

from tcma.jobs import job
from tcma.services.renders import claim_assets, preload_assets, render_claimed_asset


@job(queue="render", timeout=900, result_ttl=600)
def render_assets(asset_ids: list[int]) -> dict[str, int]:
    """Render each asset still to do; done, paused or claimed ones are skipped (idempotent)."""
    claimed = claim_assets(asset_ids, current_app.config["RENDER_LEASE_SECONDS"])
    counts = {"skipped": len(asset_ids) - len(claimed)}
    preload_assets(claimed)
    for asset_id in claimed:
        status = render_claimed_asset(asset_id)
        counts[status] = counts.get(status, 0) + 1
    return counts
