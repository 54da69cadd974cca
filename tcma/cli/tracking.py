"""Operator commands for tracked events: drain the buffers now, or run the flusher for good."""

from __future__ import annotations

import logging
import time

import click
from flask.cli import with_appcontext
from redis.exceptions import RedisError

from campaigns.vocabulary import STATS_DIMENSIONS
from tcma.config import get_settings
from tcma.services.accounts.auth import OPERATOR
from tcma.services.insights.refresh import refresh_snapshots
from tcma.services.tracking.experiment_totals import rebuild_experiment_totals
from tcma.services.tracking.ingest import flush_events, pending_events, ship_spooled_events
from tcma.services.tracking.stats import StatsQuery, format_stats, query_stats
from tcma.services.tracking.summaries import rebuild_dashboard_summaries

log = logging.getLogger(__name__)


@click.group("events")
def events_cli() -> None:
    """Tracked events: clicks, opens, downloads, posts."""


@events_cli.command("flush")
@click.option("--wait", default=30.0, show_default=True,
              help="Seconds to wait for a running flusher to let go of the lock.")
@with_appcontext
def flush_command(wait: float) -> None:
    """Write every buffered event to the database now (this host's spools, then Redis)."""
    shipped = ship_spooled_events()
    click.echo(f"shipped {shipped} spooled event(s)")
    if not get_settings().redis_url:
        return
    try:
        report = flush_events(wait=wait)
    except RedisError as exc:
        raise click.ClickException(f"Redis is unreachable ({exc}); buffered events stay in Redis "
                                   "and the spool until it is back") from None
    if report.busy:
        raise click.ClickException("another flusher holds the lock; try again or raise --wait")
    click.echo(f"flushed {report.received} event(s) in {report.batches} batch(es): "
               f"{report.inserted} new, {report.received - report.inserted} already recorded")


@events_cli.command("pending")
@with_appcontext
def pending_command() -> None:
    """Show how many events wait in the Redis buffer."""
    if not get_settings().redis_url:
        raise click.ClickException("TCMA_REDIS_URL is not set: events are written directly")
    try:
        click.echo(f"{pending_events()} event(s) waiting")
    except RedisError as exc:
        raise click.ClickException(f"Redis is unreachable ({exc})") from None


@events_cli.command("stats")
@click.option("--campaign", "campaign_id", type=int, help="Only this campaign.")
@click.option("--group-by", default="kind,variant", show_default=True,
              help=f"Comma-separated, from: {', '.join(STATS_DIMENSIONS)}.")
@click.option("--include-bots", is_flag=True, help="Count bots' events too.")
@with_appcontext
def stats_command(campaign_id: int | None, group_by: str, include_bots: bool) -> None:
    """Print engagement numbers (the vendor's view)."""
    dims = tuple(name.strip() for name in group_by.split(",") if name.strip())
    unknown = sorted(set(dims) - set(STATS_DIMENSIONS))
    if unknown:
        raise click.BadParameter(f"unknown: {', '.join(unknown)}", param_hint="--group-by")
    query = StatsQuery(campaign_id=campaign_id, group_by=dims, include_bots=include_bots)
    click.echo(format_stats(query_stats(OPERATOR, query)))


@events_cli.command("rebuild-summaries")
@with_appcontext
def rebuild_summaries_command() -> None:
    """Recompute the dashboard's and the insights' pre-summed tables (from the rollups and posts),
    the experiments' running totals (from the rollups) and today's insights snapshots (from those)."""
    programme, partners = rebuild_dashboard_summaries()
    experiments = rebuild_experiment_totals()
    snapshots = refresh_snapshots(force=True)
    click.echo(f"programme_daily_rollup: {programme} rows; partner_daily_engagement: {partners} rows; "
               f"insight snapshots recomputed: {snapshots}; experiment_partner_total: {experiments} rows")


@click.command("flusher")
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.05, 60),
              help="Seconds between flushes.")
@click.option("--lock-ttl", default=30.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds before a dead flusher's lock expires and another may take over.")
@with_appcontext
def flusher_command(interval: float, lock_ttl: float) -> None:
    """Run forever: write the Redis event buffer to the database every --interval seconds."""
    if not get_settings().redis_url:
        raise click.ClickException("TCMA_REDIS_URL is not set: events are written directly")
    click.echo(f"flushing tracked events every {interval}s (Ctrl+C to stop)")
    while True:
        try:
            report = flush_events(lock_ttl=lock_ttl, wait=interval)
        except Exception:  # the database or Redis is away: the batch stays in flight, try again
            log.exception("flushing events failed; retrying in %ss", interval * 10)
            time.sleep(interval * 10)
            continue
        if report.received:
            click.echo(f"flushed {report.received} event(s), {report.inserted} new")
        time.sleep(interval)


COMMANDS = [events_cli, flusher_command]
