"""The click buffer: a request appends its event to a local spool file; a shipper thread moves spools on.

Why: one Redis round trip per click costs more than the redirect itself on a loaded machine,
so the request does one `write(2)` to a per-process append-only file (it survives the process
being killed) and a daemon thread ships the file every CLICK_SHIP_INTERVAL seconds in one
RPUSH to the Redis buffer, which the flusher (`tcma flusher`) writes to the database.

- Redis down: the shipper writes the spool straight into the database (same idempotent insert).
- Database down too: the file stays; any process's shipper adopts orphaned spools later,
  and `tcma events flush` ships this host's spools before draining Redis.
- No Redis configured (the embedded default): events are written to the database at once;
  if that fails they go to the spool and the shipper retries.

A spool file belongs to whoever holds its flock: the live process for `*.spool`, the shipper
for `*.ready` while it ships. An unlocked file is an orphan and is adopted.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from redis.exceptions import RedisError

from tcma.config import Settings
from tcma.queue import TaskQueue

log = logging.getLogger(__name__)
LINK_TTL = 300.0
MISSING_LINK_TTL = 30.0
LINK_CACHE_MAX = 100_000


class LinkCache:
    """Per-process cache of resolved links: a redirect reads the database once per code per TTL.

    Unknown codes are cached too (briefly), so guessing codes costs no query each; the cache is
    bounded and forgets the least recently used code, never everything at once.
    """

    def __init__(self, size: int = LINK_CACHE_MAX) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, code: str, loader: Callable[[str], Any]) -> Any:
        """The cached value for `code`, loading (and caching misses briefly) when absent or stale."""
        now = time.monotonic()
        hit = self._items.get(code)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = loader(code)
        with self._lock:
            self._items[code] = (now + (LINK_TTL if value is not None else MISSING_LINK_TTL), value)
            self._items.move_to_end(code)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


class Spool:
    """This process's append-only file of encoded events, rotated to `*.ready` when shipped."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._pid = 0
        self._pending = 0

    def append(self, data: bytes) -> None:
        """Append encoded lines; one write(2), no fsync (the page cache outlives the process)."""
        with self._lock:
            if self._fd is None or self._pid != os.getpid():
                self._open()
            os.write(self._fd, data)
            self._pending += len(data)

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        fresh = self.directory / f"{stem}.new"
        fd = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._path = fresh.rename(self.directory / f"{stem}.spool")  # only locked files are visible
        self._fd, self._pid, self._pending = fd, os.getpid(), 0

    def rotate(self) -> tuple[int, Path] | None:
        """Hand the current file over for shipping (still locked); None when nothing is pending."""
        with self._lock:
            if self._fd is None or self._pid != os.getpid() or not self._pending:
                return None
            fd, path = self._fd, self._path.rename(self._path.with_suffix(".ready"))
            self._fd, self._path = None, None
            return fd, path


class TrackingRuntime:
    """Per-app tracking state: the link cache, this process's spool and its shipper thread."""

    def __init__(self, app: Flask, queue: TaskQueue, settings: Settings, spool_dir: Path,
                 write_events: Callable[[list[dict[str, Any]]], int]) -> None:
        self.app = app
        self.queue = queue
        self.links = LinkCache()
        self.uses_redis = queue.is_async
        self.secret = settings.secret_key
        self.spool = Spool(spool_dir)
        self.interval = settings.click_ship_interval
        self.write_events = write_events
        self.buffer_key = f"{settings.queue_prefix}:events:buffer"
        self.inflight_key = f"{settings.queue_prefix}:events:inflight"
        self._shipper_pid = 0

    def start_shipper(self) -> None:
        """Start this process's shipper thread (once per process; again in a forked child)."""
        if self.interval <= 0 or self._shipper_pid == os.getpid():
            return
        self._shipper_pid = os.getpid()
        threading.Thread(target=self._ship_forever, name="tcma-click-shipper", daemon=True).start()
        atexit.register(self.ship_now)

    def _ship_forever(self) -> None:
        rounds = 0
        while True:
            time.sleep(self.interval)
            rounds += 1
            self.ship_now(adopt=rounds % 50 == 0)

    def ship_now(self, adopt: bool = False) -> int:
        """Ship this process's spool (and orphaned spools if `adopt`); returns events shipped."""
        try:
            with self.app.app_context():
                shipped = 0
                rotated = self.spool.rotate()
                if rotated is not None:
                    shipped += self._ship_file(*rotated)
                if adopt:
                    shipped += self.adopt_orphans()
                return shipped
        except Exception:  # the thread must outlive any outage; the files wait for the next round
            log.exception("shipping tracked events failed; they stay in the spool")
            return 0

    def buffer_lines(self, data: bytes) -> None:
        """Accept encoded events: spooled for the shipper, or (no Redis) written to the database now."""
        if not self.uses_redis:
            try:
                self.write_events(decode_events(data.splitlines()))
                return
            except Exception:
                log.exception("writing events failed; spooling them for the shipper to retry")
        self.spool.append(data)

    def ship_lines(self, lines: list[bytes]) -> None:
        """Push lines to the Redis buffer; when Redis fails (or there is none), write them to the database."""
        if self.uses_redis:
            try:
                with self.queue.redis.pipeline(transaction=False) as pipe:
                    for start in range(0, len(lines), 1000):
                        pipe.rpush(self.buffer_key, *lines[start:start + 1000])
                    pipe.execute()
                return
            except RedisError as exc:
                log.warning("Redis refused %d tracked events (%s); writing them to the database",
                            len(lines), exc)
        self.write_events(decode_events(lines))

    def _ship_file(self, fd: int, path: Path) -> int:
        """Ship one locked spool file, then delete it; on failure it is left for adoption."""
        try:
            with open(fd, "rb", closefd=False) as handle:
                handle.seek(0)
                lines = [line for line in handle.read().splitlines() if line.strip()]
            if lines:
                self.ship_lines(lines)
            path.unlink(missing_ok=True)
            return len(lines)
        finally:
            os.close(fd)

    def adopt_orphans(self) -> int:
        """Ship every spool in the folder whose owner is gone (its flock is free); returns events."""
        shipped = 0
        directory = self.spool.directory
        for path in sorted([*directory.glob("*.spool"), *directory.glob("*.ready")]):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a live process owns it
                os.close(fd)
                continue
            shipped += self._ship_file(fd, path)
        return shipped

    def ship_spools(self) -> int:
        """Ship this process's spool and this host's orphaned spools now; returns events shipped."""
        with self.app.app_context():
            rotated = self.spool.rotate()
            shipped = self._ship_file(*rotated) if rotated is not None else 0
            if self.spool.directory.exists():
                shipped += self.adopt_orphans()
        return shipped


def encode_events(events: list[dict[str, Any]]) -> bytes:
    """One JSON line per event."""
    return b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in events)


def decode_events(lines: list[bytes]) -> list[dict[str, Any]]:
    """Parse JSON lines, skipping any torn by a crash mid-write."""
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            log.warning("skipping an unreadable spooled event: %r", line[:200])
    return events


def buffer_events(runtime: TrackingRuntime, events: list[dict[str, Any]]) -> None:
    """Accept events without waiting on the database when Redis is configured."""
    runtime.buffer_lines(encode_events(events))
