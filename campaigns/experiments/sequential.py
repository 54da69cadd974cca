"""Always-valid inference for daily peeking, and Holm's correction across treatments.

The intervals are GrowthBook's sequential ones: the asymptotic confidence sequences of
Waudby-Smith et al. (arXiv 2103.06476, eqs. 9, 134, 155 and 161), a normal mixture over the
effect whose width is tuned for `tuning` total units. They hold at every look at once, so a
decision taken the first day any of them excludes zero keeps its error rate under alpha.
The functions take numpy arrays as well as floats, so simulations can run many looks at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .frequentist import Interval, check_alpha, check_alternative, interval
from .stats import Alternative, ArmStatistic, Difference, ExperimentError, estimate_effect

DEFAULT_TUNING = 5000


def mixture_rho(alpha: float, tuning: float, two_sided: bool = True) -> float:
    """Spread of the normal mixture that makes the sequence tightest at `tuning` total units."""
    level = alpha if two_sided else 2 * alpha
    return float(np.sqrt((-2 * np.log(level) + np.log(-2 * np.log(level) + 1)) / tuning))


def sequential_halfwidth(stddev, n, alpha: float, rho: float, two_sided: bool = True):
    """Half-width of the always-valid interval for an effect with standard error `stddev` after n units."""
    s2 = np.square(stddev) * n
    grown = n * rho**2 + 1
    scale = 2 * grown / np.square(n * rho)
    if two_sided:
        return np.sqrt(s2 * scale * np.log(np.sqrt(grown) / alpha))
    return np.sqrt(s2 * scale * np.log1p(np.sqrt(grown) / (2 * alpha)))


def always_valid_p_value(effect, stddev, n, rho: float, alternative: Alternative = "two-sided"):
    """Smallest alpha at which the always-valid interval (mixture `rho`) excludes zero, capped at 1."""
    effect, stddev, n = np.asarray(effect, float), np.asarray(stddev, float), np.asarray(n, float)
    grown = n * rho**2 + 1
    # log of the mixture likelihood ratio against no effect: rho^2 t^2 n / (2 (n rho^2 + 1))
    evidence = rho**2 * np.square(effect / stddev) * n / (2 * grown)
    if alternative == "two-sided":
        p_value = np.sqrt(grown) * np.exp(-evidence)
    else:
        right_way = effect > 0 if alternative == "greater" else effect < 0
        with np.errstate(divide="ignore"):
            p_value = np.where(right_way, np.sqrt(grown) / (2 * np.expm1(evidence)), 1.0)
    return np.minimum(p_value, 1.0)


@dataclass(frozen=True)
class SequentialResult:
    """Effect, its always-valid interval (None for an open end), standard error and always-valid p-value."""

    effect: float
    ci: Interval
    stddev: float
    p_value: float


@dataclass(frozen=True)
class SequentialTTest:
    """Treatment against control with an interval and p-value valid however often one looks."""

    control: ArmStatistic
    treatment: ArmStatistic
    difference: Difference = "relative"
    alternative: Alternative = "two-sided"
    alpha: float = 0.05
    tuning: float = DEFAULT_TUNING

    def result(self) -> SequentialResult:
        check_alternative(self.alternative)
        check_alpha(self.alpha)
        if isinstance(self.tuning, bool) or not isinstance(self.tuning, int | float) or not self.tuning > 0:
            raise ExperimentError("sequential_tuning", f"{self.tuning!r} is not a positive number")
        two_sided = self.alternative == "two-sided"
        if not two_sided and self.alpha >= 0.5:
            raise ExperimentError("alpha", "a one-sided sequential test needs alpha below 0.5")
        moments = estimate_effect(self.control, self.treatment, self.difference)
        n = self.control.n + self.treatment.n
        rho = mixture_rho(self.alpha, self.tuning, two_sided)
        halfwidth = float(sequential_halfwidth(moments.stddev, n, self.alpha, rho, two_sided))
        p_value = float(always_valid_p_value(moments.estimate, moments.stddev, n, rho, self.alternative))
        return SequentialResult(moments.estimate, interval(moments.estimate, halfwidth, self.alternative),
                                moments.stddev, p_value)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: reject those at or below alpha, family-wise error <= alpha."""
    order = sorted(range(len(p_values)), key=lambda index: p_values[index])
    adjusted, running = [1.0] * len(p_values), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
