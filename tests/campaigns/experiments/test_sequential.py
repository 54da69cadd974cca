"""Always-valid intervals and p-values against GrowthBook's sequential cases; Holm's correction.

GrowthBook numbers: growthbook/growthbook packages/stats/tests/frequentist/test_tests.py
(TestSequentialTTest, TestSequentialOneSidedGreaterTTest, TestSequentialOneSidedLesserTTest).
GrowthBook finds one-sided p-values by bisection (capped at 0.4999); ours solve the same
equation in closed form, so they agree to the bisection's tolerance and touch zero exactly.
"""

from __future__ import annotations

import pytest

from campaigns.experiments import (
    ExperimentError,
    ProportionStatistic,
    SampleMeanStatistic,
    SequentialTTest,
    holm_adjust,
    mixture_rho,
    sequential_halfwidth,
)

GB5 = 5e-6
CONTROL = SampleMeanStatistic(n=3000, sum=1396.87, sum_squares=52377.9767)
TREATMENT = SampleMeanStatistic(n=3461, sum=2422.7, sum_squares=134698.29)


def test_two_sided_with_tuning_matches_growthbook():
    result = SequentialTTest(CONTROL, TREATMENT, tuning=1000).result()
    assert result.effect == pytest.approx(0.50336, abs=GB5)
    assert result.ci == pytest.approx((-0.55844, 1.56516), abs=GB5)
    assert result.stddev == pytest.approx(0.33341, abs=GB5)
    assert result.p_value == 1.0


def test_two_sided_proportions_match_growthbook():
    result = SequentialTTest(ProportionStatistic(3000, 1396), ProportionStatistic(3461, 2422)).result()
    assert result.effect == pytest.approx(0.50386, abs=GB5)
    assert result.ci == pytest.approx((0.40098, 0.60675), abs=GB5)
    assert result.stddev == pytest.approx(0.03386, abs=GB5)
    assert result.p_value < 5e-6


@pytest.mark.parametrize(("alternative", "difference", "ci"), [
    ("greater", "relative", (-0.42356454602790883, None)),
    ("greater", "absolute", (-0.12656844172804982, None)),
    ("less", "relative", (None, 1.4302867177403806)),
    ("less", "absolute", (None, 0.5953217750613832)),
])
def test_one_sided_bounds_match_growthbook(alternative, difference, ci):
    result = SequentialTTest(CONTROL, TREATMENT, difference=difference, alternative=alternative).result()
    low, high = result.ci
    assert (low is None) == (ci[0] is None) and (high is None) == (ci[1] is None)
    bound = low if low is not None else high
    assert bound == pytest.approx(ci[0] if ci[0] is not None else ci[1], abs=1e-9)


def test_one_sided_p_value_matches_growthbook_bisection_and_is_exact():
    result = SequentialTTest(CONTROL, TREATMENT, difference="absolute", alternative="greater").result()
    assert result.p_value == pytest.approx(0.46316491943359384, abs=2e-4)
    rho = mixture_rho(0.05, 5000, two_sided=False)
    halfwidth = sequential_halfwidth(result.stddev, 6461, result.p_value, rho, two_sided=False)
    assert halfwidth == pytest.approx(result.effect, rel=1e-12)
    wrong_way = SequentialTTest(CONTROL, TREATMENT, difference="absolute", alternative="less").result()
    assert wrong_way.p_value == 1.0


def test_two_sided_p_value_is_where_the_interval_touches_zero():
    result = SequentialTTest(ProportionStatistic(3000, 300), ProportionStatistic(3000, 390),
                             difference="absolute").result()
    assert 0 < result.p_value < 0.05
    rho = mixture_rho(0.05, 5000)
    halfwidth = sequential_halfwidth(result.stddev, 6000, result.p_value, rho)
    assert halfwidth == pytest.approx(result.effect, rel=1e-12)


def test_always_valid_interval_is_wider_than_the_fixed_horizon_one():
    result = SequentialTTest(CONTROL, TREATMENT, difference="absolute").result()
    assert result.ci[1] - result.ci[0] > 2 * 1.96 * result.stddev


def test_holm_adjusts_step_down():
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06], abs=1e-15)
    assert holm_adjust([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([0.02]) == [0.02]


def test_bad_settings_name_the_field():
    with pytest.raises(ExperimentError, match="^alpha: a one-sided sequential test needs alpha below 0.5$"):
        SequentialTTest(CONTROL, TREATMENT, alternative="greater", alpha=0.6).result()
    with pytest.raises(ExperimentError, match="^sequential_tuning: 0 is not a positive number$"):
        SequentialTTest(CONTROL, TREATMENT, tuning=0).result()
