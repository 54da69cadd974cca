"""Experiments (issue 14, "Speed"): analysing one campaign's experiment with 10 million events behind it,
read from its running totals, against the floor of one indexed aggregate query over the rollup rows.

python bench/bench_experiment.py --out bench/results.d/bench_experiment.json
    [--partners 1000] [--days 30] [--events 10000000] [--campaigns 20]

Data (a scratch PostgreSQL database, migrated with `tcma db upgrade`, dropped afterwards), loaded with
COPY, never the ORM: PARTNERS partners, each assigned to arm a or b of a running experiment on campaign 1
(by the production hash), one finished PNG asset each; EVENTS raw events of campaign 1 in the `event`
table over DAYS days (per partner and day one published post and the rest clicks, about 3% of them
from bots, arm b clicked a little more), rolled up into `event_rollup` as the tracking flusher counts
them (total = human events, uniques, bots per campaign, asset, variant, partner, channel, day, kind);
CAMPAIGNS - 1 other campaigns' rollups of the same shape beside them (so the campaign's rows are a small
part of the table and the floor reads them through the rollup key's index, campaign first; the run
prints the floor's plan); then the experiment's running totals per partner, arm and kind
(`experiment_partner_total`, which the event writer keeps beside the rollups), built from the rollups
as `tcma events rebuild-summaries` builds them. The event table is UNLOGGED in this scratch database
only to spare the WAL during the load; the timed reads never touch it.
Ours: `experiment_results` (the grouped query over the running totals, assignments and assets, then the
per-arm statistics, the always-valid comparison, the chance to win and the SRM check), best of ROUNDS.
Floor: `SELECT partner_id, sum(total), sum(bots) FROM event_rollup WHERE campaign_id = 1 AND
kind = 'click' GROUP BY partner_id` (the unique rollup key's index, campaign first), best of ROUNDS.
Target: ours under 10 ms (expressed as a ratio to the floor). For scale, the run also prints what
one aggregate over the raw events of the campaign costs (not an entry: that is what rollups avoid).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.common import best_of, entry, migrated_scratch_database, write  # noqa: E402

ROUNDS = 20
FLOOR_SQL = text("SELECT partner_id, sum(total), sum(bots) FROM event_rollup "
                 "WHERE campaign_id = :campaign AND kind = 'click' GROUP BY partner_id")
RAW_SQL = text("SELECT variant, count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot) "
               "FROM event WHERE campaign_id = 1 AND kind = 'click' GROUP BY variant")
CHUNK = 200_000  # COPY lines per write
EVENT_COLUMNS = ("uid, kind, occurred_at, partner_id, campaign_id, asset_id, channel, variant, is_bot, "
                 "is_unique, data")
ROLLUP_COLUMNS = "campaign_id, asset_id, variant, partner_id, channel, day, kind, total, uniques, bots"
CATALOGUE = [
    "INSERT INTO tier (slug, name, rank, created_at, updated_at) VALUES ('gold', 'Gold', 1, now(), now())",
    "INSERT INTO vertical (slug, name, created_at, updated_at) VALUES ('it', 'IT', now(), now())",
    "INSERT INTO region (slug, name, created_at, updated_at) VALUES ('na', 'NA', now(), now())",
    """INSERT INTO partner (name, slug, tier_id, vertical_id, region_id, locale, time_zone, status,
        created_at, updated_at)
        SELECT 'Partner ' || n, 'partner-' || n, 1, 1, 1, 'en', 'UTC', 'active', now(), now()
        FROM generate_series(1, :partners) n""",
    "INSERT INTO template (slug, name, description, created_at, updated_at) "
    "VALUES ('card', 'Card', '', now(), now())",
    "INSERT INTO template_version (template_id, version, spec, outputs, available_tiers, published_at) "
    "VALUES (1, 1, '{}', '[\"png\"]', '[]', now())",
    """INSERT INTO campaign (name, slug, status, segment, created_at, updated_at)
        SELECT 'Campaign ' || c, 'campaign-' || c, 'running', '{}', now(), now()
        FROM generate_series(1, :campaigns) c""",
    "INSERT INTO campaign_output (campaign_id, template_version_id, output, channel) "
    "VALUES (1, 1, 'png', 'image')",
    """INSERT INTO asset (partner_id, campaign_id, campaign_output_id, template_version_id, output,
        variant, fields, status, attempts, created_at, updated_at)
        SELECT n, 1, 1, 1, 'png', NULL, '{}', 'done', 1, now(), now() FROM generate_series(1, :partners) n""",
    """INSERT INTO experiment (campaign_id, name, metric, status, confidence, min_sample, auto_decide,
        unit, method, salt, strata, min_runtime_days, max_runtime_days, max_machine_share_gap,
        started_at, created_at, updated_at)
        VALUES (1, 'bench', 'click', 'running', 0.95, 100, true, 'partner', 'sequential', 'bench-salt',
        '[]', 7, 28, 0.1, now() - make_interval(days => :days + 1), now(), now())""",
    "INSERT INTO variant (experiment_id, name, weight) VALUES (1, 'a', 1), (1, 'b', 1)",
]
# What the tracking flusher keeps per rollup key (tcma.services.tracking.ingest._rollup_deltas).
ROLLUP_SQL = text(f"""
    INSERT INTO event_rollup ({ROLLUP_COLUMNS})
    SELECT campaign_id, asset_id, variant, partner_id, channel, (occurred_at AT TIME ZONE 'UTC')::date, kind,
           count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_unique AND NOT is_bot),
           count(*) FILTER (WHERE is_bot)
    FROM event GROUP BY 1, 2, 3, 4, 5, 6, 7""")


def cell_counts(partners: int, days: int, events: int, arms: dict[int, str]) -> list[tuple[int, int, int]]:
    """(partner, day, clicks) per partner and day; with one post each, the events add up to `events`."""
    shape = [(partner, day, 6 + (partner * 7 + day * 3) % 11 + (2 if arms[partner] == "b" else 0))
             for partner in range(1, partners + 1) for day in range(days)]
    clicks = max(0, events - len(shape))  # one post per partner and day, clicks for the rest
    weight = sum(w for _, _, w in shape)
    cells = [(partner, day, clicks * w // weight) for partner, day, w in shape]
    short = clicks - sum(c for _, _, c in cells)
    return [(partner, day, c + (1 if index < short else 0)) for index, (partner, day, c) in enumerate(cells)]


def event_lines(cells: list[tuple[int, int, int]], arms: dict[int, str], today: date) -> Iterator[str]:
    """COPY text lines of the raw events: per cell one post, then its clicks (every 33rd a bot's)."""
    number = 0
    for partner, day, clicks in cells:
        stamp = (today - timedelta(days=day + 1)).isoformat()
        variant = arms[partner]
        number += 1
        yield (f"p{number}\tpost\t{stamp} 09:00:00+00\t{partner}\t1\t{partner}\tlinkedin\t{variant}"
               "\tf\tt\t{}\n")
        for click in range(clicks):
            number += 1
            bot = "t" if click % 33 == 32 else "f"
            unique = "t" if click % 4 == 0 else "f"
            yield (f"c{number}\tclick\t{stamp} {10 + click % 12:02d}:{click % 60:02d}:00+00\t{partner}\t1\t"
                   f"{partner}\tlinkedin\t{variant}\t{bot}\t{unique}\t{{}}\n")


def other_rollup_lines(partners: int, days: int, campaigns: int, per_cell: int, today: date
                       ) -> Iterator[str]:
    """COPY text lines of the other campaigns' rollups (clicks and posts per partner and day)."""
    for campaign in range(2, campaigns + 1):
        for partner in range(1, partners + 1):
            for day in range(days):
                stamp = (today - timedelta(days=day + 1)).isoformat()
                yield (f"{campaign}\t0\t\t{partner}\tlinkedin\t{stamp}\tclick\t{per_cell}\t"
                       f"{per_cell // 4}\t3\n")
                yield f"{campaign}\t0\t\t{partner}\tlinkedin\t{stamp}\tpost\t1\t1\t0\n"


def copy_lines(raw, table: str, columns: str, lines: Iterator[str]) -> int:
    """COPY the lines into the table in chunks; answers how many."""
    count, chunk = 0, []
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for line in lines:
            chunk.append(line)
            if len(chunk) == CHUNK:
                copy.write("".join(chunk))
                count, chunk = count + len(chunk), []
        if chunk:
            copy.write("".join(chunk))
            count += len(chunk)
    return count


def seed(partners: int, days: int, events: int, campaigns: int) -> int:
    """The data set (COPY for the bulk); answers the experiment's id."""
    from campaigns.experiments import assign
    from tcma.extensions import db
    from tcma.services.tracking.experiment_totals import rebuild_experiment_totals

    arms = {n: "ab"[assign("bench-salt", str(n), [1, 1])] for n in range(1, partners + 1)}
    today = date.today()
    started = time.perf_counter()
    with db.engine.begin() as conn:
        for statement in CATALOGUE:
            conn.execute(text(statement), {"partners": partners, "campaigns": campaigns, "days": days})
        raw = conn.connection.dbapi_connection
        copy_lines(raw, "experiment_assignment", "experiment_id, partner_id, variant, stratum, assigned_at",
                   (f"1\t{n}\t{arm}\t\t{today.isoformat()} 00:00:00+00\n" for n, arm in arms.items()))
        conn.execute(text("UPDATE asset SET variant = a.variant FROM experiment_assignment a "
                          "WHERE a.partner_id = asset.partner_id"))
        conn.execute(text("ALTER TABLE event SET UNLOGGED"))
        cells = cell_counts(partners, days, events, arms)
        copied = copy_lines(raw, "event", EVENT_COLUMNS, event_lines(cells, arms, today))
        print(f"COPY: {copied:,} events in {time.perf_counter() - started:.0f} s", flush=True)
        conn.execute(ROLLUP_SQL)
        per_cell = max(1, events // (partners * days))
        others = other_rollup_lines(partners, days, campaigns, per_cell, today)
        copy_lines(raw, "event_rollup", ROLLUP_COLUMNS, others)
    totals = rebuild_experiment_totals()  # what the event writer would have kept, from the rollups
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        total = conn.execute(text("SELECT count(*) FROM event WHERE campaign_id = 1")).scalar()
        rows = conn.execute(text("SELECT count(*) FROM event_rollup WHERE campaign_id = 1")).scalar()
    print(f"campaign 1: {total:,} events behind {rows:,} rollup rows ({totals:,} running totals); "
          f"{partners} partners, {days} days; seeded in {time.perf_counter() - started:.0f} s", flush=True)
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
        plan = connection.execute(text(f"EXPLAIN {FLOOR_SQL.text}"), {"campaign": 1}).scalars().all()
        print("floor's plan: " + " / ".join(line.strip() for line in plan if "Scan" in line))
        raw = best_of(lambda: connection.execute(RAW_SQL).all(), 1) * 1000
        print(f"for scale: one aggregate over the campaign's raw events takes {raw:,.0f} ms")
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
    parser.add_argument("--campaigns", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    with migrated_scratch_database():
        ours, floor = measure(args.partners, args.days, args.events, args.campaigns)
    print(f"ours {ours:.2f} ms, floor {floor:.2f} ms ({time.perf_counter() - started:.0f} s in all)")
    write(args.out, [entry("experiment.analyze_ms (< 10 ms from rollups)", "ms", ours, floor,
                           round(10 / floor, 2), "lower")])


if __name__ == "__main__":
    main()
