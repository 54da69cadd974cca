"""Build a PostgreSQL database at the design's size for bench/bench_scale.py, with COPY.

At --scale 1.0: 10,000 partners, 100 campaigns x 5 outputs to every partner (5 M assets and their
renders), 2 M tracked links, ~20,000 social accounts with one post per campaign each (~2 M posts),
20 M events over a year and their daily rollups (derived from the events by the same key the
flusher uses), and an experiment on the ten latest campaigns. Partners' sizes follow Zipf (a few
large, most small); events follow each campaign's launch and fade over weeks.

    python bench/seed_scale.py --scale 0.01 --database tcma_scale_small   # seconds
    python bench/seed_scale.py --scale 1.0 --database tcma_scale           # about half an hour

The schema comes from the app's migrations (`flask db upgrade`); the big tables lose their
secondary indexes and foreign keys while they load and get them back, then VACUUM ANALYZE.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "scale-bench-password"
# Bearer tokens the bench signs in with (only their hashes are stored, as the app does).
TOKENS = {"admin": "scale-admin-token", "large": "scale-large-partner-token",
          "small": "scale-small-partner-token"}
# (template, output, channel, media type): every campaign renders these five for every partner.
OUTPUTS = (("solution-brief", "pdf", "print", "application/pdf"),
           ("social-card", "png", "image", "image/png"),
           ("newsletter", "email", "email", "text/html"),
           ("launch-posts", "post:linkedin", "linkedin", "text/plain"),
           ("launch-posts", "post:x", "x", "text/plain"))
LINKED_OUTPUTS = (0, 2)  # the PDF's and the email's tracked link
NETWORKS = ("linkedin", "x", "facebook", "mastodon", "bluesky")
# Event kinds with their share, and which output each happens on.
EVENT_KINDS = (("open", 0.33, (2,)), ("click", 0.32, (0, 2, 3, 4)), ("send", 0.15, (2,)),
               ("download", 0.10, (0, 1)), ("like", 0.06, (3, 4)), ("post", 0.04, (3, 4)))
CHANNELS = tuple(o[2] for o in OUTPUTS)
EXPERIMENT_CAMPAIGNS = 10  # the latest ten campaigns each run an A/B test on their variants
CHUNK = 500_000
NULL = "\\N"  # COPY text format
BIG_TABLES = ("render", "asset", "tracked_link", "social_account", "scheduled_post", "event",
              "event_rollup", "experiment_assignment", "user_account", "brand_kit", "partner")


@dataclass(frozen=True)
class Size:
    """Row counts for one scale factor."""

    partners: int
    campaigns: int
    events: int

    @classmethod
    def at(cls, scale: float) -> Size:
        return cls(partners=max(20, round(10_000 * scale)), campaigns=100,
                   events=max(1000, round(20_000_000 * scale)))


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and build the database."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.01, help="1.0: the design's full size")
    parser.add_argument("--database", default="tcma_scale", help="database name (created)")
    parser.add_argument("--replace", action="store_true", help="drop the database first if it exists")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 2:
        parser.error("--scale must be in (0, 2]")
    build(args.database, Size.at(args.scale), args.replace, args.scale)
    return 0


def build(name: str, size: Size, replace: bool, scale: float) -> None:
    """Create, migrate and fill the database `name`."""
    started = time.perf_counter()
    _create_database(name, replace)
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    now = datetime.now(UTC).replace(microsecond=0)
    _log(started, "migrating")
    version_ids = _migrate_and_catalogue(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET work_mem = '256MB'")
        saved = _drop_secondary(conn)
        seeder = Seeder(conn, size, now, version_ids, started)
        seeder.run()
        seeder.rollups()
        _log(started, "indexes and constraints back")
        for sql in saved:
            conn.execute(sql)
        _log(started, "the dashboard's and the insights' pre-summed tables")
        _summaries(url)
        _log(started, "vacuum analyze")
        conn.execute("VACUUM ANALYZE")
        conn.execute("COMMENT ON DATABASE {} IS {}".format(
            name, _literal(json.dumps({"tcma_scale": scale, "built_at": now.isoformat(),
                                       **size.__dict__}))))
    _log(started, f"done: {name}")


def _app(url: str) -> Any:
    from tcma import create_app

    return create_app({"ENV": "development", "SECRET_KEY": "scale-bench-" + "x" * 32,
                       "DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://"),
                       "STORAGE": "local", "STORAGE_PATH": storage_path(url.rsplit("/", 1)[1]),
                       "REDIS_URL": None, "CONNECTORS_BACKEND": "dryrun"})


def _summaries(url: str) -> None:
    """The pre-summed tables the event writer keeps (the dashboard's, the programme stats', the
    insights' and the experiments' running totals), from the loaded rollups and posts: the app's own
    rebuild, as `tcma events rebuild-summaries` does (the migrations ran before there were any)."""
    from tcma.services.tracking.experiment_totals import rebuild_experiment_totals
    from tcma.services.tracking.summaries import rebuild_dashboard_summaries

    with _app(url).app_context():
        rebuild_dashboard_summaries()
        rebuild_experiment_totals()


def _log(started: float, what: str) -> None:
    print(f"[{time.perf_counter() - started:7.1f} s] {what}", flush=True)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _create_database(name: str, replace: bool) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not replace:
            raise SystemExit(f"database {name} exists; pass --replace to build it again")
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    shutil.rmtree(storage_path(name), ignore_errors=True)


def storage_path(database: str) -> str:
    """Where the database's stored files (the templates' resources) live, for the bench to find."""
    return str(ROOT / "instance" / f"scale-files-{database}")


def _migrate_and_catalogue(url: str) -> dict[str, int]:
    """`flask db upgrade`, then the shipped templates, the taxonomy and 100 campaign drafts."""
    from flask_migrate import upgrade

    from tcma.extensions import db
    from tcma.models import Region, Template, Tier, Vertical
    from tcma.services.catalogue.templates import import_catalogue, latest_version

    with _app(url).app_context():
        upgrade(directory=str(ROOT / "migrations"))
        import_catalogue()
        db.session.add_all([Tier(slug=s, name=s.title(), rank=r)
                            for r, s in enumerate(("registered", "silver", "gold"))])
        db.session.add_all([Vertical(slug=s, name=s.title()) for s in VERTICALS])
        db.session.add_all([Region(slug=s, name=s.upper()) for s, _, _ in REGIONS])
        db.session.commit()
        versions = {}
        for tpl in db.session.scalars(db.select(Template)):
            versions[tpl.slug] = latest_version(tpl.id).id
        from tcma.services.accounts.users import hash_password

        versions["__password_hash__"] = hash_password(PASSWORD)
        db.engine.dispose()
    return versions


VERTICALS = ("healthcare", "finance", "retail", "manufacturing", "public", "education")
REGIONS = (("na", "en-US", "America/New_York"), ("emea", "de-DE", "Europe/Berlin"),
           ("uk", "en-GB", "Europe/London"), ("apac", "en-AU", "Australia/Sydney"))


def _drop_secondary(conn: psycopg.Connection) -> list[str]:
    """Drop the big tables' unique/foreign keys and secondary indexes; return the SQL that restores them."""
    tables = list(BIG_TABLES)
    restore = []
    constraints = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
        "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(%s) AND c.contype IN ('u', 'f') "
        "OR (c.contype = 'f' AND c.confrelid::regclass::text = ANY(%s))", (tables, tables)).fetchall()
    for table, con, _definition, _ in constraints:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS "{con}"')
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary", (tables,)).fetchall()
    for index, definition in indexes:
        conn.execute(f"DROP INDEX IF EXISTS {index}")
        restore.append(definition)
    restore += [f'ALTER TABLE {table} ADD CONSTRAINT "{con}" {definition}'
                for table, con, definition, kind in sorted(constraints, key=lambda c: c[3] == "f")]
    return restore


