"""Mail tcma sends: recorded first, sent once, retried on temporary failures, failed on permanent ones."""

from __future__ import annotations

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import OutboundMail
from tcma.queue import get_queue
from tcma.services.accounts.passwords import request_password_reset
from tcma.services.sending.mail import deliver_mail
from tests.support.apps import app_on, base_config
from tests.support.factories import make_user
from tests.support.redis_db import redis_url
from tests.support.smtp import RecordingHandler, running_smtp_server


@pytest.fixture
def handler():
    recording = RecordingHandler()
    with running_smtp_server(recording) as controller:
        recording.port = controller.port
        yield recording


def _config(tmp_path, url, port, **extra):
    return base_config(tmp_path, DATABASE_URL=url, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1",
                       SMTP_PORT=port, SMTP_SECURITY="none", SMTP_TIMEOUT=5, **extra)


@pytest.fixture
def smtp_app(migrated_pg, tmp_path, handler):
    url, tables = migrated_pg
    yield from app_on(_config(tmp_path, url, handler.port), tables)


def _mail() -> OutboundMail:
    db.session.expire_all()
    return db.session.scalar(select(OutboundMail))


def test_a_message_is_recorded_then_sent_once(smtp_app, handler):
    user, _ = make_user("marketer")
    request_password_reset(user.email)
    mail = _mail()
    assert (mail.status, mail.attempts, mail.recipient) == ("sent", 1, user.email)
    assert handler.received[0].message["Message-ID"] == mail.message_id
    assert deliver_mail(mail.id) == "skipped"  # a second job for the same message sends nothing
    assert len(handler.received) == 1


def test_a_temporary_failure_keeps_the_message_queued_with_the_reason(smtp_app, handler):
    handler.rcpt_reply = "451 4.3.0 mailbox busy, try later"
    user, _ = make_user("marketer")
    request_password_reset(user.email)
    mail = _mail()
    assert (mail.status, mail.attempts) == ("queued", 1)
    assert "451" in mail.last_error and "mailbox busy" in mail.last_error
    handler.rcpt_reply = None
    assert deliver_mail(mail.id) == "sent"
    assert (_mail().status, _mail().attempts) == ("sent", 2)
    assert len(handler.received) == 1


def test_a_permanent_failure_fails_the_message_at_once(smtp_app, handler):
    handler.rcpt_reply = "550 5.1.1 no such user"
    user, _ = make_user("marketer")
    request_password_reset(user.email)
    mail = _mail()
    assert mail.status == "failed" and "550" in mail.last_error
    assert deliver_mail(mail.id) == "skipped"


def test_on_rq_a_temporary_failure_schedules_a_later_attempt(migrated_pg, tmp_path, handler, redis_client):
    url, tables = migrated_pg
    for _ in app_on(_config(tmp_path, url, handler.port, REDIS_URL=redis_url()), tables):
        handler.rcpt_reply = "421 4.7.0 too many connections"
        user, _ = make_user("marketer")
        request_password_reset(user.email)
        mail = _mail()
        assert mail.status == "queued" and mail.attempts == 0  # recorded; the job waits for a worker
        assert deliver_mail(mail.id) == "retrying"
        registry = ScheduledJobRegistry(queue=get_queue().rq_queue("high"))
        assert registry.get_job_ids() == [f"mail-{mail.id}-2"]
