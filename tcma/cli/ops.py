"""Operator commands: the rq worker (with the periodic maintenance pass) and queue inspection."""

from __future__ import annotations

import os
import socket
import uuid

import click
from flask import current_app
from flask.cli import with_appcontext

from tcma.cli.maintenance import run_pass, start_maintenance
from tcma.connectors.transport import warm as warm_connectors
from tcma.queue import QUEUE_NAMES, get_queue, worker_class
from tcma.services.catalogue.templates import warm_templates
from tcma.services.launch.renders import freeze_warm_objects, warm_renderer
from tcma.services.maintenance import maintenance_interval
from tcma.services.transaction import release_connections_at_fork
from tcma.state import app_state


def _require_redis():
    queue = get_queue()
    if not queue.is_async:
        raise click.ClickException(
            "TCMA_REDIS_URL is not set: without Redis, jobs run in-process and no worker is needed"
        )
    return queue


@click.command("worker")
@click.option("--queue", "-q", "queues", multiple=True, type=click.Choice(QUEUE_NAMES),
              help="Queues to listen on, in priority order (default: all).")
@click.option("--burst", is_flag=True, help="Quit when the queues are empty.")
@click.option("--fork/--no-fork", default=True, show_default=True,
              help="Run each job in a forked work horse (isolates crashes and leaks).")
@click.option("--with-scheduler/--without-scheduler", default=True, show_default=True,
              help="Also run rq's scheduler for delayed and retried jobs.")
@click.option("--maintenance-interval", "maintenance_interval_", type=click.FloatRange(min=0), default=None,
              help="Seconds between maintenance passes in this worker (default: "
                   "TCMA_MAINTENANCE_INTERVAL, 60; 0: none, run `tcma maintenance` instead).")
@with_appcontext
def worker_command(queues, burst, fork, with_scheduler, maintenance_interval_) -> None:
    """Run an rq worker that executes tcma's background jobs (and the periodic maintenance pass)."""
    queue = _require_redis()
    app = current_app._get_current_object()
    interval = maintenance_interval() if maintenance_interval_ is None else maintenance_interval_
    # The first pass now: the outbox a Redis outage left, renders a dead worker held past their lease.
    click.echo(f"maintenance: {run_pass(app)}")
    warmed = warm_templates()
    outputs = warm_renderer()
    warm_connectors()
    app_state().keep_connectors()  # publish jobs run in this process: their connections stay open
    click.echo(f"parsed {warmed} template versions and warmed {outputs} outputs before forking")
    # No transaction of the parent's may stay open while it waits for jobs, and a forked work
    # horse must not share the parent's pooled database connections.
    release_connections_at_fork()
    freeze_warm_objects()  # the horses' collections no longer copy the pages of the warm state
    names = queues or QUEUE_NAMES
    worker = worker_class(fork)(
        [queue.rq_queue(name) for name in names],
        connection=queue.redis,
        name=f"tcma-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
    )
    # Periodic, so a worker restarted at once (before the dead one's leases ran out) still
    # recovers its renders; a Redis key keeps it to one pass per interval across workers.
    maintenance = None if burst else start_maintenance(app, interval)
    try:
        worker.work(burst=burst, with_scheduler=with_scheduler)
    finally:
        if maintenance is not None:
            maintenance.stop()


@click.command("queues")
@with_appcontext
def queues_command() -> None:
    """Show each queue's length and its failed, started and scheduled job counts."""
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    queue = _require_redis()
    click.echo(f"{'queue':<16}{'queued':>8}{'started':>9}{'failed':>8}{'scheduled':>11}")
    for rq_queue in queue.all_queues():
        counts = [
            len(rq_queue),
            StartedJobRegistry(queue=rq_queue).count,
            FailedJobRegistry(queue=rq_queue).count,
            ScheduledJobRegistry(queue=rq_queue).count,
        ]
        click.echo(f"{rq_queue.name:<16}{counts[0]:>8}{counts[1]:>9}{counts[2]:>8}{counts[3]:>11}")


COMMANDS = [worker_command, queues_command]
