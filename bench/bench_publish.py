"""Publishing throughput: a post through tcma's Mastodon connector behind the shared Redis rate
limiter, against the bare floor of the same HTTP request sent with httpx to the same loopback fake.

Both sides pay the fake server's time; the ratio is what tcma adds per post (text checks, the
limiter's Redis transaction before and after, classification). Alternating rounds; the worst
round's ratio is reported.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from redis import Redis  # noqa: E402

from bench.common import entry, write  # noqa: E402
from tcma.connectors import Account, ConnectorSettings, Post, idempotency_key  # noqa: E402
from tcma.connectors.limits import LimitedConnector, SharedLimiter  # noqa: E402
from tcma.connectors.mastodon import MastodonConnector  # noqa: E402
from tests.support.fake_networks import FakeMastodon, serve  # noqa: E402

REDIS_URL = os.environ.get("TCMA_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
POSTS = 300
ROUNDS = 5
TEXT = "Zero trust, deployed by people you know: book your architecture review #{n}"


class RoomyMastodon(FakeMastodon):
    """The fake with a limit this run never nears: the limiter still reads and records every answer."""

    def rate_headers(self, remaining: int | None = None) -> dict[str, str]:
        headers = super().rate_headers(remaining)
        headers.update({"X-RateLimit-Limit": "1000000", "X-RateLimit-Remaining": "999999"})
        return headers


def main() -> None:
    """Posts per second through LimitedConnector(MastodonConnector) against bare httpx, same fake."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    redis = Redis.from_url(REDIS_URL)
    with serve(RoomyMastodon()) as fake:
        account = Account(network="mastodon", base_url=fake.base_url, handle="@acme@bench",
                          external_id=FakeMastodon.ACCOUNT_ID,
                          credentials={"access_token": FakeMastodon.TOKEN})
        limiter = SharedLimiter(redis, prefix="bench:social-limits")
        ours = LimitedConnector(MastodonConnector(ConnectorSettings(timeout=10)), limiter)
        bare = httpx.Client(timeout=10)
        ours.verify(account)  # the instance's limits are read once, as in production
        counter = iter(range(10**9))

        def run_ours() -> float:
            start = time.perf_counter()
            for _ in range(POSTS):
                n = next(counter)
                ours.publish(account, Post(text=TEXT.format(n=n), idempotency_key=idempotency_key(n, 1)))
            return time.perf_counter() - start

        def run_bare() -> float:
            start = time.perf_counter()
            for _ in range(POSTS):
                n = next(counter)
                answer = bare.post(f"{fake.base_url}/api/v1/statuses", data={"status": TEXT.format(n=n)},
                                   headers={"Authorization": f"Bearer {FakeMastodon.TOKEN}",
                                            "Idempotency-Key": idempotency_key(n, 1)})
                answer.raise_for_status()
            return time.perf_counter() - start

        run_ours(), run_bare()  # warm both
        rounds = []
        for _ in range(ROUNDS):
            floor_s, ours_s = run_bare(), run_ours()
            rounds.append((POSTS / ours_s, POSTS / floor_s))
        ours.close()
        bare.close()
    for key in redis.scan_iter("bench:social-limits*"):
        redis.delete(key)
    value, floor = min(rounds, key=lambda r: r[0] / r[1])
    print(f"rounds (ours/floor posts/s): {[(round(a), round(b)) for a, b in rounds]}")
    write(args.out, [entry("social.publish_mastodon", "posts/s", value, floor, 0.8, "higher")])


if __name__ == "__main__":
    main()
