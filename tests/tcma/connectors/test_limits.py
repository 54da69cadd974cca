"""The shared rate limiter, on the run's Redis db and in process, and the connector wrapper in front of it."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tcma.connectors import Account, Published, RateLimited, RateLimitState, Temporary
from tcma.connectors.limits import Hold, LimitedConnector, SharedLimiter, account_key
from tests.support.fake_networks import FakeMastodon
from tests.support.redis_db import redis_url
from tests.tcma.connectors.conftest import make_post

NOON = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
STATUSES = "/api/v1/statuses"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOON) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def at(hh_mm_ss: str) -> datetime:
    """A time on the test's day, e.g. at("12:05:00")."""
    return datetime.fromisoformat(f"2030-01-01T{hh_mm_ss}+00:00")


def state(limit: int | None, remaining: int | None, reset: str | None) -> RateLimitState:
    return RateLimitState(limit=limit, remaining=remaining, reset=at(reset) if reset else None)


@pytest.fixture(params=["redis", "memory"])
def backend(request):
    return request.param


@pytest.fixture
def make_limiter(backend):
    """Limiters on one store: on Redis each gets its own client (as separate workers would), under a
    prefix only this test uses, deleted afterwards; in memory they share one in-process store."""
    prefix = f"tcma:limits-test:{uuid.uuid4().hex[:12]}"
    clients: list[Redis] = []
    shared: list[SharedLimiter] = []

    def make(clock=None) -> SharedLimiter:
        clock = clock or Clock()
        if backend == "redis":
            client = Redis.from_url(redis_url())
            clients.append(client)
            return SharedLimiter(client, prefix=prefix, clock=clock)
        if not shared:
            shared.append(SharedLimiter(None, prefix=prefix, clock=clock))
        limiter = SharedLimiter(None, prefix=prefix, clock=clock)
        limiter._store = shared[0]._store  # same process, same store
        return limiter

    yield make
    if clients:
        for key in clients[0].scan_iter(match=f"{prefix}:*"):
            clients[0].delete(key)
    for client in clients:
        client.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def limiter(make_limiter, clock):
    return make_limiter(clock)


ACME = Account(network="mastodon", base_url="https://fake.social", handle="@acme@fake.social",
               external_id="109348", credentials={"access_token": "secret-token-1"})
GLOBEX = Account(network="mastodon", base_url="https://fake.social", handle="@globex@fake.social",
                 external_id="204211", credentials={"access_token": "secret-token-2"})


def test_account_key_is_stable_opaque_and_ignores_credentials():
    same_account_new_token = Account(network="mastodon", base_url="HTTPS://Fake.Social/",
                                     handle="@acme@fake.social", external_id="109348",
                                     credentials={"access_token": "another-token"})

    assert account_key(ACME) == account_key(same_account_new_token)
    assert account_key(ACME) != account_key(GLOBEX)
    assert len(account_key(ACME)) == 32
    assert "109348" not in account_key(ACME) and "acme" not in account_key(ACME)


def test_nothing_recorded_means_go(limiter):
    assert limiter.reserve("mastodon", "acme") is None
    assert limiter.reserve("mastodon", "acme") is None
    assert limiter.keys() == []


def test_an_exhausted_account_blocks_that_account_only(limiter, clock):
    limiter.record("mastodon", "acme", account=state(300, 0, "12:05:00"), app=None)

    assert limiter.reserve("mastodon", "acme") == at("12:05:00")
    assert limiter.admit("mastodon", "acme") == Hold(at("12:05:00"), app_wide=False)
    assert limiter.reserve("mastodon", "globex") is None
    assert limiter.reserve("bluesky", "acme") is None
    clock.advance(299.999)
    assert limiter.reserve("mastodon", "acme") == at("12:05:00")
    clock.advance(0.001)
    assert limiter.reserve("mastodon", "acme") is None


def test_an_exhausted_app_blocks_every_account_of_that_network_and_no_other(limiter):
    limiter.record("x", "acme", account=state(100, 60, "12:15:00"), app=state(300, 0, "12:10:00"))

    assert limiter.admit("x", "acme") == Hold(at("12:10:00"), app_wide=True)
    assert limiter.admit("x", "globex") == Hold(at("12:10:00"), app_wide=True)
    assert limiter.reserve("mastodon", "acme") is None
    assert limiter.reserve("bluesky", "globex") is None


