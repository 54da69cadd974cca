"""Render jobs: one job renders a chunk of assets (amortizes the fork of rq's work horse)."""

from __future__ import annotations

from flask import current_app

from tcma.jobs import job
from tcma.services.renders import render_asset


@job(queue="render", timeout=900, result_ttl=600)
def render_assets(asset_ids: list[int]) -> dict[str, int]:
    """Render each asset still to do; already done or claimed ones are skipped (idempotent)."""
    lease = current_app.config["RENDER_LEASE_SECONDS"]
    counts: dict[str, int] = {}
    for asset_id in asset_ids:
        status = render_asset(asset_id, lease)
        counts[status] = counts.get(status, 0) + 1
    return counts
