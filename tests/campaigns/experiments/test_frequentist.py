"""Welch and z-tests against GrowthBook's published cases and against scipy.

GrowthBook numbers: growthbook/growthbook packages/stats/tests/frequentist/test_tests.py
(TestTwoSidedTTest, TestOneSidedGreaterTTest, TestOneSidedLesserTTest; rounded to 5 decimals
there except the one-sided cases, given in full) and packages/stats/tests/test_gbstats.py
(test_get_metric_dfs_frequentist_ratio, RATIO_STATISTICS_DF, 9 decimals).
"""

from __future__ import annotations

import pytest

from campaigns.experiments import (
    ExperimentError,
    InsufficientData,
    ProportionStatistic,
    RatioStatistic,
    SampleMeanStatistic,
    TwoProportionZTest,
    WelchTTest,
)

GB5 = 5e-6  # GrowthBook rounds these to 5 decimals
CONTROL = SampleMeanStatistic(n=3407, sum=1396.87, sum_squares=52377.9767)
TREATMENT = SampleMeanStatistic(n=3461, sum=2422.7, sum_squares=134698.29)
CONTROL_3000 = SampleMeanStatistic(n=3000, sum=1396.87, sum_squares=52377.9767)


def test_two_sided_relative_matches_growthbook():
    result = WelchTTest(CONTROL, TREATMENT).result()
    assert result.effect == pytest.approx(0.70732, abs=GB5)
    assert result.ci == pytest.approx((-0.03526, 1.44989), abs=GB5)
    assert result.stddev == pytest.approx(0.37879, abs=GB5)
    assert result.p_value == pytest.approx(0.06191, abs=GB5)


def test_two_sided_absolute_matches_growthbook():
    result = WelchTTest(CONTROL, TREATMENT, difference="absolute").result()
    assert result.effect == pytest.approx(0.29, abs=1e-12)
    assert result.ci == pytest.approx((0.04538, 0.53462), abs=GB5)
    assert result.stddev == pytest.approx(0.12478, abs=GB5)
    assert result.p_value == pytest.approx(0.02016, abs=GB5)


def test_two_sided_proportions_match_growthbook():
    result = WelchTTest(ProportionStatistic(n=28, conversions=14),
                        ProportionStatistic(n=30, conversions=16)).result()
    assert result.effect == pytest.approx(0.06667, abs=GB5)
    assert result.ci == pytest.approx((-0.47767, 0.61101), abs=GB5)
    assert result.stddev == pytest.approx(0.2717, abs=GB5)
    assert result.p_value == pytest.approx(0.80707, abs=GB5)


@pytest.mark.parametrize(("alternative", "difference", "effect", "ci", "stddev", "p_value"), [
    ("greater", "relative", 0.5033610858562358, (-0.045136675850396046, None), 0.3334122146400735,
     0.06558262868467746),
    ("greater", "absolute", 0.23437666666666668, (0.020791480063255735, None), 0.12983081254184736,
     0.03554272489873023),
    ("less", "relative", 0.5033610858562358, (None, 1.0518588475628676), 0.3334122146400735,
     0.9344173713153225),
    ("less", "absolute", 0.23437666666666668, (None, 0.44796185327007765), 0.12983081254184736,
     0.9644572751012698),
])
def test_one_sided_matches_growthbook(alternative, difference, effect, ci, stddev, p_value):
    result = WelchTTest(CONTROL_3000, TREATMENT, difference=difference, alternative=alternative).result()
    assert result.effect == pytest.approx(effect, abs=1e-9)
    assert result.ci[0] == pytest.approx(ci[0], abs=1e-9) if ci[0] is not None else result.ci[0] is None
    assert result.ci[1] == pytest.approx(ci[1], abs=1e-9) if ci[1] is not None else result.ci[1] is None
    assert result.stddev == pytest.approx(stddev, abs=1e-9)
    assert result.p_value == pytest.approx(p_value, abs=1e-9)


def test_ratio_metric_matches_growthbook():
    control = RatioStatistic(100, SampleMeanStatistic(100, 270, 848.79), SampleMeanStatistic(100, 510, 810),
                             cross_product=-900)
    treatment = RatioStatistic(120, SampleMeanStatistic(120, 300, 869), SampleMeanStatistic(120, 500, 800),
                               cross_product=-905)
    assert control.mean == pytest.approx(0.529411765, abs=5e-10)
    assert treatment.mean == pytest.approx(0.6, abs=5e-10)
    result = WelchTTest(control, treatment).result()
    assert result.effect == pytest.approx(0.133333333, abs=5e-10)
    assert result.p_value == pytest.approx(0.610663339, abs=5e-10)


@pytest.mark.parametrize(("alternative", "p_value"), [
    ("two-sided", 0.02015840264358697), ("greater", 0.010079201321793485), ("less", 0.9899207986782065)])
def test_welch_p_value_equals_scipy_ttest_ind_from_stats(alternative, p_value):
    # scipy.stats.ttest_ind_from_stats(mean_b, sd_b, n_b, mean_a, sd_a, n_a, equal_var=False)
    # gives t 2.3240227609215203
    result = WelchTTest(CONTROL, TREATMENT, difference="absolute", alternative=alternative).result()
    assert result.effect / result.stddev == pytest.approx(2.3240227609215203, abs=1e-9)
    assert result.p_value == pytest.approx(p_value, abs=1e-9)


