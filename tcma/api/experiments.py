"""Experiments on a campaign's variants: create, list, show, results, decide, stop."""

from __future__ import annotations

from flask_smorest import Blueprint

from tcma.api.security import VENDOR, auth_required
from tcma.schemas.experiments import DecideSchema, ExperimentSchema, ResultsArgs, ResultsSchema
from tcma.services.experiments import experiments, rollout
from tcma.services.experiments.results import as_json

blp = Blueprint("experiments", __name__, url_prefix="experiments", description="A/B experiments")
campaign_blp = Blueprint("campaign_experiments", __name__, url_prefix="campaigns",
                         description="A/B experiments")


def experiment_view(experiment) -> dict:
    """An experiment with its arms and how many units each has so far."""
    return {**{key: getattr(experiment, key) for key in (
        "id", "campaign_id", "name", "metric", "unit", "method", "strata", "confidence", "min_sample",
        "min_runtime_days", "max_runtime_days", "max_machine_share_gap", "auto_decide", "status", "winner",
        "started_at", "decided_at", "stopped_at", "decision")},
        "variants": [{"name": v.name, "weight": v.weight} for v in experiment.variants],
        "assigned": experiments.assigned_counts(experiment), "rollout": rollout.rollout_view(experiment)}


@campaign_blp.post("/<int:campaign_id>/experiments")
@auth_required(*VENDOR)
@campaign_blp.arguments(ExperimentSchema)
@campaign_blp.response(201, ExperimentSchema)
def create_experiment(principal, args, campaign_id):
    """Start an experiment over the campaign's template variants (the first is the control)."""
    return experiment_view(experiments.create_experiment(principal, campaign_id, args))


@campaign_blp.get("/<int:campaign_id>/experiments")
@auth_required(*VENDOR)
@campaign_blp.response(200, ExperimentSchema(many=True))
def list_experiments(principal, campaign_id):
    """The campaign's experiments, newest first."""
    return [experiment_view(e) for e in experiments.list_experiments(principal, campaign_id)]


@blp.get("/<int:experiment_id>")
@auth_required(*VENDOR)
@blp.response(200, ExperimentSchema)
def get_experiment(principal, experiment_id):
    """One experiment."""
    return experiment_view(experiments.get_experiment(principal, experiment_id))


@blp.get("/<int:experiment_id>/results")
@auth_required(*VENDOR)
@blp.arguments(ResultsArgs, location="query")
@blp.response(200, ResultsSchema)
def results(principal, args, experiment_id):
    """Per arm: units, conversions, rate and interval; per treatment: effect, interval, chance to win;
    the sample-ratio check, machine shares and what the decision rule says; `stratum` reads one
    stratum's partners (the strata are listed)."""
    experiment, found, verdict = experiments.show_results(principal, experiment_id, args.get("stratum"))
    return {**as_json(found), "status": experiment.status, "winner": experiment.winner, "verdict": verdict,
            "stratum": args.get("stratum"), "strata": experiments.strata_of(experiment)}


@blp.post("/<int:experiment_id>/decide")
@auth_required(*VENDOR)
@blp.arguments(DecideSchema)
@blp.response(200, ExperimentSchema)
def decide(principal, args, experiment_id):
    """Decide: the winner (null keeps the control) feeds later renders and unpublished posts."""
    decided = experiments.decide_experiment(principal, experiment_id, args["winner"], args["note"])
    return experiment_view(decided)


@blp.post("/<int:experiment_id>/stop")
@auth_required(*VENDOR)
@blp.response(200, ExperimentSchema)
def stop(principal, experiment_id):
    """Stop without a decision."""
    return experiment_view(experiments.stop_experiment(principal, experiment_id))
