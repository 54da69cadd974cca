"""The maintenance pass on a schedule: `tcma maintenance` for cron or a supervisor, and a worker thread."""

from __future__ import annotations

import logging
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tcma.services.maintenance import maintenance_interval, run_maintenance, run_maintenance_if_due

log = logging.getLogger(__name__)


def run_pass(app: Flask, interval: float | None = None) -> str | None:
    """One pass in its own app context (its own session); its summary, or None if not due.

    With an `interval`, the pass runs only if no process ran one in the last `interval` seconds.
    """
    with app.app_context():
        report = run_maintenance() if interval is None else run_maintenance_if_due(interval)
    return None if report is None else report.summary()


class MaintenanceThread(threading.Thread):
    """Runs the maintenance pass every `interval` seconds beside a worker, until stopped."""

    def __init__(self, app: Flask, interval: float) -> None:
        super().__init__(name="tcma-maintenance", daemon=True)
        self.app, self.interval = app, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                summary = run_pass(self.app, self.interval)
                if summary:
                    log.info("maintenance: %s", summary)
            except Exception:  # Redis or the database is down: try again next period
                log.exception("maintenance pass failed")

    def stop(self) -> None:
        """Let the thread end after its current pass."""
        self.stopped.set()


def start_maintenance(app: Flask, interval: float) -> MaintenanceThread | None:
    """Start the periodic pass in this process (None when `interval` is 0: turned off)."""
    if interval <= 0:
        return None
    thread = MaintenanceThread(app, interval)
    thread.start()
    return thread


@click.command("maintenance")
@click.option("--once", is_flag=True, help="Run one pass now and exit.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between passes (default: TCMA_MAINTENANCE_INTERVAL, 60).")
@with_appcontext
def maintenance_command(once: bool, interval: float | None) -> None:
    """Recover stalled renders, enqueue the job outbox and lost mail, purge old sessions, on a loop."""
    if once:
        click.echo(run_maintenance().summary())
        return
    app = current_app._get_current_object()
    interval = interval or maintenance_interval() or 60.0
    while True:
        started = time.monotonic()
        try:
            summary = run_pass(app, interval)
            click.echo(summary or "skipped: another process ran the pass this period")
        except Exception as exc:  # keep looping through outages; the supervisor sees the lines
            log.exception("maintenance pass failed")
            click.echo(f"pass failed: {exc}", err=True)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


COMMANDS = [maintenance_command]
