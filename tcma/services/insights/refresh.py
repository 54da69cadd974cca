"""Today's default insights snapshots recomputed without a user waiting: the maintenance pass (every
TCMA_MAINTENANCE_INTERVAL seconds), `tcma insights refresh` and `tcma events rebuild-summaries`."""

from __future__ import annotations

from datetime import UTC, datetime

from tcma.services.insights import kpis as kpi_service
from tcma.services.insights import partners as partner_service
from tcma.services.insights import snapshots


def refresh_snapshots(force: bool = False) -> int:
    """Recompute today's default partners' scores or KPIs, whichever snapshot is missing or past
    REFRESH_AT of the max age (the partners' first; one per call, both with `force`), and drop
    snapshots computed more than KEEP_DAYS ago. How many were computed; none while snapshots are off."""
    limit = snapshots.max_age()
    if not limit:
        return 0
    today = datetime.now(UTC).date()
    scores, kpis = partner_service.InsightQuery(as_of=today), kpi_service.KpiQuery(as_of=today)
    due = (
        (snapshots.PARTNERS, partner_service.snapshot_params(scores),
         lambda: partner_service.refresh_partner_snapshot(scores)),
        (snapshots.KPIS, kpi_service.snapshot_params(kpis), lambda: kpi_service.refresh_kpi_snapshot(kpis)),
    )
    computed = 0
    for kind, params, compute in due:
        found = snapshots.latest(kind, today, params)
        if force or found is None or snapshots.age(found) >= limit * snapshots.REFRESH_AT:
            compute()
            computed += 1
            if not force:
                break
    snapshots.prune()
    return computed
