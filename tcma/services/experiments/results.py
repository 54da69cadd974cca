"""An experiment's numbers, read in one grouped query, and what they say.

Metrics (machine activity never counts; its share per arm is reported):
- click: human clicks per delivered item (a finished co-branded file, a published post, a send);
- open: human opens per delivered email (a finished email render, a send);
- reaction: likes, reposts and replies per published post;
- download: downloads per partner.
Only events recorded under one of the experiment's arms on or after its first day count: the
experiment's running totals per partner (tcma.services.tracking.experiment_totals) hold exactly
those, so results as of now read them; results up to a past day read the rollups of the days.
With the partner as the unit, per-item metrics are ratio metrics analysed per partner by the delta
method (a partner's items are not independent); downloads are a mean per partner. With the
recipient as the unit (emails), each send is a unit and a unique click or open its conversion.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from scipy import special
from sqlalchemy import BigInteger, Float, bindparam, case, cast, func, literal, select

from campaigns.experiments import (
    BetaBinomialTest,
    InsufficientData,
    ProportionStatistic,
    RatioStatistic,
    SampleMeanStatistic,
    SequentialTTest,
    check_srm,
    holm_adjust,
)
from campaigns.experiments.stats import estimate_effect
from tcma.extensions import db
from tcma.models import Asset, EventRollup, Experiment, ExperimentAssignment, ExperimentPartnerTotal
from tcma.models.base import utcnow

# metric -> (numerator kinds, denominator kinds from rollups, denominator outputs from finished assets)
METRIC_PARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str | None]] = {
    "click": (("click",), ("post", "send"), "files"),
    "open": (("open",), ("send",), "email"),
    "reaction": (("like", "repost", "reply"), ("post",), None),
    "download": (("download",), (), None),
}
PER = {"click": (100, "clicks per 100 delivered items"), "open": (100, "opens per 100 emails"),
       "reaction": (100, "reactions per 100 posts"), "download": (1, "downloads per partner")}
NOUN = {"click": "clicks", "open": "opens", "reaction": "reactions", "download": "downloads"}


@dataclass
class ArmResult:
    """One arm: its units, the metric's sums, rate and interval, and the machine share."""

    name: str
    units: int
    planned_share: float
    conversions: float
    exposures: float
    rate: float
    ci: tuple[float, float]
    machine_share: float
    statistic: Any = field(repr=False, default=None)


@dataclass
class Results:
    """Everything a decision and a marketer need: arms, comparisons, SRM, machine shares, a sentence."""

    experiment_id: int
    metric: str
    unit: str
    method: str
    arms: list[ArmResult]
    comparisons: list[dict[str, Any]]
    srm: dict[str, Any]
    machine_share_gap: float
    runtime_days: float
    as_of: datetime
    per: int
    per_label: str
    sentence: str = ""


def experiment_results(experiment: Experiment, until: date | None = None, stratum: str | None = None
                       ) -> Results:
    """The experiment's results now (or up to and including day `until`; of one stratum's partners)."""
    return _results_of(experiment, _arm_sums(experiment, until, stratum))


def _results_of(experiment: Experiment, sums: dict[str, dict[str, float]]) -> Results:
    """The results of the per-arm sums: statistics, comparisons, SRM, machine shares, the sentence."""
    weights = [v.weight for v in experiment.variants]
    total_weight = sum(weights)
    arms = [_arm(experiment, name, weight / total_weight, sums.get(name))
            for name, weight in zip([v.name for v in experiment.variants], weights, strict=True)]
    srm = check_srm([arm.units for arm in arms], weights, 0.001)
    shares = [arm.machine_share for arm in arms]
    now = utcnow()
    results = Results(experiment.id, experiment.metric, experiment.unit, experiment.method, arms,
                      _comparisons(experiment, arms), {"chi2": srm.chi2, "p_value": srm.p_value,
                                                        "flagged": srm.flagged, "skipped": srm.skipped},
                      max(shares) - min(shares), (now - experiment.started_at).total_seconds() / 86400,
                      now, *_per(experiment))
    results.sentence = sentence(results)
    return results


