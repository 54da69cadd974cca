"""One experiment's analysis from JSON-shaped aggregates: checks, SRM, comparisons and the decision."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .bayesian import BetaBinomialTest, BetaPrior
from .frequentist import TwoProportionZTest, WelchTTest, check_alpha, check_alternative
from .sequential import DEFAULT_TUNING, SequentialResult, SequentialTTest, holm_adjust
from .srm import DEFAULT_SRM_THRESHOLD, SrmResult, check_srm, check_weights
from .stats import (
    DIFFERENCES,
    ArmStatistic,
    ExperimentError,
    InsufficientData,
    ProportionStatistic,
    RatioStatistic,
    SampleMeanStatistic,
)

METRICS = ("proportion", "mean", "ratio")
METHODS = ("welch", "ztest", "bayesian")
_ARM_FIELDS = {
    "proportion": ("n", "conversions"),
    "mean": ("n", "sum", "sum_squares"),
    "ratio": ("n", "numerator_sum", "numerator_sum_squares", "denominator_sum",
              "denominator_sum_squares", "cross_product"),
}
_SETTINGS = ("metric", "method", "difference", "alternative", "alpha", "weights", "srm_threshold",
             "priors", "sequential_tuning", "arms")


@dataclass(frozen=True)
class Settings:
    """How to analyse: metric kind, method, effect scale, hypothesis, level and sequential tuning."""

    metric: str = "proportion"
    method: str = "welch"
    difference: str = "relative"
    alternative: str = "two-sided"
    alpha: float = 0.05
    tuning: float = DEFAULT_TUNING


@dataclass(frozen=True)
class Arm:
    """A named arm and its sufficient statistics."""

    name: str
    statistic: ArmStatistic


def analyze(spec: object) -> dict:
    """Analyse aggregates shaped like the `tcma experiments analyze` input; returns its JSON output."""
    if not isinstance(spec, Mapping):
        raise ExperimentError("input", "is not a JSON object")
    unknown = sorted(set(spec) - set(_SETTINGS))
    if unknown:
        raise ExperimentError(unknown[0], f"is not a known field (known: {', '.join(_SETTINGS)})")
    settings = parse_settings(spec)
    arms = parse_arms(spec.get("arms"), settings.metric)
    weights = spec.get("weights", [1.0] * len(arms))
    if not isinstance(weights, list):
        raise ExperimentError("weights", "is not a list")
    check_weights(weights, len(arms))
    priors = parse_priors(spec.get("priors"), len(arms))
    threshold = spec.get("srm_threshold", DEFAULT_SRM_THRESHOLD)
    srm = check_srm([arm.statistic.n for arm in arms], weights, threshold)
    control, treatments = arms[0], arms[1:]
    comparisons = [compare(control, arm, settings, priors[0], priors[index])
                   for index, arm in enumerate(treatments, start=1)]
    sequential = [sequential_result(control, arm, settings) for arm in treatments]
    adjusted = holm_adjust([1.0 if result is None else result.p_value for result in sequential])
    for comparison, result, p_adjusted in zip(comparisons, sequential, adjusted, strict=True):
        comparison["sequential"] = None if result is None else {
            "ci": _interval(result.ci), "p_value": result.p_value, "adjusted_p_value": p_adjusted}
    return {"srm": _srm_json(srm), "comparisons": comparisons,
            "decision": decide(control.name, treatments, sequential, adjusted, srm, settings)}


def parse_settings(spec: Mapping) -> Settings:
    """Settings from the input, each defaulted and checked against its allowed values."""
    chosen = {key: spec[key] for key in ("metric", "method", "difference", "alternative") if key in spec}
    for key, allowed in (("metric", METRICS), ("method", METHODS), ("difference", DIFFERENCES)):
        if key in chosen and chosen[key] not in allowed:
            raise ExperimentError(key, f"{chosen[key]!r} is not one of {', '.join(allowed)}")
    if "alternative" in chosen:
        check_alternative(chosen["alternative"])
    settings = Settings(**chosen, alpha=spec.get("alpha", 0.05),
                        tuning=spec.get("sequential_tuning", DEFAULT_TUNING))
    check_alpha(settings.alpha)
    tuning = settings.tuning
    if isinstance(tuning, bool) or not isinstance(tuning, int | float) or not tuning > 0:
        raise ExperimentError("sequential_tuning", f"{settings.tuning!r} is not a positive number")
    if settings.method in ("ztest", "bayesian") and settings.metric != "proportion":
        raise ExperimentError("method", f"{settings.method} needs metric proportion, not {settings.metric}")
    return settings


def parse_arms(raw: object, metric: str) -> list[Arm]:
    """Arms from the input: at least two objects, uniquely named, with the metric's fields."""
    if not isinstance(raw, list):
        raise ExperimentError("arms", "is missing or not a list")
    if len(raw) < 2:
        raise ExperimentError("arms", f"has {len(raw)} arm(s); a control and at least one treatment "
                                      "are needed")
    arms, names = [], set()
    for index, item in enumerate(raw):
        where = f"arms[{index}]"
        if not isinstance(item, Mapping):
            raise ExperimentError(where, "is not a JSON object")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ExperimentError(f"{where}.name", "is missing or empty")
        if name in names:
            raise ExperimentError(f"{where}.name", f"{name!r} names another arm too")
        names.add(name)
        arms.append(Arm(name, _arm_statistic(item, metric, where)))
    return arms


