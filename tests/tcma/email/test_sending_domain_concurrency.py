"""Per-recipient-domain concurrency: at most N batches in flight to one domain across workers, and
a 4xx from a domain pauses that domain, not the others (real SMTP on loopback, real rq workers)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import EmailRecipient
from tcma.queue import get_queue
from tcma.state import app_state
from tests.support.apps import app_on, base_config
from tests.support.launch import work
from tests.support.redis_db import redis_url
from tests.support.smtp import RecordingHandler, running_smtp_server
from tests.tcma.email.conftest import new_send, partner_with_contacts, send_now

TCMA = str(Path(sys.executable).with_name("tcma"))


class InFlightHandler(RecordingHandler):
    """Holds each DATA a moment and notes how many messages per domain are in the server at once;
    refuses RCPT at `deferring` domains with a 4xx while told to."""

    def __init__(self, hold: float = 0.0) -> None:
        super().__init__()
        self.hold = hold
        self.now: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.most_overall = 0
        self.deferring: set[str] = set()
        self.rcpts: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.rcpts.append(address)
        if address.rpartition("@")[2] in self.deferring:
            return "451 4.7.1 Too many messages from you, try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        domain = envelope.rcpt_tos[0].rpartition("@")[2]
        self.now[domain] = self.now.get(domain, 0) + 1
        self.most[domain] = max(self.most.get(domain, 0), self.now[domain])
        self.most_overall = max(self.most_overall, sum(self.now.values()))
        try:
            await asyncio.sleep(self.hold)
            return await super().handle_DATA(server, session, envelope)
        finally:
            self.now[domain] -= 1


@pytest.fixture
def smtp_handler():
    return InFlightHandler()


@pytest.fixture
def smtp_port(smtp_handler):
    with running_smtp_server(smtp_handler) as controller:
        yield controller.port


SETTINGS = {
    "MAIL_BACKEND": "smtp",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_SECURITY": "none",
    "EMAIL_SENDING_DOMAIN": "mail.vendor.test",
    "EMAIL_SEND_BATCH": 4,
    "EMAIL_SEND_CHUNK": 4,
    "MAIL_DOMAIN_CONCURRENCY": 1,
    "MAIL_DOMAIN_DEFER": 3,
}


@pytest.fixture
def app(migrated_pg, tmp_path, redis_client, smtp_port):
    """PostgreSQL, Redis and rq, mail over SMTP to the loopback server, one batch per domain at once."""
    url, tables = migrated_pg
    config = base_config(
        tmp_path,
        DATABASE_URL=url,
        REDIS_URL=redis_url(),
        SMTP_PORT=smtp_port,
        CLICK_SPOOL_DIR=str(tmp_path / "spool"),
        CLICK_SHIP_INTERVAL=0,
        **SETTINGS,
    )
    yield from app_on(config, tables)


def statuses(send_id):
    db.session.rollback()
    return dict(
        db.session.execute(
            select(EmailRecipient.status, func.count())
            .where(EmailRecipient.send_id == send_id)
            .group_by(EmailRecipient.status)
        ).all()
    )


def start_worker(app):
    config = app.config
    env = dict(
        os.environ,
        TCMA_DATABASE_URL=config["DATABASE_URL"],
        TCMA_REDIS_URL=redis_url(),
        TCMA_STORAGE="local",
        TCMA_STORAGE_PATH=config["STORAGE_PATH"],
        TCMA_ENV="testing",
        TCMA_SECRET_KEY=config["SECRET_KEY"],
        TCMA_PUBLIC_URL=config["PUBLIC_URL"],
        TCMA_SMTP_PORT=str(config["SMTP_PORT"]),
        TCMA_CLICK_SPOOL_DIR=config["CLICK_SPOOL_DIR"],
        TCMA_CLICK_SHIP_INTERVAL="0",
        **{f"TCMA_{name}": str(value) for name, value in SETTINGS.items()},
    )
    return subprocess.Popen(
        [TCMA, "worker", "--maintenance-interval", "0"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_two_workers_never_have_two_batches_in_flight_to_one_domain(app, client, smtp_handler):
    # Chunks of four: two of a.example.com, then two of b.example.com. With one slot per domain, the second
    # worker cannot join the first on a.example.com; it goes on with b.example.com meanwhile.
    addresses = [f"a{n}@a.example.com" for n in range(8)] + [f"b{n}@b.example.com" for n in range(8)]
    shop = partner_with_contacts(client, addresses)
    smtp_handler.hold = 0.25
    send = new_send(client, shop)
    send_now(client, shop, send["id"])

    workers = [start_worker(app) for _ in range(2)]
    try:
        deadline = time.monotonic() + 180
        while statuses(send["id"]).get("sent", 0) < len(addresses) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)

    assert statuses(send["id"]) == {"sent": 16}
    received = [r.rcpt_tos[0] for r in smtp_handler.received]
    assert sorted(received) == sorted(addresses), "a message was lost or sent twice"
    assert smtp_handler.most == {"a.example.com": 1, "b.example.com": 1}
    assert smtp_handler.most_overall == 2  # both workers sent at once, each to its own domain


def test_a_4xx_from_one_domain_pauses_that_domain_and_not_the_others(app, client, smtp_handler):
    addresses = ["s1@slow.example.com", "f1@fast.example.com", "s2@slow.example.com", "f2@fast.example.com"]
    shop = partner_with_contacts(client, addresses)
    smtp_handler.deferring = {"slow.example.com"}
    send = new_send(client, shop)
    send_now(client, shop, send["id"])

    work()

    delivered = sorted(r.rcpt_tos[0] for r in smtp_handler.received)
    assert delivered == ["f1@fast.example.com", "f2@fast.example.com"]
    # slow.example.com was asked once; its second message waited instead of being tried.
    assert [a for a in smtp_handler.rcpts if a.endswith("@slow.example.com")] == ["s1@slow.example.com"]
    assert statuses(send["id"]) == {"sent": 2, "queued": 2}
    rows = db.session.scalars(select(EmailRecipient).where(EmailRecipient.status == "queued")).all()
    assert {r.address for r in rows} == {"s1@slow.example.com", "s2@slow.example.com"}
    assert any("451 4.7.1" in (r.detail or "") for r in rows)
    assert 0 < app_state().mail_domains.paused_for("slow.example.com") <= 3
    assert app_state().mail_domains.paused_for("fast.example.com") == 0
    assert len(get_queue().rq_queue("default").scheduled_job_registry) == 1  # the chunk comes back

    # The domain takes mail again; once its pause is over the chunk comes back and finishes.
    smtp_handler.deferring = set()
    time.sleep(app_state().mail_domains.paused_for("slow.example.com") + 0.2)
    queue = get_queue()
    SimpleWorker(queue.all_queues(), connection=queue.redis).work(burst=True, with_scheduler=True)
    work()

    assert statuses(send["id"]) == {"sent": 4}
    assert sorted(r.rcpt_tos[0] for r in smtp_handler.received) == sorted(addresses)
    after = client.get(f"/api/v1/email-sends/{send['id']}", headers=shop["headers"]).json
    assert after["status"] == "done"