def test_the_later_of_the_app_and_the_account_holds(limiter):
    limiter.record("x", "acme", account=state(100, 0, "12:20:00"), app=state(300, 0, "12:10:00"))

    assert limiter.admit("x", "acme") == Hold(at("12:20:00"), app_wide=False)
    assert limiter.admit("x", "globex") == Hold(at("12:10:00"), app_wide=True)


def test_used_up_without_a_reset_blocks_for_five_minutes(limiter):
    limiter.record("mastodon", "acme", account=state(300, 0, None), app=None)

    assert limiter.reserve("mastodon", "acme") == at("12:05:00")


def test_a_reset_already_past_or_plenty_left_holds_nothing(limiter):
    limiter.record("mastodon", "acme", account=state(300, 0, "11:59:59"), app=None)
    limiter.record("mastodon", "globex", account=state(300, 31, "12:05:00"), app=None)

    assert limiter.reserve("mastodon", "acme") is None
    assert limiter.reserve("mastodon", "globex") is None
    assert limiter.reserve("mastodon", "globex") is None
    assert limiter.keys() == []


def test_running_low_paces_the_remaining_calls_over_the_time_to_reset(limiter, clock):
    # 30 left of 300 (a tenth) and 100 s to the reset: one call every 100 / 30 s = 3.333 s.
    limiter.record("mastodon", "acme", account=state(300, 30, "12:01:40"), app=None)

    assert limiter.reserve("mastodon", "acme") == at("12:00:03.333")  # the answered call took this slot
    assert limiter.reserve("mastodon", "globex") is None  # other accounts are not paced
    clock.advance(3.333)
    assert limiter.reserve("mastodon", "acme") is None
    assert limiter.reserve("mastodon", "acme") == at("12:00:06.666")
    assert limiter.reserve("mastodon", "acme") == at("12:00:06.666")  # being told to wait takes nothing
    clock.advance(10)  # a late caller takes the slot at its own time
    assert limiter.reserve("mastodon", "acme") is None
    assert limiter.reserve("mastodon", "acme") == at("12:00:16.666")


def test_pacing_an_app_spaces_calls_across_all_its_accounts(limiter, clock):
    limiter.record("x", "acme", account=None, app=state(300, 10, "12:01:40"))  # one call every 10 s

    reservations = []
    for name in ["acme", "globex", "initech", "umbrella"]:
        while (until := limiter.reserve("x", name)) is not None:
            clock.now = until
        reservations.append((name, clock.now))

    assert reservations == [("acme", at("12:00:10")), ("globex", at("12:00:20")),
                            ("initech", at("12:00:30")), ("umbrella", at("12:00:40"))]
    assert limiter.admit("x", "hooli") == Hold(at("12:00:50"), app_wide=True)


def test_the_pace_follows_the_latest_answer(limiter, clock):
    limiter.record("mastodon", "acme", account=state(300, 2, "12:01:00"), app=None)  # every 30 s
    assert limiter.reserve("mastodon", "acme") == at("12:00:30")

    clock.advance(30)
    assert limiter.reserve("mastodon", "acme") is None
    limiter.record("mastodon", "acme", account=state(300, 1, "12:01:00"), app=None)  # the last call, in 30 s
    assert limiter.reserve("mastodon", "acme") == at("12:01:00")

    clock.advance(30)  # the window started again
    limiter.record("mastodon", "acme", account=state(300, 299, "12:06:00"), app=None)
    assert limiter.reserve("mastodon", "acme") is None
    assert limiter.reserve("mastodon", "acme") is None
    assert limiter.keys() == []


def test_a_scope_paced_without_a_known_limit_waits_only_on_its_last_call(limiter):
    limiter.record("mastodon", "acme", account=state(None, 2, "12:01:00"), app=None)
    limiter.record("mastodon", "globex", account=state(None, 1, "12:01:00"), app=None)

    assert limiter.reserve("mastodon", "acme") is None
    assert limiter.reserve("mastodon", "globex") == at("12:01:00")


def test_block_after_rate_limited_holds_the_account_or_the_app(limiter):
    limiter.block("mastodon", "acme", at("12:03:00"), app_wide=False)
    limiter.block("x", "acme", at("12:04:00"), app_wide=True)

    assert limiter.admit("mastodon", "acme") == Hold(at("12:03:00"), app_wide=False)
    assert limiter.reserve("mastodon", "globex") is None
    assert limiter.admit("x", "globex") == Hold(at("12:04:00"), app_wide=True)


