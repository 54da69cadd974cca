"""Campaign email throughput: tcma's send jobs against a bare smtplib loop, same messages, same connections.

Ours: PostgreSQL (scratch database) + Redis db 6 + WORKERS `tcma worker` processes send one partner's
send of the newsletter to N contacts through aiosmtpd on loopback: rows claimed and committed before
each SMTP session (one connection per batch of TCMA_EMAIL_SEND_BATCH), suppression and weekly-cap
checks, per-recipient personalisation (greeting, tracked links, pixel, signed unsubscribe), outcomes
recorded, a send event per message. Floor: the very same personalised messages, prepared beforehand
(untimed), sent by one smtplib loop over the same number of connections to the same server.
Also reported: the personalisation cost per message (filling in the rendered email, building the MIME).

`--profile N` measures CPU time instead of wall time (for a busy machine): one send of N messages
delivered in this process under cProfile (process_time), against the floor loop's CPU per message,
and prints where the time goes. The SMTP server then runs in a process of its own.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from redis import Redis  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bench.common import entry, write  # noqa: E402

PG_ADMIN = os.environ.get("TCMA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Not 7-15: the test runs claim 13 down to 7, the other benches use 14 and 15.
# Taken out of the environment: tcma refuses TCMA_ variables it does not know.
REDIS_URL = os.environ.pop("TCMA_BENCH_EMAIL_REDIS_URL", "redis://127.0.0.1:6379/6")
WORKERS, BATCH = 2, 50


class CountingHandler:
    """Accepts every message and only counts it (the server should cost both sides the same)."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.count += 1
        return "250 OK"


