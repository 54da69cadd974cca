"""Background jobs: rq on Redis when TCMA_REDIS_URL is set, otherwise run in-process."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

QUEUE_NAMES = ("high", "default", "render", "low")
PENDING = {"queued", "started", "deferred", "scheduled"}


@dataclass(frozen=True)
class JobOptions:
    """Where and how long a job may run; declared beside the job function."""

    queue: str = "default"
    timeout: int = 600
    ttl: int | None = None
    result_ttl: int = 3600
    failure_ttl: int = 7 * 24 * 3600
    # False: a forking worker runs the job in its own process instead of a forked work horse. For
    # short jobs that mostly wait on the network, where the fork (~75 ms) costs more than the work.
    fork: bool = True


@dataclass
class JobCall:
    """One call to enqueue: the job (function or dotted name), primitive arguments, a stable id.

    Services name jobs by dotted path ("tcma.jobs.render.render_assets") so that they never
    import the jobs layer above them.
    """

    func: Callable[..., Any] | str
    args: tuple[Any, ...] = ()
    job_id: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    delay: float | None = None  # seconds to wait before running (rq's scheduler holds it)


@dataclass
class InlineJob:
    """What an in-process run left behind, shaped like the parts of rq.Job we read."""

    id: str
    status: str
    result: Any = None
    exc_string: str | None = None

    def get_status(self) -> str:
        return self.status


def resolve_job(func: Callable[..., Any] | str) -> Callable[..., Any]:
    """The job function for a function or its dotted name."""
    if isinstance(func, str):
        module, _, name = func.rpartition(".")
        return getattr(importlib.import_module(module), name)
    return func


def options_of(func: Callable[..., Any]) -> JobOptions:
    """The JobOptions a function was declared with (defaults otherwise)."""
    return getattr(func, "job_options", JobOptions())


def job_name(func: Callable[..., Any] | str) -> str:
    """The dotted name a job is stored under (the job outbox keeps names, not functions)."""
    if isinstance(func, str):
        return func
    return f"{func.__module__}.{func.__qualname__}"


class TaskQueue:
    """Enqueue jobs on rq, or run them in-process when there is no Redis."""

    def __init__(self, redis_url: str | None, prefix: str = "tcma") -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        self._redis = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TaskQueue:
        """Build from app settings; connects lazily, never at import or construction."""
        return cls(config.get("REDIS_URL"), config.get("QUEUE_PREFIX", "tcma"))

    @property
    def is_async(self) -> bool:
        return bool(self.redis_url)

    @property
    def redis(self):
        """The Redis connection (created on first use)."""
        if self._redis is None:
            from redis import Redis

            self._redis = Redis.from_url(
                self.redis_url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30
            )
        return self._redis

    def queue_name(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def rq_queue(self, name: str = "default"):
        """The rq.Queue for one of QUEUE_NAMES."""
        from rq import Queue

        if name not in QUEUE_NAMES:
            raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUE_NAMES)}")
        return Queue(self.queue_name(name), connection=self.redis)

    def all_queues(self) -> list[Any]:
        return [self.rq_queue(name) for name in QUEUE_NAMES]

    def enqueue(self, func: Callable[..., Any] | str, *args: Any, job_id: str | None = None,
                **kwargs: Any) -> Any:
        """Enqueue one job; with a job_id, a job still pending under that id is reused."""
        return self.enqueue_many([JobCall(func, args, job_id, kwargs)])[0]

    def enqueue_many(self, calls: Iterable[JobCall]) -> list[Any]:
        """Enqueue many jobs in one Redis round trip (or run them in order, in-process)."""
        calls = list(calls)
        if not self.is_async:
            return [run_inline(call) if not call.delay else _held(call) for call in calls]
        later = [self._enqueue_later(call) for call in calls if call.delay]
        return self._enqueue_rq([call for call in calls if not call.delay]) + later

    def _enqueue_later(self, call: JobCall) -> Any:
        from datetime import timedelta

        func = resolve_job(call.func)
        opts = options_of(func)
        return self.rq_queue(opts.queue).enqueue_in(
            timedelta(seconds=call.delay), func, *call.args, job_id=call.job_id, job_timeout=opts.timeout,
            ttl=opts.ttl, result_ttl=opts.result_ttl, failure_ttl=opts.failure_ttl, **call.kwargs)

    def _enqueue_rq(self, calls: list[JobCall]) -> list[Any]:
        from rq import Queue
        from rq.job import Job

        ids = [c.job_id for c in calls if c.job_id]
        pending = {
            job.id: job
            for job in Job.fetch_many(ids, connection=self.redis)
            if job is not None and job.get_status(refresh=False) in PENDING
        }
        results: list[Any] = [pending.get(c.job_id) if c.job_id else None for c in calls]
        by_queue: dict[str, list[tuple[int, Any]]] = {}
        for index, call in enumerate(calls):
            if results[index] is not None:
                continue
            func = resolve_job(call.func)
            opts = options_of(func)
            data = Queue.prepare_data(
                func, args=call.args, kwargs=call.kwargs, job_id=call.job_id,
                timeout=opts.timeout, ttl=opts.ttl, result_ttl=opts.result_ttl,
                failure_ttl=opts.failure_ttl,
            )
            by_queue.setdefault(opts.queue, []).append((index, data))
        with self.redis.pipeline() as pipe:
            for name, items in by_queue.items():
                jobs = self.rq_queue(name).enqueue_many([d for _, d in items], pipeline=pipe)
                for (index, _), job in zip(items, jobs, strict=True):
                    results[index] = job
            pipe.execute()
        return results

    def pending_job_ids(self, job_ids: Iterable[str]) -> set[str]:
        """The ids among `job_ids` of jobs rq still holds to run (queued, started, scheduled...)."""
        from rq.job import Job

        ids = list(job_ids)
        if not self.is_async or not ids:
            return set()
        jobs = Job.fetch_many(ids, connection=self.redis)
        return {job.id for job in jobs if job is not None and job.get_status(refresh=False) in PENDING}

    def ping(self) -> None:
        """Raise if Redis is configured and cannot be reached."""
        if self.is_async:
            self.redis.ping()


def run_inline(call: JobCall) -> InlineJob:
    """Run a job now, in this process, the way a worker would: log and record failures."""
    job_id = call.job_id or uuid.uuid4().hex
    func = resolve_job(call.func)
    try:
        result = func(*call.args, **call.kwargs)
    except Exception as exc:  # a failed job is recorded, not raised into the enqueuer
        log.exception("job %s (%s) failed in-process", job_id, func.__name__)
        return InlineJob(job_id, "failed", exc_string="".join(traceback.format_exception(exc)))
    return InlineJob(job_id, "finished", result=result)


def _held(call: JobCall) -> InlineJob:
    """In-process there is no scheduler to hold a delayed job: it is logged and not run."""
    log.warning("job %s asks for a %.0fs delay; without Redis nothing runs it later", call.job_id, call.delay)
    return InlineJob(call.job_id or uuid.uuid4().hex, "deferred")


def get_queue() -> TaskQueue:
    """The current app's TaskQueue."""
    return current_app.extensions["tcma"].queue


