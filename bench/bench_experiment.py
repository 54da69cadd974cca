"""Experiments (issue 14, "Speed"): analysing one campaign's experiment with 10 million events behind it,
read from the rollups, against the floor of one indexed aggregate query over the same rows.

python bench/bench_experiment.py --out bench/results.d/bench_experiment.json
    [--partners 1000] [--days 30] [--events 10000000] [--campaigns 3]

Data (a scratch PostgreSQL database, migrated with `tcma db upgrade`, dropped afterwards): PARTNERS
partners, each assigned to arm a or b of a running experiment on campaign 1 (by the production hash),
one finished PNG asset each (a delivered item), and daily rollups for DAYS days per partner: clicks
(human total and bots) and published posts, on CAMPAIGNS campaigns alike (so the campaign index has to
do its work), the click totals of campaign 1 adding up to EVENTS events.
Ours: `experiment_results` (the grouped query over rollups, assignments and assets, then the per-arm
statistics, the always-valid comparison, the chance to win and the SRM check), best of ROUNDS.
Floor: `SELECT partner_id, sum(total), sum(bots) FROM event_rollup WHERE campaign_id = 1 AND
kind = 'click' GROUP BY partner_id`, best of ROUNDS. Target: ours under 10 ms (as a ratio to the floor).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.common import best_of, entry, write  # noqa: E402

PG_ADMIN = os.environ.get("TCMA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROUNDS = 20
FLOOR_SQL = text("SELECT partner_id, sum(total), sum(bots) FROM event_rollup "
                 "WHERE campaign_id = :campaign AND kind = 'click' GROUP BY partner_id")


def seed(partners: int, days: int, events: int, campaigns: int) -> int:
    """The data set; answers the experiment's id."""
    from campaigns.experiments import assign
    from tcma.extensions import db

    per_cell = max(1, events // (partners * days))
    statements = [
        "INSERT INTO tier (slug, name, rank, created_at, updated_at) "
        "VALUES ('gold', 'Gold', 1, now(), now())",
        "INSERT INTO vertical (slug, name, created_at, updated_at) VALUES ('it', 'IT', now(), now())",
        "INSERT INTO region (slug, name, created_at, updated_at) VALUES ('na', 'NA', now(), now())",
        f"""INSERT INTO partner (name, slug, tier_id, vertical_id, region_id, locale, time_zone, status,
            created_at, updated_at)
            SELECT 'Partner ' || n, 'partner-' || n, 1, 1, 1, 'en', 'UTC', 'active', now(), now()
            FROM generate_series(1, {partners}) n""",
        "INSERT INTO template (slug, name, description, created_at, updated_at) "
        "VALUES ('card', 'Card', '', now(), now())",
        "INSERT INTO template_version (template_id, version, spec, outputs, available_tiers, published_at) "
        "VALUES (1, 1, '{}', '[\"png\"]', '[]', now())",
        f"""INSERT INTO campaign (name, slug, status, segment, created_at, updated_at)
            SELECT 'Campaign ' || c, 'campaign-' || c, 'running', '{{}}', now(), now()
            FROM generate_series(1, {campaigns}) c""",
        "INSERT INTO campaign_output (campaign_id, template_version_id, output, channel) "
        "VALUES (1, 1, 'png', 'image')",
        f"""INSERT INTO asset (partner_id, campaign_id, campaign_output_id, template_version_id, output,
            variant, fields, status, attempts, created_at, updated_at)
            SELECT n, 1, 1, 1, 'png', NULL, '{{}}', 'done', 1, now(), now()
            FROM generate_series(1, {partners}) n""",
        """INSERT INTO experiment (campaign_id, name, metric, status, confidence, min_sample, auto_decide,
            unit, method, salt, strata, min_runtime_days, max_runtime_days, max_machine_share_gap,
            started_at, created_at, updated_at)
            VALUES (1, 'bench', 'click', 'running', 0.95, 100, true, 'partner', 'sequential', 'bench-salt',
            '[]', 7, 28, 0.1, now() - interval '40 days', now(), now())""",
        "INSERT INTO variant (experiment_id, name, weight) VALUES (1, 'a', 1), (1, 'b', 1)",
    ]
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
        arms = [{"p": n, "v": "ab"[assign("bench-salt", str(n), [1, 1])]} for n in range(1, partners + 1)]
        conn.execute(text("INSERT INTO experiment_assignment (experiment_id, partner_id, variant, stratum, "
                          "assigned_at) VALUES (1, :p, :v, '', now())"), arms)
        conn.execute(text("UPDATE asset SET variant = a.variant FROM experiment_assignment a "
                          "WHERE a.partner_id = asset.partner_id"))
        conn.execute(text(f"""
            INSERT INTO event_rollup (campaign_id, asset_id, variant, partner_id, channel, day, kind, total,
                                      uniques, bots)
            SELECT c, n, a.variant, n, 'image', current_date - d, k.kind,
                   CASE WHEN k.kind = 'click' THEN {per_cell} + n % 11 + d % 3 ELSE 1 END,
                   CASE WHEN k.kind = 'click' THEN {per_cell} ELSE 1 END,
                   CASE WHEN k.kind = 'click' THEN (n + d) % 3 ELSE 0 END
            FROM generate_series(1, {campaigns}) c, generate_series(1, {partners}) n,
                 generate_series(0, {days - 1}) d, (VALUES ('click'), ('post')) k(kind),
                 experiment_assignment a WHERE a.partner_id = n"""))
        conn.execute(text("ANALYZE"))
        total = conn.execute(text("SELECT sum(total) + sum(bots) FROM event_rollup "
                                  "WHERE campaign_id = 1 AND kind = 'click'")).scalar()
        rows = conn.execute(text("SELECT count(*) FROM event_rollup WHERE campaign_id = 1")).scalar()
    print(f"campaign 1: {total:,} click events behind {rows:,} rollup rows; {partners} partners, {days} days")
    return 1


def measure(partners: int, days: int, events: int, campaigns: int) -> tuple[float, float]:
    """(ours, floor) in milliseconds."""
    from tcma import create_app
    from tcma.extensions import db
    from tcma.models import Experiment
    from tcma.services.experiments.results import experiment_results

    app = create_app()
    with app.app_context():
        experiment_id = seed(partners, days, events, campaigns)
        experiment = db.session.get(Experiment, experiment_id)
        results = experiment_results(experiment)
        print(results.sentence)
        connection = db.session.connection()
        def floor_query():
            return connection.execute(FLOOR_SQL, {"campaign": 1}).all()

        floor = best_of(floor_query, ROUNDS) * 1000  # before ours and after: the faster counts
        ours = best_of(lambda: experiment_results(experiment), ROUNDS) * 1000
        floor = min(floor, best_of(floor_query, ROUNDS) * 1000)
        db.session.rollback()
        db.engine.dispose()
    return ours, floor


def main() -> None:
    """Seed a scratch database, time ours and the floor in the same run, write the entry."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--campaigns", type=int, default=3)
    args = parser.parse_args()
    name = f"tcma_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    workdir = tempfile.mkdtemp(prefix="tcma-bench-")
    env = dict(os.environ, TCMA_DATABASE_URL=PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
               TCMA_STORAGE="local", TCMA_STORAGE_PATH=f"{workdir}/files",
               TCMA_SECRET_KEY="bench-" + "x" * 40, TCMA_PUBLIC_URL="http://bench.test")
    env.pop("TCMA_REDIS_URL", None)
    os.environ.update(env)
    started = time.perf_counter()
    try:
        subprocess.run([str(Path(sys.executable).with_name("tcma")), "db", "upgrade"], env=env,
                       check=True, capture_output=True)
        ours, floor = measure(args.partners, args.days, args.events, args.campaigns)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(f"ours {ours:.2f} ms, floor {floor:.2f} ms ({time.perf_counter() - started:.0f} s in all)")
    write(args.out, [entry("experiment.analyze_ms (< 10 ms from rollups)", "ms", ours, floor,
                           round(10 / floor, 2), "lower")])


if __name__ == "__main__":
    main()
