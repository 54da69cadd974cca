"""The `tcma` command line: a Flask group; the app's own commands are added in `init_app`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, routes_command, run_command, shell_command


def init_app(app: Flask) -> None:
    """Put every tcma command on the app's CLI group (so test_cli_runner sees them too)."""
    from tcma.cli import (
        campaigns,
        demo,
        email,
        experiments,
        insights,
        maintenance,
        ops,
        social,
        tracking,
        users,
    )

    commands = [*ops.COMMANDS, *demo.COMMANDS, *campaigns.COMMANDS, *tracking.COMMANDS, *users.COMMANDS,
                *maintenance.COMMANDS, *experiments.COMMANDS, *social.COMMANDS, *email.COMMANDS,
                *insights.COMMANDS]
    try:  # the rendering commands arrive with the renderers package
        from tcma.cli import rendering
    except ImportError:  # pragma: no cover - only before the renderers land
        pass
    else:
        rendering.templates_cli.add_command(campaigns.import_templates_command)
        commands += [rendering.templates_cli, rendering.render_command]
    for command in commands:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from tcma import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             add_default_commands=False)
def cli() -> None:
    """tcma: through-channel marketing automation with a co-branding renderer."""


@click.command("run", context_settings=run_command.context_settings, params=run_command.params,
               help=run_command.help, short_help="Run the development server (and the click shipper).")
@click.pass_context
def serve_command(ctx: click.Context, **options) -> None:
    from flask.cli import ScriptInfo

    from tcma.state import start_background_work

    app = ctx.ensure_object(ScriptInfo).load_app()
    _warn_if_public_url_differs(app, options.get("host") or "127.0.0.1", options.get("port") or 5000)
    start_background_work(app)
    ctx.invoke(run_command, **options)


def _warn_if_public_url_differs(app: Flask, host: str, port: int) -> None:
    """Links, QR codes and downloads point at TCMA_PUBLIC_URL: say so when it is not where we serve."""
    from urllib.parse import urlsplit

    public = urlsplit(app.config["PUBLIC_URL"])
    if (public.port or {"https": 443}.get(public.scheme, 80)) != port:
        click.secho(f"warning: TCMA_PUBLIC_URL is {app.config['PUBLIC_URL']} but this server listens on "
                    f"{host}:{port}; tracked links, QR codes, email links and downloads will point at "
                    "TCMA_PUBLIC_URL (set it to where people reach this server)", fg="yellow", err=True)


cli.add_command(serve_command)
cli.add_command(shell_command)
cli.add_command(routes_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="tcma")
