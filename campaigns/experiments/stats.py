"""Sufficient statistics of one arm (n, sums, sums of squares) and the effect of one arm over another."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol

Difference = Literal["relative", "absolute"]
Alternative = Literal["two-sided", "greater", "less"]
DIFFERENCES = ("relative", "absolute")
ALTERNATIVES = ("two-sided", "greater", "less")


class ExperimentError(ValueError):
    """Input that cannot be analysed; `field` names where it is (``arms[1].conversions``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class InsufficientData(ExperimentError):
    """Valid input that does not yet support an estimate (no variance, a zero control mean)."""


class ArmStatistic(Protocol):
    """What every test needs of an arm: units, the per-unit mean and the per-unit variance."""

    n: int

    @property
    def mean(self) -> float: ...

    @property
    def variance(self) -> float: ...


@dataclass(frozen=True)
class ProportionStatistic:
    """Units and converting units of one arm; per-unit variance p(1-p)."""

    n: int
    conversions: int

    def __post_init__(self) -> None:
        _check_count("n", self.n)
        _check_count("conversions", self.conversions)
        if self.conversions > self.n:
            raise ExperimentError("conversions", f"{self.conversions} is more than n ({self.n})")

    @property
    def mean(self) -> float:
        return self.conversions / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        return self.mean * (1 - self.mean)


@dataclass(frozen=True)
class SampleMeanStatistic:
    """Units, sum and sum of squares of a per-unit metric; the unbiased sample variance."""

    n: int
    sum: float
    sum_squares: float

    def __post_init__(self) -> None:
        _check_count("n", self.n)
        _check_finite("sum", self.sum)
        _check_finite("sum_squares", self.sum_squares)
        if self.sum_squares < 0:
            raise ExperimentError("sum_squares", f"{self.sum_squares} is negative")

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        if self.n <= 1:
            return 0.0
        return (self.sum_squares - self.sum**2 / self.n) / (self.n - 1)


@dataclass(frozen=True)
class RatioStatistic:
    """A ratio metric per unit (e.g. clicks per recipient with partners as units), by the delta method.

    The unit of randomisation is the row (a partner); numerator and denominator are summed
    over units, and the per-unit variance of the ratio of means is the delta-method one.
    """

    n: int
    numerator: SampleMeanStatistic
    denominator: SampleMeanStatistic
    cross_product: float

    def __post_init__(self) -> None:
        _check_count("n", self.n)
        _check_finite("cross_product", self.cross_product)
        for name, part in (("numerator", self.numerator), ("denominator", self.denominator)):
            if part.n != self.n:
                raise ExperimentError(f"{name}.n", f"{part.n} differs from the arm's n ({self.n})")

    @property
    def mean(self) -> float:
        return self.numerator.sum / self.denominator.sum if self.denominator.sum else 0.0

    @property
    def covariance(self) -> float:
        if self.n <= 1:
            return 0.0
        return (self.cross_product - self.numerator.sum * self.denominator.sum / self.n) / (self.n - 1)

    @property
    def variance(self) -> float:
        if self.n <= 1 or self.denominator.mean == 0:
            return 0.0
        return ratio_variance(self.numerator.mean, self.numerator.variance, self.denominator.mean,
                              self.denominator.variance, self.covariance)


def ratio_variance(mean_m: float, var_m: float, mean_d: float, var_d: float, cov_md: float) -> float:
    """Delta-method variance of m/d from the moments of m and d."""
    return var_m / mean_d**2 + var_d * mean_m**2 / mean_d**4 - 2 * cov_md * mean_m / mean_d**3


@dataclass(frozen=True)
class EffectEstimate:
    """Point estimate of the treatment's effect and its standard error."""

    estimate: float
    stddev: float


def estimate_effect(control: ArmStatistic, treatment: ArmStatistic, difference: Difference) -> EffectEstimate:
    """Absolute (m_b - m_a) or relative ((m_b - m_a)/|m_a|, delta method) effect of treatment over control."""
    if difference not in DIFFERENCES:
        raise ExperimentError("difference", f"{difference!r} is not one of {', '.join(DIFFERENCES)}")
    if control.n < 2 or treatment.n < 2:
        raise InsufficientData("n", "each arm needs at least 2 units")
    m_a, m_b = control.mean, treatment.mean
    v_a, v_b = control.variance / control.n, treatment.variance / treatment.n
    if difference == "absolute":
        estimate, variance = m_b - m_a, v_a + v_b
    else:
        if m_a == 0:
            raise InsufficientData("difference", "the control mean is 0: no relative difference")
        estimate, variance = (m_b - m_a) / abs(m_a), ratio_variance(m_b, v_b, m_a, v_a, 0.0)
    if not variance > 0:
        raise InsufficientData("variance", "the arms have no variance yet")
    return EffectEstimate(estimate, math.sqrt(variance))


def welch_dof(control: ArmStatistic, treatment: ArmStatistic) -> float:
    """Welch-Satterthwaite degrees of freedom from the per-arm variances."""
    v_a, v_b = control.variance / control.n, treatment.variance / treatment.n
    denominator = v_a**2 / (control.n - 1) + v_b**2 / (treatment.n - 1)
    return (v_a + v_b) ** 2 / denominator if denominator > 0 else math.inf


def _check_count(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ExperimentError(field, f"{value!r} is not a whole number")
    if value < 0:
        raise ExperimentError(field, f"{value} is negative")


def _check_finite(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ExperimentError(field, f"{value!r} is not a finite number")