def seed(count: int) -> tuple[int, int, object]:
    """A partner with a launched newsletter campaign and `count` contacts on one list."""
    from tcma.extensions import db
    from tcma.models import (
        BrandKit,
        Contact,
        ContactList,
        ContactListMember,
        Partner,
        Region,
        Tier,
        User,
        Vertical,
    )
    from tcma.models.base import utcnow
    from tcma.services.accounts.auth import OPERATOR, Principal
    from tcma.services.accounts.users import create_user
    from tcma.services.catalogue.templates import import_catalogue
    from tcma.services.launch import launches
    from tcma.services.sending.suppressions import address_hash

    tier, vertical, region = (
        Tier(slug="gold", name="Gold", rank=1),
        Vertical(slug="finance", name="Finance"),
        Region(slug="emea", name="EMEA"),
    )
    partner = Partner(
        name="Bench Partner GmbH",
        slug="bench",
        tier=tier,
        vertical=vertical,
        region=region,
        brand_kit=BrandKit(contact_email="sales@bench.example", address="1 Bench Street\nBerlin"),
    )
    db.session.add(partner)
    db.session.commit()
    create_user("partner@bench.example", "correct horse battery", "partner", partner_id=partner.id)
    import_catalogue()
    campaign = launches.create_campaign(
        OPERATOR, "Bench news", [{"template": "newsletter", "output": "email"}], {}
    )
    launches.launch_campaign(OPERATOR, campaign.id)  # rendered in-process (no Redis in this app)
    contact_list = ContactList(partner_id=partner.id, name="Everyone")
    db.session.add(contact_list)
    db.session.flush()
    now = utcnow()
    rows = [
        {
            "partner_id": partner.id,
            "email": f"person{n}@example.com",
            "address_hash": address_hash(f"person{n}@example.com"),
            "first_name": f"P{n}" if n % 3 else None,
            "tags": [],
            "consent_source": "bench",
            "consent_at": now,
            "consent_text": "bench",
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    db.session.execute(Contact.__table__.insert(), rows)
    ids = db.session.scalars(select(Contact.id).where(Contact.partner_id == partner.id)).all()
    db.session.execute(
        ContactListMember.__table__.insert(), [{"list_id": contact_list.id, "contact_id": i} for i in ids]
    )
    db.session.commit()
    user = db.session.scalar(select(User).where(User.partner_id == partner.id))
    return campaign.id, contact_list.id, Principal.of(user)


class _ServerProcess:
    """The counting SMTP server in a process of its own (for --profile)."""

    CODE = (
        "import sys, time\n"
        "from aiosmtpd.controller import Controller\n"
        "from bench.bench_email_send import CountingHandler\n"
        "Controller(CountingHandler(), hostname='127.0.0.1', port=int(sys.argv[1])).start()\n"
        "time.sleep(1e9)\n"
    )

    def __init__(self, port: int) -> None:
        self.port, self.process = port, None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", self.CODE, str(self.port)], cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise SystemExit("the SMTP server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def measure_ours(env: dict[str, str], count: int, handler: CountingHandler) -> tuple[float, int, int]:
    """Messages per second from "send now" to the last recipient recorded, with WORKERS tcma workers."""
    from tcma import create_app
    from tcma.extensions import db
    from tcma.models import EmailRecipient
    from tcma.services.sending import sends

    seeding = create_app({"REDIS_URL": None})
    with seeding.app_context():
        campaign_id, list_id, principal = seed(count)
        send = sends.create_send(principal, {"campaign_id": campaign_id, "list_ids": [list_id]})
        send_id = send.id
        db.engine.dispose()
    app = create_app()
    with app.app_context():
        tcma = str(Path(sys.executable).with_name("tcma"))
        workers = [
            subprocess.Popen(
                [tcma, "worker", "--queue", "default", "--without-scheduler", "--maintenance-interval", "0"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(WORKERS)
        ]
        _wait_for_workers(Redis.from_url(REDIS_URL))  # warmed up and listening
        began = time.perf_counter()
        sends.schedule_send(principal, send_id, None)
        while True:
            db.session.expire_all()
            open_rows = db.session.scalar(
                select(func.count())
                .select_from(EmailRecipient)
                .where(EmailRecipient.send_id == send_id, EmailRecipient.status.in_(("queued", "sending")))
            )
            if not open_rows:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
        sent = db.session.scalar(
            select(func.count())
            .select_from(EmailRecipient)
            .where(EmailRecipient.send_id == send_id, EmailRecipient.status == "sent")
        )
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        db.engine.dispose()
    return sent / elapsed, sent, send_id


def measure_floor(port: int, send_id: int) -> tuple[float, float, int]:
    """The same messages (prepared untimed, in slices) sent by a bare smtplib loop, BATCH per connection.

    Returns messages per second, the personalisation cost per message (ms) and how many were sent.
    """
    from tcma import create_app
    from tcma.extensions import db
    from tcma.models import Contact, EmailRecipient, EmailSend
    from tcma.services.sending.composing import Personal
    from tcma.services.sending.delivery import filler_for

    app = create_app({"REDIS_URL": None})
    sending, preparing, sent = 0.0, 0.0, 0
    with app.app_context():
        send = db.session.get(EmailSend, send_id)
        filler = filler_for(send)
        people = [
            Personal(r.id, r.uid, r.address, first, r.message_id)
            for r, first in db.session.execute(
                select(EmailRecipient, Contact.first_name)
                .join(Contact, Contact.id == EmailRecipient.contact_id)
                .where(EmailRecipient.send_id == send_id)
                .order_by(EmailRecipient.id)
            )
        ]
        for start in range(0, len(people), 500):
            began = time.perf_counter()
            prepared = [
                (filler.envelope_from(p.uid), p.address, filler.wire(p))
                for p in people[start : start + 500]
            ]
            preparing += time.perf_counter() - began
            began = time.perf_counter()
            for first in range(0, len(prepared), BATCH):
                with smtplib.SMTP("127.0.0.1", port) as smtp:
                    for envelope_from, to, data in prepared[first : first + BATCH]:
                        smtp.sendmail(envelope_from, [to], data)
                        sent += 1
            sending += time.perf_counter() - began
        db.engine.dispose()
    return sent / sending, 1000 * preparing / max(sent, 1), sent


def _wait_for_workers(redis: Redis) -> None:
    """Until WORKERS rq workers listen (each warms its renderer first: not part of the send)."""
    from rq import Worker

    deadline = time.monotonic() + 300
    while len(Worker.all(connection=redis)) < WORKERS:
        if time.monotonic() > deadline:
            raise SystemExit("the tcma workers did not start within 5 minutes")
        time.sleep(0.2)
    time.sleep(1)


def profile_cpu(env: dict[str, str], count: int, port: int, top: int = 30) -> None:
    """CPU per message of the send path (claim, fill in, SMTP, record) and of the floor loop."""
    import cProfile
    import pstats

    from tcma import create_app
    from tcma.extensions import db
    from tcma.models import Contact, EmailRecipient
    from tcma.services.sending import delivery, sends
    from tcma.services.sending.composing import Personal

    app = create_app({"REDIS_URL": env["TCMA_REDIS_URL"]})
    with app.app_context():
        campaign_id, list_id, principal = seed(count)
        send = sends.create_send(principal, {"campaign_id": campaign_id, "list_ids": [list_id]})
        queued = delivery._enqueue_chunks
        delivery._enqueue_chunks = lambda *args: 0  # the rows, without jobs: this process sends them
        try:
            delivery.start(send)
            db.session.commit()
        finally:
            delivery._enqueue_chunks = queued
        ids = db.session.scalars(
            select(EmailRecipient.id).where(EmailRecipient.send_id == send.id).order_by(EmailRecipient.id)
        ).all()
        half = len(ids) // 2  # the first half measured as it runs, the second half profiled
        began = time.process_time()
        delivery.deliver_chunk(send.id, ids[0], ids[half - 1])
        ours = (time.process_time() - began) * 1000 / half
        profile = cProfile.Profile(time.process_time)
        profile.runcall(delivery.deliver_chunk, send.id, ids[half], ids[-1])
        filler = delivery.filler_for(send)
        people = [
            Personal(r.id, r.uid, r.address, first_name, r.message_id)
            for r, first_name in db.session.execute(
                select(EmailRecipient, Contact.first_name)
                .join(Contact, Contact.id == EmailRecipient.contact_id)
                .where(EmailRecipient.send_id == send.id)
            )
        ]
        began = time.process_time()
        prepared = [(filler.envelope_from(p.uid), p.address, filler.wire(p)) for p in people]
        personalise = (time.process_time() - began) * 1000 / count
        began = time.process_time()
        for start in range(0, len(prepared), BATCH):
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                for envelope_from, to, data in prepared[start : start + BATCH]:
                    smtp.sendmail(envelope_from, [to], data)
        floor = (time.process_time() - began) * 1000 / count
        db.engine.dispose()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(top)
    print(f"CPU per message: ours {ours:.3f} ms (claim, fill in, SMTP, record: one worker), "
          f"floor {floor:.3f} ms (smtplib only), personalisation {personalise:.3f} ms")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    """Run ours, then the floor over the same messages; write the entries."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--profile", type=int, metavar="N", help="CPU profile of N messages instead")
    args = parser.parse_args()
    name = f"tcma_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    handler = CountingHandler()
    port = _free_port()
    if args.profile:  # the server's CPU must not land in the profile: it runs in its own process
        server = _ServerProcess(port)
    else:
        server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    workdir = tempfile.mkdtemp(prefix="tcma-bench-email-")
    env = dict(
        os.environ,
        TCMA_DATABASE_URL=PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
        TCMA_REDIS_URL=REDIS_URL,
        TCMA_STORAGE="local",
        TCMA_STORAGE_PATH=f"{workdir}/files",
        TCMA_SECRET_KEY="bench-" + "x" * 40,
        TCMA_PUBLIC_URL="http://bench.test",
        TCMA_MAIL_BACKEND="smtp",
        TCMA_SMTP_HOST="127.0.0.1",
        TCMA_SMTP_PORT=str(port),
        TCMA_SMTP_SECURITY="none",
        TCMA_EMAIL_SEND_BATCH=str(BATCH),
        TCMA_EMAIL_DAILY_CAP="10000000",
        TCMA_EMAIL_WEEKLY_CAP="1000",
        TCMA_CLICK_SPOOL_DIR=f"{workdir}/spool",
        TCMA_CLICK_SHIP_INTERVAL="0",
    )
    os.environ.update(env)
    Redis.from_url(REDIS_URL).flushdb()
    try:
        tcma = str(Path(sys.executable).with_name("tcma"))
        upgraded = subprocess.run([tcma, "db", "upgrade"], env=env, capture_output=True, text=True)
        if upgraded.returncode:
            raise SystemExit(f"tcma db upgrade failed:\n{upgraded.stderr[-2000:]}")
        if args.profile:
            profile_cpu(env, args.profile, port)
            return
        ours, sent_ours, send_id = measure_ours(env, args.messages, handler)
        floor, personalise_ms, sent_floor = measure_floor(port, send_id)
    finally:
        server.stop()
        Redis.from_url(REDIS_URL).flushdb()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if sent_ours != args.messages or sent_floor != args.messages:
        raise SystemExit(f"sent {sent_ours} (ours) and {sent_floor} (floor) of {args.messages}")
    print(
        f"ours {ours:.0f} msg/s, floor {floor:.0f} msg/s (ratio {ours / floor:.2f}); "
        f"personalisation {personalise_ms:.3f} ms/message; server counted {handler.count}"
    )
    write(
        args.out,
        [
            entry("email_send.messages_per_second", "msg/s", ours, floor, 0.6, "higher"),
            entry(
                "email_send.personalise_ms_per_message", "ms", personalise_ms, personalise_ms, 1.0, "lower"
            ),
        ],
    )


if __name__ == "__main__":
    main()
