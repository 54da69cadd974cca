"""Social commands for operators: who must reconnect soon, renewing tokens now, the scheduler, and
each scheduled post with every attempt at publishing it."""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from campaigns.vocabulary import POST_STATUSES
from tcma.cli.campaigns import ServiceGroup
from tcma.services.accounts.auth import OPERATOR
from tcma.services.syndication import accounts, plans, posts, scheduler, tokens
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


@click.group("posts", cls=ServiceGroup)
def posts_cli() -> None:
    """Scheduled social posts: their state and every attempt at publishing them."""


def _utc(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value is not None else "-"


def _limits(rate_limit: dict | None) -> str:
    if not rate_limit:
        return "-"
    left = f"{rate_limit.get('remaining')}/{rate_limit.get('limit')} left"
    return f"{left}, resets {rate_limit['reset']}" if rate_limit.get("reset") else left


@posts_cli.command("show")
@click.argument("post_id", type=int)
@with_appcontext
def show_command(post_id: int) -> None:
    """A post: where it goes, its state, the text that goes out, and every attempt (time, worker,
    outcome, the network's answer, its rate limit)."""
    post = posts.show_post(OPERATOR, post_id)
    when = f"{post.local_at} {post.time_zone}" if post.local_at else "as soon as approved"
    lines = [
        f"post {post.id}: {post.status}",
        f"account:   {post.network} {post.handle} (account {post.account_id}, partner {post.partner_id})",
        f"campaign:  {post.campaign_id or '-'}, plan {post.plan_id or '-'}",
        f"due:       {when} ({_utc(post.scheduled_at)})",
        f"approved:  {_utc(post.approved_at)}",
        f"attempts:  {post.attempts}, next not before {_utc(post.next_attempt_at)}",
        f"error:     {post.error or '-'}",
        f"published: {_utc(post.published_at)} {post.external_url or post.external_id or ''}".rstrip(),
        f"image:     {'yes' if post.image_url else 'none'}",
        "text:",
        *(f"  {line}" for line in (post.text or "(not rendered yet)").splitlines()),
    ]
    tries = posts.attempts(OPERATOR, post_id)
    lines.append(f"{len(tries)} attempt{'' if len(tries) == 1 else 's'}:")
    for attempt in tries:
        lines.append(f"  {_utc(attempt.started_at)}  {attempt.outcome:<15} by {attempt.worker or '-'}")
        lines.append(f"    detail: {attempt.detail or '-'}")
        lines.append(f"    rate limit: {_limits(attempt.rate_limit)}")
    click.echo("\n".join(lines))


@posts_cli.command("list")
@click.option("--status", type=click.Choice(POST_STATUSES), help="Only posts in this state.")
@click.option("--plan", "plan_id", type=click.IntRange(1), help="Only the posts of this plan.")
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True,
              help="Show at most this many (soonest due first).")
@with_appcontext
def list_command(status: str | None, plan_id: int | None, limit: int) -> None:
    """Posts, soonest due first: id, state, network and account, partner, due time, error."""
    rows, total = posts.list_posts(OPERATOR, {"status": status, "plan_id": plan_id}, 1, limit)
    if not rows:
        click.echo("No posts.")
    for post in rows:
        click.echo(f"{post.id:>7}  {post.status:<17} {post.account.network:<9} {post.account.handle:<30} "
                   f"partner {post.partner_id:<6} {_utc(post.scheduled_at)}"
                   + (f"  {post.error}" if post.error else ""))
    if total > len(rows):
        click.echo(f"... and {total - len(rows)} more (--limit)")
    skipped = (plans.get_plan(OPERATOR, plan_id).skipped or []) if plan_id is not None else []
    if skipped:
        click.echo(f"Skipped by the frequency caps ({len(skipped)}):")
    for entry in skipped:
        click.echo(f"{'-':>7}  {'skipped':<17} {entry['network']:<9} {entry['handle']:<30} "
                   f"partner {entry['partner_id']:<6} {entry['reason']}")


COMMANDS = [social_cli, scheduler_command, posts_cli]
