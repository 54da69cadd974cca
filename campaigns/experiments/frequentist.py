"""Fixed-horizon tests: Welch's t-test on means, proportions or ratios; the two-proportion z-test."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as distributions

from .stats import (
    ALTERNATIVES,
    Alternative,
    ArmStatistic,
    Difference,
    ExperimentError,
    InsufficientData,
    ProportionStatistic,
    estimate_effect,
    welch_dof,
)

Interval = tuple[float | None, float | None]


@dataclass(frozen=True)
class FrequentistResult:
    """Effect, its interval (None for an open end), standard error and p-value; z for the z-test."""

    effect: float
    ci: Interval
    stddev: float
    p_value: float
    dof: float | None = None
    z: float | None = None


def check_alternative(alternative: str) -> None:
    """Refuse an alternative that is none of two-sided, greater, less."""
    if alternative not in ALTERNATIVES:
        raise ExperimentError("alternative", f"{alternative!r} is not one of {', '.join(ALTERNATIVES)}")


def check_alpha(alpha: object) -> None:
    """Refuse a significance level outside (0, 1)."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ExperimentError("alpha", f"{alpha!r} is not a number between 0 and 1")


def interval(effect: float, halfwidth: float, alternative: Alternative) -> Interval:
    """Two-sided interval, or a one-sided bound whose open end is None."""
    if alternative == "greater":
        return (effect - halfwidth, None)
    if alternative == "less":
        return (None, effect + halfwidth)
    return (effect - halfwidth, effect + halfwidth)


@dataclass(frozen=True)
class WelchTTest:
    """Welch's unequal-variance t-test of treatment against control."""

    control: ArmStatistic
    treatment: ArmStatistic
    difference: Difference = "relative"
    alternative: Alternative = "two-sided"
    alpha: float = 0.05

    def result(self) -> FrequentistResult:
        check_alternative(self.alternative)
        check_alpha(self.alpha)
        moments = estimate_effect(self.control, self.treatment, self.difference)
        dof = welch_dof(self.control, self.treatment)
        t_dist = distributions.t(dof)
        score = moments.estimate / moments.stddev
        if self.alternative == "two-sided":
            p_value = 2 * t_dist.sf(abs(score))
            quantile = t_dist.ppf(1 - self.alpha / 2)
        else:
            p_value = t_dist.sf(score) if self.alternative == "greater" else t_dist.cdf(score)
            quantile = t_dist.ppf(1 - self.alpha)
        return FrequentistResult(
            effect=moments.estimate,
            ci=interval(moments.estimate, float(quantile) * moments.stddev, self.alternative),
            stddev=moments.stddev, p_value=float(p_value), dof=dof)


@dataclass(frozen=True)
class TwoProportionZTest:
    """Pooled two-proportion z-test; the interval uses the unpooled standard error."""

    control: ProportionStatistic
    treatment: ProportionStatistic
    difference: Difference = "relative"
    alternative: Alternative = "two-sided"
    alpha: float = 0.05

    def result(self) -> FrequentistResult:
        check_alternative(self.alternative)
        check_alpha(self.alpha)
        moments = estimate_effect(self.control, self.treatment, self.difference)
        a, b = self.control, self.treatment
        pooled = (a.conversions + b.conversions) / (a.n + b.n)
        pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n))
        if pooled_se == 0:
            raise InsufficientData("variance", "the arms have no variance yet")
        z = (b.mean - a.mean) / pooled_se
        if self.alternative == "two-sided":
            p_value = 2 * distributions.norm.sf(abs(z))
            quantile = distributions.norm.ppf(1 - self.alpha / 2)
        else:
            p_value = distributions.norm.sf(z) if self.alternative == "greater" else distributions.norm.cdf(z)
            quantile = distributions.norm.ppf(1 - self.alpha)
        return FrequentistResult(
            effect=moments.estimate,
            ci=interval(moments.estimate, float(quantile) * moments.stddev, self.alternative),
            stddev=moments.stddev, p_value=float(p_value), z=z)