def test_a_block_is_only_ever_extended(limiter):
    limiter.block("mastodon", "acme", at("12:03:00"), app_wide=False)
    limiter.block("mastodon", "acme", at("12:01:00"), app_wide=False)
    limiter.record("mastodon", "acme", account=state(300, 250, "12:05:00"), app=None)

    assert limiter.reserve("mastodon", "acme") == at("12:03:00")


def test_an_absurd_reset_is_capped_at_a_day(limiter, clock, backend):
    limiter.record("mastodon", "acme", account=RateLimitState(300, 0, NOON + timedelta(days=365)), app=None)
    limiter.block("x", "acme", NOON + timedelta(days=30), app_wide=True)

    assert limiter.reserve("mastodon", "acme") == datetime(2030, 1, 2, 12, 0, tzinfo=UTC)
    assert limiter.reserve("x", "globex") == datetime(2030, 1, 2, 12, 0, tzinfo=UTC)
    if backend == "redis":
        client = limiter._store.client
        assert [client.ttl(key) for key in limiter.keys()] == [86_400, 86_400]


def test_keys_expire_when_their_block_or_pace_ends(limiter, clock, backend):
    limiter.record("mastodon", "acme", account=state(300, 0, "12:01:00"), app=None)
    limiter.record("mastodon", "globex", account=state(300, 5, "12:02:00"), app=None)
    app_key = limiter._app_key("mastodon")
    keys = limiter.keys()
    assert len(keys) == 2 and app_key not in keys
    assert all(key.startswith(limiter.prefix + ":{mastodon}:account:") for key in keys)

    if backend == "redis":
        client = limiter._store.client
        assert sorted(round(client.pttl(key) / 1000) for key in keys) == [60, 120]  # less the ms gone since
        assert all(set(client.hkeys(key)) <= {b"blocked", b"next", b"interval", b"until"} for key in keys)
        client.pexpire(keys[0], 1)  # the server's clock cannot be moved: let one lapse now
        time.sleep(0.01)
        assert limiter.keys() == keys[1:]
    else:
        clock.advance(60)
        assert len(limiter.keys()) == 1
        clock.advance(60)
        limiter.record("bluesky", "acme", account=state(3000, 0, "12:04:00"), app=None)
        assert limiter.keys() == [limiter._account_key("bluesky", "acme")]
        assert list(limiter._store._states) == [limiter._account_key("bluesky", "acme")]


def test_keys_never_hold_the_account_key_given(limiter):
    limiter.record("mastodon", "@acme@fake.social", account=state(300, 0, "12:01:00"), app=None)

    [key] = limiter.keys()
    assert "acme" not in key and "fake.social" not in key


def test_concurrent_reservations_never_share_a_paced_slot(make_limiter):
    workers = 10
    make_limiter().record("x", "acme", account=None, app=state(300, 10, "12:01:40"))  # every 10 s

    local = threading.local()
    start = threading.Barrier(workers)
    granted: list[datetime] = []
    errors: list[BaseException] = []

    def thread_clock() -> datetime:
        return getattr(local, "now", NOON)

    def worker(index: int) -> None:
        try:
            limiter = make_limiter(thread_clock)  # on Redis, a client of its own
            start.wait()
            while (until := limiter.reserve("x", f"account-{index}")) is not None:
                local.now = until  # come back when told
            granted.append(thread_clock())
        except BaseException as exc:  # noqa: B036 - reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert sorted(granted) == [at("12:00:10"), at("12:00:20"), at("12:00:30"), at("12:00:40"), at("12:00:50"),
                               at("12:01:00"), at("12:01:10"), at("12:01:20"), at("12:01:30"), at("12:01:40")]


def test_take_says_whether_both_scopes_were_quiet(limiter, clock):
    assert limiter.take("mastodon", "acme") == (None, True)
    limiter.record("mastodon", "acme", account=state(300, 10, "12:05:00"), app=None)  # 10 in 300 s: paced
    assert limiter.take("mastodon", "acme") == (Hold(at("12:00:30"), app_wide=False), False)
    clock.advance(30)
    assert limiter.take("mastodon", "acme") == (None, False)  # the paced slot: sent, but not quiet
    assert limiter.take("mastodon", "globex") == (None, True)
    limiter.record("mastodon", "globex", account=state(300, 0, "12:05:00"), app=None)
    assert limiter.take("mastodon", "globex") == (Hold(at("12:05:00"), app_wide=False), False)


