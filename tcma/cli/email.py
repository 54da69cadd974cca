"""`tcma email-feedback`: hand tcma a bounce or complaint report that reached the VERP address."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from tcma.services.sending.feedback import record_feedback_message


@click.command("email-feedback")
@click.option("--to", "envelope_to", default=None,
              help="The envelope recipient (bounces+<id>@...), as the mail server's pipe passes it.")
@with_appcontext
def email_feedback_command(envelope_to: str | None) -> None:
    """Read one DSN or ARF complaint report on standard input and apply it (hard bounces and
    complaints suppress the address). For a mail server's pipe: tcma email-feedback --to ${recipient}."""
    result = record_feedback_message(sys.stdin.buffer.read(), envelope_to)
    click.echo(" ".join(f"{key}={value}" for key, value in result.items()))


COMMANDS = [email_feedback_command]
