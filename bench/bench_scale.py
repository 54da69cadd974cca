"""Scale (issue 17): every API list and detail endpoint and every portal page on a database at the
design's size, with p50/p95 server time and the number of SQL statements per request; plus the launch
of a new campaign to every partner, the scheduler's claim, progress, stats and experiment analysis.

    python bench/seed_scale.py --scale 1.0 --database tcma_scale       # once (about half an hour)
    python bench/bench_scale.py --out bench/results.d/bench_scale.json [--database tcma_scale]

`make bench` runs this file like the others; it measures only when the database exists (the name
from --database, else TCMA_SCALE_DATABASE, else tcma_scale) and otherwise writes no entries and says
so: building it takes long and tens of GB. Setting TCMA_SCALE_DATABASE makes a missing database an error.

Requests go through the Flask test client in this process (server time: routing, auth, queries,
serialization and templates, no network). Each is made WARMUP times, then REPEAT times measured.
The insights' entries measure the state after a maintenance pass (a production scheduler recomputes
today's snapshot of the partners' scores and KPIs before a request needs it): the pass runs once before
they are measured; `scale.api.insights_partners_cold` measures the list computed on the request, with no
snapshot (what the first request after the snapshot expired would pay; COLD_REPEAT times).
Entries: `scale.<area>.<endpoint>` with value = p95 in ms, floor = the target in ms (200, dashboards
300, the launch's answer 2,000), ratio = p95 / target (target 1.0, lower is better), and
`p50_ms` and `queries` (statements per request, the most seen) alongside.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import entry, write  # noqa: E402
from bench.seed_scale import PASSWORD, TOKENS, storage_path  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
REDIS_URL = os.environ.get("TCMA_BENCH_SCALE_REDIS_URL", "redis://127.0.0.1:6379/6")
QUEUE_PREFIX = "tcma-scale-bench"  # no worker listens here: the launch's jobs are counted, then dropped
WARMUP, REPEAT = 2, 15  # --warmup, --repeat
COLD_REPEAT = 3  # the insights list computed on the request: each one recomputes every partner
PAGE, DASHBOARD = 200.0, 300.0

# (name, who, path, target ms). Who: an API bearer token (admin, large/small partner) or a portal
# session (portal-admin, portal-large). {name} fields come from `_ids`.
ENDPOINTS: tuple[tuple[str, str, str, float], ...] = (
    ("api.campaigns", "admin", "/api/v1/campaigns", PAGE),
    ("api.campaign", "admin", "/api/v1/campaigns/{campaign}", PAGE),
    ("api.campaign_progress", "admin", "/api/v1/campaigns/{campaign}/progress", PAGE),
    ("api.campaign_experiments", "admin", "/api/v1/campaigns/{campaign}/experiments", PAGE),
    ("api.campaign_post_plans", "admin", "/api/v1/campaigns/{campaign}/post-plans", PAGE),
    ("api.post_plan", "admin", "/api/v1/post-plans/{plan}", PAGE),
    ("api.assets", "admin", "/api/v1/assets", PAGE),
    ("api.assets_deep_page", "admin", "/api/v1/assets?page={deep_asset_page}", PAGE),
    ("api.assets_deep_after", "admin", "/api/v1/assets?after={deep_asset_cursor}", PAGE),
    ("api.assets_of_campaign", "admin", "/api/v1/assets?campaign_id={campaign}", PAGE),
    ("api.assets.large_partner", "large", "/api/v1/assets", PAGE),
    ("api.assets.small_partner", "small", "/api/v1/assets", PAGE),
    ("api.asset", "admin", "/api/v1/assets/{asset}", PAGE),
    ("api.asset.large_partner", "large", "/api/v1/assets/{large_asset}", PAGE),
    ("api.partners", "admin", "/api/v1/partners", PAGE),
    ("api.partners_deep_page", "admin", "/api/v1/partners?page={deep_partner_page}", PAGE),
    ("api.partner", "admin", "/api/v1/partners/{large_partner}", PAGE),
    ("api.partner_brand_kit", "admin", "/api/v1/partners/{large_partner}/brand-kit", PAGE),
    ("api.posts", "admin", "/api/v1/posts", PAGE),
    ("api.posts_deep_page", "admin", "/api/v1/posts?page={deep_post_page}", PAGE),
    ("api.posts_deep_after", "admin", "/api/v1/posts?after={deep_post_cursor}", PAGE),
    ("api.posts.large_partner", "large", "/api/v1/posts", PAGE),
    ("api.post", "large", "/api/v1/posts/{large_post}", PAGE),
    ("api.post_attempts", "large", "/api/v1/posts/{large_post}/attempts", PAGE),
    ("api.social_accounts", "admin", "/api/v1/social-accounts", PAGE),
    ("api.social_accounts.large_partner", "large", "/api/v1/social-accounts", PAGE),
    ("api.social_account", "large", "/api/v1/social-accounts/{large_account}", PAGE),
    ("api.social_accounts_expiring", "admin", "/api/v1/social-accounts/expiring", PAGE),
    ("api.users", "admin", "/api/v1/users", PAGE),
    ("api.users_deep_page", "admin", "/api/v1/users?page={deep_user_page}", PAGE),
    ("api.user", "admin", "/api/v1/users/{large_user}", PAGE),
    ("api.me", "large", "/api/v1/auth/me", PAGE),
    ("api.tokens", "large", "/api/v1/auth/tokens", PAGE),
    ("api.invitations", "admin", "/api/v1/invitations", PAGE),
    ("api.templates", "admin", "/api/v1/templates", PAGE),
    ("api.template_versions", "admin", "/api/v1/templates/newsletter/versions", PAGE),
    ("api.template_version", "admin", "/api/v1/templates/newsletter/versions/{newsletter_version}", PAGE),
    ("api.library.large_partner", "large", "/api/v1/library", PAGE),
    ("api.library_customization", "large", "/api/v1/library/newsletter/customization", PAGE),
    ("api.evergreen_posts", "large", "/api/v1/evergreen-posts", PAGE),
    ("api.vendor_tiers", "admin", "/api/v1/vendor/tiers", PAGE),
    ("api.contacts.large_partner", "large", "/api/v1/contacts", PAGE),
    ("api.contacts_summary", "admin", "/api/v1/contacts/summary?partner_id={large_partner}", PAGE),
    ("api.contact_lists.large_partner", "large", "/api/v1/contact-lists", PAGE),
    ("api.email_sends.large_partner", "large", "/api/v1/email-sends", PAGE),
    ("api.email_sends_of_campaign", "admin", "/api/v1/email-sends/campaigns/{campaign}", PAGE),
    ("api.sending_domains.large_partner", "large", "/api/v1/sending-domains", PAGE),
    ("api.experiment", "admin", "/api/v1/experiments/{experiment}", PAGE),
    ("api.experiment_results", "admin", "/api/v1/experiments/{experiment}/results", DASHBOARD),
    ("api.stats", "admin", "/api/v1/stats", DASHBOARD),
    ("api.stats_by_campaign", "admin", "/api/v1/stats?group_by=campaign_id", DASHBOARD),
    ("api.stats.large_partner", "large", "/api/v1/stats", DASHBOARD),
    ("api.stats.small_partner", "small", "/api/v1/stats", DASHBOARD),
    ("api.campaign_stats", "admin", "/api/v1/stats/campaigns/{campaign}", DASHBOARD),
    ("api.campaign_stats_by_day", "admin", "/api/v1/stats/campaigns/{campaign}?group_by=day", DASHBOARD),
    ("api.campaign_stats.large_partner", "large", "/api/v1/stats/campaigns/{campaign}", DASHBOARD),
    ("api.stats_export", "admin", "/api/v1/stats/export.csv?campaign_id={campaign}", DASHBOARD),
    ("api.insights_partners", "admin", "/api/v1/insights/partners", DASHBOARD),
    ("api.insights_partners_by_name_deep", "admin", "/api/v1/insights/partners?sort=-name&page=150",
     DASHBOARD),
    ("api.insights_partners_flagged", "admin", "/api/v1/insights/partners?flag=churning&sort=-last_active",
     DASHBOARD),
    ("api.insights_partner", "admin", "/api/v1/insights/partners/{large_partner}", DASHBOARD),
    ("api.insights_kpis", "admin", "/api/v1/insights/kpis", DASHBOARD),
    ("portal.insights_partners", "portal-admin", "/portal/partners", DASHBOARD),
    ("portal.insights_partners_flagged", "portal-admin", "/portal/partners?flag=churning&sort=name",
     DASHBOARD),
    ("portal.campaigns", "portal-admin", "/portal/campaigns", DASHBOARD),
    ("portal.campaign", "portal-admin", "/portal/campaigns/{campaign}", DASHBOARD),
    ("portal.campaign_contact_sheet", "portal-admin", "/portal/campaigns/{campaign}/contact-sheet", PAGE),
    ("portal.campaign_experiments", "portal-admin", "/portal/campaigns/{campaign}/experiments", PAGE),
    ("portal.campaign_posts", "portal-admin", "/portal/campaigns/{campaign}/posts", DASHBOARD),
    ("portal.experiment", "portal-admin", "/portal/experiments/{experiment}", DASHBOARD),
    ("portal.team.admin", "portal-admin", "/portal/team", PAGE),
    ("portal.user", "portal-admin", "/portal/team/users/{large_user}", PAGE),
    ("portal.library", "portal-large", "/portal", PAGE),
    ("portal.template", "portal-large", "/portal/templates/newsletter", PAGE),
    ("portal.assets", "portal-large", "/portal/assets", PAGE),
    ("portal.posts", "portal-large", "/portal/posts", PAGE),
    ("portal.posts_library", "portal-large", "/portal/posts/library", PAGE),
    ("portal.posts_library_pick", "portal-large", "/portal/posts/library/launch-posts", PAGE),
    ("portal.social_accounts", "portal-large", "/portal/social-accounts", PAGE),
    ("portal.contacts", "portal-large", "/portal/contacts", PAGE),
    ("portal.email", "portal-large", "/portal/email", PAGE),
    ("portal.team", "portal-large", "/portal/team", PAGE),
    ("portal.account", "portal-large", "/portal/account", PAGE),
)


class QueryCounter:
    """Counts SQL statements sent through the app's engine."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def percentile(times: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(times)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def database_for(requested: str | None) -> tuple[str, bool]:
    """The database to measure, and whether its absence is an error (it was asked for by name)."""
    if requested:
        return requested, True
    if os.environ.get("TCMA_SCALE_DATABASE"):
        return os.environ["TCMA_SCALE_DATABASE"], True
    return "tcma_scale", False