def test_a_quiet_record_of_a_quiet_answer_leaves_the_store_alone(limiter, clock, backend):
    asked = []
    store = limiter._store
    original = store.transact
    store.transact = lambda *args: asked.append(args[0]) or original(*args)

    limiter.record("mastodon", "acme", account=state(300, 299, "12:05:00"), app=None, quiet=True)
    assert asked == []  # plenty left, nothing known before: nothing to read or write
    limiter.record("mastodon", "acme", account=state(300, 299, "12:05:00"), app=None)
    assert len(asked) == 1  # without `quiet` the store is read

    # An answer that is news is written even after a quiet take: low (paced) and used up (blocked).
    limiter.record("mastodon", "acme", account=state(300, 5, "12:05:00"), app=None, quiet=True)
    assert limiter.take("mastodon", "acme") == (Hold(at("12:01:00"), app_wide=False), False)
    limiter.record("x", "acme", account=state(100, 50, "12:05:00"), app=state(300, 0, "12:10:00"), quiet=True)
    assert limiter.admit("x", "globex") == Hold(at("12:10:00"), app_wide=True)


# --- LimitedConnector ------------------------------------------------------------------------------

@pytest.fixture
def limited(mastodon, limiter):
    return LimitedConnector(mastodon, limiter)


def answered_status(remaining: int, reset: str) -> tuple[dict, dict]:
    body = {"id": "110000777", "url": "https://fake.social/@acme/110000777", "content": "<p>x</p>"}
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(remaining),
               "X-RateLimit-Reset": f"2030-01-01T{reset}.000000Z"}
    return body, headers


def test_the_last_call_of_the_window_holds_the_next_publish_without_sending_it(
        limited, mastodon_account, mastodon_fake):
    body, headers = answered_status(0, "12:05:00")
    mastodon_fake.fail_next(STATUSES, 200, body, headers)

    published = limited.publish(mastodon_account, make_post(ref="p1"))
    assert published == Published("110000777", "https://fake.social/@acme/110000777",
                                  RateLimitState(300, 0, at("12:05:00")))
    sent = list(mastodon_fake.calls)
    assert sent == [("GET", "/api/v2/instance"), ("POST", STATUSES)]

    with pytest.raises(RateLimited) as held:
        limited.publish(mastodon_account, make_post(ref="p2"))
    assert str(held.value) == ("mastodon: tcma holds the request to stay within the account's rate limit "
                               "until 2030-01-01T12:05:00+00:00")
    assert held.value.until == at("12:05:00") and held.value.app_wide is False
    with pytest.raises(RateLimited, match="account's rate limit until 2030-01-01T12:05:00"):
        limited.reconcile(mastodon_account, make_post(ref="p1"))
    with pytest.raises(RateLimited, match="account's rate limit until 2030-01-01T12:05:00"):
        limited.recent_posts(mastodon_account)
    assert mastodon_fake.calls == sent  # nothing was sent while held


def test_a_429_blocks_the_account_until_the_network_says(limited, mastodon_account, mastodon_fake, clock):
    _, headers = answered_status(0, "12:07:30")
    mastodon_fake.fail_next(STATUSES, 429, {"error": "Too many requests"}, headers)

    with pytest.raises(RateLimited) as refused:
        limited.publish(mastodon_account, make_post(ref="p1"))
    assert str(refused.value) == "mastodon answered 429: Too many requests until 2030-01-01T12:07:30+00:00"
    sent = list(mastodon_fake.calls)

    with pytest.raises(RateLimited) as held:
        limited.publish(mastodon_account, make_post(ref="p1"))
    assert str(held.value) == ("mastodon: tcma holds the request to stay within the account's rate limit "
                               "until 2030-01-01T12:07:30+00:00")
    assert mastodon_fake.calls == sent

    clock.now = at("12:07:30")
    limited.publish(mastodon_account, make_post(ref="p1"))
    assert mastodon_fake.count(STATUSES) == 2


