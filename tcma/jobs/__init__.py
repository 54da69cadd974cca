"""rq jobs: importable functions taking ids and primitives, declared with `job`."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from tcma.queue import JobOptions

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


def job(queue: str = "default", timeout: int = 600, ttl: int | None = None,
        result_ttl: int = 3600, failure_ttl: int = 7 * 24 * 3600, fork: bool = True) -> Callable[[F], F]:
    """Declare a job function's queue and limits (`fork=False`: run in the worker's own process, see
    JobOptions.fork); failures are logged and re-raised."""
    options = JobOptions(queue, timeout, ttl, result_ttl, failure_ttl, fork)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            # Its own app context: its own database session, removed when the job ends,
            # whether a worker runs it or the enqueuer does (in-process default).
            with current_app.app_context():
                try:
                    return func(*args, **kwargs)
                except Exception:
                    log.exception("job %s%r failed", func.__name__, args)
                    raise

        run.job_options = options  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return decorate