def seeded_size(name: str) -> dict[str, Any] | None:
    """What seed_scale.py wrote on the database, or None when there is no such seeded database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(PG + "postgres")
    with engine.connect() as conn:
        comment = conn.scalar(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                   "WHERE datname = :name"), {"name": name})
    engine.dispose()
    try:
        return json.loads(comment) if comment else None
    except ValueError:
        return None


def make_app(name: str) -> Any:
    from tcma import create_app

    return create_app({"ENV": "development", "SECRET_KEY": "scale-bench-" + "x" * 32,
                       "DATABASE_URL": PG + name, "REDIS_URL": REDIS_URL, "QUEUE_PREFIX": QUEUE_PREFIX,
                       "STORAGE": "local", "STORAGE_PATH": storage_path(name),
                       "CONNECTORS_BACKEND": "dryrun", "MAINTENANCE_INTERVAL": 0.0})


def _ids(app: Any) -> dict[str, Any]:
    """Rows the detail endpoints read: the largest partner's, the latest experiment's campaign."""
    from sqlalchemy import text

    from tcma.extensions import db
    from tcma.schemas.common import encode_cursor

    one = lambda sql: db.session.scalar(text(sql))  # noqa: E731
    experiment = one("SELECT max(id) FROM experiment")
    ids = {
        "experiment": experiment,
        "campaign": one(f"SELECT campaign_id FROM experiment WHERE id = {experiment}"),
        "large_partner": 1,
        "large_user": one("SELECT min(id) FROM user_account WHERE partner_id = 1"),
        "asset": one("SELECT id FROM asset ORDER BY id OFFSET (SELECT count(*) / 2 FROM asset) LIMIT 1"),
        "large_asset": one("SELECT max(id) FROM asset WHERE partner_id = 1"),
        "large_post": one("SELECT max(id) FROM scheduled_post WHERE partner_id = 1"),
        "large_account": one("SELECT min(id) FROM social_account WHERE partner_id = 1"),
        "newsletter_version": one("SELECT max(v.version) FROM template_version v JOIN template t "
                                  "ON t.id = v.template_id WHERE t.slug = 'newsletter'"),
        # The deepest page= the long lists answer (rows 9,951-10,000: the OFFSET walks those before);
        # past it they answer 422 and point at after=, measured half-way through below.
        "deep_asset_page": 200,
        "deep_post_page": 200,
        # Half-way through the other lists: where an OFFSET makes the database walk the rows before.
        "deep_partner_page": one("SELECT count(*) / 100 FROM partner"),
        "deep_user_page": one("SELECT count(*) / 100 FROM user_account"),
    }
    # The same depth through the `next` cursor (the last row of the page before): keyset pages.
    before = db.session.execute(text("SELECT id FROM asset ORDER BY id OFFSET (SELECT count(*) / 2 - 1 "
                                     "FROM asset) LIMIT 1")).one()
    ids["deep_asset_cursor"] = encode_cursor(tuple(before))
    before = db.session.execute(text("SELECT scheduled_at, id FROM scheduled_post ORDER BY scheduled_at, id "
                                     "OFFSET (SELECT count(*) / 2 - 1 FROM scheduled_post) LIMIT 1")).one()
    ids["deep_post_cursor"] = encode_cursor(tuple(before))
    ids["plan"] = one(f"SELECT min(id) FROM post_plan WHERE campaign_id = {ids['campaign']}")
    db.session.remove()
    return ids


def clients(app: Any) -> dict[str, Callable[[str], Any]]:
    """One GET function per caller."""
    callers: dict[str, Callable[[str], Any]] = {}
    for who, raw in TOKENS.items():
        client = app.test_client()
        headers = {"Authorization": f"Bearer {raw}"}
        callers[who] = lambda path, c=client, h=headers: c.get(path, headers=h)
    for who, email in (("portal-admin", "admin@scale.test"), ("portal-large", "user@partner-00001.test")):
        client = app.test_client()
        form = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf})
        if answer.status_code != 302:
            raise SystemExit(f"portal sign-in as {email} answered {answer.status_code}")
        callers[who] = client.get
    return callers


def measure(get: Callable[[str], Any], path: str, counter: QueryCounter, repeat: int,
            warmup: int = WARMUP) -> tuple[list[float], int, int]:
    """Times in ms of `repeat` requests after WARMUP, the most statements one made, the status."""
    times, queries, status = [], 0, 0
    for i in range(warmup + repeat):
        counter.count = 0
        start = time.perf_counter()
        answer = get(path)
        elapsed = (time.perf_counter() - start) * 1000
        answer.close()
        status = answer.status_code
        if status >= 400:
            raise RuntimeError(f"GET {path} answered {status}: {answer.get_data(as_text=True)[:300]}")
        if i >= warmup:
            times.append(elapsed)
            queries = max(queries, counter.count)
    return times, queries, status


def scale_entry(name: str, times: list[float], queries: int, target: float) -> dict[str, Any]:
    """A results.json entry: p95 against the target in ms, with p50 and the statement count."""
    p95 = percentile(times, 0.95)
    return {**entry(f"scale.{name}", "ms p95", p95, target, 1.0, "lower"),
            "p50_ms": round(percentile(times, 0.5), 2), "queries": queries}


def insights_cold(app: Any, get: Callable[[str], Any], counter: QueryCounter) -> dict[str, Any]:
    """The partners' scores computed on the request: every snapshot dropped before each one."""
    from tcma.services.insights import snapshots

    times, queries = [], 0
    for _ in range(COLD_REPEAT):
        with app.app_context():
            snapshots.prune(keep_days=0)
        found, most, _ = measure(get, "/api/v1/insights/partners", counter, 1, warmup=0)
        times += found
        queries = max(queries, most)
    return scale_entry("api.insights_partners_cold", times, queries, DASHBOARD)