def test_running_low_paces_publishes_to_the_account(limited, mastodon_account, mastodon_fake, clock):
    body, headers = answered_status(3, "12:01:30")  # 3 left, 90 s: one every 30 s
    mastodon_fake.fail_next(STATUSES, 200, body, headers)
    limited.publish(mastodon_account, make_post(ref="p1"))

    with pytest.raises(RateLimited, match="until 2030-01-01T12:00:30"):
        limited.publish(mastodon_account, make_post(ref="p2"))
    assert mastodon_fake.count(STATUSES) == 1
    clock.advance(30)
    limited.publish(mastodon_account, make_post(ref="p2"))
    assert mastodon_fake.count(STATUSES) == 2


def test_verify_is_never_held_but_its_limits_are_recorded(limited, limiter, mastodon_account, mastodon_fake):
    limiter.block("mastodon", account_key(mastodon_account), at("12:05:00"), app_wide=False)

    assert limited.verify(mastodon_account) == ("@acme@127.0.0.1", FakeMastodon.ACCOUNT_ID)

    _, headers = answered_status(0, "12:09:00")
    mastodon_fake.fail_next("/api/v1/accounts/verify_credentials", 429, {"error": "Too many requests"},
                            headers)
    with pytest.raises(RateLimited, match="mastodon answered 429"):
        limited.verify(mastodon_account)
    assert limiter.reserve("mastodon", account_key(mastodon_account)) == at("12:09:00")
    assert limited.network == "mastodon" and limited.connector.network == "mastodon"


class AppLimitedConnector:
    """A stand-in for a network with an app-wide limit (X, Facebook): every publish is a 429 for the app."""

    network = "x"

    def __init__(self) -> None:
        self.published: list[str] = []
        self.closed = False

    def publish(self, account, post):
        self.published.append(account.handle)
        raise RateLimited(at("12:15:00"), "x answered 429: Too Many Requests", app_wide=True,
                          app_rate_limit=RateLimitState(300, 0, at("12:15:00")))

    def close(self):
        self.closed = True


def test_an_app_wide_429_holds_every_account_of_the_network(limiter):
    inner = AppLimitedConnector()
    limited = LimitedConnector(inner, limiter)
    acme, globex = (Account(network="x", base_url="https://api.x.com", handle=h) for h in ("acme", "globex"))

    with pytest.raises(RateLimited, match="x answered 429"):
        limited.publish(acme, make_post())
    with pytest.raises(RateLimited) as held:
        limited.publish(globex, make_post())
    assert str(held.value) == ("x: tcma holds the request to stay within the app's rate limit "
                               "until 2030-01-01T12:15:00+00:00")
    assert held.value.app_wide is True
    assert inner.published == ["acme"]
    limited.close()
    assert inner.closed


def test_no_redis_before_a_call_means_nothing_is_sent(mastodon, mastodon_account, mastodon_fake):
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    limited = LimitedConnector(mastodon, SharedLimiter(dead, clock=Clock()))

    with pytest.raises(Temporary) as failed:
        limited.publish(mastodon_account, make_post())
    assert str(failed.value) == ("mastodon: the shared rate limiter is unavailable (ConnectionError); "
                                 "nothing was sent")
    assert mastodon_fake.calls == []
    dead.close()


def test_no_redis_after_a_call_keeps_the_answer(mastodon, mastodon_account, mastodon_fake, caplog):
    from redis.exceptions import ConnectionError as RedisConnectionError

    limiter = SharedLimiter(None, clock=Clock())

    def unavailable(*args, **kwargs):
        raise RedisConnectionError("gone")

    limiter.record = unavailable
    limited = LimitedConnector(mastodon, limiter)

    published = limited.publish(mastodon_account, make_post())
    assert published.external_id == mastodon_fake.statuses[0]["id"]
    assert caplog.messages == [
        "mastodon: could not record the rate limit in the shared limiter (ConnectionError)"]


# --- One read per chunk ----------------------------------------------------------------------------

def counting(limiter) -> list[str]:
    """Every read or transaction the limiter's store is asked for, by kind."""
    asked: list[str] = []
    inside: list[bool] = []  # a transaction's own read is part of it
    store = limiter._store
    read, transact = store.read, store.transact

    def counted_transact(*args):
        asked.append("transact")
        inside.append(True)
        try:
            return transact(*args)
        finally:
            inside.pop()

    def counted_read(keys):
        if not inside:
            asked.append("read")
        return read(keys)

    store.read, store.transact = counted_read, counted_transact
    return asked


