"""Sample-ratio mismatch: Pearson's chi-square of the units per arm against the planned weights."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from .stats import ExperimentError

DEFAULT_SRM_THRESHOLD = 0.001
MIN_EXPECTED_COUNT = 5


@dataclass(frozen=True)
class SrmResult:
    """Chi-square and p-value (None when skipped), whether flagged, and why it was skipped."""

    chi2: float | None
    p_value: float | None
    flagged: bool
    skipped: str | None = None


def check_srm(units: Sequence[int], weights: Sequence[float] | None = None,
              threshold: float = DEFAULT_SRM_THRESHOLD) -> SrmResult:
    """Flag a split whose chi-square p-value is below `threshold`; skip while an expected count is under 5."""
    weights = list(weights) if weights is not None else [1.0] * len(units)
    check_weights(weights, len(units))
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold < 1:
        raise ExperimentError("srm_threshold", f"{threshold!r} is not a number between 0 and 1")
    total_units, total_weight = sum(units), sum(weights)
    expected = [total_units * weight / total_weight for weight in weights]
    if min(expected) < MIN_EXPECTED_COUNT:
        return SrmResult(None, None, False,
                         f"an expected count is under {MIN_EXPECTED_COUNT} ({min(expected):g}): "
                         "too few units for the chi-square approximation")
    # scipy.stats.chisquare's statistic and p-value to the last bit, without its ~0.5 ms of checks
    observed, planned = np.asarray(units), np.asarray(expected, dtype=float)
    chi2 = float(np.sum((observed - planned) ** 2 / planned))
    p_value = float(special.chdtrc(len(units) - 1, chi2))
    return SrmResult(chi2, p_value, bool(p_value < threshold))


def check_weights(weights: Sequence[float], arms: int) -> None:
    """Refuse planned weights that are not one positive number per arm."""
    if len(weights) != arms:
        raise ExperimentError("weights", f"{len(weights)} weights for {arms} arms")
    for index, weight in enumerate(weights):
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight < math.inf:
            raise ExperimentError(f"weights[{index}]", f"{weight!r} is not a positive number")
