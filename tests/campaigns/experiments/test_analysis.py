"""`analyze`: the JSON in and out of `tcma experiments analyze`, its decision and every input error."""

from __future__ import annotations

import json

import pytest

from campaigns.experiments import ExperimentError, analyze

ARMS = [{"name": "control", "n": 1000, "conversions": 100}, {"name": "b", "n": 1010, "conversions": 150}]


def test_defaults_give_welch_relative_two_sided_with_sequential_decision():
    out = analyze({"arms": ARMS})
    # scipy.stats.chisquare([1000, 1010]): p 0.8235356...
    assert out["srm"] == {"chi2": pytest.approx(100 / 2010, abs=1e-12),
                          "p_value": pytest.approx(0.8235, abs=1e-4), "flagged": False}
    (comparison,) = out["comparisons"]
    assert comparison["arm"] == "b"
    assert comparison["effect"] == pytest.approx((150 / 1010 - 0.1) / 0.1, rel=1e-12)
    assert set(comparison) == {"arm", "effect", "ci", "stddev", "p_value", "sequential"}
    assert comparison["p_value"] < 0.05 < comparison["sequential"]["p_value"]
    assert out["decision"]["winner"] is None
    assert out["decision"]["reason"].startswith("no treatment beats control at alpha 0.05")
    json.dumps(out, allow_nan=False)


def test_a_clear_winner_is_named_with_its_always_valid_evidence():
    arms = [{"name": "control", "n": 5000, "conversions": 500}, {"name": "b", "n": 5000, "conversions": 520},
            {"name": "c", "n": 5000, "conversions": 700}]
    out = analyze({"method": "ztest", "difference": "absolute", "arms": arms})
    assert out["decision"]["winner"] == "c"
    assert out["decision"]["reason"].startswith("c beats control (absolute effect +0.04): always-valid p ")
    assert "Holm-adjusted over 2 treatment(s)" in out["decision"]["reason"]
    assert out["comparisons"][1]["z"] == pytest.approx(0.04 / (0.12 * 0.88 * 2 / 5000) ** 0.5, rel=1e-12)


def test_less_means_lower_is_better_and_worse_arms_are_named():
    arms = [{"name": "control", "n": 5000, "conversions": 500},
            {"name": "cheaper", "n": 5000, "conversions": 300},
            {"name": "pricier", "n": 5000, "conversions": 700}]
    out = analyze({"alternative": "less", "arms": arms})
    assert out["decision"]["winner"] == "cheaper"
    assert out["comparisons"][0]["ci"][0] is None and out["comparisons"][0]["sequential"]["ci"][0] is None
    two_sided = analyze({"arms": arms})
    assert two_sided["decision"]["winner"] == "pricier"
    assert two_sided["decision"]["reason"].endswith("significantly worse than control: cheaper")


def test_bayesian_reports_chance_to_win_and_risk():
    out = analyze({"method": "bayesian", "arms": [{"name": "a", "n": 100, "conversions": 49},
                                                  {"name": "b", "n": 100, "conversions": 51}]})
    (comparison,) = out["comparisons"]
    assert comparison["chance_to_win"] == pytest.approx(0.6107705226877711, abs=1e-9)
    assert comparison["risk"] == pytest.approx([0.03872, 0.01912], abs=5e-6)
    assert comparison["p_value"] is None


def test_mean_and_ratio_metrics():
    mean = analyze({"metric": "mean", "difference": "absolute", "arms": [
        {"name": "a", "n": 3407, "sum": 1396.87, "sum_squares": 52377.9767},
        {"name": "b", "n": 3461, "sum": 2422.7, "sum_squares": 134698.29}]})
    assert mean["comparisons"][0]["p_value"] == pytest.approx(0.02016, abs=5e-6)
    ratio = analyze({"metric": "ratio", "arms": [
        {"name": "a", "n": 100, "numerator_sum": 270, "numerator_sum_squares": 848.79, "denominator_sum": 510,
         "denominator_sum_squares": 810, "cross_product": -900},
        {"name": "b", "n": 120, "numerator_sum": 300, "numerator_sum_squares": 869, "denominator_sum": 500,
         "denominator_sum_squares": 800, "cross_product": -905}]})
    assert ratio["comparisons"][0]["p_value"] == pytest.approx(0.610663339, abs=5e-10)


def test_srm_flag_blocks_the_decision_and_a_skip_is_explained():
    arms = [{"name": "control", "n": 1000, "conversions": 100}, {"name": "b", "n": 1200, "conversions": 400}]
    out = analyze({"arms": arms})
    assert out["srm"]["flagged"] is True
    assert out["decision"] == {"winner": None, "reason": (
        "sample ratio mismatch (p = 2.01e-05 below the threshold): the split is broken, so no arm is judged")}
    small = analyze({"arms": [{"name": "a", "n": 4, "conversions": 1},
                              {"name": "b", "n": 4, "conversions": 2}]})
    assert small["srm"] == {"chi2": None, "p_value": None, "flagged": False, "skipped": (
        "an expected count is under 5 (4): too few units for the chi-square approximation")}
    assert small["decision"]["reason"].endswith("(an expected count is under 5 (4): too few units for the "
                                                "chi-square approximation)")


def test_weights_steer_the_srm_check():
    arms = [{"name": "control", "n": 1000, "conversions": 100}, {"name": "b", "n": 3000, "conversions": 300}]
    assert analyze({"weights": [1, 3], "arms": arms})["srm"]["flagged"] is False
    assert analyze({"arms": arms})["srm"]["flagged"] is True