def _per(experiment: Experiment) -> tuple[int, str]:
    """The scale and words the metric is read in."""
    if experiment.unit == "recipient":
        return 100, {"click": "people clicking per 100 emails", "open": "people opening per 100 emails"}[
            experiment.metric]
    return PER[experiment.metric]


def _kind_sum(kinds: tuple[str, ...], column: Any, kind: Any = EventRollup.kind) -> Any:
    if not kinds:
        return literal(0)
    return func.coalesce(func.sum(case((kind.in_(kinds), column), else_=0)), 0)


def _arm_sums(experiment: Experiment, until: date | None, stratum: str | None = None
              ) -> dict[str, dict[str, float]]:
    """Per arm: units and the sums the statistics need, in one grouped query.

    Up to now they come from the experiment's running totals (a few rows per partner); up to a
    past day, from the rollups of the days up to it.
    """
    if experiment.unit == "recipient":
        return _recipient_sums(experiment, until)
    params = {"campaign_id": experiment.campaign_id, "experiment_id": experiment.id,
              "arms": [v.name for v in experiment.variants], "since": experiment.started_at.date(),
              "until": until or date.max, "stratum": stratum}
    names = ("units", "num", "num_sq", "den", "den_sq", "cross", "bots")
    stmt = _partner_sums_statement(experiment.metric, stratum is not None, until is None)
    return {row[0]: dict(zip(names, (float(value or 0) for value in row[1:]), strict=True))
            for row in db.session.execute(stmt, params)}


@functools.cache
def _partner_sums_statement(metric: str, by_stratum: bool = False, from_totals: bool = True) -> Any:
    """The metric's grouped query, built once (its values are bound per call)."""
    numerator_kinds, denominator_kinds, outputs = METRIC_PARTS[metric]
    rollups = (_partner_totals if from_totals else _partner_rollups)(numerator_kinds, denominator_kinds)
    delivered = _delivered_assets(outputs)
    assigned = ExperimentAssignment
    num = cast(func.coalesce(rollups.c.num, 0), Float)
    den = cast(func.coalesce(rollups.c.den, 0), Float)
    if delivered is not None:
        den = den + cast(func.coalesce(delivered.c.delivered_items, 0), Float)
    stmt = (select(assigned.variant, func.count(), func.sum(num), func.sum(num * num), func.sum(den),
                   func.sum(den * den), func.sum(num * den), func.coalesce(func.sum(rollups.c.bots), 0))
            .select_from(assigned)
            .outerjoin(rollups, rollups.c.partner_id == assigned.partner_id)
            .where(assigned.experiment_id == bindparam("experiment_id")).group_by(assigned.variant))
    if delivered is not None:
        stmt = stmt.outerjoin(delivered, delivered.c.partner_id == assigned.partner_id)
    if by_stratum:
        stmt = stmt.where(assigned.stratum == bindparam("stratum"))
    return stmt


def _partner_totals(numerator_kinds: tuple[str, ...], denominator_kinds: tuple[str, ...]) -> Any:
    """Per partner: the numerator, denominator and machines' numerator from the running totals."""
    t = ExperimentPartnerTotal
    return (select(t.partner_id.label("partner_id"),
                   _kind_sum(numerator_kinds, t.total, t.kind).label("num"),
                   _kind_sum(denominator_kinds, t.total, t.kind).label("den"),
                   _kind_sum(numerator_kinds, t.bots, t.kind).label("bots"))
            .where(t.experiment_id == bindparam("experiment_id"),
                   t.kind.in_(numerator_kinds + denominator_kinds))
            .group_by(t.partner_id).subquery())


