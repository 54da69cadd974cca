"""Jobs run on real rq workers against Redis, and in-process without Redis."""

from __future__ import annotations

from rq import SimpleWorker

from tcma.queue import get_queue
from tcma.storage import get_storage
from tests.support.jobs import process_id, process_id_in_worker, refuse, write_marker


def _work(queue) -> None:
    SimpleWorker(queue.all_queues(), connection=queue.redis).work(burst=True)


def test_a_job_enqueued_through_the_app_runs_on_an_rq_worker(rq_app):
    queue = get_queue()
    job = queue.enqueue(write_marker, "markers/one.txt", "hello", job_id="marker-one")
    assert job.get_status() == "queued"
    assert not get_storage().exists("markers/one.txt")
    _work(queue)
    assert job.get_status() == "finished"
    assert job.return_value() == "wrote markers/one.txt"
    assert get_storage().get("markers/one.txt") == b"hello"


def test_a_forking_worker_runs_jobs_declared_fork_false_in_its_own_process(rq_app):
    import os

    from tcma.queue import worker_class

    queue = get_queue()
    forked, inline = queue.enqueue(process_id), queue.enqueue(process_id_in_worker)
    worker = worker_class(True)(queue.all_queues(), connection=queue.redis)
    worker.work(burst=True, with_scheduler=False)
    assert forked.get_status() == inline.get_status() == "finished"
    assert forked.return_value() != os.getpid()  # a work horse
    assert inline.return_value() == os.getpid()  # the worker itself: nothing forked


def test_enqueue_with_the_same_id_while_pending_makes_one_job(rq_app):
    queue = get_queue()
    first = queue.enqueue(write_marker, "markers/a.txt", "a", job_id="same-id")
    second = queue.enqueue(write_marker, "markers/a.txt", "a", job_id="same-id")
    assert first.id == second.id
    assert queue.rq_queue("default").count == 1


def test_a_failing_job_is_recorded_as_failed_with_its_reason(rq_app):
    queue = get_queue()
    job = queue.enqueue(refuse, "the partner logo is not an image")
    _work(queue)
    assert job.get_status() == "failed"
    assert "the partner logo is not an image" in job.latest_result().exc_string
    assert job.id in queue.rq_queue("low").failed_job_registry.get_job_ids()


def test_without_redis_the_same_call_runs_in_process(app):
    queue = get_queue()
    assert not queue.is_async
    job = queue.enqueue(write_marker, "markers/inline.txt", "inline")
    assert job.get_status() == "finished"
    assert get_storage().get("markers/inline.txt") == b"inline"


def test_without_redis_a_failing_job_is_recorded_not_raised(app):
    job = get_queue().enqueue(refuse, "no such template")
    assert job.get_status() == "failed"
    assert "ValueError: no such template" in job.exc_string


def test_a_zombie_scheduler_counts_as_dead_so_its_lock_can_be_taken_over():
    """A killed worker's scheduler may linger unreaped (a zombie) where init reaps late: it is dead."""
    import os
    import subprocess
    import time
    from pathlib import Path

    from tcma.queue import _alive

    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # exited, not yet waited for: a zombie
        state = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            break
        time.sleep(0.01)
    assert state == "Z"
    assert _alive(child.pid) is False
    assert _alive(os.getpid()) is True
    child.wait()
    assert _alive(child.pid) is False
