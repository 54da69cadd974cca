"""Each experiment's running totals per (partner, arm, kind), kept beside the event rollups.

An experiment's results count the rollups of its campaign recorded under one of its arms on or
after its first day (UTC). `experiment_partner_total` holds exactly those sums, so an analysis
reads a few rows per partner instead of every day's rollups:
- `add_to_experiment_totals(conn, rollup_rows)`: add the rollup deltas the event writer applies
  (only events really inserted, so a re-written batch adds nothing twice), same transaction;
- `fill_experiment_totals(conn, experiment_id)`: (re)compute one experiment's totals from the
  rollups, under the event writers' lock (a new experiment, whose campaign may have events today);
- `rebuild_experiment_totals() -> rows`: recompute every experiment's (`tcma events
  rebuild-summaries`; the migration does the same once).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, insert, literal, select, text

from tcma.extensions import db
from tcma.models import EventRollup, Experiment, ExperimentPartnerTotal, Variant
from tcma.services.tracking.summaries import add_counts

TOTAL_KEY = ("experiment_id", "partner_id", "variant", "kind")
# Same key as ingest.WRITE_LOCK: a fill waits for any event writer, and writers wait for the fill.
EVENT_WRITE_LOCK = 0x74636D61_6576


def add_to_experiment_totals(conn: Connection, rollup_rows: list[dict[str, Any]]) -> None:
    """Add the rollup deltas being applied (total, uniques, bots per rollup key) to the experiments'
    totals they count in."""
    campaigns = {row["campaign_id"] for row in rollup_rows if row["campaign_id"]}
    if not campaigns:
        return
    experiments = _experiments_of(conn, campaigns)
    deltas: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rollup_rows:
        for experiment_id, first_day, arms in experiments.get(row["campaign_id"], ()):
            if row["variant"] in arms and row["day"] >= first_day:
                bucket = deltas[(experiment_id, row["partner_id"], row["variant"], row["kind"])]
                for i, name in enumerate(("total", "uniques", "bots")):
                    bucket[i] += row[name]
    _upsert(conn, deltas)


def _experiments_of(conn: Connection, campaigns: set[int]) -> dict[int, list[tuple[int, date, set[str]]]]:
    """Per campaign: (experiment id, first day, arm names) of each of its experiments."""
    stmt = (select(Experiment.id, Experiment.campaign_id, Experiment.started_at, Variant.name)
            .join(Variant, Variant.experiment_id == Experiment.id)
            .where(Experiment.campaign_id.in_(sorted(campaigns))))
    found: dict[int, tuple[int, date, set[str]]] = {}
    for experiment_id, campaign_id, started_at, arm in conn.execute(stmt):
        found.setdefault(experiment_id, (campaign_id, started_at.date(), set()))[2].add(arm)
    out: dict[int, list[tuple[int, date, set[str]]]] = defaultdict(list)
    for experiment_id, (campaign_id, first_day, arms) in sorted(found.items()):
        out[campaign_id].append((experiment_id, first_day, arms))
    return out


def _upsert(conn: Connection, deltas: dict[tuple[Any, ...], list[int]]) -> None:
    add_counts(conn, ExperimentPartnerTotal, TOTAL_KEY, deltas)


def fill_experiment_totals(conn: Connection, experiment_id: int) -> None:
    """Recompute one experiment's totals from the rollups, in the caller's transaction.

    Holds the event writers' lock until that transaction ends: a writer waiting for it then sees
    the experiment and adds its events, and every event written before is in the rollups read here.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_WRITE_LOCK})
    experiment = conn.execute(select(Experiment.campaign_id, Experiment.started_at)
                              .where(Experiment.id == experiment_id)).one()
    arms = list(conn.scalars(select(Variant.name).where(Variant.experiment_id == experiment_id)))
    conn.execute(delete(ExperimentPartnerTotal).where(ExperimentPartnerTotal.experiment_id == experiment_id))
    r = EventRollup
    rows = (select(literal(experiment_id), r.partner_id, r.variant, r.kind, func.sum(r.total),
                   func.sum(r.uniques), func.sum(r.bots))
            .where(r.campaign_id == experiment.campaign_id, r.variant.in_(arms),
                   r.day >= experiment.started_at.date())
            .group_by(r.partner_id, r.variant, r.kind))
    conn.execute(insert(ExperimentPartnerTotal).from_select([*TOTAL_KEY, "total", "uniques", "bots"], rows))


def rebuild_experiment_totals() -> int:
    """Recompute every experiment's totals from the rollups (under the event writers' lock); rows."""
    with db.engine.begin() as conn:
        for experiment_id in conn.scalars(select(Experiment.id).order_by(Experiment.id)).all():
            fill_experiment_totals(conn, experiment_id)
        conn.execute(delete(ExperimentPartnerTotal).where(
            ExperimentPartnerTotal.experiment_id.not_in(select(Experiment.id))))
        return int(conn.scalar(select(func.count()).select_from(ExperimentPartnerTotal)) or 0)