def _partner_rollups(numerator_kinds: tuple[str, ...], denominator_kinds: tuple[str, ...]) -> Any:
    """Per partner: the same sums from the rollups of the experiment's days up to `until`."""
    return (select(EventRollup.partner_id.label("partner_id"),
                   _kind_sum(numerator_kinds, EventRollup.total).label("num"),
                   _kind_sum(denominator_kinds, EventRollup.total).label("den"),
                   _kind_sum(numerator_kinds, EventRollup.bots).label("bots"))
            .where(EventRollup.campaign_id == bindparam("campaign_id"),
                   EventRollup.kind.in_(numerator_kinds + denominator_kinds),
                   EventRollup.variant.in_(bindparam("arms", expanding=True)),
                   EventRollup.day >= bindparam("since"), EventRollup.day <= bindparam("until"))
            .group_by(EventRollup.partner_id).subquery())


def _delivered_assets(outputs: str | None) -> Any:
    """Finished renders per partner that count as delivered items (None: the metric counts none)."""
    if outputs is None:
        return None
    stmt = select(Asset.partner_id.label("partner_id"), func.count().label("delivered_items")).where(
        Asset.campaign_id == bindparam("campaign_id"), Asset.status == "done")
    stmt = stmt.where(Asset.output == "email") if outputs == "email" else stmt.where(
        ~Asset.output.like("post:%"))
    return stmt.group_by(Asset.partner_id).subquery()


def _recipient_sums(experiment: Experiment, until: date | None) -> dict[str, dict[str, float]]:
    """Per arm: sends as units, unique clicks or opens as conversions (recipient-level emails)."""
    numerator_kinds = METRIC_PARTS[experiment.metric][0]
    if until is None:
        t = ExperimentPartnerTotal
        stmt = (select(t.variant, _kind_sum(("send",), t.total, t.kind),
                       _kind_sum(numerator_kinds, t.uniques, t.kind),
                       _kind_sum(numerator_kinds, t.bots, t.kind))
                .where(t.experiment_id == experiment.id, t.kind.in_(("send", *numerator_kinds)))
                .group_by(t.variant))
    else:
        stmt = (select(EventRollup.variant, _kind_sum(("send",), EventRollup.total),
                       _kind_sum(numerator_kinds, EventRollup.uniques),
                       _kind_sum(numerator_kinds, EventRollup.bots))
                .where(EventRollup.campaign_id == experiment.campaign_id,
                       EventRollup.kind.in_(("send", *numerator_kinds)),
                       EventRollup.variant.in_([v.name for v in experiment.variants]),
                       EventRollup.day >= experiment.started_at.date(), EventRollup.day <= until)
                .group_by(EventRollup.variant))
    out = {}
    for variant, sends, uniques, bots in db.session.execute(stmt):
        sends, uniques = float(sends or 0), float(uniques or 0)
        out[variant] = {"units": sends, "num": min(uniques, sends), "bots": float(bots or 0)}
    return out


def _arm(experiment: Experiment, name: str, share: float, sums: dict[str, float] | None) -> ArmResult:
    sums = sums or {"units": 0.0, "num": 0.0, "num_sq": 0.0, "den": 0.0, "den_sq": 0.0, "cross": 0.0,
                    "bots": 0.0}
    units = int(sums["units"])
    statistic = _statistic(experiment, units, sums)
    conversions = sums["num"]
    exposures = units if experiment.unit == "recipient" or experiment.metric == "download" else sums["den"]
    rate = statistic.mean if units else 0.0
    # Every partner of the arm at one ratio: the delta method's terms cancel and rounding can leave
    # a hair below zero (the statistic keeps it, as GrowthBook does; an interval has no spread then).
    spread = 1.959963984540054 * math.sqrt(max(0.0, statistic.variance) / units) if units > 1 else 0.0
    machine = sums["bots"] / (sums["bots"] + conversions) if sums["bots"] + conversions else 0.0
    return ArmResult(name, units, share, conversions, exposures, rate, (rate - spread, rate + spread),
                     machine, statistic)


def _statistic(experiment: Experiment, units: int, sums: dict[str, float]) -> Any:
    if experiment.unit == "recipient":
        return ProportionStatistic(units, int(sums["num"]))
    if experiment.metric == "download":
        return SampleMeanStatistic(units, sums["num"], sums["num_sq"])
    return RatioStatistic(units, SampleMeanStatistic(units, sums["num"], sums["num_sq"]),
                          SampleMeanStatistic(units, sums["den"], sums["den_sq"]), sums["cross"])


