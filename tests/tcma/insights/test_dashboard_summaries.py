"""The programme dashboard's pre-summed tables: kept in step by the event writer (each event once),
moved with a partner that changes tier or region, rebuilt by a command and by the migration, and
the top partners ranked from them exactly as from the rollups."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import delete, select, text

from tcma import create_app
from tcma.extensions import db
from tcma.models import PartnerDailyEngagement, ProgrammeDailyRollup
from tcma.services.tracking.ingest import write_events
from tcma.services.tracking.summaries import rebuild_dashboard_summaries
from tests.support.apps import base_config
from tests.support.factories import make_taxonomy, make_user
from tests.tcma.insights.history import partner
from tests.tcma.insights.test_dashboards import PERIOD, add, api
from tests.tcma.insights.test_dashboards import world as world  # noqa: F401 (the fixture)


def summary_rows() -> tuple[list[tuple], list[tuple]]:
    """Both tables' rows (ids aside), sorted, as the dashboard would read them."""
    db.session.rollback()
    programme = sorted(tuple(r) for r in db.session.execute(select(
        ProgrammeDailyRollup.day, ProgrammeDailyRollup.kind, ProgrammeDailyRollup.channel,
        ProgrammeDailyRollup.variant, ProgrammeDailyRollup.campaign_id, ProgrammeDailyRollup.tier_id,
        ProgrammeDailyRollup.region_id, ProgrammeDailyRollup.total, ProgrammeDailyRollup.uniques,
        ProgrammeDailyRollup.bots)))
    engagement = sorted(tuple(r) for r in db.session.execute(select(
        PartnerDailyEngagement.day, PartnerDailyEngagement.partner_id, PartnerDailyEngagement.engagement)))
    return programme, engagement


def wire_event(kind: str, who, at: float, *, visitor: str | None = None, bot: str | None = None,
               channel: str = "email", variant: str = "a") -> dict:
    """An event in the buffer's wire format, as the web processes ship them."""
    return {"uid": uuid.uuid4().hex, "kind": kind, "at": at, "partner_id": who.id, "campaign_id": None,
            "asset_id": None, "link_id": None, "channel": channel, "variant": variant, "send_id": None,
            "visitor": visitor, "bot": bot, "data": {}}


def test_events_written_twice_are_summed_once_and_match_the_stats_api(client):
    taxonomy = make_taxonomy()
    acme = partner(taxonomy, date(2026, 1, 10), "Acme AG", tier=1)
    bolt = partner(taxonomy, date(2026, 1, 10), "Bolt")
    now = time.time() - 60
    batch = [wire_event("click", acme, now, visitor="v1"), wire_event("click", acme, now + 1, visitor="v2"),
             wire_event("click", acme, now + 2, visitor="v1"),
             wire_event("click", acme, now + 3, visitor="v3", bot="agent"),
             wire_event("download", acme, now + 4, channel="print"),
             wire_event("download", acme, now + 5, channel="print"),
             wire_event("post", bolt, now + 6, channel="mastodon")]
    assert write_events(batch) == 7
    assert write_events(batch) == 0  # a flusher re-writing its batch after a crash
    today = datetime.fromtimestamp(now, UTC).date()
    _, headers = make_user("marketer")
    board = api(client, headers, f"start={today}&end={today}")
    shown = ("clicked", "unique_clicks", "machines", "downloaded", "posted")
    assert {k: board["totals"][k] for k in shown} == {
        "clicked": 3, "unique_clicks": 2, "machines": 1, "downloaded": 2, "posted": 1}
    assert [(r["label"], r["clicked"] + r["downloaded"] + r["posted"]) for r in board["top_partners"]] == [
        ("Acme AG", 5), ("Bolt", 1)]
    assert {r["label"]: r["clicked"] for r in board["by_tier"]} == {"Gold": 3, "Silver": 0}
    stats = client.get(f"/api/v1/stats?start={today}&end={today}", headers=headers).get_json()["totals"]
    assert (stats["click"]["count"], stats["download"]["count"], stats["post"]["count"]) == (3, 2, 1)
    written = summary_rows()
    rebuild_dashboard_summaries()
    assert summary_rows() == written  # what the writer added is what the rollups hold


def test_a_partner_moved_to_another_tier_and_region_takes_its_numbers_along(client, world):
    _, headers = make_user("marketer")
    before = api(client, headers, PERIOD)
    assert {r["label"]: r["clicked"] for r in before["by_tier"]} == {"Gold": 50, "Silver": 7}
    moved = client.patch(f"/api/v1/partners/{world['bolt'].id}", json={"tier": "gold", "region": "emea"},
                         headers=headers)
    assert moved.status_code == 200, moved.get_json()
    after = api(client, headers, PERIOD)
    assert {r["label"]: (r["clicked"], r["opened"]) for r in after["by_tier"]} == {"Gold": (57, 12)}
    assert {r["label"]: (r["clicked"], r["machines"]) for r in after["by_region"]} == {"EMEA": (57, 41)}
    assert after["totals"] == before["totals"] and after["by_channel"] == before["by_channel"]
    written = summary_rows()
    rebuild_dashboard_summaries()
    assert summary_rows() == written


