"""A/B experiment analysis over sufficient statistics (n, sums, sums of squares), as pure functions.

Public API:

- Arm statistics: ``ProportionStatistic(n, conversions)``, ``SampleMeanStatistic(n, sum, sum_squares)``,
  ``RatioStatistic(n, numerator, denominator, cross_product)`` (delta method; the unit is the row,
  e.g. a partner); each has ``mean`` and per-unit ``variance``.
- Tests, each a frozen class with ``result()``: ``WelchTTest`` and ``TwoProportionZTest``
  (``FrequentistResult``), ``BetaBinomialTest`` with ``BetaPrior`` (``BayesianResult``),
  ``SequentialTTest`` (``SequentialResult``, always-valid under repeated looks).
  Arguments: ``control, treatment, difference="relative"|"absolute",
  alternative="two-sided"|"greater"|"less", alpha=0.05``.
- ``check_srm(units, weights, threshold=0.001) -> SrmResult``; ``holm_adjust(p_values)``;
  ``always_valid_p_value``, ``sequential_halfwidth``, ``mixture_rho`` (numpy-friendly).
- ``assign(experiment_salt, unit_id, weights) -> arm index``; ``bucket(salt, unit_id)``;
  ``fnv1a32(text)`` (GrowthBook's hashing, version 2).
- ``analyze(spec) -> dict``: the ``tcma experiments analyze`` JSON in and out.
- Errors: ``ExperimentError`` (``field``, ``message``); ``InsufficientData`` (no variance yet).
"""

from .analysis import METHODS, METRICS, analyze
from .assignment import assign, bucket, fnv1a32
from .bayesian import BayesianResult, BetaBinomialTest, BetaPrior
from .frequentist import FrequentistResult, TwoProportionZTest, WelchTTest
from .sequential import (
    DEFAULT_TUNING,
    SequentialResult,
    SequentialTTest,
    always_valid_p_value,
    holm_adjust,
    mixture_rho,
    sequential_halfwidth,
)
from .srm import DEFAULT_SRM_THRESHOLD, SrmResult, check_srm
from .stats import (
    ExperimentError,
    InsufficientData,
    ProportionStatistic,
    RatioStatistic,
    SampleMeanStatistic,
)

__all__ = [
    "DEFAULT_SRM_THRESHOLD", "DEFAULT_TUNING", "METHODS", "METRICS", "BayesianResult", "BetaBinomialTest",
    "BetaPrior", "ExperimentError", "FrequentistResult", "InsufficientData", "ProportionStatistic",
    "RatioStatistic", "SampleMeanStatistic", "SequentialResult", "SequentialTTest", "SrmResult",
    "TwoProportionZTest", "WelchTTest", "always_valid_p_value", "analyze", "assign", "bucket", "check_srm",
    "fnv1a32", "holm_adjust", "mixture_rho", "sequential_halfwidth",
]
