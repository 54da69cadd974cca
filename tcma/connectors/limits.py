"""One rate limiter shared by every worker, in front of every connector: per network app and per account.

Each network says in its answers how many calls are left before a reset (``RateLimitState``), for the
account and, on some networks, for the whole app. ``SharedLimiter`` remembers that, so a burst of posts to
many accounts slows down before the network says no rather than after:

- a scope whose calls are used up (remaining <= 0) is *blocked* until its reset;
- a scope running low (remaining at or below a tenth of the limit, at least 1) is *paced*: the remaining
  calls are spread over the time to the reset, one slot every ``(reset - now) / remaining``, the first one
  interval after the answer (that answer's call used the current slot);
- after a 429 (``RateLimited``) the account, or with ``app_wide`` the whole app, is blocked until the time
  the network gave.

A scope is ``(network, app)`` (every account of the network through tcma's app) or ``(network, account)``.
The state lives in Redis when the app has one (several rq workers publish at once; every update is one
WATCH/MULTI transaction, retried when another worker changed the same keys meanwhile), else in this process
behind a lock (the embedded default runs one process). Both stores run the same transition functions below,
so they behave the same.

``LimitedConnector`` wraps any connector: it asks the limiter before each publish, reconcile, recent_posts
or metrics and raises ``RateLimited`` without sending anything while a scope is held, and records what the
network said after every call.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from redis.exceptions import RedisError, WatchError

from . import (
    Account,
    Clock,
    Connector,
    ConnectorError,
    Post,
    PostMetrics,
    Published,
    RateLimited,
    RateLimitState,
    RecentPost,
    Temporary,
    utc_now,
)

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

MAX_HOLD = timedelta(hours=24)  # no scope is held longer than this, whatever the network says
NO_RESET_BACKOFF = timedelta(minutes=5)  # used up and no reset given: wait this long
PACE_FRACTION = 10  # pace once remaining is at or below limit / PACE_FRACTION (at least 1)
PREFETCH_MAX_AGE = timedelta(seconds=1)  # a chunk's one read answers for quiet scopes this long
WATCH_ATTEMPTS = 100  # optimistic transactions retried this often before giving up

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_FIELDS = ("blocked", "next", "interval", "until")

State = dict[str, int]  # blocked: held until; next, interval, until: the pace (epoch milliseconds)
T = TypeVar("T")


@dataclass(frozen=True)
class Hold:
    """No request may be sent before `until`; `app_wide`: it is the app's limit, not only the account's."""

    until: datetime
    app_wide: bool


def account_key(account: Account) -> str:
    """A stable, opaque key for the account's limits: its network, server and id (or handle), hashed.

    Never derived from the credentials. An account connected before its id was known keys by its handle.
    """
    parts = urlsplit(account.base_url.strip())
    server = parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower(),
                            path=parts.path.rstrip("/")).geturl()
    who = account.external_id or account.handle.strip().lower()
    material = "\0".join(("tcma-limits", account.network, server, who))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


# --- Transitions: pure functions over one scope's state (times in epoch milliseconds) ----------------

def _ms(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // _MS


def _time(ms: int) -> datetime:
    return _EPOCH + ms * _MS


def _fresh(state: State, now: int) -> State:
    """The state without what has run out by `now`."""
    kept: State = {}
    if state.get("blocked", 0) > now:
        kept["blocked"] = state["blocked"]
    if state.get("until", 0) > now and "next" in state and "interval" in state:
        kept.update(next=state["next"], interval=state["interval"], until=state["until"])
    return kept


def _without_pace(state: State) -> State:
    return {k: v for k, v in state.items() if k == "blocked"}


def _recorded(state: State, said: RateLimitState, now: int) -> State:
    """The state after the network said `said` at `now`."""
    state = _fresh(state, now)
    if said.remaining is None:
        return state
    reset = min(_ms(said.reset), now + MAX_HOLD // _MS) if said.reset is not None else None
    if said.remaining <= 0:
        if reset is None:
            reset = now + NO_RESET_BACKOFF // _MS
        if reset > now:  # a reset already past means the window has started again
            state["blocked"] = max(state.get("blocked", 0), reset)
        return state
    threshold = max(1, said.limit // PACE_FRACTION) if said.limit else 1
    if said.remaining > threshold:
        return _without_pace(state)
    if reset is None or reset <= now:  # nothing to spread the calls over
        return state
    interval = (reset - now) // said.remaining
    state.update(interval=interval, until=reset, next=max(state.get("next", 0), now + interval))
    return state


def _blocked(state: State, until: datetime, now: int) -> State:
    state = _fresh(state, now)
    until_ms = min(_ms(until), now + MAX_HOLD // _MS)
    if until_ms > now:
        state["blocked"] = max(state.get("blocked", 0), until_ms)
    return state


def _hold(state: State, now: int) -> int | None:
    """Until when `state` holds requests at `now` (None: a request may go)."""
    times = [state["blocked"]] if state.get("blocked", 0) > now else []
    if state.get("until", 0) > now and state.get("next", 0) > now:
        times.append(min(state["next"], state["until"]))  # at the reset the window starts again
    return max(times) if times else None


def _taken(state: State, now: int) -> State:
    """The state after a request took the current slot of a paced scope."""
    if state.get("until", 0) > now and "interval" in state:
        state = {**state, "next": max(state.get("next", 0), now) + state["interval"]}
    return state


def _expiry(state: State) -> int:
    """When the state stops meaning anything (epoch ms; 0 for an empty state)."""
    return max(state.get("blocked", 0), state.get("until", 0))


# A change reads the states of some keys and returns (their new states, or None to leave them, result).
Change = Callable[[list[State]], tuple[list[State] | None, T]]


class _MemoryStore:
    """States in this process behind a lock; expired ones are dropped on every write."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, State] = {}

    def transact(self, keys: Sequence[str], change: Change[T], now: int) -> T:
        with self._lock:
            old = [dict(self._states.get(key, {})) for key in keys]
            new, result = change(old)
            if new is not None and new != old:
                for key, state in zip(keys, new, strict=True):
                    self._states[key] = state
                self._states = {k: s for k, s in self._states.items() if _expiry(s) > now}
            return result

    def read(self, keys: Sequence[str]) -> list[State]:
        with self._lock:
            return [dict(self._states.get(key, {})) for key in keys]

    def keys(self, prefix: str, now: int) -> list[str]:
        with self._lock:
            return sorted(k for k, s in self._states.items() if k.startswith(prefix) and _expiry(s) > now)


