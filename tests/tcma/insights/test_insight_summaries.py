"""The insights read the daily per-partner summary (kept by the event writer) and probe each
partner's first and last use: their numbers equal a recompute from the rows themselves."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import (
    Asset,
    Customization,
    EventRollup,
    PartnerTemplateUse,
    ScheduledPost,
    SocialAccount,
    TemplateVersion,
)
from tcma.services.accounts.auth import OPERATOR
from tcma.services.insights.activity import activity_in_periods, first_use_by_partner, last_active_by_partner
from tcma.services.insights.score import Activity
from tcma.services.syndication.accounts import disconnect
from tcma.services.tracking.events import Visit, record_event
from tcma.services.tracking.summaries import rebuild_dashboard_summaries
from tests.support.factories import make_taxonomy, make_user
from tests.tcma.insights.history import AS_OF, asset, customization, partner, post, rollup, template

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
PERIODS = [(AS_OF - timedelta(days=89), AS_OF), (AS_OF - timedelta(days=29), AS_OF),
           (AS_OF - timedelta(days=119), AS_OF - timedelta(days=30)), (date(2026, 2, 1), date(2026, 2, 28))]


@pytest.fixture
def history(app):
    """Five partners with a random (seeded) year of rollups, posts, customizations and renders."""
    taxonomy = make_taxonomy()
    rng = random.Random(17)
    versions = [template("brochure"), template("flyer")]
    partners = [partner(taxonomy, date(2025, 6, 1), f"Partner {n}") for n in range(5)]
    for who in partners[:4]:  # the fifth has done nothing
        made = [asset(who, version, date(2025, 6, 2)) for version in versions]
        keys = set()
        for _ in range(25):
            day = AS_OF - timedelta(days=rng.randrange(0, 365))
            kind = rng.choice(("download", "send", "click", "post", "open", "like"))
            on = rng.choice([None, *made])
            if (day, kind, on) in keys:  # one rollup row per key
                continue
            keys.add((day, kind, on))
            total = rng.randrange(0, 6)
            rollup(who, kind, day, total, uniques=rng.randrange(0, total + 1), bots=rng.randrange(0, 3),
                   asset=on)
        for _ in range(4):
            day = AS_OF - timedelta(days=rng.randrange(0, 200))
            post(who, approved=day if rng.random() < 0.7 else None,
                 published=day + timedelta(days=1) if rng.random() < 0.6 else None, of=rng.choice(made))
            asset(who, rng.choice(versions), AS_OF - timedelta(days=rng.randrange(0, 200)),
                  self_served=rng.random() < 0.5)
        customization(who, versions[0], AS_OF - timedelta(days=rng.randrange(0, 200)))
    return partners


def _day(value: datetime) -> date:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()


def _recomputed(start: date, end: date) -> dict[int, Activity]:
    """The activity from every row, added up in Python (what the summary must equal)."""
    counts: dict[int, dict[str, int]] = {}

    def add(pid: int, name: str, n: int) -> None:
        if n:
            counts.setdefault(pid, {}).setdefault(name, 0)
            counts[pid][name] += n

    for r in db.session.scalars(select(EventRollup)):
        if r.partner_id and start <= r.day <= end:
            name = {"download": "downloads", "send": "sends", "click": "clicks"}.get(r.kind)
            if name:
                add(r.partner_id, name, r.uniques if r.kind == "click" else r.total)
    for c in db.session.scalars(select(Customization)):
        add(c.partner_id, "customizations", int(start <= _day(c.updated_at) <= end))
    for a in db.session.scalars(select(Asset).where(Asset.campaign_id.is_(None))):
        add(a.partner_id, "customizations", int(start <= _day(a.created_at) <= end))
    for p in db.session.scalars(select(ScheduledPost)):
        if p.approved_by_id is not None and p.approved_at is not None:
            add(p.partner_id, "posts_approved", int(start <= _day(p.approved_at) <= end))
        if p.status == "published" and p.published_at is not None:
            add(p.partner_id, "posts_published", int(start <= _day(p.published_at) <= end))
    return {pid: Activity(**values) for pid, values in counts.items()}


def _own_days(as_of: date) -> dict[int, list[date]]:
    days: dict[int, list[date]] = {}
    for r in db.session.scalars(select(EventRollup)):
        if r.partner_id and r.total > 0 and r.kind in ("download", "send", "post") and r.day <= as_of:
            days.setdefault(r.partner_id, []).append(r.day)
    moments = [(c.partner_id, c.created_at) for c in db.session.scalars(select(Customization))]
    moments += [(c.partner_id, c.updated_at) for c in db.session.scalars(select(Customization))]
    moments += [(a.partner_id, a.created_at) for a in db.session.scalars(
        select(Asset).where(Asset.campaign_id.is_(None)))]
    for p in db.session.scalars(select(ScheduledPost)):
        if p.approved_by_id is not None and p.approved_at is not None:
            moments.append((p.partner_id, p.approved_at))
        if p.status == "published" and p.published_at is not None:
            moments.append((p.partner_id, p.published_at))
    for pid, moment in moments:
        if _day(moment) <= as_of:
            days.setdefault(pid, []).append(_day(moment))
    return days


def _nonzero(found: dict[int, Activity]) -> dict[int, Activity]:
    return {pid: act for pid, act in found.items() if act != Activity()}


def test_activity_from_the_summary_equals_a_recompute_from_every_row(history):
    ids = [p.id for p in history]
    fast = activity_in_periods(PERIODS, ids)
    for found, (start, end) in zip(fast, PERIODS, strict=True):
        assert _nonzero(found) == _nonzero(_recomputed(start, end)), (start, end)
    assert any(_nonzero(found) for found in fast)  # the history reaches every period


def test_first_and_last_use_from_probes_equal_a_recompute(history):
    ids = [p.id for p in history]
    for as_of in (AS_OF, AS_OF - timedelta(days=100)):
        days = _own_days(as_of)
        assert last_active_by_partner(as_of, ids) == {pid: max(d) for pid, d in days.items()}
        assert first_use_by_partner(as_of, ids) == {pid: min(d) for pid, d in days.items()}
    assert history[4].id not in last_active_by_partner(AS_OF, ids)


def _first_uses() -> list[tuple]:
    """Each (template, kind, partner)'s first day, recomputed through the rollups' and posts' assets."""
    pairs = [tuple(row) for row in db.session.execute(
        select(TemplateVersion.template_id, EventRollup.kind, Asset.partner_id, func.min(EventRollup.day))
        .select_from(EventRollup).join(Asset, Asset.id == EventRollup.asset_id)
        .join(TemplateVersion, TemplateVersion.id == Asset.template_version_id)
        .where(EventRollup.kind.in_(("download", "send")), EventRollup.total > 0)
        .group_by(TemplateVersion.template_id, EventRollup.kind, Asset.partner_id))]
    posted: dict[tuple, date] = {}
    for p in db.session.scalars(select(ScheduledPost).where(ScheduledPost.status == "published")):
        made = db.session.get(Asset, p.asset_id)
        key = (db.session.get(TemplateVersion, made.template_version_id).template_id, "post", made.partner_id)
        posted[key] = min(posted.get(key, _day(p.published_at)), _day(p.published_at))
    return sorted(pairs + [(*key, day) for key, day in posted.items()])


