"""Counting attempts within a window: in Redis when configured (every process agrees), else here."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

LOCAL_KEYS_MAX = 10_000  # an in-process counter forgets the oldest keys beyond this


class AttemptCounter:
    """Attempts per key (an email, a client) within `window` seconds; keys are stored hashed."""

    def __init__(self, name: str, window: int, redis: Any | None = None) -> None:
        self.name = name
        self.window = window
        self.redis = redis
        self._local: OrderedDict[str, list[float]] = OrderedDict()

    def _key(self, key: str) -> str:
        return f"tcma:{self.name}:" + hashlib.sha256(key.encode()).hexdigest()

    def count(self, key: str) -> int:
        """Attempts recorded for `key` within the window."""
        if self.redis is not None:
            return int(self.redis.get(self._key(key)) or 0)
        cutoff = time.time() - self.window
        kept = [t for t in self._local.get(self._key(key), []) if t > cutoff]
        if kept:
            self._local[self._key(key)] = kept
        else:
            self._local.pop(self._key(key), None)
        return len(kept)

    def add(self, key: str) -> None:
        """Record one attempt."""
        name = self._key(key)
        if self.redis is not None:
            with self.redis.pipeline() as pipe:
                pipe.incr(name).expire(name, self.window, nx=True).execute()
            return
        self._local.setdefault(name, []).append(time.time())
        self._local.move_to_end(name)
        while len(self._local) > LOCAL_KEYS_MAX:
            self._local.popitem(last=False)

    def clear(self, key: str) -> None:
        """Forget the attempts of `key` (after a success)."""
        if self.redis is not None:
            self.redis.delete(self._key(key))
        else:
            self._local.pop(self._key(key), None)
