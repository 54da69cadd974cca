"""CLI: `tcma experiments analyze [FILE]`, A/B analysis of aggregates (no database needed)."""

from __future__ import annotations

import json

import click

from campaigns.experiments import ExperimentError, analyze


@click.group("experiments")
def experiments_cli() -> None:
    """Analyse A/B experiments from their aggregates."""


@experiments_cli.command("analyze")
@click.argument("file", type=click.File("r"), default="-")
def analyze_command(file) -> None:
    """Read experiment aggregates as JSON from FILE (stdin when absent) and print the analysis as JSON.

    \b
    Input (only "arms" is required; the first arm is the control):
      {"metric": "proportion" | "mean" | "ratio",          default proportion
       "method": "welch" | "ztest" | "bayesian",          default welch
       "difference": "relative" | "absolute",             default relative
       "alternative": "two-sided" | "greater" | "less",   default two-sided
       "alpha": 0.05, "weights": [1, 1], "srm_threshold": 0.001,
       "priors": [[1, 1], [1, 1]], "sequential_tuning": 5000,
       "arms": [{"name": "control", "n": 1000, "conversions": 100},    proportion
                {"name": "b", "n": 1000, "sum": 52.1, "sum_squares": 90.2},   mean
                {"name": "c", "n": 40, "numerator_sum": ..., "numerator_sum_squares": ...,
                 "denominator_sum": ..., "denominator_sum_squares": ..., "cross_product": ...}]}
    The decision uses always-valid (sequential) p-values, Holm-corrected across treatments,
    so it may be checked every day.
    """
    try:
        spec = json.load(file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"input: not valid JSON ({error})") from None
    try:
        result = analyze(spec)
    except ExperimentError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(result, indent=2, allow_nan=False))


COMMANDS = [experiments_cli]
