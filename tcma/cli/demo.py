"""`tcma demo`: seed the demo vendor and say how to look at it."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from tcma.config import get_settings
from tcma.demo.email import send_demo_newsletter
from tcma.demo.experiment import format_experiment, run_demo_experiment
from tcma.demo.seed import launch_demo_campaign, seed_demo, send_demo_mail
from tcma.demo.social import connect_and_post
from tcma.demo.traffic import simulate_demo_traffic
from tcma.services.tracking.stats import format_stats


@click.command("demo")
@click.option("--partners", default=30, show_default=True, type=click.IntRange(1, 1000),
              help="How many demo partners to create.")
@with_appcontext
def demo_command(partners: int) -> None:
    """Seed a demo vendor (tiers, verticals, regions, partners, users) and print what it did."""
    if get_settings().env == "production":
        raise click.ClickException("tcma demo seeds a demo vendor with known passwords: "
                                   "not on a production database (TCMA_ENV=production)")
    report = seed_demo(partners)
    if report.created:
        click.echo("Seeded the demo vendor:")
    else:
        click.echo("The demo vendor is already there (nothing changed):")
    for name, count in report.counts.items():
        click.echo(f"  {count:>4} {name}")
    click.echo(f"Database: {current_app.config['SQLALCHEMY_DATABASE_URI']}")
    if not report.created:  # the database already had partners: launch nothing, click nothing
        _print_logins(report)
        return
    campaign, progress = launch_demo_campaign()
    click.echo(f"Launched campaign {campaign.id} '{campaign.name}' "
               f"(solution brief PDF, social card PNG, newsletter email) to every partner:")
    click.echo(f"  {progress['done']} assets done, {progress['failed']} failed, "
               f"{progress['queued'] + progress['running']} still queued ({progress['status']})")
    click.echo(f"  files are under {get_settings().storage_path or 'the S3 bucket'}/renders/")
    traffic = simulate_demo_traffic(campaign_id=campaign.id)
    if traffic.stats is None:
        click.echo("No tracked links to click yet: the renders wait for a worker "
                   "(.venv/bin/tcma worker --burst renders them; TCMA_REDIS_URL is set).")
    else:
        sent = ", ".join(f"{count} from {who}" for who, count in traffic.sent.items())
        click.echo(f"Clicked the campaign's tracked links: {sent}. Resulting stats:")
        click.echo(format_stats(traffic.stats))
    experiment = run_demo_experiment(campaign.id)
    people, bots = experiment.sent.get("people", 0), experiment.sent.get("bots", 0)
    click.echo(f"Ran experiment {experiment.experiment_id} (headline a or b, one arm per partner) on "
               f"{people} clicks by people and {bots} by bots:")
    click.echo("\n".join(format_experiment(experiment)))
    click.echo(f"  See it: {get_settings().public_url}/portal/experiments/{experiment.experiment_id}")
    sent = send_demo_mail(report.logins[-1][1])
    click.echo(f"Mailed {' and '.join(sent)}: each is a .eml file in {get_settings().mail_outbox_dir}/")
    _print_newsletter(send_demo_newsletter(campaign.id))
    if get_settings().connectors_backend == "dryrun":
        posted = connect_and_post(campaign.id)
        states = ", ".join(f"{count} {state.replace('_', ' ')}"
                           for state, count in sorted(posted.states.items()))
        click.echo(f"Connected {posted.accounts} dry-run social accounts (a Mastodon account and a LinkedIn "
                   f"page per partner) and planned the campaign's post to each: {states}. "
                   f"Nothing left tcma: each published post is a .json file (with its image) under "
                   f"{posted.folder}/; the others wait for their partner's approval "
                   f"(.venv/bin/tcma posts list --status awaiting_approval)")
    _print_logins(report)


def _print_newsletter(report) -> None:
    click.echo(f"Partners sent the newsletter to their own demo contacts (each message a .eml file in "
               f"{report.outbox}/); people and machines opened and clicked:")
    for name, n in report.sends:
        click.echo(f"  {name}: {n['sent']} sent, {n['skipped']} skipped; opened by {n['opened']} people "
                   f"(+{n['opened_machine']} machine), clicked by {n['clicked']} (+{n['clicked_machine']} "
                   f"scanners), {n['unsubscribed']} unsubscribed")


def _print_logins(report) -> None:
    for role, email, password in report.logins:
        click.echo(f"  sign in as {role:<13} {email} / {password}")
    click.echo("Open the app: .venv/bin/tcma run  ->  " + get_settings().public_url)


COMMANDS = [demo_command]