def _comparisons(experiment: Experiment, arms: list[ArmResult]) -> list[dict[str, Any]]:
    """Each treatment against the control: absolute effect, always-valid interval, chance to win."""
    control, alpha = arms[0], 1 - experiment.confidence
    out, p_values = [], []
    for arm in arms[1:]:
        try:
            estimate = estimate_effect(control.statistic, arm.statistic, "absolute")
            sequential = SequentialTTest(control.statistic, arm.statistic, "absolute", alpha=alpha).result()
        except InsufficientData as error:
            out.append({"arm": arm.name, "effect": None, "ci": None, "p_value": None,
                        "chance_to_win": None, "note": str(error)})
            p_values.append(1.0)
            continue
        out.append({"arm": arm.name, "effect": estimate.estimate, "stddev": estimate.stddev,
                    "ci": [_finite(end) for end in sequential.ci], "p_value": sequential.p_value,
                    "chance_to_win": _chance_to_win(experiment, control, arm, estimate)})
        p_values.append(sequential.p_value)
    for comparison, adjusted in zip(out, holm_adjust(p_values), strict=True):
        comparison["adjusted_p_value"] = None if comparison["p_value"] is None else adjusted
    return out


def _chance_to_win(experiment: Experiment, control: ArmResult, arm: ArmResult, estimate: Any) -> float:
    """Exact Beta-binomial P(b > a) for proportions; for means and ratios the flat-prior normal one."""
    if isinstance(control.statistic, ProportionStatistic):
        test = BetaBinomialTest(control.statistic, arm.statistic, difference="absolute")
        return test.result().chance_to_win
    return float(special.ndtr(estimate.estimate / estimate.stddev))  # the normal cdf, as scipy.stats.norm


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def sentence(results: Results) -> str:
    """One plain sentence: the effect in the metric's units, the chance to be better, the sample ratio."""
    control = results.arms[0]
    if results.srm["flagged"]:
        ratio = "the sample ratio is NOT as planned (check the assignment; no winner can be named)"
    elif results.srm["skipped"]:
        ratio = "too few units yet to check the sample ratio"
    else:
        ratio = "sample ratio as planned"
    parts = []
    for comparison in results.comparisons:
        if comparison["effect"] is None:
            parts.append(f"{comparison['arm']}: not enough data yet to compare with {control.name}")
            continue
        effect = comparison["effect"] * results.per
        more = "more" if effect >= 0 else "fewer"
        parts.append(f"{comparison['arm']} gets {abs(effect):.1f} {more} {results.per_label} "
                     f"than {control.name}; "
                     f"{_percent(comparison['chance_to_win'])} chance {comparison['arm']} is better")
    return "; ".join(parts + [ratio]) + "."


def _percent(chance: float) -> str:
    """A chance as people read it: never a certain 0% or 100% from a finite sample."""
    if chance >= 0.995:
        return ">99%"
    if chance < 0.005:
        return "<1%"
    return f"{chance:.0%}"


def effect_over_time(experiment: Experiment, days: int = 60) -> list[dict[str, Any]]:
    """The first treatment's cumulative effect and its always-valid interval at the end of each day.

    Each day's numbers are those of `experiment_results(experiment, until=day)`, from one read of the
    rollups per (partner, day) added up day by day (sums of whole numbers, so exactly the same).
    """
    start = experiment.started_at.date()
    last = min(utcnow().date(), start + timedelta(days=days - 1))
    if experiment.status != "running" and experiment.decided_at is not None:
        last = min(last, experiment.decided_at.date())
    if last < start:
        return []
    daily = _recipient_daily_sums if experiment.unit == "recipient" else _partner_daily_sums
    series = []
    for day, sums in zip(_days(start, last), daily(experiment, start, last), strict=True):
        results = _results_of(experiment, sums)
        comparison = results.comparisons[0] if results.comparisons else None
        if comparison is not None and comparison["effect"] is not None:
            series.append({"day": day, "effect": comparison["effect"] * results.per,
                           "ci": [None if end is None else end * results.per for end in comparison["ci"]]})
    return series