def test_an_unknown_tier_changes_neither_the_partner_nor_the_numbers(client, world):
    _, headers = make_user("marketer")
    written = summary_rows()
    refused = client.patch(f"/api/v1/partners/{world['bolt'].id}", json={"tier": "diamond"}, headers=headers)
    assert refused.status_code == 422
    assert "diamond" in refused.get_json()["message"]
    assert summary_rows() == written
    tiers = api(client, headers, PERIOD)["by_tier"]
    assert {r["label"]: r["clicked"] for r in tiers} == {"Gold": 50, "Silver": 7}


def test_the_top_ten_breaks_ties_by_name_across_the_tenth_place(client):
    taxonomy = make_taxonomy()
    names = ["Kilo", "Alpha", "Juliet", "Bravo", "India", "Charlie", "Hotel", "Delta", "Golf", "Echo",
             "Foxtrot", "Lima"]
    june = date(2026, 6, 5)
    for number, name in enumerate(names):
        who = partner(taxonomy, date(2026, 1, 10), name)
        add(who, "click", june, 2 if name == "Lima" else 1)
        add(who, "open", june, 100 * number)  # opens do not rank
    quiet = partner(taxonomy, date(2026, 1, 10), "Aardvark")
    add(quiet, "open", june, 5)
    _, headers = make_user("marketer")
    board = api(client, headers, PERIOD)
    assert [r["label"] for r in board["top_partners"]] == [
        "Lima", "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India"]
    assert board["top_partners"][1]["opened"] == 100


def test_the_rebuild_command_restores_the_summaries_from_the_rollups(client, runner, world):
    _, headers = make_user("marketer")
    before = api(client, headers, PERIOD)
    db.session.execute(delete(ProgrammeDailyRollup))
    db.session.execute(delete(PartnerDailyEngagement))
    db.session.commit()
    assert api(client, headers, PERIOD)["totals"]["clicked"] == 0
    result = runner.invoke(args=["events", "rebuild-summaries"])
    assert result.exit_code == 0, result.output
    assert result.output == ("programme_daily_rollup: 8 rows; partner_daily_engagement: 5 rows; "
                             "insight snapshots recomputed: 2; experiment_partner_total: 0 rows\n")
    assert api(client, headers, PERIOD) == before


def test_the_migration_backfills_from_the_rollups_and_downgrades(tmp_path):
    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/old.db"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0012_asset_quality"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("INSERT INTO tier (id, slug, name, rank, created_at, updated_at) "
                          "VALUES (3, 't', 'T', 1, '2026-01-01', '2026-01-01')"))
        for table in ("vertical", "region"):
            conn.execute(text(f"INSERT INTO {table} (id, slug, name, created_at, updated_at) "
                              "VALUES (4, 'x', 'X', '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO partner (id, name, slug, tier_id, vertical_id, region_id, locale, "
                          "time_zone, status, created_at, updated_at) VALUES "
                          "(1, 'P', 'p', 3, 4, 4, 'en', 'UTC', 'active', '2026-01-01', '2026-01-01')"))
        rollups = [(1, 1, 11, "click", 4, 3, 1), (2, 1, 12, "click", 6, 5, 0), (3, 1, 0, "open", 9, 9, 2),
                   (4, 0, 0, "click", 1, 1, 0)]
        for rollup_id, partner_id, asset_id, kind, total, uniques, bots in rollups:
            conn.execute(text("INSERT INTO event_rollup (id, campaign_id, asset_id, variant, partner_id, "
                              "channel, day, kind, total, uniques, bots) VALUES "
                              "(:i, 0, :a, '', :p, 'email', '2026-06-02', :k, :t, :u, :b)"),
                         {"i": rollup_id, "a": asset_id, "p": partner_id, "k": kind, "t": total, "u": uniques,
                          "b": bots})
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        programme = sorted(conn.execute(text(
            "SELECT kind, tier_id, region_id, total, uniques, bots FROM programme_daily_rollup")).all())
        engagement = conn.execute(text("SELECT partner_id, engagement FROM partner_daily_engagement")).all()
    assert [tuple(r) for r in programme] == [("click", 0, 0, 1, 1, 0), ("click", 3, 4, 10, 8, 1),
                                             ("open", 3, 4, 9, 9, 2)]
    assert [tuple(r) for r in engagement] == [(1, 10)]
    assert runner.invoke(args=["db", "downgrade", "0012_asset_quality"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        tables = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
    assert "programme_daily_rollup" not in tables and "partner_daily_engagement" not in tables
    assert "event_rollup" in tables
