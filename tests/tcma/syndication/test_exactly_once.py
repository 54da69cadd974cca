"""Exactly once with real processes (issue 12, "Tests"): `tcma scheduler` and `tcma worker` run as
subprocesses on PostgreSQL and Redis and publish to a fake Mastodon on loopback hosting many accounts.

- two schedulers and two workers over 500 posts due at once;
- a worker (and its work horse) SIGKILLed while a post is in flight (the fake has made the status and
  holds its answer): the post's lease runs out and it is reconciled, never sent again;
- a scheduler SIGKILLed inside a claim transaction (held there by locking the job outbox against its
  insert): its batch rolls back to waiting and another scheduler claims it, nothing is lost;
- a 429 with a reset 60 s ahead: nothing goes to that account before the reset, the others publish.

Exactly once is counted at the fake, not only in the database: every request the fake received is
logged with its account (each account has its own token) and its Idempotency-Key, so a resend shows
even though the fake, like Mastodon, answers a repeated key with the status it already made. A wait
that runs out fails with the output of every process.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text, update

from tcma.connectors import idempotency_key
from tcma.connectors.mastodon import status_text
from tcma.extensions import db
from tcma.models import Partner, PostAttempt, ScheduledPost, SocialAccount
from tcma.models.base import utcnow
from tcma.state import app_state
from tests.support.apps import app_on, base_config
from tests.support.factories import make_taxonomy
from tests.support.fake_networks import FakeMastodon, IssuedToken, serve
from tests.support.redis_db import redis_url
from tests.support.tls import make_self_signed_certificate

TCMA = str(Path(sys.executable).with_name("tcma"))
STATUSES = "/api/v1/statuses"
OWN_STATUSES = re.compile(r"/api/v1/accounts/([^/]+)/statuses")
SHORT_LEASE = 3.0  # seconds; only where a lease must run out (a publish whose worker died)
LATER = datetime(2099, 1, 1, tzinfo=UTC)  # not due: the processes start before anything is


# --- a fake Mastodon instance hosting many accounts -------------------------------------------------

@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    at: datetime
    method: str
    path: str
    account: str | None  # the external id of the account whose token it carried
    key: str | None  # its Idempotency-Key


class ManyMastodon(FakeMastodon):
    """One instance, many accounts: each has its own token (`add_account`) and reads its own statuses;
    every request is logged (`log`); limits no run nears, so only a scripted 429 holds anyone."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Call] = []
        self.tokens: dict[str, str] = {}  # token -> external id
        self.owner: dict[str, str | None] = {}  # status id -> external id

    def add_account(self, external_id: str) -> str:
        token = f"tok-{external_id}-{secrets.token_hex(6)}"
        self.tokens[token] = external_id
        self.oauth.tokens[token] = IssuedToken("many", external_id, ["read", "write"])
        return token

    def rate_headers(self, remaining: int | None = None) -> dict[str, str]:
        headers = super().rate_headers(remaining)
        headers.update({"X-RateLimit-Limit": "1000000", "X-RateLimit-Remaining": "999999"})
        return headers

    def _who(self, authorization: str | None) -> str | None:
        return self.tokens.get((authorization or "").removeprefix("Bearer "))

    def __call__(self, environ: dict, start_response: Any) -> Any:
        who = self._who(environ.get("HTTP_AUTHORIZATION"))
        self.log.append(Call(datetime.now(UTC), environ["REQUEST_METHOD"], environ["PATH_INFO"], who,
                             environ.get("HTTP_IDEMPOTENCY_KEY")))
        return super().__call__(environ, start_response)

    def post_status(self, request):
        response = super().post_status(request)
        if response.status_code == 200:
            self.owner.setdefault(json.loads(response.get_data())["id"],
                                  self._who(request.headers.get("Authorization")))
        return response

    def answer(self, request):
        own = OWN_STATUSES.fullmatch(request.path)
        if request.method != "GET" or own is None:
            return super().answer(request)
        if self.oauth.bearer(request)[0] != "ok":
            return self.json({"error": "The access token is invalid"}, 401)
        mine = [s for s in reversed(self.statuses) if self.owner.get(s["id"]) == own[1]]
        response = self.json(mine[:int(request.args.get("limit", 20))])
        response.headers.update(self.rate_headers())
        return response

    def posted(self) -> list[Call]:
        """Every POST /api/v1/statuses that arrived (scripted answers included)."""
        return [c for c in self.log if c.method == "POST" and c.path == STATUSES]


# --- processes ----------------------------------------------------------------------------------------

