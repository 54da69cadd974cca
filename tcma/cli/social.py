"""Social account commands for operators: who must reconnect soon, and renewing tokens now."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from tcma.cli.campaigns import ServiceGroup
from tcma.services.accounts.auth import OPERATOR
from tcma.services.syndication import accounts, tokens


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


COMMANDS = [social_cli]
