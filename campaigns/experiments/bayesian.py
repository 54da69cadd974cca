"""Beta-binomial comparison of two proportions: exact chance to win and risk, log-normal uplift."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import integrate, special
from scipy import stats as distributions

from .frequentist import check_alpha
from .stats import DIFFERENCES, Difference, ExperimentError, ProportionStatistic

# Integrate over the central part of each posterior that leaves out at most 2e-14 of its mass.
_TAIL = 1e-14


@dataclass(frozen=True)
class BetaPrior:
    """Beta(alpha, beta) prior on a conversion rate; Beta(1, 1) is uniform."""

    alpha: float = 1.0
    beta: float = 1.0

    def __post_init__(self) -> None:
        for name, value in (("alpha", self.alpha), ("beta", self.beta)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
                raise ExperimentError(name, f"{value!r} is not a number >= 0")

    def posterior(self, arm: ProportionStatistic) -> tuple[float, float]:
        """Posterior Beta parameters after the arm's conversions out of n."""
        a, b = self.alpha + arm.conversions, self.beta + arm.n - arm.conversions
        if a <= 0 or b <= 0:
            raise ExperimentError("priors", f"the posterior Beta({a}, {b}) is improper; use a prior above 0")
        return a, b


@dataclass(frozen=True)
class BayesianResult:
    """Effect with its credible interval, the stddev of the effect's normal (log scale for relative),
    P(treatment > control), and the expected loss [of choosing control, of choosing treatment]."""

    effect: float
    ci: tuple[float, float]
    stddev: float
    chance_to_win: float
    risk: tuple[float, float]


@dataclass(frozen=True)
class BetaBinomialTest:
    """Treatment against control with Beta posteriors on both conversion rates."""

    control: ProportionStatistic
    treatment: ProportionStatistic
    difference: Difference = "relative"
    alpha: float = 0.05
    prior_control: BetaPrior = BetaPrior()
    prior_treatment: BetaPrior = BetaPrior()

    def result(self) -> BayesianResult:
        if self.difference not in DIFFERENCES:
            raise ExperimentError("difference", f"{self.difference!r} is not one of {', '.join(DIFFERENCES)}")
        check_alpha(self.alpha)
        post_a = distributions.beta(*self.prior_control.posterior(self.control))
        post_b = distributions.beta(*self.prior_treatment.posterior(self.treatment))
        if self.difference == "relative":
            mean_a, var_a = log_moments(*post_a.args)
            mean_b, var_b = log_moments(*post_b.args)
        else:
            (mean_a, var_a), (mean_b, var_b) = post_a.stats("mv"), post_b.stats("mv")
        center, spread = float(mean_b - mean_a), math.sqrt(var_a + var_b)
        low, high = distributions.norm.ppf([self.alpha / 2, 1 - self.alpha / 2], center, spread)
        if self.difference == "relative":
            effect, low, high = math.expm1(center), math.expm1(low), math.expm1(high)
        else:
            effect = center
        expected_max = _expected_max(post_a, post_b)
        return BayesianResult(
            effect=effect, ci=(float(low), float(high)), stddev=spread,
            chance_to_win=chance_to_win(post_a, post_b),
            risk=(max(expected_max - float(post_a.mean()), 0.0),
                  max(expected_max - float(post_b.mean()), 0.0)))


def log_moments(a: float, b: float) -> tuple[float, float]:
    """Mean and variance of log(p) for p ~ Beta(a, b)."""
    return (float(special.digamma(a) - special.digamma(a + b)),
            float(special.polygamma(1, a) - special.polygamma(1, a + b)))


def chance_to_win(post_a, post_b) -> float:
    """P(p_b > p_a) = integral of f_b(x) F_a(x) over x."""
    return min(max(_integrate(lambda x: post_b.pdf(x) * post_a.cdf(x), post_b), 0.0), 1.0)


def _expected_max(post_a, post_b) -> float:
    """E max(p_a, p_b) = integral of x f_a(x) F_b(x) plus integral of x f_b(x) F_a(x)."""
    return float(_integrate(lambda x: x * post_a.pdf(x) * post_b.cdf(x), post_a)
            + _integrate(lambda x: x * post_b.pdf(x) * post_a.cdf(x), post_b))


def _integrate(function, weight) -> float:
    """Integrate over where the weighting posterior has its mass, split at its mean."""
    low, high = weight.ppf(_TAIL), weight.isf(_TAIL)
    middle = min(max(weight.mean(), low), high)
    total = 0.0
    for start, stop in ((low, middle), (middle, high)):
        if stop > start:
            value, _ = integrate.quad(function, start, stop, epsabs=1e-13, epsrel=1e-11, limit=200)
            total += value
    return total