def test_a_prefetch_answers_a_chunk_of_quiet_accounts_from_one_read(limiter):
    asked = counting(limiter)
    limiter.prefetch("mastodon", ["acme", "globex", "initech"])
    for who in ("acme", "globex", "initech", "acme"):
        assert limiter.take("mastodon", who) == (None, True)
    assert asked == ["read"]  # four calls, one read of the store
    assert limiter.take("mastodon", "hooli") == (None, True)  # not in the chunk: asked as before
    assert asked == ["read", "transact"]


def test_a_prefetched_held_or_paced_scope_is_asked_at_every_take(limiter, clock):
    limiter.record("mastodon", "acme", account=state(300, 0, "12:05:00"), app=None)  # used up
    limiter.record("mastodon", "globex", account=state(300, 10, "12:05:00"), app=None)  # paced
    limiter.prefetch("mastodon", ["acme", "globex"])
    asked = counting(limiter)

    assert limiter.take("mastodon", "acme") == (Hold(at("12:05:00"), app_wide=False), False)
    assert limiter.take("mastodon", "globex") == (Hold(at("12:00:30"), app_wide=False), False)
    clock.advance(30)
    assert limiter.take("mastodon", "globex") == (None, False)  # the paced slot is taken...
    assert limiter.take("mastodon", "globex") == (Hold(at("12:01:00"), app_wide=False), False)  # ...once
    assert asked == ["transact"] * 4


def test_an_app_held_in_the_prefetch_holds_every_account_of_the_chunk(limiter):
    limiter.block("mastodon", "acme", at("12:10:00"), app_wide=True)
    limiter.prefetch("mastodon", ["acme", "globex"])
    assert limiter.take("mastodon", "globex") == (Hold(at("12:10:00"), app_wide=True), False)


def test_news_written_by_this_limiter_is_never_answered_from_the_prefetch(limiter):
    limiter.prefetch("mastodon", ["acme", "globex"])
    assert limiter.take("mastodon", "acme") == (None, True)
    limiter.record("mastodon", "acme", account=state(300, 0, "12:05:00"), app=None, quiet=True)
    assert limiter.take("mastodon", "acme") == (Hold(at("12:05:00"), app_wide=False), False)
    limiter.block("mastodon", "globex", at("12:06:00"), app_wide=False)
    assert limiter.take("mastodon", "globex") == (Hold(at("12:06:00"), app_wide=False), False)


def test_another_workers_block_is_seen_within_a_second_of_the_prefetch(make_limiter, clock):
    ours, theirs = make_limiter(clock), make_limiter(clock)
    ours.prefetch("mastodon", ["acme"])
    theirs.block("mastodon", "acme", at("12:05:00"), app_wide=False)

    clock.advance(0.5)  # within the bound: the read of half a second ago answers
    assert ours.take("mastodon", "acme") == (None, True)
    clock.advance(0.6)  # 1.1 s after the read: asked again, and held
    assert ours.take("mastodon", "acme") == (Hold(at("12:05:00"), app_wide=False), False)


def test_a_later_prefetch_keeps_the_other_networks_accounts(limiter):
    asked = counting(limiter)
    limiter.prefetch("mastodon", ["acme"])
    limiter.prefetch("bluesky", ["acme"])
    assert limiter.take("mastodon", "acme") == (None, True)
    assert limiter.take("bluesky", "acme") == (None, True)
    assert asked == ["read", "read"]


def test_prepare_reads_the_chunks_limits_and_publishes_without_asking_again(
        limited, limiter, mastodon_account, mastodon_fake):
    limited.prepare([mastodon_account])
    asked = counting(limiter)
    limited.publish(mastodon_account, make_post(ref="p1"))
    assert mastodon_fake.count(STATUSES) == 1
    assert asked == []  # quiet before and quiet after: the store is not asked at all


def test_prepare_without_redis_leaves_every_call_to_ask(mastodon, mastodon_account, mastodon_fake, caplog):
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    limited = LimitedConnector(mastodon, SharedLimiter(dead, clock=Clock()))

    limited.prepare([mastodon_account])
    assert "mastodon: could not read the shared rate limits ahead (ConnectionError)" in caplog.text
    with pytest.raises(Temporary, match="the shared rate limiter is unavailable"):
        limited.publish(mastodon_account, make_post())
    assert mastodon_fake.calls == []
    dead.close()