def test_no_variance_yet_is_reported_not_raised():
    out = analyze({"difference": "absolute", "arms": [{"name": "a", "n": 10, "conversions": 0},
                                                      {"name": "b", "n": 10, "conversions": 0}]})
    assert out["comparisons"][0] == {"arm": "b", "effect": None, "ci": None, "stddev": None, "p_value": None,
                                     "error": "variance: the arms have no variance yet", "sequential": None}
    assert out["decision"]["winner"] is None


def _arms(*extra):
    return [{"name": "a", "n": 10, "conversions": 1}, {"name": "b", "n": 10, "conversions": 2}, *extra]


@pytest.mark.parametrize(("spec", "message"), [
    ([], "input: is not a JSON object"),
    ({"arms": _arms(), "colour": "red"}, "colour: is not a known field (known: metric, method, difference, "
     "alternative, alpha, weights, srm_threshold, priors, sequential_tuning, arms)"),
    ({"arms": _arms(), "method": "anova"}, "method: 'anova' is not one of welch, ztest, bayesian"),
    ({"arms": _arms(), "metric": "median"}, "metric: 'median' is not one of proportion, mean, ratio"),
    ({"arms": _arms(), "difference": "log"}, "difference: 'log' is not one of relative, absolute"),
    ({"arms": _arms(), "alternative": "both"}, "alternative: 'both' is not one of two-sided, greater, less"),
    ({"arms": _arms(), "alpha": 0}, "alpha: 0 is not a number between 0 and 1"),
    ({"arms": _arms(), "sequential_tuning": -5}, "sequential_tuning: -5 is not a positive number"),
    ({"arms": _arms(), "alternative": "greater", "alpha": 0.5},
     "alpha: a one-sided sequential test needs alpha below 0.5"),
    ({"arms": _arms(), "metric": "mean", "method": "ztest"},
     "method: ztest needs metric proportion, not mean"),
    ({}, "arms: is missing or not a list"),
    ({"arms": _arms()[:1]}, "arms: has 1 arm(s); a control and at least one treatment are needed"),
    ({"arms": _arms(7)}, "arms[2]: is not a JSON object"),
    ({"arms": _arms({"n": 3, "conversions": 1})}, "arms[2].name: is missing or empty"),
    ({"arms": _arms({"name": "a", "n": 3, "conversions": 1})}, "arms[2].name: 'a' names another arm too"),
    ({"arms": _arms({"name": "c", "n": 3, "conversions": 1, "sum": 2})},
     "arms[2].sum: is not a field of a proportion arm (n, conversions)"),
    ({"arms": _arms({"name": "c", "n": 3})}, "arms[2].conversions: is missing (metric proportion)"),
    ({"arms": _arms({"name": "c", "n": -3, "conversions": 0})}, "arms[2].n: -3 is negative"),
    ({"arms": _arms({"name": "c", "n": 3, "conversions": -1})}, "arms[2].conversions: -1 is negative"),
    ({"arms": [{"name": "a", "n": 10, "conversions": 1}, {"name": "b", "n": 10, "conversions": 12}]},
     "arms[1].conversions: 12 is more than n (10)"),
    ({"arms": _arms({"name": "c", "n": "3", "conversions": 0})}, "arms[2].n: '3' is not a whole number"),
    ({"metric": "mean", "arms": [{"name": "a", "n": 3, "sum": 1, "sum_squares": 1},
                                 {"name": "b", "n": 3, "sum": "x", "sum_squares": 1}]},
     "arms[1].sum: 'x' is not a finite number"),
    ({"metric": "mean", "arms": [{"name": "a", "n": 3, "sum": 1, "sum_squares": -1},
                                 {"name": "b", "n": 3, "sum": 1, "sum_squares": 1}]},
     "arms[0].sum_squares: -1 is negative"),
    ({"metric": "ratio", "arms": [{"name": "a", "n": 3, "numerator_sum": 1, "numerator_sum_squares": -1,
                                   "denominator_sum": 3, "denominator_sum_squares": 3, "cross_product": 1},
                                  {"name": "b", "n": 3, "numerator_sum": 1, "numerator_sum_squares": 1,
                                   "denominator_sum": 3, "denominator_sum_squares": 3, "cross_product": 1}]},
     "arms[0].numerator_sum_squares: -1 is negative"),
    ({"metric": "ratio", "arms": [{"name": "a", "n": 3, "numerator_sum": 1, "numerator_sum_squares": 1,
                                   "denominator_sum": 3, "denominator_sum_squares": 3, "cross_product": None},
                                  {"name": "b", "n": 3, "numerator_sum": 1, "numerator_sum_squares": 1,
                                   "denominator_sum": 3, "denominator_sum_squares": 3, "cross_product": 1}]},
     "arms[0].cross_product: None is not a finite number"),
    ({"arms": _arms(), "weights": "even"}, "weights: is not a list"),
    ({"arms": _arms(), "weights": [1, 1, 1]}, "weights: 3 weights for 2 arms"),
    ({"arms": _arms(), "weights": [1, -1]}, "weights[1]: -1 is not a positive number"),
    ({"arms": _arms(), "srm_threshold": 1}, "srm_threshold: 1 is not a number between 0 and 1"),
    ({"arms": _arms(), "priors": [[1, 1]]}, "priors: is not a list of 2 [alpha, beta] pairs, one per arm"),
    ({"arms": _arms(), "priors": [[1, 1], [1]]}, "priors[1]: is not an [alpha, beta] pair"),
    ({"arms": _arms(), "priors": [[1, 1], [1, -2]]}, "priors[1]: -2 is not a number >= 0"),
])
def test_bad_input_names_the_field(spec, message):
    with pytest.raises(ExperimentError) as caught:
        analyze(spec)
    assert str(caught.value) == message