def _arm_statistic(item: Mapping, metric: str, where: str) -> ArmStatistic:
    fields = _ARM_FIELDS[metric]
    for key in item:
        if key != "name" and key not in fields:
            raise ExperimentError(f"{where}.{key}", f"is not a field of a {metric} arm ({', '.join(fields)})")
    for key in fields:
        if key not in item:
            raise ExperimentError(f"{where}.{key}", f"is missing (metric {metric})")
    try:
        if metric == "proportion":
            return ProportionStatistic(item["n"], item["conversions"])
        if metric == "mean":
            return SampleMeanStatistic(item["n"], item["sum"], item["sum_squares"])
        _check_ratio_parts(item, where)
        return RatioStatistic(
            item["n"], SampleMeanStatistic(item["n"], item["numerator_sum"], item["numerator_sum_squares"]),
            SampleMeanStatistic(item["n"], item["denominator_sum"], item["denominator_sum_squares"]),
            item["cross_product"])
    except ExperimentError as error:
        raise ExperimentError(f"{where}.{error.field}", error.message) from None


def _check_ratio_parts(item: Mapping, where: str) -> None:
    """Name the input's field, not the inner statistic's, when a ratio part is wrong."""
    for prefix in ("numerator", "denominator"):
        try:
            SampleMeanStatistic(item["n"], item[f"{prefix}_sum"], item[f"{prefix}_sum_squares"])
        except ExperimentError as error:
            field = error.field if error.field == "n" else f"{prefix}_{error.field}"
            raise ExperimentError(field, error.message) from None


def parse_priors(raw: object, arms: int) -> list[BetaPrior]:
    """One Beta prior per arm, [a0, b0] each; Beta(1, 1) for all when absent."""
    if raw is None:
        return [BetaPrior()] * arms
    if not isinstance(raw, list) or len(raw) != arms:
        raise ExperimentError("priors", f"is not a list of {arms} [alpha, beta] pairs, one per arm")
    priors = []
    for index, pair in enumerate(raw):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ExperimentError(f"priors[{index}]", "is not an [alpha, beta] pair")
        try:
            priors.append(BetaPrior(*pair))
        except ExperimentError as error:
            raise ExperimentError(f"priors[{index}]", error.message) from None
    return priors


def compare(control: Arm, arm: Arm, settings: Settings, prior_a: BetaPrior, prior_b: BetaPrior) -> dict:
    """One treatment against control by the chosen method, as JSON."""
    common = {"difference": settings.difference, "alpha": settings.alpha}
    out: dict = {"arm": arm.name}
    try:
        if settings.method == "bayesian":
            result = BetaBinomialTest(control.statistic, arm.statistic, prior_control=prior_a,
                                      prior_treatment=prior_b, **common).result()
            return out | {"effect": result.effect, "ci": list(result.ci), "stddev": result.stddev,
                          "p_value": None, "chance_to_win": result.chance_to_win, "risk": list(result.risk)}
        test = TwoProportionZTest if settings.method == "ztest" else WelchTTest
        result = test(control.statistic, arm.statistic, alternative=settings.alternative, **common).result()
    except InsufficientData as error:
        return out | {"effect": None, "ci": None, "stddev": None, "p_value": None, "error": str(error)}
    out |= {"effect": result.effect, "ci": _interval(result.ci), "stddev": result.stddev,
            "p_value": result.p_value}
    return out | {"z": result.z} if settings.method == "ztest" else out


def sequential_result(control: Arm, arm: Arm, settings: Settings) -> SequentialResult | None:
    """The always-valid comparison that decisions rest on; None while the data cannot support one."""
    try:
        return SequentialTTest(control.statistic, arm.statistic, settings.difference, settings.alternative,
                               settings.alpha, settings.tuning).result()
    except InsufficientData:
        return None


def decide(control: str, treatments: list[Arm], sequential: list[SequentialResult | None],
           adjusted: list[float], srm: SrmResult, settings: Settings) -> dict:
    """The winner (or None) by always-valid p-values, Holm-corrected over the treatments."""
    if srm.flagged:
        return {"winner": None, "reason": f"sample ratio mismatch (p = {srm.p_value:.3g} below the "
                                          "threshold): the split is broken, so no arm is judged"}
    sign = -1 if settings.alternative == "less" else 1
    significant = [(arm.name, result.effect)
                   for arm, result, p in zip(treatments, sequential, adjusted, strict=True)
                   if result is not None and p <= settings.alpha]
    better = [(name, effect) for name, effect in significant if sign * effect > 0]
    worse = [name for name, effect in significant if sign * effect < 0]
    family = f"{len(treatments)} treatment(s)"
    if better:
        name, effect = max(better, key=lambda item: sign * item[1])
        index = [arm.name for arm in treatments].index(name)
        reason = (f"{name} beats {control} ({settings.difference} effect {effect:+.4g}): always-valid p "
                  f"{sequential[index].p_value:.3g}, Holm-adjusted over {family} {adjusted[index]:.3g} "
                  f"<= alpha {settings.alpha}")
    else:
        smallest = min(adjusted)
        reason = (f"no treatment beats {control} at alpha {settings.alpha} (always-valid p-values, "
                  f"Holm-corrected over {family}; smallest adjusted p {smallest:.3g}); keep collecting "
                  "or stop without a winner")
        name = None
    if worse:
        reason += f"; significantly worse than {control}: {', '.join(worse)}"
    if srm.skipped:
        reason += f"; the sample-ratio check was skipped ({srm.skipped})"
    return {"winner": name, "reason": reason}


def _interval(ci: tuple[float | None, float | None]) -> list[float | None]:
    return [None if end is None or not math.isfinite(end) else end for end in ci]


def _srm_json(srm: SrmResult) -> dict:
    out = {"chi2": srm.chi2, "p_value": srm.p_value, "flagged": srm.flagged}
    return out | {"skipped": srm.skipped} if srm.skipped else out
