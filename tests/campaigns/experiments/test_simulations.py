"""Seeded simulations: daily peeking through the always-valid decision rule, its power, and clustered data.

Each simulation draws 500 experiments at once with numpy and applies the library's own
vectorised functions; a sample of looks is re-run through `analyze` to prove it is the same rule.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from campaigns.experiments import (
    ProportionStatistic,
    RatioStatistic,
    SampleMeanStatistic,
    WelchTTest,
    always_valid_p_value,
    analyze,
    holm_adjust,
    mixture_rho,
)

ALPHA, EXPERIMENTS, DAYS, PER_DAY = 0.05, 500, 14, 100
TUNING = 2 * PER_DAY * DAYS  # the design's total units
BASE_RATE = 0.10
ALLOWED = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / EXPERIMENTS)


def daily_looks(rng, rates):
    """Cumulative conversions and units per (experiment, day, arm) for arms with these true rates."""
    daily = rng.binomial(PER_DAY, rates, size=(EXPERIMENTS, DAYS, len(rates)))
    units = PER_DAY * np.arange(1, DAYS + 1)[None, :, None] * np.ones(len(rates), int)
    return daily.cumsum(axis=1), np.broadcast_to(units, daily.shape)


def sequential_decisions(conversions, units):
    """The `analyze` rule (absolute, two-sided) at every look: Holm-adjusted always-valid p and effect."""
    rate = conversions / units
    variance = rate * (1 - rate) / units
    effect = rate[..., 1:] - rate[..., :1]
    stddev = np.sqrt(variance[..., 1:] + variance[..., :1])
    total = units[..., 1:] + units[..., :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = always_valid_p_value(effect, stddev, total, mixture_rho(ALPHA, TUNING))
    p_value = np.where(stddev > 0, p_value, 1.0)
    adjusted = np.apply_along_axis(holm_adjust, -1, p_value)
    return adjusted, effect, p_value


def analyze_look(conversions, units, experiment, day):
    arms = [{"name": f"arm{index}", "n": int(units[experiment, day, index]),
             "conversions": int(conversions[experiment, day, index])}
            for index in range(conversions.shape[-1])]
    return analyze({"difference": "absolute", "sequential_tuning": TUNING, "arms": arms})


def test_aa_daily_peeking_keeps_false_winners_under_alpha():
    rng = np.random.default_rng(20260301)
    conversions, units = daily_looks(rng, [BASE_RATE] * 4)  # control and three identical treatments
    adjusted, effect, _ = sequential_decisions(conversions, units)
    false_winner = ((adjusted <= ALPHA) & (effect > 0)).any(axis=(1, 2))
    assert false_winner.mean() <= ALLOWED
    any_rejection = (adjusted <= ALPHA).any(axis=(1, 2))
    assert any_rejection.mean() <= ALLOWED
    # the same data judged by a fixed-horizon test at every look is fooled far more often
    z = effect / np.sqrt((conversions / units * (1 - conversions / units))[..., 1:] / units[..., 1:] * 2)
    naive = (2 * stats.norm.sf(np.abs(np.nan_to_num(z))) <= ALPHA / 3).any(axis=(1, 2))
    assert naive.mean() > ALLOWED
    for experiment, day in zip(rng.integers(0, EXPERIMENTS, 8), rng.integers(0, DAYS, 8), strict=True):
        result = analyze_look(conversions, units, experiment, day)
        expected = [arm for arm in range(3)
                    if adjusted[experiment, day, arm] <= ALPHA and effect[experiment, day, arm] > 0]
        assert (result["decision"]["winner"] is None) == (not expected)
        observed = [comparison["sequential"]["adjusted_p_value"] for comparison in result["comparisons"]]
        assert observed == pytest.approx(adjusted[experiment, day], abs=1e-12)


def design_power(treatment_rate: float) -> float:
    """P(some daily look crosses the always-valid bound) for the design: the looks' joint normal."""
    days = np.arange(1, DAYS + 1)
    total = 2 * PER_DAY * days
    rho = mixture_rho(ALPHA, TUNING)
    grown = total * rho**2 + 1
    bound = np.sqrt(2 * grown / (total * rho**2) * np.log(np.sqrt(grown) / ALPHA))  # in standard errors
    stddev = np.sqrt((BASE_RATE * (1 - BASE_RATE) + treatment_rate * (1 - treatment_rate)) / (PER_DAY * days))
    drift = (treatment_rate - BASE_RATE) / stddev
    correlation = np.sqrt(np.minimum.outer(days, days) / np.maximum.outer(days, days))
    looks = stats.multivariate_normal(mean=drift, cov=correlation)
    return 1 - float(looks.cdf(bound, rng=np.random.default_rng(7)))


