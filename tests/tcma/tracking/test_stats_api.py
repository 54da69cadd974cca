"""Stats API: grouping, periods, bots in or out, CSV export, and partners seeing only their own."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from tcma.services.tracking import events as tracking
from tests.support.factories import make_user
from tests.support.statements import recorded_statements
from tests.support.tracking import path_of

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
CRAWLER = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"


def traffic(client, world) -> None:
    """acme: 3 people on a, 1 on b, 1 crawler; globex: 2 people on a; plus one acme download."""
    links, acme, globex = world["links"], world["acme"].slug, world["globex"].slug
    for ip, key, partner, agent in [("10.0.1.1", "a", acme, BROWSER), ("10.0.2.1", "a", acme, BROWSER),
                                    ("10.0.3.1", "a", acme, BROWSER), ("10.0.4.1", "b", acme, BROWSER),
                                    ("10.0.5.1", "a", acme, CRAWLER), ("10.0.6.1", "a", globex, BROWSER),
                                    ("10.0.6.1", "a", globex, BROWSER)]:
        client.get(path_of(links[partner, key]), headers={"User-Agent": agent},
                   environ_base={"REMOTE_ADDR": ip})
    tracking.record_event("download", world["acme"].id, world["campaign"].id, channel="download", variant="a")


def test_campaign_stats_by_partner_and_variant(client, world):
    traffic(client, world)
    _, headers = make_user("marketer")
    url = f"/api/v1/stats/campaigns/{world['campaign'].id}?group_by=partner_id,variant&kind=click"
    body = client.get(url, headers=headers).get_json()
    rows = {(r["partner_id"], r["variant"]): (r["count"], r["uniques"], r["bots"]) for r in body["rows"]}
    acme, globex = world["acme"].id, world["globex"].id
    assert rows == {(acme, "a"): (3, 3, 1), (acme, "b"): (1, 1, 0), (globex, "a"): (2, 1, 0)}
    names = {r["partner_id"]: r["partner_name"] for r in body["rows"]}  # names beside ids, as pages show
    assert names == {acme: world["acme"].name, globex: world["globex"].name}
    by_campaign = client.get("/api/v1/stats?group_by=campaign_id&kind=click", headers=headers).get_json()
    assert [(r["campaign_id"], r["campaign_name"]) for r in by_campaign["rows"]] == [
        (world["campaign"].id, "Spring launch")]
    assert "partner_name" not in by_campaign["rows"][0]  # only the dimensions asked for
    assert body["totals"]["click"] == {"count": 6, "uniques": 5, "bots": 1, "bot_share": round(1 / 7, 4)}
    with_bots = client.get(url + "&include_bots=true", headers=headers).get_json()
    assert with_bots["totals"]["click"]["count"] == 7


def test_stats_over_time_and_by_kind(client, world):
    traffic(client, world)
    _, headers = make_user("marketer")
    today = datetime.now(UTC).date()
    body = client.get(f"/api/v1/stats?group_by=day&start={today - timedelta(days=7)}&end={today}",
                      headers=headers).get_json()
    assert {(r["kind"], r["day"], r["count"]) for r in body["rows"]} == {
        ("click", today.isoformat(), 6), ("download", today.isoformat(), 1)}
    before = client.get(f"/api/v1/stats?end={today - timedelta(days=1)}", headers=headers).get_json()
    assert before["rows"] == []


def test_partners_see_only_their_own_numbers(client, world):
    traffic(client, world)
    _, headers = make_user("partner", world["globex"])
    campaign = world["campaign"].id
    mine = client.get(f"/api/v1/stats/campaigns/{campaign}?group_by=partner_id", headers=headers).get_json()
    assert {r["partner_id"] for r in mine["rows"]} == {world["globex"].id}
    assert mine["totals"] == {"click": {"count": 2, "uniques": 1, "bots": 0, "bot_share": 0.0}}
    asked = client.get(f"/api/v1/stats?partner_id={world['acme'].id}", headers=headers).get_json()
    assert asked["rows"] == []
    exported = client.get("/api/v1/stats/export.csv?group_by=partner_id", headers=headers)
    exported_partners = {row["partner_id"] for row in csv.DictReader(io.StringIO(exported.text))}
    assert exported_partners == {str(world["globex"].id)}


def test_csv_export(client, world):
    traffic(client, world)
    _, headers = make_user("marketer")
    response = client.get("/api/v1/stats/export.csv?group_by=partner_id,variant", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["kind", "partner_id", "partner_name", "variant", "count", "uniques", "bots",
                             "bot_share"]
    assert {r["partner_name"] for r in rows} == {world["acme"].name, world["globex"].name}
    assert sum(int(r["count"]) for r in rows if r["kind"] == "click") == 6


def test_bad_queries_name_the_field(client, world):
    _, headers = make_user("marketer")
    bad = client.get("/api/v1/stats?group_by=colour", headers=headers)
    assert bad.status_code == 422 and "group_by" in bad.get_json()["errors"]["query"]
    backwards = client.get("/api/v1/stats?start=2026-03-02&end=2026-03-01", headers=headers)
    assert backwards.status_code == 422 and "start" in backwards.get_json()["errors"]["query"]
    assert client.get("/api/v1/stats/campaigns/999999", headers=headers).status_code == 404
    assert client.get("/api/v1/stats").status_code == 401


def _stats_and_tables(client, url, headers):
    """The answer, and which rollup tables its statements read."""
    with recorded_statements() as seen:
        answer = client.get(url, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    read = {table for table in ("programme_daily_rollup", "event_rollup") for sql in seen
            if f"FROM {table}" in sql}
    return answer.get_json(), read


def _without_partner(rows, dimensions):
    """Rows grouped by partner too, added up over the partners (bot_share aside)."""
    summed = {}
    for row in rows:
        key = tuple(row[name] for name in dimensions)
        bucket = summed.setdefault(key, {"count": 0, "uniques": 0, "bots": 0})
        for name in bucket:
            bucket[name] += row[name]
    return summed


def test_vendor_stats_read_from_the_programme_table_equal_the_rollups_sums(client, world):
    traffic(client, world)  # a crawler (a bot) and a visitor twice (one unique) among them
    tracking.record_event("download", world["globex"].id, world["campaign"].id, channel="print", variant="b")
    tracking.record_event("download", world["acme"].id, None, channel="download")
    _, headers = make_user("marketer")
    campaign = world["campaign"].id
    for dimensions, filters in ((("kind",), ""), (("kind", "day"), ""),
                                (("kind", "campaign_id", "variant", "channel"), ""),
                                (("kind", "variant"), "&kind=click&include_bots=true"),
                                (("kind", "channel"), "&variant=a&channel=email")):
        url = f"/api/v1/stats?group_by={','.join(dimensions)}{filters}"
        summed, tables = _stats_and_tables(client, url, headers)
        assert tables == {"programme_daily_rollup"}, url
        by_partner, tables = _stats_and_tables(client, f"{url.replace('group_by=', 'group_by=partner_id,')}",
                                               headers)
        assert tables == {"event_rollup"}, url
        expected = _without_partner(by_partner["rows"], dimensions)
        assert _without_partner(summed["rows"], dimensions) == expected, url
        assert summed["totals"] == by_partner["totals"], url
    everything, _ = _stats_and_tables(client, "/api/v1/stats", headers)
    assert everything["totals"] == {
        "click": {"count": 6, "uniques": 5, "bots": 1, "bot_share": round(1 / 7, 4)},
        "download": {"count": 3, "uniques": 3, "bots": 0, "bot_share": 0.0}}  # server events: each unique
    _, tables = _stats_and_tables(client, f"/api/v1/stats?campaign_id={campaign}", headers)
    assert tables == {"event_rollup"}  # one campaign: its covering index on the rollups is quicker
    _, partner_headers = make_user("partner", world["globex"])
    _, tables = _stats_and_tables(client, "/api/v1/stats", partner_headers)
    assert tables == {"event_rollup"}  # a partner's own numbers: the programme table has no partner
