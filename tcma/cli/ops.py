"""Operator commands: the rq worker and queue inspection."""

from __future__ import annotations

import os
import socket
import uuid

import click
from flask.cli import with_appcontext

from tcma.queue import QUEUE_NAMES, get_queue
from tcma.services.catalogue.templates import warm_templates
from tcma.services.launch.launches import recover_stalled
from tcma.services.launch.renders import warm_renderer
from tcma.services.transaction import release_connections_at_fork


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
@with_appcontext
def worker_command(queues, burst, fork, with_scheduler) -> None:
    """Run an rq worker that executes tcma's background jobs."""
    from rq import SimpleWorker, Worker

    queue = _require_redis()
    recovered = recover_stalled()
    if recovered:
        click.echo(f"re-enqueued {recovered} assets left queued or stalled by a dead worker")
    warmed = warm_templates()
    outputs = warm_renderer()
    click.echo(f"parsed {warmed} template versions and warmed {outputs} outputs before forking")
    # No transaction of the parent's may stay open while it waits for jobs, and a forked work
    # horse must not share the parent's pooled database connections.
    release_connections_at_fork()
    worker_class = Worker if fork else SimpleWorker
    names = queues or QUEUE_NAMES
    worker = worker_class(
        [queue.rq_queue(name) for name in names],
        connection=queue.redis,
        name=f"tcma-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
    )
    worker.work(burst=burst, with_scheduler=with_scheduler)


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
