"""Campaign and catalogue commands for operators and marketers."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from tcma.errors import DomainError
from tcma.services.accounts.auth import OPERATOR
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.launch import launches as campaigns
from tcma.services.transaction import end_session

# The CLI runs with the operator's full authority.


@click.command("import")
@click.option("--path", type=click.Path(exists=True, file_okay=False), default=None,
              help="Template library folder (default: TCMA_TEMPLATES_DIR).")
@with_appcontext
def import_templates_command(path: str | None) -> None:
    """Publish every template of the library that is new or changed since its last version."""
    for slug, version, created in import_catalogue(path):
        click.echo(f"{slug:<24} v{version:<4} {'published' if created else 'unchanged'}")


class ServiceGroup(click.Group):
    """A command group that turns a refused use case into a clear message and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None


@click.group("campaign", cls=ServiceGroup)
def campaign_cli() -> None:
    """Launch campaigns and follow their progress."""


def _line(progress: dict) -> str:
    preparing = f" (preparing {progress['preparing']} partners)" if "preparing" in progress else ""
    return ("{status}{preparing_line}: {done} done, {failed} failed, {running} running, {queued} queued "
            "of {total}".format(preparing_line=preparing, **progress))


@campaign_cli.command("launch")
@click.argument("campaign_id", type=int)
@click.option("--wait/--no-wait", default=False, help="Show a progress bar until every render is done.")
@click.option("--interval", default=0.5, show_default=True, help="Seconds between progress polls.")
@with_appcontext
def launch_command(campaign_id: int, wait: bool, interval: float) -> None:
    """Launch a campaign: one render job per chunk of (partner, output) assets."""
    progress = campaigns.launch_campaign(OPERATOR, campaign_id, via="cli")  # recorded as skipped
    if wait:
        progress = _wait(campaign_id, progress, interval)
    click.echo(_line(progress))
    if progress["failed"]:
        raise SystemExit(1)


def _wait(campaign_id: int, progress: dict, interval: float) -> dict:
    if progress["status"] == "launching":  # a large launch: its job creates the assets first
        click.echo(_line(progress))
        while progress["status"] == "launching":
            time.sleep(interval)
            end_session()
            progress = campaigns.campaign_progress(OPERATOR, campaign_id)
    with click.progressbar(length=progress["total"], label="rendering", show_pos=True) as bar:
        finished = 0
        while True:
            end_session()  # read what the workers committed since
            progress = campaigns.campaign_progress(OPERATOR, campaign_id)
            now_finished = progress["done"] + progress["failed"]
            bar.update(now_finished - finished)
            finished = now_finished
            if progress["queued"] + progress["running"] == 0 or progress["status"] == "paused":
                return progress
            time.sleep(interval)


@campaign_cli.command("progress")
@click.argument("campaign_id", type=int)
@with_appcontext
def progress_command(campaign_id: int) -> None:
    """Print a campaign's queued, running, done and failed counts."""
    click.echo(_line(campaigns.campaign_progress(OPERATOR, campaign_id)))


@campaign_cli.command("retry")
@click.argument("campaign_id", type=int)
@with_appcontext
def retry_command(campaign_id: int) -> None:
    """Queue every failed asset of a campaign again."""
    click.echo(f"{campaigns.retry_failed(OPERATOR, campaign_id)} assets queued again")


@campaign_cli.command("recover")
@click.option("--include-queued", is_flag=True,
              help="Also re-enqueue queued assets (after Redis lost its data).")
@with_appcontext
def recover_command(include_queued: bool) -> None:
    """Enqueue again the assets a dead worker left behind (also done when a worker starts)."""
    click.echo(f"{campaigns.recover_stalled(include_queued)} assets enqueued again")


COMMANDS = [campaign_cli]