def _kept() -> list[tuple]:
    return sorted(tuple(row) for row in db.session.execute(select(
        PartnerTemplateUse.template_id, PartnerTemplateUse.kind, PartnerTemplateUse.partner_id,
        PartnerTemplateUse.first_day)))


def test_first_downloads_sends_and_posts_per_template_equal_a_recompute_through_the_assets(history):
    assert _kept() == _first_uses()
    assert {kind for _, kind, _, _ in _kept()} == {"download", "send", "post"}


def test_a_disconnected_account_takes_its_posts_out_of_the_adoption(history):
    who = history[0]
    before = [row for row in _kept() if row[1] == "post" and row[2] == who.id]
    account = db.session.scalar(select(SocialAccount).where(SocialAccount.partner_id == who.id))
    disconnect(OPERATOR, account.id)
    assert before and not [row for row in _kept() if row[1] == "post" and row[2] == who.id]
    assert _kept() == _first_uses()


def test_scores_flags_and_kpis_are_unchanged_by_rebuilding_the_summary(client, history):
    _, headers = make_user("marketer")
    urls = ["/api/v1/insights/partners?as_of=2026-06-30&per_page=100",
            f"/api/v1/insights/partners/{history[0].id}?as_of=2026-06-30",
            "/api/v1/insights/kpis?as_of=2026-06-30"]
    before = [client.get(url, headers=headers).get_json() for url in urls]
    rebuild_dashboard_summaries()
    assert [client.get(url, headers=headers).get_json() for url in urls] == before
    assert before[0]["total"] == 5
    assert sum(row["downloaded"] + row["sent"] for row in before[2]["adoption"]) > 0


def test_events_the_writer_stores_count_at_once(client, app):
    who = partner(make_taxonomy(), date(2026, 1, 10), "Echo BV")
    today = datetime.now(UTC).date()
    for n in range(3):
        record_event("download", who.id, channel="download", visit=Visit.of("GET", BROWSER, f"10.0.0.{n}"))
    record_event("send", who.id, channel="email", visit=Visit.of("GET", BROWSER, "10.0.0.9"))
    [found] = activity_in_periods([(today, today)], [who.id])
    assert found[who.id] == Activity(downloads=3, sends=1)
    assert last_active_by_partner(today, [who.id]) == {who.id: today}


def test_the_migration_fills_the_insights_columns_from_the_rollups_and_downgrades(tmp_path):
    from sqlalchemy import text

    from tcma import create_app
    from tests.support.apps import base_config

    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/old.db"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0020_keyset_indexes"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        rollups = [(1, "download", 4, 4), (2, "click", 6, 5), (3, "post", 2, 2), (4, "open", 9, 9),
                   (5, "send", 3, 1)]
        for rollup_id, kind, total, uniques in rollups:
            conn.execute(text("INSERT INTO event_rollup (id, campaign_id, asset_id, variant, partner_id, "
                              "channel, day, kind, total, uniques, bots) VALUES "
                              "(:i, 0, :i, '', 7, 'email', '2026-06-02', :k, :t, :u, 1)"),
                         {"i": rollup_id, "k": kind, "t": total, "u": uniques})
        conn.execute(text("INSERT INTO partner_daily_engagement (day, partner_id, engagement) "
                          "VALUES ('2026-06-02', 7, 15)"))
    assert runner.invoke(args=["db", "upgrade", "0021_insight_summaries"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(text("SELECT partner_id, engagement, downloads, sends, clicks, own_actions "
                                 "FROM partner_daily_engagement")).all()
        used = conn.execute(text("SELECT count(*) FROM partner_template_use")).scalar()
    assert [tuple(r) for r in rows] == [(7, 15, 4, 3, 5, 9)]
    assert used == 0  # the rollups name no stored asset
    assert runner.invoke(args=["db", "downgrade", "0020_keyset_indexes"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(partner_daily_engagement)"))]
        indexes = {row[1] for row in conn.execute(text("PRAGMA index_list(scheduled_post)"))}
        tables = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
    assert columns == ["day", "partner_id", "engagement"]
    assert "partner_template_use" not in tables
    assert "ix_scheduled_post_partner_published" not in indexes
