"""Partners' scores and KPIs answered from stored snapshots: the same answers as computing them, when
they were computed said, recomputed once older than TCMA_INSIGHT_MAX_AGE_SECONDS, refreshed by the
maintenance pass, old ones dropped."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update

from tcma.extensions import db
from tcma.models import InsightSnapshot, InsightSnapshotRow
from tcma.services.insights import snapshots
from tcma.services.insights.refresh import refresh_snapshots
from tcma.services.maintenance import run_maintenance
from tests.support.factories import make_taxonomy, make_user
from tests.support.portal import sign_in
from tests.tcma.insights.history import partner, rollup
from tests.tcma.insights.test_partner_insights import programme  # noqa: F401  (the fixture)

LIST = "/api/v1/insights/partners?as_of=2026-06-30"
URLS = [LIST + query for query in (
    "", "&sort=-score", "&sort=name", "&sort=-last_active", "&flag=churning", "&flag=inactive",
    "&flag=dropping&sort=-name", "&per_page=2&page=2&sort=-score", "&inactive_days=10&flag=inactive",
    "&window_days=30&drop_percent=80")]
KPIS = "/api/v1/insights/kpis?as_of=2026-06-30"


def set_max_age(app, seconds: int) -> None:
    settings = app.extensions["tcma.settings"]
    app.extensions["tcma.settings"] = dataclasses.replace(settings, insight_max_age_seconds=seconds)


def without_times(body):
    """The answer without when it was computed (the one part a snapshot and a recompute differ in)."""
    if isinstance(body, dict):
        return {k: without_times(v) for k, v in body.items() if k != "computed_at"}
    if isinstance(body, list | tuple):
        return [without_times(v) for v in body]
    return body


def answers(client, headers, urls):
    found = []
    for url in urls:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        found.append(answer.get_json())
    return found


def stored() -> list[tuple[str, str]]:
    found = db.session.scalars(select(InsightSnapshot).order_by(InsightSnapshot.id))
    return [(s.kind, s.params) for s in found]


def age_snapshots(seconds: float) -> None:
    then = datetime.now(UTC) - timedelta(seconds=seconds)
    db.session.execute(update(InsightSnapshot).values(computed_at=then))
    db.session.commit()


def test_answers_from_a_snapshot_equal_the_computed_ones(app, client, programme):  # noqa: F811
    _, marketer = make_user("marketer")
    _, bolt = make_user("partner", programme["bolt"])
    partner_urls = [LIST, f"/api/v1/insights/partners/{programme['bolt'].id}?as_of=2026-06-30"]
    single = [f"/api/v1/insights/partners/{p.id}?as_of=2026-06-30" for p in programme.values()]
    set_max_age(app, 0)  # snapshots off: every answer computed, nothing stored
    live = answers(client, marketer, [*URLS, *single, KPIS]), answers(client, bolt, partner_urls)
    live_csv = client.get(LIST + "&format=csv&sort=name", headers=marketer).data
    assert stored() == []
    set_max_age(app, 3600)
    from_snapshots = answers(client, marketer, [*URLS, *single, KPIS]), answers(client, bolt, partner_urls)
    assert client.get(LIST + "&format=csv&sort=name", headers=marketer).data == live_csv
    assert without_times(from_snapshots) == without_times(live)
    # One snapshot per scoring parameters asked by a marketer, and the KPIs'; the partner user's read them.
    assert stored() == [
        ("partners", "window=90;inactive=45;recent=30;baseline=90;drop=50;min=3"),
        ("partners", "window=90;inactive=10;recent=30;baseline=90;drop=50;min=3"),
        ("partners", "window=30;inactive=45;recent=30;baseline=90;drop=80;min=3"),
        ("kpis", "activation=30;inactive=45;baseline=90")]
    first = db.session.scalar(select(InsightSnapshot).order_by(InsightSnapshot.id).limit(1))
    assert db.session.scalar(select(func.count()).where(InsightSnapshotRow.snapshot_id == first.id)) == 4
    computed = first.computed_at.isoformat()
    assert {r["computed_at"] for r in from_snapshots[0][0]["items"]} == {computed}
    assert from_snapshots[0][0]["computed_at"] == computed
    assert from_snapshots[1][0]["items"][0]["flags"] is None  # a partner user still sees no flags


def test_a_snapshot_is_read_until_it_is_older_than_the_max_age(app, client, programme):  # noqa: F811
    _, headers = make_user("marketer")
    before = client.get(LIST, headers=headers).get_json()
    kpis = client.get(KPIS, headers=headers).get_json()
    rollup(programme["dawn"], "download", date(2026, 6, 29), 10)  # Dawn gets busy
    again = client.get(LIST, headers=headers).get_json()
    assert again == before  # the stored scores, and when they were computed
    assert [(r["name"], r["score"]) for r in again["items"]][0] == ("Dawn SA", 0.0)
    assert client.get(KPIS, headers=headers).get_json() == kpis
    age_snapshots(3601)
    after = client.get(LIST, headers=headers).get_json()
    assert [(r["name"], r["score"]) for r in after["items"]][0] == ("Cobalt Ltd", 13.0)
    assert {r["name"]: r["score"] for r in after["items"]}["Dawn SA"] == 34.8
    assert after["computed_at"] > before["computed_at"]
    assert client.get(KPIS, headers=headers).get_json()["computed_at"] > kpis["computed_at"]


def test_a_snapshot_leaves_out_partners_no_longer_active_and_shows_current_names(client, programme):  # noqa: F811
    _, headers = make_user("marketer")
    client.get(LIST, headers=headers)
    programme["cobalt"].status = "suspended"
    programme["acme"].name = "Acme Group"
    db.session.commit()
    body = client.get(LIST + "&sort=name", headers=headers).get_json()
    assert [r["name"] for r in body["items"]] == ["Acme Group", "Bolt Inc", "Dawn SA"]
    assert body["total"] == 3


def test_the_maintenance_pass_refreshes_today_s_default_snapshot_one_per_pass(app):
    taxonomy = make_taxonomy()
    today = datetime.now(UTC).date()
    busy = partner(taxonomy, today - timedelta(days=100), "Busy BV")
    rollup(busy, "download", today, 10)
    report = run_maintenance()
    assert report.insights == 1 and "refreshed 1 insight snapshots" in report.summary()
    assert stored() == [("partners", "window=90;inactive=45;recent=30;baseline=90;drop=50;min=3")]
    assert refresh_snapshots() == 1  # the KPIs, the next pass
    assert refresh_snapshots() == 0  # both fresh
    age_snapshots(3600 * snapshots.REFRESH_AT - 60)
    assert refresh_snapshots() == 0
    age_snapshots(3600 * snapshots.REFRESH_AT + 1)  # due before it expires: no request waits for it
    assert refresh_snapshots() == 1
    [scores] = db.session.scalars(select(InsightSnapshotRow)).all()
    assert (scores.partner_id, scores.score, scores.last_active) == (busy.id, 35.0, today)
    assert refresh_snapshots(force=True) == 2
    set_max_age(app, 0)
    assert refresh_snapshots(force=True) == 0


def test_snapshots_computed_days_ago_are_dropped(app, client, programme):  # noqa: F811
    _, headers = make_user("marketer")
    client.get(LIST, headers=headers)
    age_snapshots(86400 * snapshots.KEEP_DAYS + 60)
    refresh_snapshots()  # today's scores computed; the old day's dropped
    assert [s.as_of for s in db.session.scalars(select(InsightSnapshot))] == [datetime.now(UTC).date()]
    assert db.session.scalar(select(func.count()).select_from(InsightSnapshotRow)) == 4


def test_the_partner_pages_say_when_the_scores_were_computed(app, programme):  # noqa: F811
    browser = app.test_client()
    assert sign_in(browser, make_user("marketer")[0]).status_code == 302
    today = browser.get("/portal/partners").get_data(as_text=True)
    computed = db.session.scalar(select(InsightSnapshot.computed_at))
    assert re.search(r'id="scores-as-of">Scores as of (\d\d:\d\d) UTC\.<', today).group(1) == \
        computed.astimezone(UTC).strftime("%H:%M")
    age_snapshots(3000)
    one = browser.get(f"/portal/partners/{programme['acme'].id}").get_data(as_text=True)
    assert re.search(r'id="scores-as-of">Scores as of \d\d:\d\d UTC', one)
    past = browser.get("/portal/partners?as_of=2026-06-30").get_data(as_text=True)
    assert 'id="scores-as-of">Scores as of' in past


def test_a_day_ago_s_scores_say_their_day(app, programme):  # noqa: F811
    from tcma.web.portal_dashboards import scores_as_of

    row = type("Row", (), {"computed_at": datetime(2026, 6, 29, 8, 14, tzinfo=UTC)})()
    assert scores_as_of([row]) == "Scores as of 08:14 UTC on 29 Jun 2026"
    assert scores_as_of([]) is None


def test_the_refresh_command_computes_today_s_snapshots(app, runner):
    result = runner.invoke(args=["insights", "refresh"])
    assert result.exit_code == 0, result.output
    assert result.output == "computed 2 insight snapshots\n"
    set_max_age(app, 0)
    off = runner.invoke(args=["insights", "refresh"])
    assert off.output == "insight snapshots are off (TCMA_INSIGHT_MAX_AGE_SECONDS=0): nothing to compute\n"


def test_the_migration_adds_the_snapshot_tables_and_downgrades(tmp_path):
    from sqlalchemy import inspect, text

    from tcma import create_app
    from tests.support.apps import base_config

    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/old.db"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0021_insight_summaries"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade", "0022_insight_snapshots"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("INSERT INTO insight_snapshot (id, kind, as_of, params, computed_at, partners) "
                          "VALUES (1, 'partners', '2026-06-30', 'p', '2026-06-30 08:14:00', 1)"))
        conn.execute(text("INSERT INTO insight_snapshot_row VALUES "
                          "(1, 7, 49.5, '2026-06-21', '', '[]', '[]', '[]')"))
        assert {"insight_snapshot", "insight_snapshot_row"} <= set(inspect(conn).get_table_names())
    assert runner.invoke(args=["db", "downgrade", "0021_insight_summaries"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert not {"insight_snapshot", "insight_snapshot_row"} & tables


def test_the_order_migration_indexes_the_snapshot_rows_and_downgrades(tmp_path):
    from sqlalchemy import inspect

    from tcma import create_app
    from tests.support.apps import base_config

    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/old.db"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0022_insight_snapshots"]).exit_code == 0

    def indexes():
        with app.app_context(), db.engine.connect() as conn:
            return {i["name"]: i["column_names"] for i in inspect(conn).get_indexes("insight_snapshot_row")}

    assert indexes() == {}
    assert runner.invoke(args=["db", "upgrade", "0023_insight_snapshot_order"]).exit_code == 0
    assert indexes() == {"ix_insight_snapshot_row_score": ["snapshot_id", "score", "partner_id"],
                         "ix_insight_snapshot_row_last_active": ["snapshot_id", "last_active", "partner_id"]}
    assert runner.invoke(args=["db", "downgrade", "0022_insight_snapshots"]).exit_code == 0
    assert indexes() == {}


def test_the_snapshot_rows_are_indexed_for_each_order_on_postgresql(app):
    from sqlalchemy import text

    found = dict(db.session.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'insight_snapshot_row' "
        "AND indexname LIKE 'ix_%'")).all())
    assert {name: definition.split(" USING btree ")[1] for name, definition in found.items()} == {
        "ix_insight_snapshot_row_score": "(snapshot_id, score, partner_id)",
        "ix_insight_snapshot_row_last_active": "(snapshot_id, last_active NULLS FIRST, partner_id)"}
