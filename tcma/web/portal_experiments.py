"""Marketer pages for experiments: a campaign's experiments, and one experiment's results with charts,
one plain sentence, and the decide and stop buttons."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from tcma.services.accounts.auth import Principal
from tcma.services.experiments.experiments import (
    decide_experiment,
    list_experiments,
    show_results,
    stop_experiment,
)
from tcma.services.experiments.results import as_json, effect_over_time
from tcma.services.experiments.rollout import rollout_view
from tcma.services.launch.launches import get_campaign
from tcma.web.experiment_chart import effect_chart, rates_chart
from tcma.web.portal import VENDOR, page, page_required, portal_blueprint

bp = portal_blueprint("portal_experiments", __name__, url_prefix="/portal")


@bp.get("/campaigns/<int:campaign_id>/experiments")
@page_required(*VENDOR)
def campaign_experiments(principal: Principal, campaign_id: int):
    """The campaign's experiments, newest first."""
    return page("portal/experiments.html", campaign=get_campaign(principal, campaign_id),
                experiments=list_experiments(principal, campaign_id))


@bp.get("/experiments/<int:experiment_id>")
@page_required(*VENDOR)
def experiment(principal: Principal, experiment_id: int):
    """One experiment: the sentence, per-arm rates with intervals, the effect over time, the rule's view."""
    item, results, verdict = show_results(principal, experiment_id)
    shown = as_json(results)
    series = effect_over_time(item)
    treatment = shown["arms"][1]["name"] if len(shown["arms"]) > 1 else ""
    effect_label = f"{treatment} minus {shown['arms'][0]['name']}, {shown['per_label']}"
    return page("portal/experiment.html", experiment=item, results=shown, verdict=verdict,
                campaign=get_campaign(principal, item.campaign_id), rollout=rollout_view(item),
                rates_svg=rates_chart(shown["arms"], shown["per_label"].capitalize()),
                effect_svg=effect_chart(series, effect_label))


@bp.post("/experiments/<int:experiment_id>/decide")
@page_required(*VENDOR)
def decide(principal: Principal, experiment_id: int):
    """Decide with the chosen arm (the control keeps the control)."""
    winner = request.form.get("winner") or None
    decided = decide_experiment(principal, experiment_id, winner, request.form.get("note") or None)
    flash((f"Decided: {decided.winner} won; renders and unpublished posts switch to it." if decided.winner
           else "Decided: the control is kept; renders and unpublished posts use it.")
          + (" The held rest goes now." if decided.rest_release else ""))
    return redirect(url_for("portal_experiments.experiment", experiment_id=experiment_id))


@bp.post("/experiments/<int:experiment_id>/stop")
@page_required(*VENDOR)
def stop(principal: Principal, experiment_id: int):
    """Stop without a decision."""
    stopped = stop_experiment(principal, experiment_id)
    went = stopped.rest_release
    flash(f"Experiment stopped; nothing was switched, and the held rest gets {went['variant']} (the control)."
          if went else "Experiment stopped; nothing was switched.")
    return redirect(url_for("portal_experiments.experiment", experiment_id=experiment_id))
