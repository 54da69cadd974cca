"""Results read from rollups: the per-partner ratio and mean metrics, machine shares, SRM, the sentence."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats

from tcma.extensions import db
from tcma.models import Experiment
from tcma.services.experiments.results import as_json, experiment_results
from tests.tcma.experiments.conftest import add_rollup, age, launched_card_world


def results_of(client, world, experiment):
    response = client.get(f"/api/v1/experiments/{experiment['id']}/results", headers=world["marketer"])
    assert response.status_code == 200, response.json
    return response.json


def ratio_interval(clicks: list[int], items: list[int]) -> tuple[float, float, float]:
    """Rate and 95% interval of sum(clicks)/sum(items) with the partner as the unit (delta method)."""
    m, d = np.array(clicks, float), np.array(items, float)
    n = len(m)
    mean_m, mean_d = m.mean(), d.mean()
    cov = np.cov(m, d, ddof=1)
    variance = (cov[0, 0] / mean_d**2 + cov[1, 1] * mean_m**2 / mean_d**4
                - 2 * cov[0, 1] * mean_m / mean_d**3)
    half = stats.norm.ppf(0.975) * np.sqrt(variance / n)
    return mean_m / mean_d, mean_m / mean_d - half, mean_m / mean_d + half


def test_clicks_per_delivered_item_per_partner_with_machine_share(app, client):
    world, experiment, arms = launched_card_world(client, 20)  # each arm some partners, whatever the salt
    clicks, items = {"a": [], "b": []}, {"a": [], "b": []}
    for index, (partner_id, arm) in enumerate(sorted(arms.items())):
        human = index % 4 + (3 if arm == "b" else 0)
        posts = index % 2  # a published post is a delivered item too
        add_rollup(world["campaign"], partner_id, arm, "click", human, bots=1 if arm == "a" else 0)
        if posts:
            add_rollup(world["campaign"], partner_id, arm, "post", posts)
        clicks[arm].append(human)
        items[arm].append(1 + posts)  # the finished PNG card, and the post
    found = results_of(client, world, experiment)
    assert found["per"] == 100 and found["per_label"] == "clicks per 100 delivered items"
    for arm in found["arms"]:
        rate, low, high = ratio_interval(clicks[arm["name"]], items[arm["name"]])
        assert arm["units"] == len(clicks[arm["name"]])
        assert arm["conversions"] == sum(clicks[arm["name"]]) and arm["exposures"] == sum(items[arm["name"]])
        assert arm["rate"] == pytest.approx(100 * rate, rel=1e-9)
        assert arm["ci"] == pytest.approx([100 * low, 100 * high], rel=1e-9)
    a, b = found["arms"]
    bots_a = len(clicks["a"])
    assert a["machine_share"] == pytest.approx(bots_a / (bots_a + sum(clicks["a"])), abs=1e-6)
    assert b["machine_share"] == 0
    comparison = found["comparisons"][0]
    assert comparison["effect"] == pytest.approx(b["rate"] - a["rate"], rel=1e-9)
    assert comparison["chance_to_win"] == pytest.approx(
        stats.norm.cdf(comparison["effect"] / comparison["stddev"]), rel=1e-9)
    chance = comparison["chance_to_win"]
    said = ">99%" if chance >= 0.995 else f"{chance:.0%}"  # never a certain 100% from a sample
    assert found["sentence"] == (
        f"b gets {comparison['effect']:.1f} more clicks per 100 delivered items than a; "
        f"{said} chance b is better; sample ratio as planned.")


def test_bots_never_count_as_conversions(app, client):
    world, experiment, arms = launched_card_world(client, 4)
    for partner_id, arm in arms.items():
        add_rollup(world["campaign"], partner_id, arm, "click", 0, bots=50)
    found = results_of(client, world, experiment)
    assert [arm["conversions"] for arm in found["arms"]] == [0, 0]
    assert {arm["machine_share"] for arm in found["arms"] if arm["units"]} == {1.0}


def test_downloads_per_partner_count_partners_without_downloads(app, client):
    # 20 partners: an arm of one partner (which a random salt gives 8 partners now and then) has no spread
    world, experiment, arms = launched_card_world(client, 20, metric="download")
    downloads = {partner_id: (3 if arm == "b" else 1) * (i % 2) for i, (partner_id, arm) in
                 enumerate(sorted(arms.items()))}
    for partner_id, count in downloads.items():
        if count:
            add_rollup(world["campaign"], partner_id, arms[partner_id], "download", count)
    found = results_of(client, world, experiment)
    assert found["per"] == 1 and found["per_label"] == "downloads per partner"
    for arm in found["arms"]:
        values = np.array([downloads[p] for p, name in arms.items() if name == arm["name"]], float)
        half = stats.norm.ppf(0.975) * values.std(ddof=1) / np.sqrt(len(values))
        assert arm["units"] == len(values) and arm["rate"] == pytest.approx(values.mean())
        assert arm["ci"] == pytest.approx([values.mean() - half, values.mean() + half])


def test_reactions_per_published_post(app, client):
    world, experiment, arms = launched_card_world(client, 4, metric="reaction")
    for partner_id, arm in arms.items():
        add_rollup(world["campaign"], partner_id, arm, "post", 2)
        add_rollup(world["campaign"], partner_id, arm, "like", 3)
        add_rollup(world["campaign"], partner_id, arm, "reply", 1)
        add_rollup(world["campaign"], partner_id, arm, "click", 40)  # not a reaction
    found = results_of(client, world, experiment)
    assert found["per_label"] == "reactions per 100 posts"
    assert {arm["rate"] for arm in found["arms"] if arm["units"]} == {200.0}


def test_the_split_is_checked_against_the_weights(app, client):
    weighted = [{"name": "a", "weight": 1}, {"name": "b", "weight": 2}]
    world, experiment, arms = launched_card_world(client, 18, variants=weighted)
    found = results_of(client, world, experiment)
    units = [arm["units"] for arm in found["arms"]]
    chi2, p_value = stats.chisquare(units, [6, 12])
    assert found["srm"]["chi2"] == pytest.approx(chi2) and found["srm"]["p_value"] == pytest.approx(p_value)
    assert [arm["planned_share"] for arm in found["arms"]] == pytest.approx([1 / 3, 2 / 3])
    assert found["srm"]["flagged"] is False and found["srm"]["skipped"] is None


def test_too_few_units_skip_the_split_check_and_say_so(app, client):
    world, experiment, _ = launched_card_world(client, 4)
    found = results_of(client, world, experiment)
    assert found["srm"]["flagged"] is False and "under 5" in found["srm"]["skipped"]
    assert found["sentence"].endswith("too few units yet to check the sample ratio.")


def test_results_up_to_a_day_leave_later_days_out_and_count_only_the_experiments_events(app, client):
    world, experiment, arms = launched_card_world(client, 4)
    age(experiment["id"], 5)
    partner_id, arm = next(iter(arms.items()))
    add_rollup(world["campaign"], partner_id, arm, "click", 5, days_ago=3)
    add_rollup(world["campaign"], partner_id, arm, "click", 7, days_ago=0)
    add_rollup(world["campaign"], partner_id, arm, "click", 100, days_ago=6)  # before it started
    add_rollup(world["campaign"], partner_id, "", "click", 100, days_ago=2)  # a link without an arm
    row = db.session.get(Experiment, experiment["id"])
    earlier = as_json(experiment_results(row, until=date.today() - timedelta(days=1)))
    now = as_json(experiment_results(row))
    total = {a["name"]: a["conversions"] for a in earlier["arms"]}
    assert total[arm] == 5 and {a["name"]: a["conversions"] for a in now["arms"]}[arm] == 12


def test_results_read_per_stratum_and_an_unknown_stratum_is_refused(app, client):
    world, experiment, arms = launched_card_world(client, 8, strata=["tier"])
    for partner_id, arm in arms.items():
        add_rollup(world["campaign"], partner_id, arm, "click", 2)
    pooled = results_of(client, world, experiment)
    assert [s["label"] for s in pooled["strata"]] == ["tier silver", "tier gold"]  # by tier id
    assert sum(s["units"] for s in pooled["strata"]) == 8
    gold_tier = next(p.tier_id for p in world["partners"] if p.tier.slug == "gold")
    gold = client.get(f"/api/v1/experiments/{experiment['id']}/results?stratum=tier:{gold_tier}",
                      headers=world["marketer"]).json
    assert gold["stratum"] == f"tier:{gold_tier}"
    assert sum(arm["units"] for arm in gold["arms"]) == 4 and [a["units"] for a in gold["arms"]] == [2, 2]
    assert sum(arm["conversions"] for arm in gold["arms"]) == 8
    refused = client.get(f"/api/v1/experiments/{experiment['id']}/results?stratum=tier:999",
                         headers=world["marketer"])
    assert refused.status_code == 422
    assert refused.json["message"] == "the experiment has no stratum 'tier:999'"


def test_recipient_experiments_count_sends_and_unique_clicks_with_an_exact_chance_to_win(app, client):
    from scipy import integrate

    world, experiment, _ = launched_card_world(client, 2, unit="recipient", metric="click")
    partner = world["partners"][0].id
    add_rollup(world["campaign"], partner, "a", "send", 400)
    add_rollup(world["campaign"], partner, "b", "send", 410)
    add_rollup(world["campaign"], partner, "a", "click", 60, uniques=40, bots=5)
    add_rollup(world["campaign"], partner, "b", "click", 90, uniques=58)
    found = results_of(client, world, experiment)
    assert [(a["units"], a["conversions"]) for a in found["arms"]] == [(400, 40), (410, 58)]
    assert found["arms"][0]["rate"] == pytest.approx(10.0)
    assert found["per_label"] == "people clicking per 100 emails"
    a, b = stats.beta(1 + 40, 1 + 360), stats.beta(1 + 58, 1 + 352)
    exact, _ = integrate.quad(lambda p: b.pdf(p) * a.cdf(p), 0, 1, epsabs=1e-12, epsrel=1e-12, limit=200)
    assert found["comparisons"][0]["chance_to_win"] == pytest.approx(exact, abs=1e-6)
    assert found["arms"][0]["machine_share"] == pytest.approx(5 / 45)


def test_an_arm_whose_partners_all_have_one_ratio_has_no_spread_and_does_not_fail():
    """39 partners each clicking 0.15 times per delivered item: the delta method's terms cancel and
    rounding left the variance at -1.7e-18, whose square root failed the whole results page."""
    from types import SimpleNamespace

    from tcma.services.experiments.results import _arm

    dens = list(range(1, 40))
    nums = [0.15 * d for d in dens]
    sums = {"units": 39.0, "num": sum(nums), "num_sq": sum(x * x for x in nums), "den": float(sum(dens)),
            "den_sq": float(sum(d * d for d in dens)),
            "cross": sum(a * b for a, b in zip(nums, dens, strict=True)), "bots": 0.0}
    experiment = SimpleNamespace(unit="partner", metric="click")
    arm = _arm(experiment, "a", 0.5, sums)
    assert arm.statistic.variance < 0  # what rounding gives; the statistic keeps it, as GrowthBook does
    assert arm.rate == pytest.approx(0.15)
    assert arm.ci == (arm.rate, arm.rate)
