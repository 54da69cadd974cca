"""Each experiment's running totals per (partner, arm, kind): kept by the event writer (each event once,
machines apart, only its arms from its first day), filled when it starts, rebuilt by a command and by the
migration, and the results read from them the same as from the rollups."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select, text

from tcma import create_app
from tcma.extensions import db
from tcma.models import Experiment, ExperimentPartnerTotal
from tcma.services.experiments.results import as_json, effect_over_time, experiment_results
from tcma.services.tracking.experiment_totals import rebuild_experiment_totals
from tcma.services.tracking.ingest import write_events
from tests.support.apps import base_config
from tests.tcma.experiments.conftest import (
    CARD,
    add_rollup,
    age,
    campaign_world,
    launched_card_world,
    start_experiment,
)

DAY = 86400


def totals(experiment_id: int) -> list[tuple]:
    """The experiment's totals as (partner, arm, kind, total, uniques, bots), sorted."""
    db.session.rollback()
    t = ExperimentPartnerTotal
    rows = db.session.execute(select(t.partner_id, t.variant, t.kind, t.total, t.uniques, t.bots)
                              .where(t.experiment_id == experiment_id))
    return sorted(tuple(r) for r in rows)


def wire_event(kind: str, partner_id: int, campaign_id: int | None, variant: str, at: float, *,
               visitor: str | None = None, bot: str | None = None) -> dict:
    """An event in the buffer's wire format, as the web processes ship them."""
    return {"uid": uuid.uuid4().hex, "kind": kind, "at": at, "partner_id": partner_id,
            "campaign_id": campaign_id, "asset_id": None, "link_id": None, "channel": "linkedin",
            "variant": variant, "send_id": None, "visitor": visitor, "bot": bot, "data": {}}


def one_of_each_arm(arms: dict[int, str]) -> tuple[int, int]:
    return (min(p for p, arm in arms.items() if arm == "a"), min(p for p, arm in arms.items() if arm == "b"))