# The worker: rq's, with a scheduler that cannot outlive it.
#
# rq forks its scheduler into a process of its own, which takes one Redis lock per queue
# (rq:scheduler-lock:<queue>, refreshed every second, expiring 61 s after the last refresh).
# A worker killed with SIGKILL left that child running as an orphan (parent PID 1), holding
# the locks, so the worker started in its place ran without a scheduler. Here the child
# watches its parent and stops (releasing its locks) when the parent is gone, and a worker
# start releases the locks of a scheduler that died on this host without releasing them.

SCHEDULER_REACQUIRE_SECONDS = 60  # rq's maintenance period: how soon a worker retries the locks


def _watch_parent(parent_pid: int) -> None:
    """In the scheduler process: ask rq's scheduler to stop once the worker that forked it is gone."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.25)
        os.kill(os.getpid(), signal.SIGTERM)  # rq's handler: stop, release the locks, deregister

    threading.Thread(target=watch, name="tcma-parent-watch", daemon=True).start()


def _run_tied_scheduler(scheduler: Any, parent_pid: int) -> None:
    from rq.scheduler import run

    _watch_parent(parent_pid)
    run(scheduler)


def _scheduler_class() -> type:
    from multiprocessing import get_context

    from rq.scheduler import RQScheduler

    class TiedScheduler(RQScheduler):
        """rq's scheduler process, stopped when the worker process that started it dies."""

        def start(self):
            self._status = self.Status.STARTED
            self._connection = None  # a Redis connection cannot cross the fork
            self._process = get_context("fork").Process(
                target=_run_tied_scheduler, args=(self, os.getpid()), name="Scheduler")
            self._process.start()
            return self._process

    return TiedScheduler