def _days(start: date, last: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((last - start).days + 1)]


def _partner_daily_sums(experiment: Experiment, start: date, last: date
                        ) -> list[dict[str, dict[str, float]]]:
    """Per day from `start` to `last`: the per-arm sums `_arm_sums` reads up to that day.

    A partner's running numerator N and denominator D (its delivered items plus its rollups up
    to the day) change only on the days it has rollups, and so do N², D² and N·D. PostgreSQL
    runs each partner's N and D along its days with a window and sums per (arm, day) what each
    of those days adds to N, N², D, D², N·D and the machines; here the arms' few rows per day are
    added up day by day from what every partner starts with (its delivered items). Whole
    numbers throughout, so each day's sums are exactly those `_arm_sums` reads up to it; no row
    per partner and day reaches Python.
    """
    params = {"experiment_id": experiment.id, "campaign_id": experiment.campaign_id,
              "arms": [v.name for v in experiment.variants], "start": start, "last": last}
    daily_stmt, base_stmt = _partner_daily_statements(experiment.metric)
    names = ("units", "num", "num_sq", "den", "den_sq", "cross", "bots")
    running: dict[str, dict[str, int]] = {}
    for arm, units, delivered, delivered_sq in db.session.execute(base_stmt, params):
        running[arm] = {"units": int(units), "num": 0, "num_sq": 0, "den": int(delivered or 0),
                        "den_sq": int(delivered_sq or 0), "cross": 0, "bots": 0}
    added: dict[date, list[Any]] = {}
    for row in db.session.execute(daily_stmt, params):
        added.setdefault(row[1], []).append(row)
    out = []
    for day in _days(start, last):
        for arm, *values in ((row[0], *row[2:]) for row in added.get(day, ())):
            sums = running[arm]
            for name, value in zip(names[1:], values, strict=True):
                sums[name] += int(value or 0)
        out.append({arm: {name: float(value) for name, value in sums.items()}
                    for arm, sums in running.items()})
    return out


@functools.cache
def _partner_daily_statements(metric: str) -> tuple[Any, Any]:
    """The metric's two statements for `_partner_daily_sums`, built once (values bound per call):
    per (arm, day) what the day adds to each sum, and per arm its units and delivered items."""
    numerator_kinds, denominator_kinds, outputs = METRIC_PARTS[metric]
    assigned = ExperimentAssignment
    parts = ((numerator_kinds, EventRollup.total), (denominator_kinds, EventRollup.total),
             (numerator_kinds, EventRollup.bots))
    n, d, b = (cast(_kind_sum(kinds, column), BigInteger) for kinds, column in parts)
    daily = (select(EventRollup.partner_id, EventRollup.day, n.label("n"), d.label("d"), b.label("b"))
             .where(EventRollup.campaign_id == bindparam("campaign_id"),
                    EventRollup.kind.in_(numerator_kinds + denominator_kinds),
                    EventRollup.variant.in_(bindparam("arms", expanding=True)),
                    EventRollup.day >= bindparam("start"), EventRollup.day <= bindparam("last"))
             .group_by(EventRollup.partner_id, EventRollup.day).subquery())
    delivered = _delivered_assets(outputs)
    items = literal(0) if delivered is None else func.coalesce(delivered.c.delivered_items, 0)
    window = {"partition_by": daily.c.partner_id, "order_by": daily.c.day}
    running = (select(assigned.variant.label("arm"), daily.c.day, daily.c.n, daily.c.d, daily.c.b,
                      cast(func.sum(daily.c.n).over(**window), BigInteger).label("big_n"),
                      cast(items + func.sum(daily.c.d).over(**window), BigInteger).label("big_d"))
               .select_from(daily)
               .join(assigned, (assigned.partner_id == daily.c.partner_id)
                     & (assigned.experiment_id == bindparam("experiment_id"))))
    if delivered is not None:
        running = running.outerjoin(delivered, delivered.c.partner_id == daily.c.partner_id)
    running = running.subquery()
    r = running.c
    before_n, before_d = r.big_n - r.n, r.big_d - r.d
    added = (select(r.arm, r.day, func.sum(r.n), func.sum(r.big_n * r.big_n - before_n * before_n),
                    func.sum(r.d), func.sum(r.big_d * r.big_d - before_d * before_d),
                    func.sum(r.big_n * r.big_d - before_n * before_d), func.sum(r.b))
             .group_by(r.arm, r.day))
    base = (select(assigned.variant, func.count(), func.sum(items), func.sum(items * items))
            .select_from(assigned).where(assigned.experiment_id == bindparam("experiment_id"))
            .group_by(assigned.variant))
    if delivered is not None:
        base = base.outerjoin(delivered, delivered.c.partner_id == assigned.partner_id)
    return added, base


