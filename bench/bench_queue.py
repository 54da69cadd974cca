"""Enqueue throughput: tcma's TaskQueue.enqueue_many against bare rq enqueue_many."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis import Redis  # noqa: E402
from rq import Queue  # noqa: E402

from bench.common import best_of, entry, write  # noqa: E402
from tcma.queue import JobCall, TaskQueue  # noqa: E402

REDIS_URL = os.environ.get("TCMA_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
JOBS = 5000


def noop(index: int) -> int:
    """A job that does nothing."""
    return index


def main() -> None:
    """Measure jobs/s through TaskQueue against bare rq, same Redis, same run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    redis = Redis.from_url(REDIS_URL)
    bare = Queue("bench-bare", connection=redis)
    ours = TaskQueue(REDIS_URL, prefix="bench")

    def run_bare() -> None:
        redis.flushdb()
        bare.enqueue_many([Queue.prepare_data(noop, args=(i,)) for i in range(JOBS)])

    def run_ours() -> None:
        redis.flushdb()
        ours.enqueue_many([JobCall(noop, (i,), job_id=f"noop-{i}") for i in range(JOBS)])

    floor = JOBS / best_of(run_bare, 3)
    value = JOBS / best_of(run_ours, 3)
    redis.flushdb()
    write(args.out, [entry("queue.enqueue_many", "jobs/s", value, floor, 0.8, "higher")])


if __name__ == "__main__":
    main()
