"""The Redis db this test run claims, and flushing it without ever letting go of it."""

from __future__ import annotations

import os

from redis import Redis
from redis.exceptions import RedisError

DEFAULT_REDIS_URL = os.environ.get("TCMA_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
RUN_LOCK = "tcma:test-run-lock"
LOCK_SECONDS = 3600
# dbs 14 and 15 are the benchmarks'; a run takes the first of these no other live run holds.
TEST_REDIS_DBS = (13, 12, 11, 10, 9, 8, 7)

_claimed: str | None = None


def redis_url() -> str:
    """The URL of the db this run holds (read it at use time: the claim happens at session start)."""
    return _claimed or DEFAULT_REDIS_URL


def claim_redis_db() -> str | None:
    """Take a Redis db no concurrent test run holds, so runs never flush each other's data.

    Returns the claimed URL, or None when every test db is taken.
    """
    global _claimed
    base, _, _ = DEFAULT_REDIS_URL.rpartition("/")
    for number in TEST_REDIS_DBS:
        candidate = f"{base}/{number}"
        client = Redis.from_url(candidate)
        try:
            if client.set(RUN_LOCK, os.getpid(), nx=True, ex=LOCK_SECONDS):
                _claimed = candidate
                return candidate
        finally:
            client.close()
    return None


def flush_claimed_db(client: Redis) -> None:
    """Empty the run's db and hold its lock again in one MULTI, so no other run can claim it between."""
    with client.pipeline(transaction=True) as pipe:
        pipe.flushdb()
        pipe.set(RUN_LOCK, os.getpid(), ex=LOCK_SECONDS)
        pipe.execute()


def release_redis_db() -> None:
    """Give the run's db back, emptied, unless another run holds it by now."""
    client = Redis.from_url(redis_url())
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.watch(RUN_LOCK)  # the flush is dropped if the lock changes hands after this read
            if pipe.get(RUN_LOCK) == str(os.getpid()).encode():
                pipe.multi()
                pipe.flushdb()
                pipe.execute()
    except (OSError, RedisError):  # unreachable, or claimed by another run meanwhile
        pass
    finally:
        client.close()