@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    out: Path

    def output(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.out.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class Cluster:
    """`tcma worker` and `tcma scheduler` subprocesses on the test's database, Redis db and queue prefix.

    Their output goes to files; a wait that runs out (`until`) fails with every process's output, the
    posts by state and what the fake received. Whatever is left running is killed after the test.
    """

    def __init__(self, app, fake: ManyMastodon, tmp_path: Path) -> None:
        self.app, self.fake, self.tmp = app, fake, tmp_path
        self.procs: list[Proc] = []
        self.ca_file, _ = make_self_signed_certificate(tmp_path)

    def env(self, name: str, lease: float | None) -> dict[str, str]:
        config = self.app.config
        env = {k: v for k, v in os.environ.items() if not k.startswith("TCMA_") or k.startswith("TCMA_TEST_")}
        env.update(
            PYTHONUNBUFFERED="1", TCMA_ENV="testing",
            # The name shows in pg_stat_activity: the test waits for a process to be connected there.
            TCMA_DATABASE_URL=f"{config['DATABASE_URL']}?application_name={name}",
            TCMA_REDIS_URL=redis_url(), TCMA_QUEUE_PREFIX=config["QUEUE_PREFIX"],
            TCMA_SECRET_KEY=config["SECRET_KEY"], TCMA_PUBLIC_URL=config["PUBLIC_URL"],
            TCMA_STORAGE="local", TCMA_STORAGE_PATH=config["STORAGE_PATH"],
            TCMA_MAIL_OUTBOX_DIR=config["MAIL_OUTBOX_DIR"], TCMA_CLICK_SPOOL_DIR=config["CLICK_SPOOL_DIR"],
            TCMA_CONNECTORS_BACKEND="live", TCMA_CONNECTORS_DRYRUN_DIR=config["CONNECTORS_DRYRUN_DIR"],
            TCMA_MAINTENANCE_INTERVAL="1")
        # Each publish builds an httpx client, whose SSL context loads the whole CA bundle (tens of ms
        # a post on two busy cores); the fakes are plain http, so a bundle of one certificate will do.
        env["SSL_CERT_FILE"] = str(self.ca_file)
        if lease is not None:
            env["TCMA_SOCIAL_LEASE_SECONDS"] = str(lease)
        return env

    def start(self, name: str, *args: str, lease: float | None = None) -> Proc:
        out = self.tmp / f"{name}.log"
        with out.open("wb") as sink:
            popen = subprocess.Popen([TCMA, *args], env=self.env(name, lease), stdout=sink,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        proc = Proc(name, popen, out)
        self.procs.append(proc)
        return proc

    def worker(self, name: str, *args: str, lease: float | None = None) -> Proc:
        return self.start(name, "worker", "--without-scheduler", *args, lease=lease)

    def scheduler(self, name: str, *args: str, lease: float | None = None) -> Proc:
        return self.start(name, "scheduler", *args, lease=lease)

    def kill(self, proc: Proc) -> None:
        """SIGKILL the process and everything it started (rq's work horse), as a crashed host would."""
        for pid in [*_descendants(proc.popen.pid), proc.popen.pid]:
            _kill(pid)
        proc.popen.wait()

    def stop(self, proc: Proc, seconds: float = 15) -> int:
        """SIGTERM, as a supervisor stops it; killed if it does not end in time."""
        proc.popen.send_signal(signal.SIGTERM)
        try:
            return proc.popen.wait(seconds)
        except subprocess.TimeoutExpired:
            self.kill(proc)
            message = f"{proc.name} did not end within {seconds}s of SIGTERM\n{self.report()}"
            raise AssertionError(message) from None

    def close(self) -> None:
        for proc in self.procs:
            if proc.popen.poll() is None:
                self.kill(proc)

    def connected(self, *names: str) -> bool:
        """Each named process holds a connection to the test database."""
        db.session.rollback()
        found = set(db.session.scalars(text(
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()")))
        db.session.rollback()
        return set(names) <= found

    def waiting_on(self, name: str) -> str | None:
        """The statement the named process waits on a lock in, if it does."""
        db.session.rollback()
        found = db.session.scalars(text(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = :name AND wait_event_type = 'Lock'"), {"name": name}).first()
        db.session.rollback()
        return found

    def stall_in_claim(self, name: str) -> tuple[Any, set[int]]:
        """Make the named scheduler wait inside a claim transaction, after it marked its batch claimed
        and before it commits: the job outbox is locked against writes, so the batch's outbox insert
        waits. Answers the connection holding the lock (roll it back to let go) and the batch's posts,
        which that transaction holds (FOR UPDATE) while the rest of the database still sees them waiting.
        """
        for _ in range(20):
            hold = db.engine.connect()
            hold.execute(text("LOCK TABLE job_outbox IN SHARE MODE"))
            deadline = time.monotonic() + 3
            while (waiting := self.waiting_on(name)) is None and time.monotonic() < deadline:
                time.sleep(0.005)
            if waiting and waiting.lstrip().upper().startswith("INSERT INTO JOB_OUTBOX"):
                return hold, locked_waiting_posts()
            hold.rollback()  # it waited to mark a committed batch enqueued, or it was between batches
            hold.close()
        raise AssertionError(f"{name} never waited inside a claim\n{self.report()}")

    def until(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        if not condition():
            raise AssertionError(f"{what}: not within {seconds:g}s\n{self.report()}")

    def report(self) -> str:
        parts = [f"posts by state: {post_states()}",
                 f"the fake received {len(self.fake.log)} requests, {len(self.fake.posted())} posts, "
                 f"made {len(self.fake.statuses)} statuses"]
        for proc in self.procs:
            code = proc.popen.poll()
            parts.append(f"--- {proc.name} (pid {proc.popen.pid}, "
                         f"{'running' if code is None else f'exit {code}'}):\n{proc.output()}")
        return "\n".join(parts)


def _descendants(pid: int) -> list[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return []
    children = []
    for task in tasks:
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            pass
    return children + [d for child in children for d in _descendants(child)]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --- fixtures and data --------------------------------------------------------------------------------

@pytest.fixture
def eo_app(migrated_pg, tmp_path, redis_client):
    """PostgreSQL + Redis with a queue prefix of its own; live connectors (to the loopback fake)."""
    url, tables = migrated_pg
    config = base_config(tmp_path, DATABASE_URL=url, REDIS_URL=redis_url(),
                         QUEUE_PREFIX=f"eo-{uuid.uuid4().hex[:8]}", CONNECTORS_BACKEND="live",
                         CLICK_SPOOL_DIR=str(tmp_path / "clickspool"))
    yield from app_on(config, tables)


@pytest.fixture
def fake():
    with serve(ManyMastodon()) as served:
        yield served


@pytest.fixture
def cluster(eo_app, fake, tmp_path):
    running = Cluster(eo_app, fake, tmp_path)
    try:
        yield running
    finally:
        running.close()


@dataclass(frozen=True)
class Acct:
    id: int
    partner_id: int
    external_id: str


def make_accounts(fake: ManyMastodon, count: int) -> list[Acct]:
    """`count` partners with one Mastodon account each on the fake, auto-publishing (bulk inserts)."""
    taxonomy = make_taxonomy()
    tag = uuid.uuid4().hex[:6]
    ids = [t.id for t in (taxonomy["tiers"][0], taxonomy["verticals"][0], taxonomy["regions"][0])]
    partners = db.session.scalars(insert(Partner).returning(Partner.id, sort_by_parameter_order=True), [
        {"name": f"Partner {tag}-{n}", "slug": f"p-{tag}-{n}", "tier_id": ids[0], "vertical_id": ids[1],
         "region_id": ids[2]} for n in range(count)]).all()
    box = app_state().credentials
    rows, external = [], []
    for n, partner_id in enumerate(partners):
        external.append(str(500_000 + n))
        rows.append({"partner_id": partner_id, "network": "mastodon", "handle": f"@p{n}@fake.social",
                     "external_id": external[-1], "base_url": fake.base_url, "auto_publish": True,
                     "credentials": box.seal({"access_token": fake.add_account(external[-1])})})
    stmt = insert(SocialAccount).returning(SocialAccount.id, sort_by_parameter_order=True)
    accounts = db.session.scalars(stmt, rows).all()
    db.session.commit()
    return [Acct(a, p, e) for a, p, e in zip(accounts, partners, external, strict=True)]


def make_posts(accounts: Iterable[Acct], per_account: int, due: datetime) -> list[int]:
    """`per_account` posts for each account, due at `due`, their text set (nothing to render)."""
    tag = uuid.uuid4().hex[:6]
    now = utcnow()
    rows = [{"social_account_id": a.id, "partner_id": a.partner_id, "text": f"Spring launch {tag}: post {n} "
             f"of account {a.external_id}, book a review", "scheduled_at": due, "status": "scheduled",
             "time_zone": "UTC", "idempotency_key": idempotency_key(f"eo-{tag}-{n}", a.id), "attempts": 0,
             "created_at": now, "updated_at": now}
            for a in accounts for n in range(per_account)]
    ids = db.session.scalars(insert(ScheduledPost).returning(ScheduledPost.id, sort_by_parameter_order=True),
                             rows).all()
    db.session.commit()
    return list(ids)


def due_now(post_ids: Iterable[int] | None = None) -> None:
    stmt = update(ScheduledPost).values(scheduled_at=utcnow())
    if post_ids is not None:
        stmt = stmt.where(ScheduledPost.id.in_(list(post_ids)))
    db.session.execute(stmt)
    db.session.commit()


def post_states() -> dict[str, int]:
    db.session.rollback()
    found = dict(db.session.execute(select(ScheduledPost.status, func.count())
                                    .group_by(ScheduledPost.status)).all())
    db.session.rollback()
    return found


def locked_waiting_posts() -> set[int]:
    """Waiting posts some transaction holds FOR UPDATE (they look waiting, but cannot be claimed)."""
    db.session.rollback()
    waiting = select(ScheduledPost.id).where(ScheduledPost.status == "scheduled")
    everyone = set(db.session.scalars(waiting))
    free = set(db.session.scalars(waiting.with_for_update(skip_locked=True)))
    db.session.rollback()
    return everyone - free


def published(count: int) -> Callable[[], bool]:
    return lambda: post_states().get("published", 0) == count


def outcomes(post_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(PostAttempt.outcome).where(PostAttempt.post_id == post_id)
                                   .order_by(PostAttempt.id)))


def assert_exactly_once(fake: ManyMastodon, count: int) -> None:
    """Every post published, one successful attempt each; the fake got each post's key once, as its
    own status on the right account, and made exactly `count` distinct statuses."""
    db.session.rollback()
    posts = db.session.execute(select(ScheduledPost.id, ScheduledPost.status, ScheduledPost.text,
                                      ScheduledPost.idempotency_key, ScheduledPost.external_id,
                                      SocialAccount.external_id.label("account"))
                               .join(SocialAccount, SocialAccount.id == ScheduledPost.social_account_id)
                               ).all()
    assert len(posts) == count
    assert Counter(p.status for p in posts) == {"published": count}
    successes = Counter(db.session.scalars(select(PostAttempt.post_id).where(
        PostAttempt.outcome.in_(("published", "reconciled")))))
    assert {p.id: successes[p.id] for p in posts if successes[p.id] != 1} == {}
    sent = Counter(c.key for c in fake.posted())
    assert {key: n for key, n in sent.items() if n != 1} == {}, "a post was sent twice"
    assert set(sent) == {p.idempotency_key for p in posts}
    assert {c.account for c in fake.posted()} == {p.account for p in posts}
    statuses = {s["id"]: status_text(s["content"]) for s in fake.statuses}
    assert len(fake.statuses) == count == len(set(statuses.values()))
    assert {p.external_id: (p.text, p.account) for p in posts} == {
        sid: (body, fake.owner[sid]) for sid, body in statuses.items()}


def claimed_by(proc: Proc) -> int:
    """The due posts a scheduler says it claimed, over all its passes."""
    return sum(int(n) for n in re.findall(r"^claimed (\d+) due posts", proc.out.read_text(), re.MULTILINE))


# --- the cases ----------------------------------------------------------------------------------------

def test_two_schedulers_and_two_workers_publish_500_posts_exactly_once(cluster, fake):
    accounts = make_accounts(fake, 250)
    make_posts(accounts, 2, due=LATER)
    for n in (1, 2):  # the production default: publish jobs run in the worker itself, nothing forked
        cluster.worker(f"worker-{n}")
    schedulers = [cluster.scheduler(f"scheduler-{n}", "--interval", "0.1", "--batch", "10") for n in (1, 2)]
    cluster.until(lambda: cluster.connected("scheduler-1", "scheduler-2"), 30, "both schedulers running")
    due_now()  # 500 posts due at once: both schedulers claim them, 10 per transaction

    cluster.until(published(500), 45, "500 posts published")
    for proc in schedulers:
        assert cluster.stop(proc) == 0, cluster.report()
    claims = [claimed_by(proc) for proc in schedulers]
    assert sum(claims) == 500 and min(claims) > 0, claims  # both took part; none claimed twice
    assert_exactly_once(fake, 500)


def test_a_worker_killed_mid_publish_leaves_its_post_reconciled_not_sent_again(cluster, fake):
    post_ids = make_posts(make_accounts(fake, 20), 1, due=utcnow())
    fake.slow_next(STATUSES, 30)  # the first status is made; its answer does not come back in time
    first = cluster.worker("worker-1", lease=SHORT_LEASE)  # the default: the publish runs in the worker
    cluster.scheduler("scheduler", "--interval", "0.3", lease=SHORT_LEASE)
    cluster.until(lambda: len(fake.posted()) == 1 and len(fake.statuses) == 1, 30, "a publish in flight")
    db.session.rollback()
    killed = db.session.scalars(select(ScheduledPost).where(
        ScheduledPost.idempotency_key == fake.posted()[0].key)).one()
    assert killed.status == "publishing"

    cluster.kill(first)  # worker and work horse, mid-publish: the network has the status, tcma never heard
    cluster.worker("worker-2", lease=SHORT_LEASE)

    cluster.until(published(len(post_ids)), 40, "every post published after the kill")
    assert outcomes(killed.id) == ["reconciled"]  # found on the account once its lease ran out
    assert_exactly_once(fake, len(post_ids))


def test_a_scheduler_killed_mid_claim_loses_no_post_and_sends_none_twice(cluster, fake):
    total = 150
    make_posts(make_accounts(fake, 75), 2, due=LATER)
    for n in (1, 2):
        cluster.worker(f"worker-{n}", "--no-fork")
    first = cluster.scheduler("scheduler-1", "--interval", "0.1", "--batch", "5")
    cluster.until(lambda: cluster.connected("scheduler-1"), 30, "the first scheduler running")
    due_now()
    cluster.until(lambda: post_states().get("scheduled", 0) <= total - 30, 30, "the first scheduler claiming")

    hold, batch = cluster.stall_in_claim("scheduler-1")
    assert 0 < len(batch) <= 5, batch  # its batch is marked claimed in its open transaction
    cluster.kill(first)
    hold.rollback()
    hold.close()
    cluster.until(lambda: not cluster.connected("scheduler-1"), 10, "the killed scheduler's session gone")
    db.session.rollback()
    assert set(db.session.scalars(select(ScheduledPost.status).where(ScheduledPost.id.in_(batch)))) == {
        "scheduled"}  # rolled back with the session: waiting again, not lost as claimed
    assert locked_waiting_posts() == set()
    cluster.scheduler("scheduler-2", "--interval", "0.2")

    # What the killed one committed is published; its last batch is claimed again by the second one.
    cluster.until(published(total), 40, "every post published after the kill")
    assert_exactly_once(fake, total)


def test_a_429_holds_the_account_until_the_reset_and_nothing_is_sent_to_it_before(cluster, fake):
    limited, *others = make_accounts(fake, 11)
    first, *more = make_posts([limited], 3, due=LATER)
    rest = make_posts(others, 2, due=LATER)
    reset = (utcnow() + timedelta(seconds=60)).replace(microsecond=0)
    fake.fail_next(STATUSES, 429, {"error": "Too many requests"},
                   headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    cluster.worker("worker")
    cluster.scheduler("scheduler", "--interval", "0.2")
    cluster.until(lambda: cluster.connected("scheduler"), 30, "the scheduler running")

    due_now([first])  # the limited account's first post meets the 429
    cluster.until(lambda: outcomes(first) == ["rate_limited"], 30, "the 429 recorded")
    answered = max(c.at for c in fake.log if c.account == limited.external_id)
    due_now([*more, *rest])  # its other posts, and everyone else's, are due now
    cluster.until(published(len(rest)), 30, "the other accounts' posts published")
    cluster.until(lambda: all(outcomes(p) == ["rate_limited"] for p in more), 30, "the held posts recorded")
    time.sleep(1.0)  # a few more scheduler passes: none of the held posts is claimed again

    db.session.rollback()
    held = db.session.scalars(select(ScheduledPost).where(ScheduledPost.id.in_([first, *more]))).all()
    assert {p.status for p in held} == {"scheduled"}
    assert {p.next_attempt_at for p in held} == {reset}  # each tries again at the reset, not before
    to_limited = [c for c in fake.log if c.account == limited.external_id]
    assert [(c.method, c.path) for c in to_limited] == [("POST", STATUSES)]  # the 429, and nothing after
    assert all(c.at <= answered for c in to_limited)
    others_sent = Counter(c.key for c in fake.posted() if c.account != limited.external_id)
    assert len(others_sent) == len(rest) and set(others_sent.values()) == {1}
    limit = db.session.scalars(select(PostAttempt.rate_limit).where(PostAttempt.post_id == first)).one()
    assert limit["remaining"] == 0 and datetime.fromisoformat(limit["reset"]) == reset
