"""One unit of work per use case: helpers flush, the use case commits once, jobs go out after.

A use case collects the jobs it wants with `enqueue_after_commit` while it works; `commit()`
commits its transaction and only then enqueues them, so a job never runs against rows that
were rolled back, and a rollback drops the jobs it collected.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from tcma.extensions import db
from tcma.queue import JobCall, get_queue

PENDING_JOBS = "tcma.pending_jobs"


def enqueue_after_commit(*calls: JobCall) -> None:
    """Enqueue these jobs once the current use case has committed."""
    db.session.info.setdefault(PENDING_JOBS, []).extend(calls)


def commit() -> None:
    """Commit the use case's transaction, then enqueue the jobs it collected."""
    db.session.commit()
    calls = db.session.info.pop(PENDING_JOBS, [])
    if calls:
        get_queue().enqueue_many(calls)


@event.listens_for(Session, "after_soft_rollback")
def _forget_jobs(session: Session, previous_transaction) -> None:
    session.info.pop(PENDING_JOBS, None)


def rollback() -> None:
    """Abandon the current unit of work (and the jobs it collected)."""
    db.session.rollback()


def end_session() -> None:
    """Close this thread's session: the next read starts afresh (long loops, waiting parents)."""
    db.session.remove()


def release_connections_at_fork() -> None:
    """End this process's session and keep forked children off its pooled connections."""
    import os

    db.session.remove()
    engine = db.engine
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
