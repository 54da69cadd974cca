"""One unit of work per use case: helpers flush, the use case commits once, jobs go out after.

A use case collects the jobs it wants with `enqueue_after_commit` while it works. With Redis,
`commit()` writes them to the `job_outbox` table in the use case's own transaction, commits,
then enqueues them and marks their rows: a job never runs against rows that were rolled back,
and a job whose enqueue failed (Redis out of reach) is still on record and is enqueued by the
maintenance pass once Redis is back (`drain_outbox`). A rollback drops the jobs it collected.
Without Redis (the embedded queue) the jobs run in-process right after the commit, as before.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import delete, event, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tcma.errors import ServiceUnavailable
from tcma.extensions import db
from tcma.models.base import utcnow
from tcma.models.outbox import JobOutbox
from tcma.queue import JobCall, get_queue, job_name

PENDING_JOBS = "tcma.pending_jobs"
RETRY_AFTER = 30  # seconds a client is asked to wait when the job queue is out of reach
# commit() marks its own rows a moment after enqueueing; the drain leaves them that moment.
OUTBOX_GRACE = timedelta(seconds=2)
OUTBOX_KEPT = timedelta(days=1)
MARK_CHUNK = 5000
log = logging.getLogger(__name__)


def enqueue_after_commit(*calls: JobCall) -> None:
    """Enqueue these jobs once the current use case has committed."""
    db.session.info.setdefault(PENDING_JOBS, []).extend(calls)


def commit() -> None:
    """Commit the use case's transaction with its jobs on record, then enqueue them.

    Raises ServiceUnavailable (503) when the jobs could not be enqueued: the use case is
    committed all the same and its jobs are kept in the outbox, so they run once Redis is back;
    repeating the request is safe for the use cases that enqueue (they are idempotent).
    """
    calls = db.session.info.pop(PENDING_JOBS, [])
    queue = get_queue()
    if not calls or not queue.is_async:
        db.session.commit()
        if calls:
            queue.enqueue_many(calls)
        return
    calls = [dataclasses.replace(c, job_id=c.job_id or uuid.uuid4().hex) for c in calls]
    row_ids = _record_jobs(calls)
    db.session.commit()
    try:
        queue.enqueue_many(calls)
    except (RedisError, OSError) as exc:
        log.warning("the job queue refused %d jobs (%s); they wait in the outbox", len(calls), exc)
        raise queue_unavailable() from None
    _mark_enqueued(row_ids)


def commit_without_waiting_for_disk() -> None:
    """Commit a transaction whose loss in a database crash is repaired anyway, without waiting for
    its write-ahead log to reach the disk (PostgreSQL's `synchronous_commit = off`, this transaction
    only; other databases commit as usual). What a crash can lose is the last fraction of a second of
    such commits, never a half of one, and never another transaction's: use it only where whoever
    relies on the rows finds and redoes a lost commit (a publish chunk's outcomes: its posts stay
    `publishing` and are reconciled on the network)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    commit()


def queue_unavailable() -> ServiceUnavailable:
    """The error a use case answers when its work is saved but cannot start yet."""
    error = ServiceUnavailable("the job queue is out of reach: the request is saved and its work "
                               "starts when the queue is back; try again later to follow it")
    error.retry_after = RETRY_AFTER  # read by the HTTP error handler (Retry-After)
    return error


def _record_jobs(calls: list[JobCall]) -> list[int]:
    now = utcnow()
    rows = [{"job_name": job_name(c.func), "args": list(c.args), "kwargs": dict(c.kwargs),
             "job_id": c.job_id, "created_at": now,
             "run_after": now + timedelta(seconds=c.delay) if c.delay else None} for c in calls]
    stmt = insert(JobOutbox).returning(JobOutbox.id, sort_by_parameter_order=True)
    return list(db.session.scalars(stmt, rows))


def _mark_enqueued(row_ids: list[int]) -> None:
    """Mark outbox rows enqueued; if that fails the drain enqueues them again (ids dedupe)."""
    try:
        now = utcnow()
        for start in range(0, len(row_ids), MARK_CHUNK):
            db.session.execute(update(JobOutbox).where(JobOutbox.id.in_(row_ids[start:start + MARK_CHUNK]))
                               .values(enqueued_at=now))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("marking %d outbox rows enqueued failed; the drain will enqueue them again",
                      len(row_ids))


def drain_outbox(limit: int = 1000) -> int:
    """Enqueue the jobs committed use cases left in the outbox (Redis was down); returns how many."""
    queue = get_queue()
    if not queue.is_async:
        return 0
    drained = 0
    while True:
        now = utcnow()
        waiting = (JobOutbox.enqueued_at.is_(None), JobOutbox.created_at < now - OUTBOX_GRACE)
        rows = list(db.session.scalars(select(JobOutbox).where(*waiting).order_by(JobOutbox.id)
                                       .limit(limit).with_for_update(skip_locked=True)))
        if not rows:
            db.session.rollback()
            return drained
        calls = [_call_of(row, now) for row in rows]
        try:
            queue.enqueue_many(calls)
        except (RedisError, OSError):
            db.session.rollback()
            raise
        db.session.execute(update(JobOutbox).where(JobOutbox.id.in_([r.id for r in rows]))
                           .values(enqueued_at=now))
        db.session.commit()
        drained += len(rows)
        if len(rows) < limit:
            return drained


def _call_of(row: JobOutbox, now) -> JobCall:
    delay = (row.run_after - now).total_seconds() if row.run_after else 0
    return JobCall(row.job_name, tuple(row.args), row.job_id, dict(row.kwargs),
                   delay=delay if delay > 0 else None)


def purge_outbox() -> int:
    """Delete outbox rows enqueued more than a day ago; returns how many."""
    done = db.session.execute(delete(JobOutbox).where(JobOutbox.enqueued_at < utcnow() - OUTBOX_KEPT))
    db.session.commit()
    return done.rowcount


def pending_outbox() -> int:
    """How many recorded jobs still wait to be enqueued."""
    return db.session.scalar(select(func.count()).select_from(JobOutbox)
                             .where(JobOutbox.enqueued_at.is_(None)))


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