def _delivered_per_partner(experiment: Experiment, outputs: str | None) -> dict[int, int]:
    """Finished renders per partner that count as delivered items (none for metrics without)."""
    delivered = _delivered_assets(outputs)
    if delivered is None:
        return {}
    return dict(db.session.execute(select(delivered.c.partner_id, delivered.c.delivered_items),
                                   {"campaign_id": experiment.campaign_id}).all())


def _recipient_daily_sums(experiment: Experiment, start: date, last: date
                          ) -> list[dict[str, dict[str, float]]]:
    """Per day from `start` to `last`: sends, unique conversions and machines per arm up to that day."""
    numerator_kinds = METRIC_PARTS[experiment.metric][0]
    stmt = (select(EventRollup.variant, EventRollup.day, _kind_sum(("send",), EventRollup.total),
                   _kind_sum(numerator_kinds, EventRollup.uniques),
                   _kind_sum(numerator_kinds, EventRollup.bots))
            .where(EventRollup.campaign_id == experiment.campaign_id,
                   EventRollup.kind.in_(("send", *numerator_kinds)),
                   EventRollup.variant.in_([v.name for v in experiment.variants]),
                   EventRollup.day >= start, EventRollup.day <= last)
            .group_by(EventRollup.variant, EventRollup.day))
    width = (last - start).days + 1
    daily: dict[str, np.ndarray] = {}
    for variant, day, sends, uniques, bots in db.session.execute(stmt):
        daily.setdefault(variant, np.zeros((3, width)))[:, (day - start).days] = (
            float(sends or 0), float(uniques or 0), float(bots or 0))
    running = {variant: values.cumsum(axis=1) for variant, values in daily.items()}
    return [{variant: {"units": float(values[0, column]),
                       "num": float(min(values[1, column], values[0, column])),
                       "bots": float(values[2, column])} for variant, values in running.items()}
            for column in range(width)]


def as_json(results: Results) -> dict[str, Any]:
    """Results in the API's shape (rates and effects per `per` items)."""
    per = results.per
    return {
        "experiment_id": results.experiment_id, "metric": results.metric, "unit": results.unit,
        "method": results.method, "per": per, "per_label": results.per_label,
        "arms": [{"name": arm.name, "units": arm.units, "planned_share": round(arm.planned_share, 6),
                  "conversions": arm.conversions, "exposures": arm.exposures, "rate": arm.rate * per,
                  "ci": [arm.ci[0] * per, arm.ci[1] * per], "machine_share": round(arm.machine_share, 6)}
                 for arm in results.arms],
        "comparisons": [{**c, "effect": None if c["effect"] is None else c["effect"] * per,
                         "ci": None if c["ci"] is None else [None if e is None else e * per for e in c["ci"]],
                         "stddev": None if c.get("stddev") is None else c["stddev"] * per}
                        for c in results.comparisons],
        "srm": results.srm, "machine_share_gap": round(results.machine_share_gap, 6),
        "runtime_days": round(results.runtime_days, 3), "as_of": results.as_of, "sentence": results.sentence,
    }