def test_welch_dof_is_welch_satterthwaite():
    result = WelchTTest(ProportionStatistic(28, 14), ProportionStatistic(30, 16)).result()
    v_a, v_b = 0.25 / 28, (16 / 30) * (14 / 30) / 30
    assert result.dof == pytest.approx((v_a + v_b) ** 2 / (v_a**2 / 27 + v_b**2 / 29), rel=1e-12)


def test_ztest_equals_scipy_chi2_contingency():
    # scipy.stats.chi2_contingency([[100, 900], [150, 860]], correction=False): chi2 10.859608460846093,
    # p 0.0009828447252917187; the pooled z is its square root.
    result = TwoProportionZTest(ProportionStatistic(1000, 100), ProportionStatistic(1010, 150),
                                difference="absolute").result()
    assert result.z == pytest.approx(3.295392004124258, abs=1e-9)
    assert result.p_value == pytest.approx(0.0009828447252917187, abs=1e-12)
    assert result.effect == pytest.approx(150 / 1010 - 0.1, abs=1e-12)
    unpooled = (0.1 * 0.9 / 1000 + (150 / 1010) * (860 / 1010) / 1010) ** 0.5
    assert result.stddev == pytest.approx(unpooled, rel=1e-12)
    assert result.ci == pytest.approx((result.effect - 1.959963984540054 * unpooled,
                                       result.effect + 1.959963984540054 * unpooled), abs=1e-12)


def test_ztest_one_sided_halves_the_p_value_and_opens_one_end():
    greater = TwoProportionZTest(ProportionStatistic(1000, 100), ProportionStatistic(1010, 150),
                                 difference="absolute", alternative="greater").result()
    assert greater.p_value == pytest.approx(0.0009828447252917187 / 2, abs=1e-12)
    assert greater.ci[1] is None
    assert greater.ci[0] == pytest.approx(greater.effect - 1.6448536269514722 * greater.stddev, abs=1e-12)


def test_relative_effect_uses_the_delta_method():
    result = TwoProportionZTest(ProportionStatistic(1000, 100), ProportionStatistic(1010, 150)).result()
    m_a, m_b = 0.1, 150 / 1010
    v_a, v_b = m_a * (1 - m_a), m_b * (1 - m_b)
    assert result.effect == pytest.approx((m_b - m_a) / m_a, rel=1e-12)
    delta_method = (v_b / (1010 * m_a**2) + v_a * m_b**2 / (1000 * m_a**4)) ** 0.5
    assert result.stddev == pytest.approx(delta_method, rel=1e-12)


def test_no_variance_or_zero_control_is_insufficient_data():
    with pytest.raises(InsufficientData, match="^variance: the arms have no variance yet$"):
        WelchTTest(ProportionStatistic(10, 0), ProportionStatistic(10, 0), difference="absolute").result()
    with pytest.raises(InsufficientData, match="^difference: the control mean is 0: no relative difference$"):
        WelchTTest(ProportionStatistic(10, 0), ProportionStatistic(10, 3)).result()
    with pytest.raises(InsufficientData, match="^n: each arm needs at least 2 units$"):
        WelchTTest(ProportionStatistic(1, 1), ProportionStatistic(10, 3)).result()
    with pytest.raises(InsufficientData, match="^variance: the arms have no variance yet$"):
        TwoProportionZTest(ProportionStatistic(10, 10), ProportionStatistic(10, 10),
                           difference="absolute").result()


def test_bad_settings_name_the_field():
    with pytest.raises(ExperimentError, match="^alternative: 'both' is not one of two-sided, greater, less$"):
        WelchTTest(CONTROL, TREATMENT, alternative="both").result()
    with pytest.raises(ExperimentError, match="^alpha: 1.5 is not a number between 0 and 1$"):
        WelchTTest(CONTROL, TREATMENT, alpha=1.5).result()
    with pytest.raises(ExperimentError, match="^difference: 'ratio' is not one of relative, absolute$"):
        WelchTTest(CONTROL, TREATMENT, difference="ratio").result()


def test_statistics_refuse_impossible_aggregates():
    with pytest.raises(ExperimentError, match=r"^conversions: 11 is more than n \(10\)$"):
        ProportionStatistic(10, 11)
    with pytest.raises(ExperimentError, match="^n: -1 is negative$"):
        ProportionStatistic(-1, 0)
    with pytest.raises(ExperimentError, match="^n: 2.5 is not a whole number$"):
        SampleMeanStatistic(2.5, 1.0, 1.0)
    with pytest.raises(ExperimentError, match="^sum: nan is not a finite number$"):
        SampleMeanStatistic(2, float("nan"), 1.0)
    with pytest.raises(ExperimentError, match="^sum_squares: -1.0 is negative$"):
        SampleMeanStatistic(2, 1.0, -1.0)
    with pytest.raises(ExperimentError, match=r"^denominator.n: 3 differs from the arm's n \(2\)$"):
        RatioStatistic(2, SampleMeanStatistic(2, 1, 1), SampleMeanStatistic(3, 1, 1), 0.0)
