"""Experiments as marketers run them: create over a campaign's variants, read, decide, stop.

The decision rule lives here once (`verdict`): no winner while the sample ratio is off or the arms'
machine shares differ by more than the experiment allows; nothing before the minimum runtime and the
minimum units per arm; then `sequential` names a treatment whose always-valid, Holm-corrected p-value
is at most 1 - confidence and whose effect is positive, `bayesian` one whose chance to win is at least
the confidence; at the maximum runtime with no winner the control is kept ("no clear winner").
The maintenance pass decides running experiments that allow it (`decide_due_experiments`); a marketer
may decide any time (`decide_experiment`), but cannot name a treatment the rule blocks.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import func, select

from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Asset, Campaign, Experiment, ExperimentAssignment, Region, Tier, Variant, Vertical
from tcma.models.base import utcnow
from tcma.models.experiment import EXPERIMENT_METHODS, EXPERIMENT_METRICS, EXPERIMENT_UNITS
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.templates import template_for_version
from tcma.services.experiments.assignment import STRATA, partner_variants
from tcma.services.experiments.feedback import reconcile_variants, switch_campaign_variants
from tcma.services.experiments.results import Results, as_json, experiment_results
from tcma.services.experiments.rollout import check_rollout, release_rest, start_rollout
from tcma.services.launch.launches import get_campaign
from tcma.services.scoping import require_vendor
from tcma.services.tracking.experiment_totals import fill_experiment_totals
from tcma.services.transaction import commit

RULE_FIELDS = ("confidence", "min_sample", "min_runtime_days", "max_runtime_days", "max_machine_share_gap",
               "auto_decide")


def create_experiment(principal: Principal, campaign_id: int, values: dict[str, Any]) -> Experiment:
    """Start an experiment over the campaign's template variants; partners already in it get their arm."""
    campaign = get_campaign(principal, campaign_id)
    if campaign.status == "archived":
        raise ConflictError("an archived campaign cannot run an experiment")
    running = db.session.scalar(select(Experiment.id).where(Experiment.campaign_id == campaign.id,
                                                            Experiment.status == "running"))
    if running is not None:
        raise ConflictError(f"experiment {running} is still running on this campaign: "
                            "decide or stop it first")
    arms = _checked_arms(campaign, values.get("variants") or [])
    _check_rule(values)
    rollout = check_rollout(campaign, values)
    experiment = Experiment(
        campaign_id=campaign.id, name=values["name"].strip(), metric=values.get("metric", "click"),
        unit=values.get("unit", "partner"), method=values.get("method", "sequential"),
        strata=list(dict.fromkeys(values.get("strata") or [])), salt=f"tcma-{secrets.token_hex(8)}",
        status="running", started_at=utcnow(), **{k: values[k] for k in RULE_FIELDS if k in values})
    experiment.variants = [Variant(name=name, weight=weight) for name, weight in arms]
    db.session.add(experiment)
    db.session.flush()
    fill_experiment_totals(db.session.connection(), experiment.id)  # today's events under its arms
    if rollout is not None:
        start_rollout(experiment, *rollout)
    if experiment.unit == "partner":
        partner_ids = list(db.session.scalars(select(Asset.partner_id).where(
            Asset.campaign_id == campaign.id).distinct()))
        switch_campaign_variants(campaign, partner_variants(experiment, partner_ids), tell_partners=False,
                                 tag=f"exp{experiment.id}")
    commit()
    return experiment


def _checked_arms(campaign: Campaign, raw: list[dict[str, Any]]) -> list[tuple[str, int]]:
    if len(raw) < 2:
        raise InvalidInput("an experiment needs a control and at least one treatment",
                           {"variants": ["name at least two of the template's variants"]})
    names = [item["name"] for item in raw]
    if len(set(names)) != len(names):
        raise InvalidInput("each variant may be named once", {"variants": ["a variant is named twice"]})
    available = None
    for output in campaign.outputs:
        own = set(template_for_version(output.template_version).variants)
        available = own if available is None else available & own
    missing = [name for name in names if name not in (available or set())]
    if missing:
        offer = ", ".join(sorted(available or [])) or "none"
        raise InvalidInput(f"the campaign's templates have no variant {', '.join(missing)}",
                           {"variants": [f"every output's template must have it; shared variants: {offer}"]})
    return [(item["name"], item.get("weight", 1)) for item in raw]


