"""rq job that drains the tracked-event buffer (for schedulers; `tcma flusher` is the usual way)."""

from __future__ import annotations

from tcma.jobs import job
from tcma.services.ingest import flush_events

FLUSH_JOB_ID = "tcma-flush-events"


@job(queue="low", timeout=600)
def flush_events_job() -> dict[str, int]:
    """Write buffered events to the database; safe to run beside `tcma flusher` (one lock)."""
    report = flush_events(wait=5.0)
    return {"batches": report.batches, "received": report.received, "inserted": report.inserted,
            "busy": int(report.busy)}
