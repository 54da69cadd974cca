"""Demo experiment: the demo campaign's headline test, with people and bots clicking, and its result.

`run_demo_experiment(campaign_id, seed=11) -> DemoExperiment` starts an experiment over the campaign's
variants a and b (partners assigned by hash, their renders redone in their arm), then clicks each
partner's new tracked links through the real /l/ endpoint: people (variant b's headline draws about
twice the clicks of a's) and bots (a crawler and link previews, which are flagged and never count),
drains the buffers and reads the results from the rollups.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import select

from tcma.demo.traffic import BROWSERS, CRAWLER, PREVIEWS, drain_and_read
from tcma.extensions import db
from tcma.models import Asset, TrackedLink
from tcma.services.accounts.auth import OPERATOR
from tcma.services.experiments.experiments import create_experiment, show_results
from tcma.services.experiments.results import as_json

CLICKS_PER_PARTNER = {"a": 3.0, "b": 6.0}  # people's mean clicks per partner in each arm


@dataclass
class DemoExperiment:
    """The experiment, what was sent, and its results (None while renders wait for a worker)."""

    experiment_id: int | None = None
    sent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    results: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None


def run_demo_experiment(campaign_id: int, seed: int = 11) -> DemoExperiment:
    """Run the demo campaign's headline experiment on simulated traffic; return its result."""
    report = DemoExperiment()
    experiment = create_experiment(OPERATOR, campaign_id, {
        "name": "Headline: 'Secure every connection' (a) or 'Zero trust in weeks' (b)",
        "variants": [{"name": "a"}, {"name": "b"}], "metric": "click", "min_sample": 10,
        "min_runtime_days": 0, "max_runtime_days": 28})
    report.experiment_id = experiment.id
    links = _links_by_partner(campaign_id)
    if not links:
        return report
    rng, client = np.random.default_rng(seed), current_app.test_client()

    def hit(code: str, agent: str, ip: str, who: str, method: str = "GET") -> None:
        client.open(f"/l/{code}", method=method, headers={"User-Agent": agent},
                    environ_base={"REMOTE_ADDR": ip})
        report.sent[who] += 1

    person = 0
    for (partner_id, variant), codes in sorted(links.items()):
        appeal = rng.gamma(4.0, 0.25)  # partners differ: some audiences click more
        for _ in range(rng.poisson(CLICKS_PER_PARTNER[variant] * appeal)):
            person += 1
            ip = f"10.{person // 250 % 256}.{person % 250}.{rng.integers(1, 255)}"
            hit(codes[rng.integers(len(codes))], BROWSERS[person % len(BROWSERS)], ip, "people")
        for index, code in enumerate(codes[:2]):  # every partner's links are crawled and previewed
            hit(code, CRAWLER, "66.249.66.1", "bots")
            hit(code, PREVIEWS[(partner_id + index) % len(PREVIEWS)], "31.13.64.1", "bots")
    drain_and_read(campaign_id)
    _, results, verdict = show_results(OPERATOR, experiment.id)
    report.results, report.verdict = as_json(results), verdict
    return report


def _links_by_partner(campaign_id: int) -> dict[tuple[int, str], list[str]]:
    """Each partner's tracked link codes of the experiment's renders (finished renders only)."""
    rows = db.session.execute(
        select(TrackedLink.partner_id, TrackedLink.variant, TrackedLink.code)
        .join(Asset, Asset.id == TrackedLink.asset_id)
        .where(TrackedLink.campaign_id == campaign_id, TrackedLink.variant.in_(("a", "b")),
               Asset.status == "done", Asset.variant == TrackedLink.variant)
        .order_by(TrackedLink.id))
    found: dict[tuple[int, str], list[str]] = defaultdict(list)
    for partner_id, variant, code in rows:
        found[(partner_id, variant)].append(code)
    return dict(found)


def format_experiment(report: DemoExperiment) -> list[str]:
    """Lines for the terminal: per arm, the sentence and what the decision rule says."""
    if report.results is None:
        return ["The experiment's renders wait for a worker: no clicks yet (.venv/bin/tcma worker --burst)."]
    results = report.results
    header = f"{'arm':<4} {'partners':>8} {'clicks':>7} {'items':>6} {results['per_label']:>32}"
    lines = [f"  {header}  machine share"]
    for arm in results["arms"]:
        interval = f"{arm['rate']:.1f} ({arm['ci'][0]:.1f} to {arm['ci'][1]:.1f})"
        counts = f"{arm['name']:<4} {arm['units']:>8} {arm['conversions']:>7.0f} {arm['exposures']:>6.0f}"
        lines.append(f"  {counts} {interval:>32}  {arm['machine_share']:.0%}")
    lines.append(f"  {results['sentence']}")
    lines.append(f"  Decision rule: {report.verdict['reason']}")
    return lines
