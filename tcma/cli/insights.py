"""Operator commands for partner insights: scores and churn flags as a table or CSV."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import with_appcontext

from campaigns.vocabulary import ANY_CHURN_FLAG, CHURN_FLAGS
from tcma.errors import DomainError
from tcma.services.accounts.auth import OPERATOR
from tcma.services.insights.kpis import KpiQuery, programme_kpis
from tcma.services.insights.partners import InsightQuery, PartnerInsight, insights_csv, list_partner_insights
from tcma.services.insights.refresh import refresh_snapshots


@click.group("insights")
def insights_cli() -> None:
    """Partner engagement scores and churn flags (docs/insights.md)."""


@insights_cli.command("partners")
@click.option("--flag", type=click.Choice([*CHURN_FLAGS, ANY_CHURN_FLAG]),
              help=f"Only partners with this flag ({ANY_CHURN_FLAG}: any flag).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Score on this day (YYYY-MM-DD, UTC); default today.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (every column) instead of a table.")
@with_appcontext
def partners_command(flag: str | None, as_of, as_csv: bool) -> None:
    """List active partners' scores and churn flags, lowest score first."""
    day: date | None = as_of.date() if as_of else None
    try:
        rows = list_partner_insights(OPERATOR, InsightQuery(as_of=day, flag=flag))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(insights_csv(rows) if as_csv else format_insights(rows), nl=not as_csv)


@insights_cli.command("kpis")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Take the KPIs on this day (YYYY-MM-DD, UTC); default today.")
@with_appcontext
def kpis_command(as_of) -> None:
    """Print the programme's KPIs as JSON: activation, time to first use, adoption, churn."""
    try:
        kpis = programme_kpis(OPERATOR, KpiQuery(as_of=as_of.date() if as_of else None))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps({**kpis, "as_of": kpis["as_of"].isoformat(),
                           "computed_at": kpis["computed_at"].isoformat()}, indent=2))


@insights_cli.command("refresh")
@with_appcontext
def refresh_command() -> None:
    """Recompute today's default partners' scores and KPIs snapshots now (the maintenance pass does it
    before they are older than TCMA_INSIGHT_MAX_AGE_SECONDS)."""
    computed = refresh_snapshots(force=True)
    click.echo(f"computed {computed} insight snapshots" if computed else
               "insight snapshots are off (TCMA_INSIGHT_MAX_AGE_SECONDS=0): nothing to compute")


def format_insights(rows: list[PartnerInsight]) -> str:
    """A plain-text table: id, name, score, last action, flags with their reasons."""
    if not rows:
        return "no partners"
    table = [["id", "name", "score", "last active", "flags"]] + [
        [str(r.partner_id), r.name, f"{r.score:.1f}", r.last_active.isoformat() if r.last_active else "never",
         "; ".join(f"{f['flag']}: {f['reason']}" for f in r.flags or [])] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    padded = [[*(cell.ljust(width) for cell, width in zip(line[:4], widths, strict=True)), line[4]]
              for line in table]
    return "\n".join("  ".join(line).rstrip() for line in padded)


COMMANDS = [insights_cli]
