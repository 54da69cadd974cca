"""A worker killed in the middle of an SMTP transaction: nothing it held is ever sent again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import EmailRecipient
from tcma.services.sending.delivery import recover_sends
from tests.support.apps import app_on, base_config
from tests.support.launch import work
from tests.support.redis_db import redis_url
from tests.support.smtp import RecordingHandler, running_smtp_server
from tests.tcma.email.conftest import new_send, partner_with_contacts

TCMA = str(Path(sys.executable).with_name("tcma"))
PEOPLE = [f"person{n}@example.com" for n in range(1, 7)]
STUCK = "person4@example.com"


class StallingHandler(RecordingHandler):
    """Accepts every message, except that it never answers the DATA of one recipient's."""

    def __init__(self) -> None:
        super().__init__()
        self.stuck = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if envelope.rcpt_tos == [STUCK] and not self.stuck.is_set():
            self.stuck.set()
            await asyncio.sleep(120)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_handler():
    return StallingHandler()


@pytest.fixture
def smtp_port(smtp_handler):
    with running_smtp_server(smtp_handler) as controller:
        yield controller.port


@pytest.fixture
def app(migrated_pg, tmp_path, redis_client, smtp_port):
    """PostgreSQL, Redis and rq workers, mail over SMTP to the loopback server, batches of two."""
    url, tables = migrated_pg
    config = base_config(
        tmp_path,
        DATABASE_URL=url,
        REDIS_URL=redis_url(),
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_port,
        SMTP_SECURITY="none",
        EMAIL_SEND_BATCH=2,
        CLICK_SPOOL_DIR=str(tmp_path / "spool"),
        CLICK_SHIP_INTERVAL=0,
    )
    yield from app_on(config, tables)


def start_worker(app) -> subprocess.Popen:
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
        TCMA_MAIL_BACKEND="smtp",
        TCMA_SMTP_HOST="127.0.0.1",
        TCMA_SMTP_PORT=str(config["SMTP_PORT"]),
        TCMA_SMTP_SECURITY="none",
        TCMA_EMAIL_SEND_BATCH="2",
        TCMA_CLICK_SPOOL_DIR=config["CLICK_SPOOL_DIR"],
        TCMA_CLICK_SHIP_INTERVAL="0",
    )
    return subprocess.Popen(
        [TCMA, "worker", "--maintenance-interval", "0"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def statuses(send_id: int) -> dict[str, int]:
    db.session.rollback()
    return dict(
        db.session.execute(
            select(EmailRecipient.status, func.count())
            .where(EmailRecipient.send_id == send_id)
            .group_by(EmailRecipient.status)
        ).all()
    )


def test_a_worker_killed_mid_send_sends_no_message_twice(app, client, smtp_handler):
    shop = partner_with_contacts(client, PEOPLE)
    headers = shop["headers"]
    send = new_send(client, shop)
    assert (
        client.post(f"/api/v1/email-sends/{send['id']}/schedule", headers=headers, json={}).status_code == 200
    )

    worker = start_worker(app)
    try:
        assert smtp_handler.stuck.wait(60), "the worker never reached the stalling message"
        os.killpg(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(10)
    # Batch 1 (persons 1-2) went out; batch 2 (persons 3-4) was claimed and committed before its SMTP
    # session: person 3 was accepted, person 4's DATA was under way when the worker died.
    assert sorted(r.rcpt_tos[0] for r in smtp_handler.received) == PEOPLE[:3]
    assert statuses(send["id"]) == {"sent": 2, "sending": 2, "queued": 2}

    report = recover_sends(lease=timedelta(0), stalled=timedelta(0))
    assert report["unknown"] == 2 and report["resumed"] == 1
    work()  # a new worker goes on with the send
    delivered = sorted(r.rcpt_tos[0] for r in smtp_handler.received)
    assert delivered == sorted(set(delivered)), "a message was sent twice"
    assert delivered == PEOPLE[:3] + PEOPLE[4:]
    assert statuses(send["id"]) == {"sent": 4, "unknown": 2}
    numbers = client.get(f"/api/v1/email-sends/{send['id']}", headers=headers).json
    assert numbers["status"] == "done" and numbers["numbers"]["unknown"] == 2
    unknown = client.get(f"/api/v1/email-sends/{send['id']}/recipients?status=unknown", headers=headers).json
    assert sorted(r["address"] for r in unknown["items"]) == PEOPLE[2:4]
    assert all("may have been delivered" in r["detail"] for r in unknown["items"])