def refresh_insights(app: Any) -> None:
    """What the maintenance pass does before a request needs it: today's default snapshots computed."""
    from tcma.services.insights.refresh import refresh_snapshots

    with app.app_context():
        refresh_snapshots(force=True)


def run_endpoints(app: Any, only: str | None, repeat: int, warmup: int = WARMUP
                  ) -> tuple[list[dict[str, Any]], list[str]]:
    from tcma.extensions import db

    with app.app_context():
        counter = QueryCounter(db.engine)
        ids = _ids(app)
    callers = clients(app)
    entries, failures = [], []
    if not only or "insights" in only:
        measure(callers["admin"], "/api/v1/insights/kpis", counter, 0)  # the app's first requests
        entries.append(insights_cold(app, callers["admin"], counter))
        _show(entries[-1], "/api/v1/insights/partners (no snapshot: computed on the request)")
        refresh_insights(app)
    for name, who, path, target in ENDPOINTS:
        if only and only not in name:
            continue
        url = path.format(**ids)
        try:
            times, queries, _ = measure(callers[who], url, counter, repeat, warmup)
        except RuntimeError as exc:
            print(f"scale.{name}: FAILED {exc}", flush=True)
            failures.append(name)
            continue
        entries.append(scale_entry(name, times, queries, target))
        _show(entries[-1], url)
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
    return entries, failures