def _check_rule(values: dict[str, Any]) -> None:
    for key, allowed in (("metric", EXPERIMENT_METRICS), ("unit", EXPERIMENT_UNITS),
                         ("method", EXPERIMENT_METHODS)):
        if key in values and values[key] not in allowed:
            raise InvalidInput(f"unknown {key} {values[key]!r}", {key: [f"one of {', '.join(allowed)}"]})
    unit, metric = values.get("unit", "partner"), values.get("metric", "click")
    if unit == "recipient" and metric not in ("click", "open"):
        raise InvalidInput("a recipient-level experiment measures clicks or opens of emails",
                           {"metric": ["click or open when the unit is the recipient"]})
    if unit == "recipient" and values.get("strata"):
        raise InvalidInput("strata balance partners; recipients are hashed",
                           {"strata": ["only when the unit is the partner"]})
    unknown = [s for s in values.get("strata") or [] if s not in STRATA]
    if unknown:
        raise InvalidInput(f"unknown stratum {', '.join(unknown)}",
                           {"strata": [f"any of {', '.join(STRATA)}"]})
    if values.get("min_runtime_days", 7) > values.get("max_runtime_days", 28):
        raise InvalidInput("the minimum runtime is longer than the maximum",
                           {"min_runtime_days": ["must not exceed max_runtime_days"]})


def list_experiments(principal: Principal, campaign_id: int) -> list[Experiment]:
    """The campaign's experiments, newest first."""
    campaign = get_campaign(principal, campaign_id)
    return list(db.session.scalars(select(Experiment).where(Experiment.campaign_id == campaign.id)
                                   .order_by(Experiment.id.desc())))


def get_experiment(principal: Principal, experiment_id: int) -> Experiment:
    """One experiment (vendor users only; a partner user is refused like every campaign read)."""
    require_vendor(principal)
    experiment = db.session.get(Experiment, experiment_id)
    if experiment is None:
        raise NotFoundError(f"experiment {experiment_id} not found")
    return experiment


def assigned_counts(experiment: Experiment) -> dict[str, int]:
    """Units assigned to each arm so far."""
    return dict(db.session.execute(select(ExperimentAssignment.variant, func.count())
                                   .where(ExperimentAssignment.experiment_id == experiment.id)
                                   .group_by(ExperimentAssignment.variant)).all())


def show_results(principal: Principal, experiment_id: int, stratum: str | None = None
                 ) -> tuple[Experiment, Results, dict[str, Any]]:
    """The experiment, its results now (of all partners, or of one stratum's) and what the rule says
    about them (a read only; the rule decides on all partners pooled)."""
    experiment = get_experiment(principal, experiment_id)
    if stratum is not None and stratum not in {row["stratum"] for row in strata_of(experiment)}:
        raise InvalidInput(f"the experiment has no stratum {stratum!r}",
                           {"stratum": ["one of the strata its results list, or none"]})
    pooled = experiment_results(experiment)
    results = pooled if stratum is None else experiment_results(experiment, stratum=stratum)
    return experiment, results, verdict(experiment, pooled)


def strata_of(experiment: Experiment) -> list[dict[str, Any]]:
    """The strata its partners fall in ("tier:3|region:1"), each with a readable label and its units."""
    rows = db.session.execute(select(ExperimentAssignment.stratum, func.count())
                              .where(ExperimentAssignment.experiment_id == experiment.id,
                                     ExperimentAssignment.stratum != "")
                              .group_by(ExperimentAssignment.stratum)
                              .order_by(ExperimentAssignment.stratum)).all()
    names = {(kind, row.id): row.slug for kind, model in (("tier", Tier), ("region", Region),
                                                          ("vertical", Vertical))
             for row in db.session.scalars(select(model))}
    out = []
    for stratum, units in rows:
        parts = [part.split(":", 1) for part in stratum.split("|")]
        label = ", ".join(f"{kind} {names.get((kind, int(value)), value)}" for kind, value in parts)
        out.append({"stratum": stratum, "label": label, "units": units})
    return out


def verdict(experiment: Experiment, results: Results) -> dict[str, Any]:
    """What the decision rule says: outcome winner | no_clear_winner | wait | blocked, winner, reason."""
    control = results.arms[0].name
    if results.srm["flagged"]:
        return _say("blocked", None, f"sample ratio mismatch (p = {results.srm['p_value']:.2g}): the split "
                                     "is not as planned, so no arm is judged")
    if results.machine_share_gap > experiment.max_machine_share_gap:
        return _say("blocked", None, f"the arms' machine shares differ by {results.machine_share_gap:.1%}, "
                                     f"more than the {experiment.max_machine_share_gap:.1%} allowed")
    short = [arm.name for arm in results.arms if arm.units < experiment.min_sample]
    if results.runtime_days < experiment.min_runtime_days or short:
        waiting = (f"{', '.join(short)} below {experiment.min_sample} units" if short
                   else f"{results.runtime_days:.1f} of at least {experiment.min_runtime_days} days run")
        return _say("wait", None, f"too early to judge: {waiting}")
    winner = _winner(experiment, results)
    if winner is not None:
        return winner
    if results.runtime_days >= experiment.max_runtime_days:
        return _say("no_clear_winner", None, f"no clear winner after {experiment.max_runtime_days} days: "
                                             f"{control} (the control) is kept")
    return _say("wait", None, "no arm is better than the control yet; keep collecting")