def release_dead_scheduler_locks(connection: Any, queue_names: Iterable[str]) -> list[str]:
    """Release scheduler locks held by a scheduler that died on this host; the queues freed.

    A scheduler on another host cannot be checked from here: its locks expire by themselves
    (61 s) and the worker's maintenance takes them then.
    """
    from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
    from rq.scripts import release_lock

    freed = []
    for name in queue_names:
        key = RQScheduler.get_locking_key(name)
        owner = connection.get(key)
        if owner is None:
            continue
        owner = owner.decode()
        info = {k.decode(): v.decode() for k, v in connection.hgetall(SCHEDULER_KEY_TEMPLATE % owner).items()}
        pid = int(info.get("pid") or 0)
        if info.get("hostname") != socket.gethostname() or not pid or _alive(pid):
            continue  # alive, elsewhere, or not registered yet (a scheduler starting)
        if release_lock(connection, key, owner):
            freed.append(name)
    return freed


def _alive(pid: int) -> bool:
    """Whether the process runs. A zombie (dead, not yet reaped: a killed worker's scheduler whose
    parent died too, waiting for an init that reaps late) is dead: it will never release its lock."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # no /proc (not Linux): what kill(0) said
        return True
    return state != "Z"


def worker_class(fork: bool) -> type:
    """rq's Worker (a forked work horse per job) or SimpleWorker, with the tied scheduler."""
    from rq import SimpleWorker, Worker

    scheduler_class = _scheduler_class()

    class SchedulerTied:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("maintenance_interval", SCHEDULER_REACQUIRE_SECONDS)
            super().__init__(*args, **kwargs)

        def _start_scheduler(self, burst: bool = False, logging_level: str | None = "INFO",
                             date_format: str | None = None, log_format: str | None = None) -> None:
            # rq's own _start_scheduler (rq 2.x), with the tied scheduler, after freeing the
            # locks a dead scheduler on this host still holds.
            freed = release_dead_scheduler_locks(self.connection, [q.name for q in self.queues])
            if freed:
                log.warning("released the scheduler locks of a dead scheduler: %s", ", ".join(freed))
            options = {"date_format": date_format, "log_format": log_format}
            self.scheduler = scheduler_class(
                self.queues, connection=self.connection, serializer=self.serializer,
                logging_level=logging_level if logging_level is not None else self.log.level,
                **{k: v for k, v in options.items() if v is not None})
            self.scheduler.acquire_locks()
            if not self.scheduler.acquired_locks:
                return
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    class InProcessWhenAsked:
        """A forking worker that runs jobs declared `fork=False` in its own process, as SimpleWorker
        would (their heartbeat lasting the job's timeout, as no work horse's monitor renews it)."""

        _in_process = False

        def execute_job(self, job: Any, queue: Any) -> None:
            if _forks(job):
                return super().execute_job(job, queue)
            self._in_process = True
            try:
                return SimpleWorker.execute_job(self, job, queue)
            finally:
                self._in_process = False

        def get_heartbeat_ttl(self, job: Any) -> int:
            if self._in_process:
                return SimpleWorker.get_heartbeat_ttl(self, job)
            return super().get_heartbeat_ttl(job)

    bases = (SchedulerTied, InProcessWhenAsked, Worker) if fork else (SchedulerTied, SimpleWorker)
    return type(f"Tcma{bases[-1].__name__}", bases, {})


def _forks(job: Any) -> bool:
    """Whether a forking worker runs `job` in a work horse (an unknown function: yes, rq's default)."""
    try:
        return options_of(resolve_job(job.func_name)).fork
    except (ImportError, AttributeError, ValueError):
        return True
