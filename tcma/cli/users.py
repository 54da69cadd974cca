"""People commands for operators: the first admin of a new installation, invitations, deactivation."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from campaigns.vocabulary import ROLES
from tcma.cli.campaigns import ServiceGroup
from tcma.services.accounts import invitations, sessions, team
from tcma.services.accounts.auth import OPERATOR
from tcma.services.accounts.users import create_user


@click.group("users", cls=ServiceGroup)
def users_cli() -> None:
    """Create, invite, list and deactivate users."""


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="The role the user gets.")
@click.option("--partner", "partner_id", type=int, default=None, help="Partner id (partner roles only).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@with_appcontext
def create_command(email: str, role: str, partner_id: int | None, password_stdin: bool) -> None:
    """Create a user with a password (the first admin of a new installation, say)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = create_user(email, password, role, partner_id)
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@users_cli.command("invite")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="The role the user gets.")
@click.option("--partner", "partner_id", type=int, default=None, help="Partner id (partner roles only).")
@with_appcontext
def invite_command(email: str, role: str, partner_id: int | None) -> None:
    """Mail an invitation: the link lets the person choose a password (inviting again replaces it)."""
    invitation = invitations.invite_user(OPERATOR, email, role, partner_id)
    click.echo(f"invited {invitation.email} as {invitation.role}; the link works until "
               f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC")


@users_cli.command("list")
@with_appcontext
def list_command() -> None:
    """Every user: email, role, partner id, active or not."""
    page, total = 1, None
    while total is None or (page - 1) * 500 < total:
        rows, total = team.list_users(OPERATOR, page, 500)
        for user in rows:
            state = "active" if user.is_active else "deactivated"
            click.echo(f"{user.email:<40} {user.role:<14} {user.partner_id or '-':<8} {state}")
        page += 1


@users_cli.command("deactivate")
@click.argument("email")
@with_appcontext
def deactivate_command(email: str) -> None:
    """Deactivate a user: their sessions end and their API tokens stop working at once."""
    user = team.set_user_active(OPERATOR, team.get_user_by_email(OPERATOR, email).id, False)
    click.echo(f"deactivated {user.email}")


@users_cli.command("reactivate")
@click.argument("email")
@with_appcontext
def reactivate_command(email: str) -> None:
    """Let a deactivated user sign in again."""
    user = team.set_user_active(OPERATOR, team.get_user_by_email(OPERATOR, email).id, True)
    click.echo(f"reactivated {user.email}")


@users_cli.command("purge-sessions")
@with_appcontext
def purge_sessions_command() -> None:
    """Delete portal sessions that ended or expired more than a day ago (run it daily)."""
    click.echo(f"deleted {sessions.purge_sessions()} old sessions")


COMMANDS = [users_cli]
