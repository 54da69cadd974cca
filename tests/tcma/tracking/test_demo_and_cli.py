"""Demo traffic through the real endpoint, and the operator commands."""

from __future__ import annotations

from tcma.demo.traffic import simulate_demo_traffic
from tcma.services.tracking.stats import format_stats


def test_demo_traffic_counts_people_and_reports_bots_apart(app, world):
    traffic = simulate_demo_traffic(seed=3, people=12, campaign_id=world["campaign"].id)
    assert traffic.sent["people"] > 12
    assert {"crawler", "HEAD request", "link preview", "mail scanner"} <= set(traffic.sent)
    clicks = traffic.stats.totals["click"]
    bots_sent = sum(n for who, n in traffic.sent.items() if who != "people")
    assert clicks["count"] == traffic.sent["people"]
    assert clicks["bots"] == bots_sent
    assert 0 < clicks["uniques"] < clicks["count"]
    printed = format_stats(traffic.stats)
    assert "total click:" in printed and "by bots" in printed


def test_demo_traffic_through_redis_ends_up_in_the_stats(redis_app, world):
    traffic = simulate_demo_traffic(seed=5, people=5)
    assert traffic.stats.totals["click"]["count"] == traffic.sent["people"]


def test_events_stats_command_prints_a_table(app, world, runner):
    simulate_demo_traffic(seed=1, people=3)
    result = runner.invoke(args=["events", "stats", "--group-by", "kind,partner_id"])
    assert result.exit_code == 0, result.output
    assert "partner_id" in result.output and "total click:" in result.output
    bad = runner.invoke(args=["events", "stats", "--group-by", "colour"])
    assert bad.exit_code != 0 and "colour" in bad.output


def test_flush_and_flusher_need_redis_or_say_why(app, runner):
    assert runner.invoke(args=["events", "flush"]).exit_code == 0
    result = runner.invoke(args=["flusher"])
    assert result.exit_code != 0 and "TCMA_REDIS_URL" in result.output
