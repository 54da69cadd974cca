"""The programme dashboard (issue 16, "Speed"): the whole page for 10,000 partners and 10 million
events, rendered from the pre-summed daily tables, against the floor of its underlying aggregates.

python bench/bench_dashboard.py --out bench/results.d/bench_dashboard.json
    [--partners 10000] [--days 30] [--events 10000000] [--campaigns 10]

Data (a scratch PostgreSQL database, migrated with `tcma db upgrade`, dropped afterwards): PARTNERS
partners over three tiers and three regions, CAMPAIGNS campaigns with one finished asset per partner
and campaign, and one rollup row per (partner, day, kind) for DAYS days and five kinds (download,
send, open, click, post) on one of the campaigns, two variants and each kind's channel, machines
included, the people's totals adding up to EVENTS events (every partner's engagement over the
period is the same, so all tie for the top ten and names settle it: the ranking's worst case).
The rollups are written with set-based SQL, so the dashboard's pre-summed tables
(programme_daily_rollup, partner_daily_engagement) are then rebuilt from them as
`tcma events rebuild-summaries` does (its time is printed).
Ours: GET /portal/dashboard for the last DAYS days as a signed-in marketer through the app (server
time: the summary scan, the top partners' ranking and rollups, the delivered and customized counts,
the names, the SVG charts and the page), best of ROUNDS.
Floor: the same underlying aggregates as bare SQL on the same connection (the GROUPING SETS over
programme_daily_rollup, the top-ten ranking over partner_daily_engagement, ten leaders' rollups),
best of ROUNDS (before and after ours). The scan of every rollup the dashboard made before the
summaries is printed for comparison. Target: ours under 300 ms (as a ratio to the floor).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.common import best_of, entry, migrated_scratch_database, write  # noqa: E402

ROUNDS = 10
KINDS = (("download", "print"), ("send", "email"), ("open", "email"), ("click", "linkedin"),
         ("post", "mastodon"))
KIND_LIST = "('download', 'send', 'open', 'click', 'post', 'like', 'repost', 'reply')"
ROLLUP_SCAN_SQL = text(f"""
    SELECT GROUPING(day, channel, partner_id, variant, campaign_id), day, channel, partner_id, variant,
           campaign_id, kind, sum(total), sum(uniques), sum(bots)
    FROM event_rollup
    WHERE day >= :start AND day <= :end AND kind IN {KIND_LIST}
    GROUP BY GROUPING SETS ((day, kind), (channel, kind), (partner_id, kind), (variant, kind),
                            (campaign_id, kind))""")
FLOOR_SQL = text(f"""
    SELECT GROUPING(day, channel, variant, campaign_id, tier_id, region_id), day, channel, variant,
           campaign_id, tier_id, region_id, kind, sum(total), sum(uniques), sum(bots)
    FROM programme_daily_rollup
    WHERE day >= :start AND day <= :end AND kind IN {KIND_LIST}
    GROUP BY GROUPING SETS ((day, kind), (channel, kind), (variant, kind), (campaign_id, kind),
                            (tier_id, kind), (region_id, kind))""")
RANKING_SQL = text("""
    SELECT partner_id, engagement FROM (
        SELECT partner_id, sum(engagement) AS engagement,
               rank() OVER (ORDER BY sum(engagement) DESC) AS place
        FROM partner_daily_engagement WHERE day >= :start AND day <= :end
        GROUP BY partner_id) ranked
    WHERE place <= 10""")
LEADERS_SQL = text(f"""
    SELECT partner_id, kind, sum(total), sum(uniques), sum(bots) FROM event_rollup
    WHERE day >= :start AND day <= :end AND kind IN {KIND_LIST} AND partner_id = ANY(:leaders)
    GROUP BY partner_id, kind""")
PASSWORD = "bench password 1234"


def seed(partners: int, days: int, events: int, campaigns: int) -> None:
    """The data set, written with set-based SQL."""
    from tcma.extensions import db
    from tcma.services.tracking.summaries import rebuild_dashboard_summaries

    per_cell = max(1, events // (partners * days * len(KINDS)))
    kinds = ", ".join(f"('{kind}', '{channel}')" for kind, channel in KINDS)
    statements = [
        "INSERT INTO tier (slug, name, rank, created_at, updated_at) VALUES "
        "('silver', 'Silver', 1, now(), now()), ('gold', 'Gold', 2, now(), now()), "
        "('platinum', 'Platinum', 3, now(), now())",
        "INSERT INTO vertical (slug, name, created_at, updated_at) VALUES ('it', 'IT', now(), now())",
        "INSERT INTO region (slug, name, created_at, updated_at) VALUES "
        "('na', 'North America', now(), now()), ('emea', 'EMEA', now(), now()), "
        "('apac', 'APAC', now(), now())",
        f"""INSERT INTO partner (name, slug, tier_id, vertical_id, region_id, locale, time_zone, status,
            created_at, updated_at)
            SELECT 'Partner ' || n, 'partner-' || n, 1 + n % 3, 1, 1 + (n / 3) % 3, 'en', 'UTC', 'active',
                   now() - interval '200 days', now()
            FROM generate_series(1, {partners}) n""",
        "INSERT INTO template (slug, name, description, created_at, updated_at) "
        "VALUES ('card', 'Card', '', now(), now())",
        "INSERT INTO template_version (template_id, version, spec, outputs, available_tiers, published_at) "
        "VALUES (1, 1, '{}', '[\"png\"]', '[]', now())",
        f"""INSERT INTO campaign (name, slug, status, segment, created_at, updated_at)
            SELECT 'Campaign ' || c, 'campaign-' || c, 'running', '{{}}', now(), now()
            FROM generate_series(1, {campaigns}) c""",
        f"""INSERT INTO asset (partner_id, campaign_id, template_version_id, output, fields, status, attempts,
            created_at, updated_at)
            SELECT n, c, 1, 'png', '{{}}', 'done', 1, now() - (n % {days}) * interval '1 day',
                   now() - (n % {days}) * interval '1 day'
            FROM generate_series(1, {campaigns}) c, generate_series(1, {partners}) n""",
        f"""INSERT INTO event_rollup (campaign_id, asset_id, variant, partner_id, channel, day, kind, total,
                                      uniques, bots)
            SELECT 1 + (n + d) % {campaigns}, 0, CASE WHEN n % 2 = 0 THEN 'a' ELSE 'b' END, n, k.channel,
                   current_date - d, k.kind, {per_cell} + (n + d) % 3 - 1, {per_cell}, (n + d) % 2
            FROM generate_series(1, {partners}) n, generate_series(0, {days - 1}) d,
                 (VALUES {kinds}) k(kind, channel)""",
    ]
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
        people, rows = conn.execute(text("SELECT sum(total), count(*) FROM event_rollup")).one()
    print(f"{people:,} events by people behind {rows:,} rollup rows; {partners:,} partners, {days} days")
    started = time.perf_counter()
    programme, engaged = rebuild_dashboard_summaries()
    print(f"summaries rebuilt in {time.perf_counter() - started:.1f} s: {programme:,} programme rows, "
          f"{engaged:,} partner-day rows")
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def signed_in_client(app):
    """A test client signed in as a marketer through the login form."""
    from tcma.services.accounts.users import create_user

    create_user("marketer@bench.test", PASSWORD, "marketer")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    signed = client.post("/login", data={"email": "marketer@bench.test", "password": PASSWORD,
                                         "csrf_token": token.group(1)})
    assert signed.status_code == 302, signed.status_code
    return client


def measure(partners: int, days: int, events: int, campaigns: int) -> tuple[float, float]:
    """(ours, floor) in milliseconds."""
    from tcma import create_app
    from tcma.extensions import db

    app = create_app()
    end = datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    with app.app_context():
        seed(partners, days, events, campaigns)
        client = signed_in_client(app)
        url = f"/portal/dashboard?start={start}&end={end}"

        def ours_page():
            answer = client.get(url)
            assert answer.status_code == 200 and answer.data.count(b'<svg class="chart"') == 5
            return answer

        page = ours_page()
        print(f"page: {len(page.data):,} bytes")
        connection = db.engine.connect()

        def floor_query():
            period = {"start": start, "end": end}
            leaders = [pid for pid, _ in connection.execute(RANKING_SQL, period).all()[:10]]
            return (connection.execute(FLOOR_SQL, period).all(),
                    connection.execute(LEADERS_SQL, {**period, "leaders": leaders}).all())

        floor = best_of(floor_query, ROUNDS) * 1000  # before ours and after: the faster counts
        ours = best_of(ours_page, ROUNDS) * 1000
        floor = min(floor, best_of(floor_query, ROUNDS) * 1000)
        scan = best_of(lambda: connection.execute(ROLLUP_SCAN_SQL, {"start": start, "end": end}).all(), 3)
        print(f"for comparison, the scan of every rollup (the dashboard before the summaries): "
              f"{scan * 1000:.2f} ms")
        connection.close()
        db.session.remove()
        db.engine.dispose()
    return ours, floor


def main() -> None:
    """Seed a scratch database, time ours and the floor in the same run, write the entry."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--campaigns", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    with migrated_scratch_database():
        ours, floor = measure(args.partners, args.days, args.events, args.campaigns)
    print(f"ours {ours:.2f} ms, floor {floor:.2f} ms ({time.perf_counter() - started:.0f} s in all)")
    write(args.out, [entry("dashboard.programme_ms (< 300 ms from the pre-summed rollups)", "ms", ours, floor,
                           round(300 / floor, 2), "lower")])


if __name__ == "__main__":
    main()