def _show(e: dict[str, Any], what: str) -> None:
    flag = "" if e["ratio"] <= 1 else "  OVER"
    queries = "-" if e["queries"] is None else e["queries"]
    print(f"{e['name']:<46} p50 {e['p50_ms']:>8.1f}  p95 {e['value']:>8.1f} ms  "
          f"(target {e['floor']:.0f})  {queries:>3} queries  {what}{flag}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--database",
                        help="the seeded database (default: $TCMA_SCALE_DATABASE or tcma_scale)")
    parser.add_argument("--only", help="measure only entries whose name contains this")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    args = parser.parse_args(argv)
    name, required = database_for(args.database)
    size = seeded_size(name)
    if size is None:
        message = (f"bench_scale: no seeded database {name!r}; build one with "
                   f"`python bench/seed_scale.py --scale 1.0 --database {name}`")
        if required:
            print(message, file=sys.stderr)
            return 2
        print(message + " (no scale.* entries this run)")
        write(args.out, [])
        return 0
    print(f"bench_scale on {name}: {json.dumps(size)} (a busy machine reads high: compare on a quiet one)")
    app = make_app(name)
    from bench.scale_flows import run_flows

    entries, failures = run_endpoints(app, args.only, args.repeat, args.warmup)
    if not args.only or "flow" in args.only:
        for e in run_flows(app, args.repeat):
            entries.append(e)
            _show(e, "")
    write(args.out, entries)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