class _RedisStore:
    """States in Redis hashes, each expiring when it stops meaning anything; updates are WATCH/MULTI."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def read(self, keys: Sequence[str]) -> list[State]:
        with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
            return [{k.decode(): int(v) for k, v in found.items()} for found in pipe.execute()]

    def transact(self, keys: Sequence[str], change: Change[T], now: int) -> T:
        # The common case changes nothing (no limit near, nothing held): one round trip reads the
        # states and, when the change leaves them as they are, that read is the answer. Only a
        # change to write takes the WATCH/MULTI path, which reads again under the watch.
        old = self.read(keys)
        new, result = change(old)
        if new is None or new == old:
            return result
        with self.client.pipeline(transaction=True) as pipe:
            for attempt in range(WATCH_ATTEMPTS):
                try:
                    pipe.watch(*keys)
                    old = [{k.decode(): int(v) for k, v in pipe.hgetall(key).items()} for key in keys]
                    new, result = change(old)
                    if new is None or new == old:
                        return result  # leaving the block unwatches
                    pipe.multi()
                    for key, state in zip(keys, new, strict=True):
                        pipe.delete(key)
                        expires = _expiry(state)
                        if expires > now:
                            pipe.hset(key, mapping={f: str(state[f]) for f in _FIELDS if f in state})
                            pipe.pexpire(key, expires - now)
                    pipe.execute()
                    return result
                except WatchError:
                    if attempt == WATCH_ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")

    def keys(self, prefix: str, now: int) -> list[str]:
        return sorted(k.decode() for k in self.client.scan_iter(match=f"{prefix}*", count=500))


class SharedLimiter:
    """What the networks said about their rate limits, shared by every worker through Redis (or this process).

    ``redis``: the app's Redis client, or None for the in-process store (one process only). Keys are
    ``<prefix>:{<network>}:app`` and ``<prefix>:{<network>}:account:<hash>``; each expires when its block
    or pace ends. A reset further away than ``MAX_HOLD`` (24 h) is taken as ``MAX_HOLD`` from now: a
    network answering "wait a year" (or a clock far off) holds a scope for a day at most, and the next
    answer after that says again.
    """

    def __init__(self, redis: redis.Redis | None, *, prefix: str = "tcma:limits",
                 clock: Clock = utc_now) -> None:
        self.prefix = prefix
        self.clock = clock
        self._store: _MemoryStore | _RedisStore = _MemoryStore() if redis is None else _RedisStore(redis)
        self._quiet: dict[str, int] = {}  # key -> when a prefetch found it quiet (epoch ms)

    def _app_key(self, network: str) -> str:
        return f"{self.prefix}:{{{network}}}:app"

    def _account_key(self, network: str, key: str) -> str:
        # Hashed again so that whatever a caller passes as the key never shows in Redis.
        return f"{self.prefix}:{{{network}}}:account:{hashlib.sha256(key.encode()).hexdigest()[:32]}"

    def _now(self) -> int:
        return _ms(self.clock())

    def prefetch(self, network: str, account_keys: Iterable[str]) -> None:
        """Read the app's scope and these accounts' in one round trip, ahead of a batch of calls.

        For ``PREFETCH_MAX_AGE`` after it, `take` answers a scope this read found quiet (neither held
        nor paced) without asking the store again; anything else, and every write, goes to the store
        as before. The staleness is bounded: a pace or block another worker writes meanwhile is seen
        within that second (until then a few calls may go that the pace would have spread; the
        network's own answer, a 429 at worst, is recorded and blocks the scope as usual).
        """
        keys = [self._app_key(network), *{self._account_key(network, key) for key in account_keys}]
        now = self._now()
        states = self._store.read(keys)
        young = now - PREFETCH_MAX_AGE // _MS
        quiet = {key: at for key, at in self._quiet.items() if at >= young}  # stale ones dropped
        for key, state in zip(keys, states, strict=True):
            if _fresh(state, now):
                quiet.pop(key, None)
            else:
                quiet[key] = now
        self._quiet = quiet

    def _forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._quiet.pop(key, None)

    def record(self, network: str, account_key: str, *, account: RateLimitState | None,
               app: RateLimitState | None, quiet: bool = False) -> None:
        """Remember what the network said about the account's limit and the app's (None: it did not say).

        `quiet`: `take` found both scopes quiet just before the call; when the answer leaves a quiet
        scope quiet (no limit near), there is nothing to write and the store is not asked. (Another
        worker's pace written meanwhile then stays until its reset: it can only slow requests down.)
        """
        said = [(self._app_key(network), app), (self._account_key(network, account_key), account)]
        said = [(key, state) for key, state in said if state is not None]
        if not said:
            return
        now = self._now()
        if quiet and all(not _recorded({}, state, now) for _, state in said):
            return

        def change(states: list[State]) -> tuple[list[State], None]:
            return [_recorded(s, state, now) for s, (_, state) in zip(states, said, strict=True)], None

        self._forget(key for key, _ in said)
        self._store.transact([key for key, _ in said], change, now)

    def block(self, network: str, account_key: str, until: datetime, *, app_wide: bool) -> None:
        """Hold the account (`app_wide`: every account of the network) until `until` (at most MAX_HOLD)."""
        key = self._app_key(network) if app_wide else self._account_key(network, account_key)
        now = self._now()
        self._forget([key])
        self._store.transact([key], lambda states: ([_blocked(states[0], until, now)], None), now)

    def admit(self, network: str, account_key: str) -> Hold | None:
        """None: send now (a paced slot is taken, so the next caller waits for the following one).

        Else the Hold: nothing may be sent before its `until`, the later of the app's and the account's;
        nothing is taken, ask again then.
        """
        return self.take(network, account_key)[0]

    def take(self, network: str, account_key: str) -> tuple[Hold | None, bool]:
        """`admit`, and whether both scopes were quiet (neither held nor paced: no limit near)."""
        keys = [self._app_key(network), self._account_key(network, account_key)]
        now = self._now()
        seen = [self._quiet.get(key) for key in keys]
        if all(at is not None and now - at <= PREFETCH_MAX_AGE // _MS for at in seen):
            return None, True  # quiet a moment ago: nothing held, no slot to take
        self._forget(keys)

        def change(states: list[State]) -> tuple[list[State] | None, tuple[Hold | None, bool]]:
            app, account = (_fresh(s, now) for s in states)
            app_hold, account_hold = _hold(app, now), _hold(account, now)
            if app_hold is None and account_hold is None:
                return [_taken(app, now), _taken(account, now)], (None, not app and not account)
            until = max(app_hold or 0, account_hold or 0)
            return None, (Hold(_time(until), app_wide=until == app_hold), False)

        return self._store.transact(keys, change, now)

    def reserve(self, network: str, account_key: str) -> datetime | None:
        """None: go now (taking the paced slot); else the time before which no request may be sent."""
        hold = self.admit(network, account_key)
        return hold.until if hold else None

    def keys(self) -> list[str]:
        """The keys holding a block or a pace now (for operators and tests)."""
        return self._store.keys(self.prefix + ":", self._now())


class LimitedConnector:
    """`connector` behind `limiter`: held calls raise RateLimited before anything is sent.

    publish, reconcile, recent_posts and metrics ask the limiter first; verify (connecting an account, rare
    and user-facing) is never held. Every call's rate-limit states are recorded, and a RateLimited blocks the
    account or the app. If the limiter's Redis fails before a call, the call is not sent (Temporary); if it
    fails after, the network's answer is returned anyway and the failure logged.
    """

    def __init__(self, connector: Connector, limiter: SharedLimiter) -> None:
        self.connector = connector
        self.limiter = limiter
        self.network = connector.network

    def prepare(self, accounts: Iterable[Account]) -> None:
        """About to call for these accounts: read their limits in one round trip (see
        `SharedLimiter.prefetch`); a limiter that cannot be read now is asked call by call."""
        try:
            self.limiter.prefetch(self.network, [account_key(account) for account in accounts])
        except RedisError as exc:
            log.warning("%s: could not read the shared rate limits ahead (%s)", self.network,
                        type(exc).__name__)

    def publish(self, account: Account, post: Post) -> Published:
        return self._held(account, lambda: self.connector.publish(account, post))

    def verify(self, account: Account) -> tuple[str, str]:
        return self._recorded(account, lambda: self.connector.verify(account))

    def recent_posts(self, account: Account, limit: int = 20) -> list[RecentPost]:
        return self._held(account, lambda: self.connector.recent_posts(account, limit))

    def reconcile(self, account: Account, post: Post, since: datetime | None = None) -> Published | None:
        return self._held(account, lambda: self.connector.reconcile(account, post, since))

    def metrics(self, account: Account, external_id: str) -> PostMetrics:
        return self._held(account, lambda: self.connector.metrics(account, external_id))

    def close(self) -> None:
        self.connector.close()

    def _held(self, account: Account, call: Callable[[], T]) -> T:
        key = account_key(account)
        try:
            hold, quiet = self.limiter.take(self.network, key)
        except RedisError as exc:
            raise Temporary(f"{self.network}: the shared rate limiter is unavailable "
                            f"({type(exc).__name__}); nothing was sent") from None
        if hold is not None:
            whose = "app's" if hold.app_wide else "account's"
            raise RateLimited(hold.until, f"{self.network}: tcma holds the request to stay within the "
                                          f"{whose} rate limit", app_wide=hold.app_wide)
        return self._recorded(account, call, quiet=quiet)

    def _recorded(self, account: Account, call: Callable[[], T], *, quiet: bool = False) -> T:
        key = account_key(account)
        try:
            result = call()
        except ConnectorError as exc:
            self._safely(self.limiter.record, self.network, key, account=exc.rate_limit,
                         app=exc.app_rate_limit, quiet=quiet)
            if isinstance(exc, RateLimited):
                self._safely(self.limiter.block, self.network, key, exc.until, app_wide=exc.app_wide)
            raise
        if isinstance(result, Published | PostMetrics):
            self._safely(self.limiter.record, self.network, key, account=result.rate_limit,
                         app=result.app_rate_limit, quiet=quiet)
        return result

    def _safely(self, update: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        try:
            update(*args, **kwargs)
        except RedisError as exc:  # the network has answered; losing its limits must not lose the answer
            log.warning("%s: could not record the rate limit in the shared limiter (%s)", self.network,
                        type(exc).__name__)


__all__ = ["MAX_HOLD", "Hold", "LimitedConnector", "SharedLimiter", "account_key"]