def _winner(experiment: Experiment, results: Results) -> dict[str, Any] | None:
    alpha = 1 - experiment.confidence
    candidates = []
    for comparison in results.comparisons:
        if comparison["effect"] is None or comparison["effect"] <= 0:
            continue
        if experiment.method == "bayesian" and comparison["chance_to_win"] >= experiment.confidence:
            candidates.append((comparison["chance_to_win"], comparison["arm"],
                               f"{comparison['chance_to_win']:.1%} chance to beat the control"))
        elif experiment.method == "sequential" and comparison["adjusted_p_value"] <= alpha:
            why = f"always-valid p {comparison['adjusted_p_value']:.3g} (Holm-adjusted) <= {alpha:.3g}"
            candidates.append((comparison["effect"], comparison["arm"], why))
    if not candidates:
        return None
    _, name, why = max(candidates)
    return _say("winner", name, f"{name} beats {results.arms[0].name}: {why}")


def _rest_due(experiment: Experiment, now) -> bool:
    """The plan's deadline has come: its held units must go now, decided or not."""
    return experiment.rest_deadline is not None and experiment.rest_deadline <= now


def _say(outcome: str, winner: str | None, reason: str) -> dict[str, Any]:
    return {"outcome": outcome, "winner": winner, "reason": reason}


def _record(experiment: Experiment, results: Results, rule: dict[str, Any], winner: str | None,
            by: int | None, note: str | None) -> None:
    numbers = json.loads(json.dumps(as_json(results), default=str))
    experiment.status, experiment.winner, experiment.decided_at = "decided", winner, utcnow()
    experiment.decided_by_id = by
    campaign = db.session.get(Campaign, experiment.campaign_id)
    switched = switch_campaign_variants(campaign, winner or experiment.variants[0].name, tell_partners=True,
                                        tag=f"exp{experiment.id}-winner")
    experiment.decision = {"winner": winner, "decided_by": "rule" if by is None else "marketer",
                           "note": note, "rule": rule, "results": numbers, "switched": vars(switched)}
    chosen = winner or experiment.variants[0].name
    why = rule["reason"] if by is None else f"decided by a marketer: {chosen}"
    release_rest(experiment, chosen, why)


def decide_experiment(principal: Principal, experiment_id: int, winner: str | None,
                      note: str | None = None) -> Experiment:
    """A marketer's decision: `winner` (None keeps the control); recorded with the numbers it saw."""
    experiment = get_experiment(principal, experiment_id)
    if experiment.status != "running":
        raise ConflictError(f"the experiment is {experiment.status}, not running")
    names = [v.name for v in experiment.variants]
    if winner is not None and winner not in names:
        raise InvalidInput(f"no arm {winner!r}", {"winner": [f"one of {', '.join(names)}, or null"]})
    results = experiment_results(experiment)
    rule = verdict(experiment, results)
    if winner not in (None, names[0]) and rule["outcome"] == "blocked":
        raise ConflictError(f"{winner} cannot be named the winner: {rule['reason']}")
    _record(experiment, results, rule, winner if winner != names[0] else None, principal.user_id, note)
    commit()
    return experiment


def stop_experiment(principal: Principal, experiment_id: int) -> Experiment:
    """Stop without a decision: nobody is switched, later partners get the template's own text."""
    experiment = get_experiment(principal, experiment_id)
    if experiment.status != "running":
        raise ConflictError(f"the experiment is {experiment.status}, not running")
    experiment.status, experiment.stopped_at = "stopped", utcnow()
    control = experiment.variants[0].name
    release_rest(experiment, control, f"stopped without a decision: the rest get {control} (the control)")
    commit()
    return experiment


def decide_due_experiments() -> int:
    """The maintenance step: decide every running experiment whose rule names an outcome (how many),
    then switch renders that were under way at an earlier switch."""
    decided, now = 0, utcnow()
    due = Experiment.auto_decide.is_(True) | (Experiment.rest_deadline <= now)
    for experiment in db.session.scalars(select(Experiment).where(
            Experiment.status == "running", due).order_by(Experiment.id)).all():
        results = experiment_results(experiment)
        rule = verdict(experiment, results)
        if rule["outcome"] not in ("winner", "no_clear_winner") and _rest_due(experiment, now):
            rule = _say("no_clear_winner", None, f"the plan's deadline came with no clear winner "
                                                 f"({rule['reason']}): {results.arms[0].name} (the control) "
                                                 "goes to the rest")
        if rule["outcome"] in ("winner", "no_clear_winner"):
            _record(experiment, results, rule, rule["winner"], None, None)
            decided += 1
    reconcile_variants()
    commit()
    return decided
