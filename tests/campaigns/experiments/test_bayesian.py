"""Beta-binomial test against GrowthBook's published cases and an exact closed form.

GrowthBook numbers: growthbook/growthbook packages/stats/tests/bayesian/test_tests.py as of the
parent of commit 1bfa8046d2 (TestBinom.test_bayesian_binomial_ab_test and ..._with_prior, 5
decimals). GrowthBook's chance to win there is the log-normal approximation; ours is exact, so
it is checked against Evan Miller's closed form for integer Beta parameters (scipy.special.betaln).
"""

from __future__ import annotations

import pytest

from campaigns.experiments import BetaBinomialTest, BetaPrior, ExperimentError, ProportionStatistic

GB5 = 5e-6
CONTROL, TREATMENT = ProportionStatistic(n=100, conversions=49), ProportionStatistic(n=100, conversions=51)


def test_uniform_prior_matches_growthbook():
    result = BetaBinomialTest(CONTROL, TREATMENT).result()
    assert result.effect == pytest.approx(0.0404, abs=GB5)
    assert result.ci == pytest.approx((-0.21099, 0.37189), abs=GB5)
    assert result.stddev == pytest.approx(0.14112, abs=GB5)
    assert result.risk == pytest.approx((0.03872, 0.01912), abs=GB5)
    # exact P(p_b > p_a), Beta(52, 50) against Beta(50, 52); GrowthBook's approximation says 0.61052
    assert result.chance_to_win == pytest.approx(0.6107705226877711, abs=1e-9)


def test_informative_priors_match_growthbook():
    result = BetaBinomialTest(CONTROL, TREATMENT, prior_control=BetaPrior(0, 0),
                              prior_treatment=BetaPrior(100, 100)).result()
    assert result.effect == pytest.approx(0.0309, abs=GB5)
    assert result.ci == pytest.approx((-0.18162, 0.2986), abs=GB5)
    assert result.stddev == pytest.approx(0.11778, abs=GB5)
    assert result.risk == pytest.approx((0.03025, 0.01692), abs=GB5)
    # exact, Beta(151, 149) against Beta(49, 51); the log-normal approximation says 0.60193
    assert result.chance_to_win == pytest.approx(0.5916528846637358, abs=1e-9)


def test_absolute_difference_is_the_difference_of_posterior_means():
    result = BetaBinomialTest(CONTROL, TREATMENT, difference="absolute").result()
    assert result.effect == pytest.approx(52 / 102 - 50 / 102, abs=1e-12)
    variance = 2 * 50 * 52 / (102**2 * 103)
    assert result.stddev == pytest.approx(variance**0.5, rel=1e-12)
    assert result.ci == pytest.approx((result.effect - 1.959963984540054 * variance**0.5,
                                       result.effect + 1.959963984540054 * variance**0.5), abs=1e-12)


def test_large_samples_keep_the_integrals_exact():
    # a million units an arm make the posteriors needles; the exact value is Evan Miller's sum
    result = BetaBinomialTest(ProportionStatistic(1_000_000, 100_000),
                              ProportionStatistic(1_000_000, 100_500)).result()
    assert result.chance_to_win == pytest.approx(0.880442536945949, abs=1e-8)
    # E max - E p_a minus (E max - E p_b) is E p_b - E p_a, whatever the integrals' own error
    difference = 100_501 / 1_000_002 - 100_001 / 1_000_002
    assert result.risk[0] - result.risk[1] == pytest.approx(difference, abs=1e-10)
    assert result.risk[1] == pytest.approx(2.4965e-05, abs=1e-8)


def test_identical_arms_are_a_coin_toss():
    result = BetaBinomialTest(ProportionStatistic(50, 5), ProportionStatistic(50, 5)).result()
    assert result.chance_to_win == pytest.approx(0.5, abs=1e-9)
    assert result.risk[0] == pytest.approx(result.risk[1], abs=1e-12)


def test_bad_priors_name_the_field():
    with pytest.raises(ExperimentError, match="^alpha: -1 is not a number >= 0$"):
        BetaPrior(-1, 1)
    improper = r"^priors: the posterior Beta\(0, 10\) is improper; use a prior above 0$"
    with pytest.raises(ExperimentError, match=improper):
        BetaBinomialTest(ProportionStatistic(10, 0), TREATMENT, prior_control=BetaPrior(0, 0)).result()
    with pytest.raises(ExperimentError, match="^difference: 'log' is not one of relative, absolute$"):
        BetaBinomialTest(CONTROL, TREATMENT, difference="log").result()
