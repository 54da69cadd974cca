"""Sign-in timing: an unknown email must cost what a wrong password costs (no user enumeration).

Alternating rounds of sign-in attempts through the service (SQLite, argon2id), unknown email
vs known email with a wrong password; the median of each, worst round reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import entry, write  # noqa: E402
from tcma import create_app  # noqa: E402

ROUNDS, PER_ROUND = 5, 20


def main() -> None:
    """Median sign-in time for unknown emails against wrong passwords, in alternating rounds."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tcma-bench-sign-in-"))
    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{folder}/b.db",
                      "STORAGE_PATH": str(folder / "files"), "MAIL_OUTBOX_DIR": str(folder / "outbox")})
    with app.app_context():
        from flask_migrate import upgrade

        from tcma.services.accounts.auth import sign_in
        from tcma.services.accounts.users import create_user

        upgrade()
        create_user("known@bench.test", "the right password", "marketer")
        failures = app.extensions["tcma"].sign_in_failures

        def attempt(email: str, password: str) -> None:
            failures.clear(email)  # the per-email limit must not answer first (both sides pay it)
            return sign_in(email, password)

        rounds = []
        for index in range(ROUNDS):
            unknown = _median(lambda i, n=index: attempt(f"nobody{n}-{i}@bench.test", "a wrong password"))
            wrong = _median(lambda i: attempt("known@bench.test", f"wrong password {i}"))
            rounds.append((unknown, wrong))
    worst = max(rounds, key=lambda pair: abs(pair[0] / pair[1] - 1))
    for unknown, wrong in rounds:
        print(f"unknown email {unknown * 1000:.1f} ms, wrong password {wrong * 1000:.1f} ms, "
              f"ratio {unknown / wrong:.2f}")
    write(args.out, [entry("sign-in unknown email vs wrong password (median)", "ms",
                           worst[0] * 1000, worst[1] * 1000, 1.3, "lower")])


def _median(attempt) -> float:
    times = []
    for i in range(PER_ROUND):
        start = time.perf_counter()
        assert attempt(i) is None
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    main()
