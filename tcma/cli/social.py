"""Social account commands for operators: who must reconnect soon, and renewing tokens now."""

from __future__ import annotations

import logging
import signal
import threading
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from tcma.cli.campaigns import ServiceGroup
from tcma.services.accounts.auth import OPERATOR
from tcma.services.syndication import accounts, scheduler, tokens
from tcma.services.transaction import rollback

log = logging.getLogger(__name__)


@click.group("social", cls=ServiceGroup)
def social_cli() -> None:
    """Partners' connected social accounts."""


@social_cli.command("expiring")
@click.option("--days", type=click.IntRange(1, 365), default=accounts.EXPIRY_REPORT_DAYS, show_default=True,
              help="How far ahead to look.")
@with_appcontext
def expiring_command(days: int) -> None:
    """Accounts that need reconnecting, or whose consent ends within DAYS and cannot be renewed."""
    rows = accounts.expiring_accounts(OPERATOR, days)
    if not rows:
        click.echo(f"No account needs its partner within {days} days.")
        return
    for row in rows:
        if row.needs_reconnect_since is not None:
            when = f"needs reconnecting since {row.needs_reconnect_since:%Y-%m-%d}: {row.reconnect_reason}"
        else:
            when = f"reconnect by {row.reconnect_by:%Y-%m-%d %H:%M} UTC"
        click.echo(f"{row.id:>6}  {row.partner.name:<30} {row.network:<9} {row.handle:<30} {when}")


@social_cli.command("refresh")
@with_appcontext
def refresh_command() -> None:
    """Renew now every token that ends within the next half hour (the maintenance pass does it too)."""
    click.echo(tokens.refresh_due_tokens().summary())


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run one pass and exit (cron, tests).")
@click.option("--interval", type=click.FloatRange(min=0.05), default=5.0, show_default=True,
              help="Seconds between passes.")
@click.option("--batch", type=click.IntRange(1, 5000), default=scheduler.BATCH, show_default=True,
              help="Posts claimed per transaction.")
@with_appcontext
def scheduler_command(once: bool, interval: float, batch: int) -> None:
    """Claim due posts and enqueue their publish jobs, every INTERVAL seconds until stopped.

    Run as many as you like: each claims with FOR UPDATE SKIP LOCKED, so no two claim one post;
    the workers (`tcma worker`) publish. SIGTERM or Ctrl-C ends it after the current pass.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stopping = threading.Event()
    if not once:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())
    while True:
        started = time.monotonic()
        with app.app_context():
            try:
                report = scheduler.run_pass(batch=batch)
            except Exception:  # the database or Redis is down: the next pass tries again
                rollback()
                log.exception("scheduler pass failed")
                if once:
                    raise
            else:
                if once or report.claimed or report.expired or report.reconciling:
                    click.echo(report.summary())
        if once or stopping.wait(max(0.0, interval - (time.monotonic() - started))):
            return


COMMANDS = [social_cli, scheduler_command]