def test_ab_daily_peeking_finds_a_real_effect_at_the_design_power():
    power = design_power(0.14)
    assert power == pytest.approx(0.6564, abs=1e-3)
    rng = np.random.default_rng(20260302)
    conversions, units = daily_looks(rng, [BASE_RATE, 0.14])
    adjusted, effect, _ = sequential_decisions(conversions, units)
    found = ((adjusted <= ALPHA) & (effect > 0)).any(axis=(1, 2))
    assert abs(found.mean() - power) <= 3 * math.sqrt(power * (1 - power) / EXPERIMENTS)


def clustered_aa(rng, partners_per_arm: int = 40):
    """A/A experiments over partners: each partner's recipients share the partner's own conversion rate."""
    shape = (EXPERIMENTS, 2, partners_per_arm)
    recipients = 1 + rng.poisson(50, size=shape)
    conversions = rng.binomial(recipients, rng.beta(2, 18, size=shape))
    return conversions, recipients


def test_clustered_data_needs_the_per_partner_ratio_metric():
    conversions, recipients = clustered_aa(np.random.default_rng(20260303))
    per_recipient, per_partner = [], []
    for experiment in range(EXPERIMENTS):
        flat = [ProportionStatistic(int(recipients[experiment, arm].sum()),
                                    int(conversions[experiment, arm].sum())) for arm in (0, 1)]
        per_recipient.append(WelchTTest(*flat, difference="absolute").result().p_value)
        ratio = [ratio_statistic(conversions[experiment, arm], recipients[experiment, arm]) for arm in (0, 1)]
        per_partner.append(WelchTTest(*ratio, difference="absolute").result().p_value)
    partner_rate = np.mean(np.array(per_partner) <= ALPHA)
    assert ALPHA - (ALLOWED - ALPHA) <= partner_rate <= ALLOWED
    assert np.mean(np.array(per_recipient) <= ALPHA) > 3 * ALPHA


def ratio_statistic(numerators, denominators) -> RatioStatistic:
    """Per-partner sums, sums of squares and cross product, as a warehouse query would return them."""
    numerators, denominators = numerators.astype(float), denominators.astype(float)
    n = len(numerators)
    return RatioStatistic(n, SampleMeanStatistic(n, numerators.sum(), (numerators**2).sum()),
                          SampleMeanStatistic(n, denominators.sum(), (denominators**2).sum()),
                          float((numerators * denominators).sum()))


def test_ratio_delta_method_equals_numpy_on_raw_partners():
    rng = np.random.default_rng(11)
    numerators, denominators = rng.poisson(5, 60).astype(float), 1.0 + rng.poisson(40, 60)
    statistic = ratio_statistic(numerators, denominators)
    covariance = np.cov(numerators, denominators)  # ddof 1
    m, d = numerators.mean(), denominators.mean()
    gradient = np.array([1 / d, -m / d**2])
    assert statistic.variance == pytest.approx(gradient @ covariance @ gradient, rel=1e-10)
    assert statistic.mean == pytest.approx(numerators.sum() / denominators.sum(), rel=1e-12)
