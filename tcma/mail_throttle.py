"""How many batches may be in flight to one recipient domain at once, across every worker.

Mailbox providers throttle senders per domain: too many parallel connections, or going on after a
4xx ("try again later"), gets a sender's mail slowed or refused. Each batch takes a slot for each
recipient domain it holds (at most TCMA_MAIL_DOMAIN_CONCURRENCY per domain, in Redis, so every
worker agrees) and gives them back when its SMTP session ends; a slot of a worker that died runs
out after LEASE seconds. A 4xx from a domain pauses that domain alone (TCMA_MAIL_DOMAIN_DEFER
seconds, doubling while it keeps deferring, at most MAX_DEFER) and afterwards lets one batch at a
time through until it has been quiet for SLOW_WINDOW. Without Redis (jobs in-process, one at a
time) the same rules hold within the process.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

LEASE = 300  # seconds: longer than a batch's SMTP session (50 messages, 30 s timeout each at worst)
MAX_DEFER = 1800
SLOW_WINDOW = 900  # seconds after a domain's last 4xx during which it gets one slot only

# KEYS: slots, defer, strikes per domain (3 each); ARGV: lease ms, limit, token.
# Returns per domain: 1 taken, 0 busy (every slot held), -ms when the domain is deferred.
ACQUIRE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local lease, limit, token = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local out = {}
for i = 1, #KEYS, 3 do
  local left = redis.call('PTTL', KEYS[i + 1])
  if left > 0 then
    out[#out + 1] = -left
  else
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    local cap = limit
    if redis.call('EXISTS', KEYS[i + 2]) == 1 then cap = 1 end
    if redis.call('ZCARD', KEYS[i]) < cap then
      redis.call('ZADD', KEYS[i], now + lease, token)
      redis.call('PEXPIRE', KEYS[i], lease)
      out[#out + 1] = 1
    else
      out[#out + 1] = 0
    end
  end
end
return out
"""

# KEYS: defer, strikes; ARGV: base ms, max ms, slow window s. Returns the pause in ms.
DEFER = """
local strikes = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
local pause = math.min(tonumber(ARGV[1]) * 2 ^ (strikes - 1), tonumber(ARGV[2]))
local left = redis.call('PTTL', KEYS[1])
if left < pause then redis.call('SET', KEYS[1], strikes, 'PX', math.floor(pause)) end
return math.floor(pause)
"""


def domain_of(address: str) -> str:
    """The recipient domain an address is throttled under (lower case)."""
    return address.rpartition("@")[2].lower()


@dataclass
class Admission:
    """What a batch may send now: domains it holds a slot for, busy ones, deferred ones (s left)."""

    token: str
    taken: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    deferred: dict[str, float] = field(default_factory=dict)


class DomainThrottle:
    """Slots and pauses per recipient domain: in Redis when there is one, else in this process."""

    def __init__(self, redis, limit: int, defer_seconds: float, prefix: str = "tcma:mail-domain") -> None:
        self.redis, self.limit, self.defer_seconds, self.prefix = redis, limit, defer_seconds, prefix
        self._acquire = redis.register_script(ACQUIRE) if redis is not None else None
        self._defer = redis.register_script(DEFER) if redis is not None else None
        self._local = _LocalState()

    def admit(self, domains: Iterable[str]) -> Admission:
        """Take a slot for each domain that has one free and is not paused."""
        wanted = sorted(set(domains))
        admission = Admission(uuid.uuid4().hex)
        if not wanted:
            return admission
        if self.redis is None:
            answers = self._local.acquire(wanted, self.limit, admission.token)
        else:
            keys = [key for d in wanted for key in self._keys(d)]
            answers = self._acquire(keys=keys, args=[LEASE * 1000, self.limit, admission.token])
        for domain, answer in zip(wanted, answers, strict=True):
            answer = int(answer)
            if answer == 1:
                admission.taken.append(domain)
            elif answer == 0:
                admission.busy.append(domain)
            else:
                admission.deferred[domain] = -answer / 1000
        return admission

    def release(self, admission: Admission) -> None:
        """Give the batch's slots back."""
        if not admission.taken:
            return
        if self.redis is None:
            self._local.release(admission.taken, admission.token)
            return
        with self.redis.pipeline(transaction=False) as pipe:
            for domain in admission.taken:
                pipe.zrem(self._keys(domain)[0], admission.token)
            pipe.execute()

    def defer(self, domain: str) -> float:
        """The domain answered 4xx: pause it (longer each time in a row); the seconds paused."""
        base, cap = self.defer_seconds * 1000, MAX_DEFER * 1000
        if self.redis is None:
            return self._local.defer(domain, base, cap) / 1000
        _, paused, strikes = self._keys(domain)
        return int(self._defer(keys=[paused, strikes], args=[base, cap, SLOW_WINDOW])) / 1000

    def _keys(self, domain: str) -> tuple[str, str, str]:
        return tuple(f"{self.prefix}:{kind}:{domain}" for kind in ("slots", "defer", "strikes"))

    def paused_for(self, domain: str) -> float:
        """Seconds the domain stays paused (0: it is not)."""
        if self.redis is None:
            return self._local.paused_for(domain)
        return max(int(self.redis.pttl(self._keys(domain)[1])), 0) / 1000


class _LocalState:
    """The same rules for one process (the embedded mode runs one job at a time)."""

    def __init__(self) -> None:
        self.slots: dict[str, dict[str, float]] = {}
        self.paused: dict[str, float] = {}
        self.strikes: dict[str, tuple[int, float]] = {}

    def acquire(self, domains: list[str], limit: int, token: str) -> list[int]:
        now, out = time.monotonic(), []
        for domain in domains:
            if self.paused.get(domain, 0) > now:
                out.append(-int((self.paused[domain] - now) * 1000) or -1)
                continue
            held = {t: until for t, until in self.slots.get(domain, {}).items() if until > now}
            slow = self.strikes.get(domain, (0, 0))[1] > now
            if len(held) < (1 if slow else limit):
                held[token] = now + LEASE
                out.append(1)
            else:
                out.append(0)
            self.slots[domain] = held
        return out

    def release(self, domains: list[str], token: str) -> None:
        for domain in domains:
            self.slots.get(domain, {}).pop(token, None)

    def defer(self, domain: str, base: float, cap: float) -> float:
        now = time.monotonic()
        count, until = self.strikes.get(domain, (0, 0))
        count = count + 1 if until > now else 1
        self.strikes[domain] = (count, now + SLOW_WINDOW)
        pause = min(base * 2 ** (count - 1), cap)
        self.paused[domain] = max(self.paused.get(domain, 0), now + pause / 1000)
        return pause

    def paused_for(self, domain: str) -> float:
        return max(self.paused.get(domain, 0) - time.monotonic(), 0)