def test_events_count_once_machines_apart_and_only_under_its_arms_from_its_first_day(app, client, runner):
    world, experiment, arms = launched_card_world(client, 20)
    campaign, (pa, pb) = world["campaign"], one_of_each_arm(arms)
    now = time.time()
    batch = [wire_event("click", pa, campaign, "a", now, visitor="v1"),
             wire_event("click", pa, campaign, "a", now + 1, visitor="v1"),  # not unique
             wire_event("click", pa, campaign, "a", now + 2, visitor="v2", bot="agent"),
             wire_event("post", pb, campaign, "b", now + 3),
             wire_event("click", pb, campaign, "b", now + 4, visitor="v3"),
             wire_event("click", pb, campaign, "b", now - 2 * DAY, visitor="v4"),  # before its first day
             wire_event("click", pa, campaign, "", now + 5, visitor="v5"),  # under no arm
             wire_event("click", pa, None, "a", now + 6, visitor="v6")]  # no campaign
    assert write_events(batch) == 8
    assert write_events(batch) == 0  # a flusher re-writing its batch after a crash
    expected = sorted([(pa, "a", "click", 2, 1, 1), (pb, "b", "click", 1, 1, 0), (pb, "b", "post", 1, 1, 0)])
    assert totals(experiment["id"]) == expected
    found = {arm.name: (arm.conversions, arm.exposures, arm.machine_share)
             for arm in experiment_results(db.session.get(Experiment, experiment["id"])).arms}
    assert found["a"][0] == 2 and found["b"][0] == 1  # clicks
    assert found["a"][2] == 1 / 3 and found["b"][2] == 0
    assert rebuild_experiment_totals() == 3
    assert totals(experiment["id"]) == expected  # what the writer added is what the rollups hold
    db.session.execute(delete(ExperimentPartnerTotal))
    db.session.commit()
    result = runner.invoke(args=["events", "rebuild-summaries"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("; experiment_partner_total: 3 rows\n")
    assert totals(experiment["id"]) == expected


def test_results_from_the_totals_are_those_from_the_rollups(app, client):
    world, experiment, arms = launched_card_world(client, 20)
    age(experiment["id"], 3)
    for index, (partner_id, arm) in enumerate(sorted(arms.items())):
        for days_ago in range(5):  # the two days before its first day do not count
            add_rollup(world["campaign"], partner_id, arm, "click", (index * 7 + days_ago) % 5 + (arm == "b"),
                       bots=int(index % 3 == 0), days_ago=days_ago)
        if index % 2:
            add_rollup(world["campaign"], partner_id, arm, "post", 1, days_ago=index % 4)
    found = experiment_results(db.session.get(Experiment, experiment["id"]))
    from_rollups = experiment_results(db.session.get(Experiment, experiment["id"]), until=date.today())
    now, then = as_json(found), as_json(from_rollups)
    for key in ("as_of", "runtime_days"):
        now.pop(key), then.pop(key)
    assert now == then
    assert sum(arm["conversions"] for arm in now["arms"]) == sum(
        (index * 7 + days_ago) % 5 + (arm == "b")
        for index, (_, arm) in enumerate(sorted(arms.items())) for days_ago in range(4))
    assert found.comparisons[0]["effect"] is not None


def test_a_new_experiment_counts_the_events_of_its_first_day_already_written(app, client):
    world = campaign_world(client, partners=2, outputs=CARD, with_logo=False)
    campaign, (first, second) = world["campaign"], [p.id for p in world["partners"]]
    now = time.time()
    assert write_events([wire_event("click", first, campaign, "a", now, visitor="v1"),
                         wire_event("click", second, campaign, "b", now + 1, visitor="v2", bot="agent"),
                         wire_event("click", second, campaign, "c", now + 2, visitor="v3"),
                         wire_event("click", first, campaign, "a", now - DAY, visitor="v4")]) == 4
    experiment = start_experiment(client, world)
    assert totals(experiment["id"]) == [(first, "a", "click", 1, 1, 0), (second, "b", "click", 0, 0, 1)]


def test_the_migration_backfills_from_the_rollups_and_downgrades(tmp_path):
    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/old.db"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0018_dashboard_summary"]).exit_code == 0
    stamp = "'2026-01-01', '2026-01-01'"
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("INSERT INTO campaign (id, name, slug, status, segment, created_at, updated_at) "
                          f"VALUES (7, 'C', 'c', 'running', '{{}}', {stamp})"))
        conn.execute(text("INSERT INTO experiment (id, campaign_id, name, metric, status, confidence, "
                          "min_sample, auto_decide, unit, method, salt, strata, min_runtime_days, "
                          "max_runtime_days, max_machine_share_gap, started_at, created_at, updated_at) "
                          "VALUES (3, 7, 'E', 'click', 'running', 0.95, 2, 1, 'partner', 'sequential', 's', "
                          f"'[]', 0, 28, 0.1, '2026-06-02 22:30:00.000000', {stamp})"))
        conn.execute(text("INSERT INTO variant (experiment_id, name, weight) "
                          "VALUES (3, 'a', 1), (3, 'b', 1)"))
        rollups = [(7, "a", 1, "2026-06-01", 50, 40, 5),  # before its first day
                   (7, "a", 1, "2026-06-02", 4, 3, 1), (7, "a", 1, "2026-06-03", 6, 5, 0),
                   (7, "b", 2, "2026-06-03", 9, 9, 2), (7, "c", 2, "2026-06-03", 8, 8, 0),  # no arm of it
                   (8, "a", 1, "2026-06-03", 7, 7, 0)]  # another campaign
        for number, (campaign, variant, partner, day, total, uniques, bots) in enumerate(rollups, 1):
            conn.execute(text("INSERT INTO event_rollup (id, campaign_id, asset_id, variant, partner_id, "
                              "channel, day, kind, total, uniques, bots) VALUES "
                              "(:i, :c, 0, :v, :p, '', :d, 'click', :t, :u, :b)"),
                         {"i": number, "c": campaign, "v": variant, "p": partner, "d": day, "t": total,
                          "u": uniques, "b": bots})
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(text("SELECT experiment_id, partner_id, variant, kind, total, uniques, bots "
                                 "FROM experiment_partner_total ORDER BY partner_id")).all()
    assert [tuple(r) for r in rows] == [(3, 1, "a", "click", 10, 8, 1), (3, 2, "b", "click", 9, 9, 2)]
    assert runner.invoke(args=["db", "downgrade", "0018_dashboard_summary"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        tables = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
    assert "experiment_partner_total" not in tables and "event_rollup" in tables


def test_a_past_day_reads_the_rollups_of_the_days_up_to_it(app, client):
    world, experiment, arms = launched_card_world(client, 20)
    age(experiment["id"], 2)
    pa, pb = one_of_each_arm(arms)
    add_rollup(world["campaign"], pa, "a", "click", 3, days_ago=1)
    add_rollup(world["campaign"], pa, "a", "click", 4, days_ago=0)
    add_rollup(world["campaign"], pb, "b", "click", 5, days_ago=0)
    stored = db.session.get(Experiment, experiment["id"])
    yesterday = {arm.name: arm.conversions for arm in experiment_results(stored, until=date.today()
                                                                         - timedelta(days=1)).arms}
    now = {arm.name: arm.conversions for arm in experiment_results(stored).arms}
    assert yesterday == {"a": 3, "b": 0} and now == {"a": 7, "b": 5}


def _daily_effects(stored: Experiment, days: int) -> list[dict]:
    """The effect and interval of the results up to each of the last `days` days and today (in the
    metric's unit: clicks per 100 items, downloads per partner), days without an effect left out."""
    expected = []
    for days_ago in range(days, -1, -1):
        day = date.today() - timedelta(days=days_ago)
        results = experiment_results(stored, until=day)
        comparison = results.comparisons[0]
        if comparison["effect"] is not None:
            expected.append({"day": day, "effect": comparison["effect"] * results.per,
                             "ci": [None if end is None else end * results.per for end in comparison["ci"]]})
    return expected


def test_the_effect_over_time_is_each_days_results_up_to_it(app, client):
    world, experiment, arms = launched_card_world(client, 20)
    age(experiment["id"], 4)
    for index, (partner_id, arm) in enumerate(sorted(arms.items())):
        for days_ago in range(index % 3, 6):  # some partners start later; two days before the first
            clicks = (index * 5 + days_ago) % 7 + 2 * (arm == "b")
            add_rollup(world["campaign"], partner_id, arm, "click", clicks, bots=days_ago % 2,
                       days_ago=days_ago)
        add_rollup(world["campaign"], partner_id, arm, "post", 1 + index % 2, days_ago=index % 5)
    stored = db.session.get(Experiment, experiment["id"])
    expected = _daily_effects(stored, 4)
    assert len(expected) == 5
    assert effect_over_time(stored) == expected


@pytest.mark.parametrize("metric, kinds", [("reaction", ("like", "post")), ("download", ("download",))])
def test_the_effect_over_time_carries_each_partners_numbers_over_its_quiet_days(app, client, metric, kinds):
    world, experiment, arms = launched_card_world(client, 12, metric=metric)
    age(experiment["id"], 5)
    for index, (partner_id, arm) in enumerate(sorted(arms.items())):
        if index % 4 == 3:
            continue  # some partners have no numbers at all
        for days_ago in (5, 2) if index % 2 else (5, 3, 0):  # quiet days in between
            for place, kind in enumerate(kinds):
                total = (index + days_ago + 2 * place) % 5 + 1 + (arm == "b") + 3 * place
                add_rollup(world["campaign"], partner_id, arm, kind, total, bots=index % 2, days_ago=days_ago)
        add_rollup(world["campaign"], partner_id, "z", kinds[0], 50, days_ago=1)  # no arm of this test
    stored = db.session.get(Experiment, experiment["id"])
    expected = _daily_effects(stored, 5)
    assert len(expected) >= 4
    assert effect_over_time(stored) == expected


def test_a_recipient_experiments_effect_over_time_is_each_days_results_up_to_it(app, client):
    world, experiment, _ = launched_card_world(client, 2, unit="recipient", metric="click")
    age(experiment["id"], 3)
    partner = world["partners"][0].id
    for days_ago, (sends, clicks) in enumerate([(100, 30), (120, 25), (90, 40), (80, 10), (50, 50)]):
        add_rollup(world["campaign"], partner, "a", "send", sends, days_ago=days_ago)
        add_rollup(world["campaign"], partner, "b", "send", sends + 10, days_ago=days_ago)
        add_rollup(world["campaign"], partner, "a", "click", clicks, uniques=clicks // 2, bots=1,
                   days_ago=days_ago)
        add_rollup(world["campaign"], partner, "b", "click", clicks + 5, uniques=clicks // 2 + 4,
                   days_ago=days_ago)
    stored = db.session.get(Experiment, experiment["id"])
    expected = []
    for days_ago in range(3, -1, -1):
        day = date.today() - timedelta(days=days_ago)
        comparison = experiment_results(stored, until=day).comparisons[0]
        expected.append({"day": day, "effect": comparison["effect"] * 100,
                         "ci": [None if end is None else end * 100 for end in comparison["ci"]]})
    assert effect_over_time(stored) == expected
