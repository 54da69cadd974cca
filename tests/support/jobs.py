"""Job functions used by the queue tests (importable by rq workers)."""

from __future__ import annotations

from tcma.jobs import job
from tcma.storage import get_storage


@job(queue="default", timeout=30)
def write_marker(key: str, text: str) -> str:
    """Store `text` under `key`, so the test can see the job ran with the app's services."""
    get_storage().put(key, text.encode(), "text/plain")
    return f"wrote {key}"


@job(queue="low", timeout=30)
def refuse(reason: str) -> None:
    """Fail with `reason`."""
    raise ValueError(reason)


@job(queue="default", timeout=30)
def process_id() -> int:
    """The id of the process that ran the job (a forking worker: its work horse)."""
    import os

    return os.getpid()


@job(queue="default", timeout=30, fork=False)
def process_id_in_worker() -> int:
    """The id of the process that ran the job, declared to run in the worker's own process."""
    import os

    return os.getpid()