class Seeder:
    """Generates and COPYs the rows; ids are laid out so that rows can name each other by arithmetic."""

    def __init__(self, conn: psycopg.Connection, size: Size, now: datetime,
                 version_ids: dict[str, int], started: float) -> None:
        self.conn, self.size, self.now, self.started = conn, size, now, started
        self.password_hash = version_ids.pop("__password_hash__")
        self.versions = version_ids
        self.rng = np.random.default_rng(20261128)
        ranks = np.arange(1, size.partners + 1, dtype=float)
        self.weights = (1 / ranks) / (1 / ranks).sum()  # partner 1 the largest (Zipf, s = 1)
        first = now - timedelta(days=365)
        # Campaign c launches at an even pace over the year; the last ones are days old.
        self.launch = [first + timedelta(days=360 * c / size.campaigns) for c in range(size.campaigns)]
        self.accounts: list[tuple[int, int, str]] = []  # (account id, partner id, network)

    def run(self) -> None:
        for step in (self.partners, self.users, self.campaigns, self.renders_and_assets,
                     self.links, self.social, self.posts, self.experiments, self.events):
            _log(self.started, step.__name__)
            step()

    def copy(self, table: str, columns: tuple[str, ...], lines) -> None:
        """COPY text lines (tab-separated, \\N for NULL) into `table`, in chunks."""
        with self.conn.cursor() as cur, cur.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            count = 0
            for line in lines:
                buffer.write(line)
                count += 1
                if count % 50_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())

    def asset_id(self, campaign: int, partner: int, output: int) -> int:
        """Ids of campaign c's assets: partner-major, five outputs each (partner numbers from 0)."""
        return 1 + (campaign * self.size.partners + partner) * len(OUTPUTS) + output

    def link_id(self, campaign: int, partner: int, linked: int) -> int:
        return 1 + (campaign * self.size.partners + partner) * len(LINKED_OUTPUTS) + linked

    def partners(self) -> None:
        p, ts = self.size.partners, self.now - timedelta(days=400)
        tiers = self.rng.choice([1, 2, 3], size=p, p=[0.7, 0.22, 0.08])
        tiers[: max(1, p // 100)] = 3  # the largest are gold
        regions = self.rng.integers(0, len(REGIONS), size=p)
        self.copy("partner", ("id", "name", "slug", "tier_id", "vertical_id", "region_id", "locale",
                              "time_zone", "status", "created_at", "updated_at"),
                  (f"{i + 1}\tPartner {i + 1:05d} Solutions\tpartner-{i + 1:05d}\t{tiers[i]}\t"
                   f"{1 + i % len(VERTICALS)}\t{regions[i] + 1}\t{REGIONS[regions[i]][1]}\t"
                   f"{REGIONS[regions[i]][2]}\t{'suspended' if i % 97 == 96 else 'active'}\t{ts}\t{ts}\n"
                   for i in range(p)))
        self.copy("brand_kit", ("id", "partner_id", "primary_color", "secondary_color", "contact_name",
                                "contact_email", "website", "created_at", "updated_at"),
                  (f"{i + 1}\t{i + 1}\t#1F4E79\t#F2A900\tSam Meyer\tsales@partner-{i + 1}.example\t"
                   f"https://www.partner-{i + 1}.example\t{ts}\t{ts}\n" for i in range(p)))

    def users(self) -> None:
        ts = self.now - timedelta(days=400)
        rows = [f"1\tadmin@scale.test\t{self.password_hash}\tadmin\t\\N\tt\t{ts}\t{ts}\n",
                f"2\tmarketer@scale.test\t{self.password_hash}\tmarketer\t\\N\tt\t{ts}\t{ts}\n"]
        rows += [f"{i + 3}\tuser@partner-{i + 1:05d}.test\t{self.password_hash}\tpartner_admin\t{i + 1}"
                 f"\tt\t{ts}\t{ts}\n" for i in range(self.size.partners)]
        self.copy("user_account", ("id", "email", "password_hash", "role", "partner_id", "is_active",
                                   "created_at", "updated_at"), rows)
        from tcma.services.accounts.auth import hash_token

        small = self.size.partners  # the smallest partner: user id partners + 2
        users = {"admin": 1, "large": 3, "small": small + 2}
        self.copy("api_token", ("user_id", "name", "token_hash", "prefix", "created_at"),
                  (f"{users[who]}\tscale bench\t{hash_token(raw)}\t{raw[:8]}\t{ts}\n"
                   for who, raw in TOKENS.items()))
        for table in ("partner", "brand_kit", "user_account", "api_token"):
            self.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))")

    def campaigns(self) -> None:
        rows, outputs = [], []
        for c in range(self.size.campaigns):
            at = self.launch[c]
            status = "completed" if c < self.size.campaigns - 20 else "running"
            rows.append(f"{c + 1}\tCampaign {c + 1:03d}\tcampaign-{c + 1:03d}\t{status}\t{{}}\t{at}\t"
                        f"{at}\t1\t{at - timedelta(days=3)}\t{at}\n")
            for o, (template, output, channel, _) in enumerate(OUTPUTS):
                outputs.append(f"{c * len(OUTPUTS) + o + 1}\t{c + 1}\t{self.versions[template]}\t"
                               f"{output}\t{channel}\n")
        self.copy("campaign", ("id", "name", "slug", "status", "segment", "starts_at", "launched_at",
                               "created_by_id", "created_at", "updated_at"), rows)
        self.copy("campaign_output", ("id", "campaign_id", "template_version_id", "output", "channel"),
                  outputs)
        self.destination = self.conn.execute(
            "INSERT INTO destination (name, url, created_at, updated_at) VALUES ('scale product page',"
            " 'https://vendor.example/product', now(), now()) RETURNING id").fetchone()[0]
        self._set_sequences("campaign", "campaign_output")

    def variant(self, campaign: int, partner: int, output: int) -> str | None:
        if campaign < self.size.campaigns - EXPERIMENT_CAMPAIGNS or output == 0:
            return None
        return "ab"[(partner * 7919 + campaign) % 2]

    def renders_and_assets(self) -> None:
        c_count, p_count = self.size.campaigns, self.size.partners
        failed = set(self.rng.choice(c_count * p_count * len(OUTPUTS),
                                     size=c_count * p_count * len(OUTPUTS) // 200, replace=False).tolist())

        def renders():
            for c in range(c_count):
                at = self.launch[c] + timedelta(minutes=5)
                for p in range(p_count):
                    for o, (_, _, _, media) in enumerate(OUTPUTS):
                        i = self.asset_id(c, p, o)
                        if i - 1 not in failed:
                            yield (f"{i}\t{i:064x}\trenders/{i:064x}\t{media}\t{40_000 + i % 90_000}"
                                   f"\t[]\t{at}\n")

        def assets():
            for c in range(c_count):
                at, version = self.launch[c], [self.versions[o[0]] for o in OUTPUTS]
                for p in range(p_count):
                    for o, (_, output, _, _) in enumerate(OUTPUTS):
                        i = self.asset_id(c, p, o)
                        bad = i - 1 in failed
                        variant = self.variant(c, p, o) or "\\N"
                        yield (f"{i}\t{p + 1}\t{c + 1}\t{c * len(OUTPUTS) + o + 1}\t{version[o]}\t{output}\t"
                               f"{variant}\t{{}}\t{'failed' if bad else 'done'}\t{i:064x}\t"
                               f"{NULL if bad else i}\t{'render timed out' if bad else NULL}\t1\t"
                               f"{at}\t{at}\n")

        self.copy("render", ("id", "key", "storage_key", "media_type", "size", "warnings", "created_at"),
                  renders())
        _log(self.started, "assets")
        self.copy("asset", ("id", "partner_id", "campaign_id", "campaign_output_id", "template_version_id",
                            "output", "variant", "fields", "status", "inputs_hash", "render_id", "error",
                            "attempts", "created_at", "updated_at"), assets())
        self._set_sequences("render", "asset")

    def links(self) -> None:
        def rows():
            for c in range(self.size.campaigns):
                at = self.launch[c]
                for p in range(self.size.partners):
                    for k, o in enumerate(LINKED_OUTPUTS):
                        i = self.link_id(c, p, k)
                        yield (f"{i}\tL{i:x}\t{p + 1}\t{c + 1}\t{self.asset_id(c, p, o)}\t{CHANNELS[o]}\t"
                               f"{self.variant(c, p, o) or NULL}\t{self.destination}\t{at}\n")

        self.copy("tracked_link", ("id", "code", "partner_id", "campaign_id", "asset_id", "channel",
                                   "variant", "destination_id", "created_at"), rows())
        self._set_sequences("tracked_link")

    def social(self) -> None:
        """Two accounts (LinkedIn, X) per partner, all five networks for the largest 1 %."""
        ts, rows = self.now - timedelta(days=380), []
        for p in range(self.size.partners):
            for network in NETWORKS if p < max(1, self.size.partners // 100) else NETWORKS[:2]:
                account = len(self.accounts) + 1
                self.accounts.append((account, p, network))
                rows.append(f"{account}\t{p + 1}\t{network}\t@partner{p + 1}\t{ts}\t{ts}\t"
                            f"{'t' if p % 3 else 'f'}\tt\n")
        self.copy("social_account", ("id", "partner_id", "network", "handle", "created_at", "updated_at",
                                     "auto_publish", "is_active"), rows)
        plans = [f"{c + 1}\t{c + 1}\tCampaign {c + 1:03d} posts\t{json.dumps(list(NETWORKS))}\t"
                 f"{json.dumps(self.window(c))}\tf\tf\tactive\t[]\t"
                 f"{self.launch[c]}\t{self.launch[c]}\n" for c in range(self.size.campaigns)]
        self.copy("post_plan", ("id", "campaign_id", "name", "networks", "timing", "requires_approval",
                                "allow_late", "status", "skipped", "created_at", "updated_at"), plans)
        self._set_sequences("social_account", "post_plan")

    def window(self, campaign: int) -> dict[str, str]:
        """The plan's timing: a window over the fortnight after launch (as its posts are spread)."""
        start = self.launch[campaign] + timedelta(days=2)
        return {"kind": "window", "start_local": start.strftime("%Y-%m-%dT%H:%M"),
                "end_local": (start + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")}

    def posts(self) -> None:
        """One post per campaign and account over two weeks after launch: the past ones published."""
        outcome = self.rng.random(self.size.campaigns * len(self.accounts))

        def rows():
            i = 0
            for c in range(self.size.campaigns):
                for account, p, network in self.accounts:
                    i += 1
                    # Spread over the fortnight after launch: the latest campaigns' are still ahead.
                    when = self.launch[c] + timedelta(days=2, hours=account % 336)
                    o = 3 if network == "linkedin" else 4 if network == "x" else None
                    asset = self.asset_id(c, p, o) if o else "\\N"
                    if when > self.now:
                        status, published = ("scheduled" if account % 3 else "awaiting_approval"), "\\N"
                    else:
                        r = outcome[i - 1]
                        status = "published" if r < 0.95 else "failed" if r < 0.98 else "expired"
                        published = when if status == "published" else "\\N"
                    yield (f"{i}\t{account}\t{p + 1}\t{c + 1}\t{c + 1}\t{asset}\t"
                           f"{(self.variant(c, p, o) if o else None) or NULL}\tNew from Partner {p + 1}: "
                           f"campaign {c + 1} https://t.example/L{i:x}\t{when}\t{status}\tpost-{i}\t"
                           f"{0 if status == 'scheduled' else 1}\t{published}\t{when}\t{when}\n")

        self.copy("scheduled_post", ("id", "social_account_id", "partner_id", "campaign_id", "plan_id",
                                     "asset_id", "variant", "text", "scheduled_at", "status",
                                     "idempotency_key", "attempts", "published_at", "created_at",
                                     "updated_at"), rows())
        self._set_sequences("scheduled_post")

    def experiments(self) -> None:
        first = self.size.campaigns - EXPERIMENT_CAMPAIGNS
        for n, c in enumerate(range(first, self.size.campaigns)):
            at = self.launch[c]
            self.conn.execute(
                "INSERT INTO experiment (id, campaign_id, name, metric, status, confidence, min_sample,"
                " auto_decide, unit, method, salt, strata, min_runtime_days, max_runtime_days,"
                " max_machine_share_gap, started_at, created_at, updated_at) VALUES (%s, %s, %s,"
                " 'click', 'running', 0.95, 100, false, 'partner', %s, 'scale', '[]', 7, 28, 0.1,"
                " %s, %s, %s)", (n + 1, c + 1, f"Card A/B {c + 1}",
                                 "bayesian" if n % 2 else "sequential", at, at, at))
            self.conn.execute("INSERT INTO variant (experiment_id, name, weight) VALUES "
                              "(%s, 'a', 1), (%s, 'b', 1)", (n + 1, n + 1))
            self.copy("experiment_assignment", ("experiment_id", "partner_id", "variant", "stratum",
                                                "assigned_at"),
                      (f"{n + 1}\t{p + 1}\t{self.variant(c, p, 1)}\t\t{at}\n"
                       for p in range(self.size.partners)))
        self._set_sequences("experiment", "variant", "experiment_assignment")

    def events(self) -> None:
        """Events after each campaign's launch, fading over weeks; partners by weight; 4 % bots."""
        total, done = self.size.events, 0
        kinds = [k for k, _, _ in EVENT_KINDS]
        shares = np.array([s for _, s, _ in EVENT_KINDS])
        while done < total:
            n = min(CHUNK, total - done)
            self.copy("event", ("id", "uid", "kind", "occurred_at", "partner_id", "campaign_id",
                                "asset_id", "link_id", "channel", "variant", "visitor", "is_bot",
                                "bot_reason", "is_unique", "data"), self._event_rows(done, n, kinds, shares))
            done += n
            _log(self.started, f"events {done:,}/{total:,}")
        self._set_sequences("event")

    def _event_rows(self, start: int, n: int, kinds: list[str], shares: np.ndarray):
        rng, size = self.rng, self.size
        partner = rng.choice(size.partners, size=n, p=self.weights).tolist()
        campaign = rng.integers(0, size.campaigns, size=n).tolist()
        kind = rng.choice(len(kinds), size=n, p=shares / shares.sum()).tolist()
        pick = rng.random(n).tolist()
        delay = rng.exponential(14 * 86400, size=n).tolist()
        bot = (rng.random(n) < 0.04).tolist()
        unique = (rng.random(n) < 0.7).tolist()
        visitor = rng.integers(0, 2**40, size=n).tolist()
        launch = [t.timestamp() for t in self.launch]
        now = self.now.timestamp()
        for j in range(n):
            c, p, k = campaign[j], partner[j], kind[j]
            outs = EVENT_KINDS[k][2]
            o = outs[int(pick[j] * len(outs))]
            at = min(launch[c] + 300 + delay[j], now - 60 * (j % 1000))
            if at < launch[c]:
                at = launch[c] + 60
            link = ("\\N" if o not in LINKED_OUTPUTS or kinds[k] != "click"
                    else self.link_id(c, p, LINKED_OUTPUTS.index(o)))
            variant = self.variant(c, p, o) or "\\N"
            is_bot = bot[j]
            yield (f"{start + j + 1}\te{start + j + 1:x}\t{kinds[k]}\t"
                   f"{datetime.fromtimestamp(at, UTC).isoformat()}\t{p + 1}\t{c + 1}\t"
                   f"{self.asset_id(c, p, o)}\t{link}\t{CHANNELS[o]}\t{variant}\tv{visitor[j]:x}\t"
                   f"{'t' if is_bot else 'f'}\t{'scanner' if is_bot else NULL}\t"
                   f"{'t' if unique[j] and not is_bot else 'f'}\t{{}}\n")

    def rollups(self) -> None:
        """Daily rollups by the flusher's key, from the events themselves."""
        _log(self.started, "rollups")
        self.conn.execute(
            "INSERT INTO event_rollup (campaign_id, asset_id, variant, partner_id, channel, day, kind,"
            " total, uniques, bots) SELECT coalesce(campaign_id, 0), coalesce(asset_id, 0),"
            " coalesce(variant, ''), coalesce(partner_id, 0), coalesce(channel, ''),"
            " (occurred_at AT TIME ZONE 'UTC')::date, kind, count(*) FILTER (WHERE NOT is_bot),"
            " count(*) FILTER (WHERE is_unique AND NOT is_bot), count(*) FILTER (WHERE is_bot)"
            " FROM event GROUP BY 1, 2, 3, 4, 5, 6, 7")

    def _set_sequences(self, *tables: str) -> None:
        for table in tables:
            self.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")


if __name__ == "__main__":
    sys.exit(main())
