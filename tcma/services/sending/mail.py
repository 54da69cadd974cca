"""Mail tcma sends: recorded before sending, built when sent, sent at most once, retried with backoff.

`queue_mail(kind, ref_id, recipient)` records an OutboundMail row with its Message-ID and
collects the send job (enqueued after the use case commits). The job claims the row
(queued -> sending) before it talks to the transport, so two jobs for one message never both
send it; a temporary failure puts it back to queued and schedules a retry with jittered
backoff; a permanent one fails it with the transport's reason. The body is composed at send
time by the composer registered for its kind, from the row it is about: no link or token is
stored with the mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import update

from tcma.extensions import db
from tcma.mail import (
    OutgoingMail,
    PermanentMailError,
    TemporaryMailError,
    build_message,
    new_message_id,
    retry_delay,
)
from tcma.models import OutboundMail
from tcma.models.base import utcnow
from tcma.queue import JobCall
from tcma.services.transaction import commit, enqueue_after_commit
from tcma.state import app_state

log = logging.getLogger(__name__)
MAIL_JOB = "tcma.jobs.mail.send_mail"
MAX_ATTEMPTS = 8
Composer = Callable[[int, str], OutgoingMail | None]
COMPOSERS: dict[str, Composer] = {}


def composer(kind: str) -> Callable[[Composer], Composer]:
    """Register the function that builds mail of `kind` from its row id (None: no longer wanted)."""

    def register(func: Composer) -> Composer:
        COMPOSERS[kind] = func
        return func

    return register


def queue_mail(kind: str, ref_id: int, recipient: str) -> OutboundMail:
    """Record a message to send and collect its job (part of the caller's unit of work)."""
    mail = OutboundMail(kind=kind, ref_id=ref_id, recipient=recipient, status="queued",
                        message_id=new_message_id(app_state().mail_settings))
    db.session.add(mail)
    db.session.flush()
    enqueue_after_commit(JobCall(MAIL_JOB, (mail.id,), job_id=f"mail-{mail.id}-1"))
    return mail


def deliver_mail(mail_id: int) -> str:
    """Send one recorded message if it is still to send; returns sent, failed, retrying or skipped."""
    _load_composers()
    claimed = db.session.execute(
        update(OutboundMail).where(OutboundMail.id == mail_id, OutboundMail.status == "queued")
        .values(status="sending", attempts=OutboundMail.attempts + 1).returning(OutboundMail.id)
    ).first()
    commit()
    if claimed is None:
        return "skipped"  # sent, failed, or another job is sending it
    mail = db.session.get(OutboundMail, mail_id)
    outgoing = COMPOSERS[mail.kind](mail.ref_id, mail.message_id)
    if outgoing is None:
        return _finish(mail, "failed", "no longer needed (what it was about is gone or done)")
    state = app_state()
    try:
        mail.transport_id = state.mailer.send(build_message(outgoing, state.mail_settings))
    except TemporaryMailError as exc:
        return _retry(mail, str(exc))
    except PermanentMailError as exc:
        return _finish(mail, "failed", str(exc))
    mail.sent_at = utcnow()
    return _finish(mail, "sent", None)


def _finish(mail: OutboundMail, status: str, error: str | None) -> str:
    mail.status, mail.last_error = status, error
    if error:
        log.warning("mail %s (%s) %s: %s", mail.id, mail.kind, status, error)
    commit()
    return status


def _retry(mail: OutboundMail, error: str) -> str:
    if mail.attempts >= MAX_ATTEMPTS:
        return _finish(mail, "failed", f"gave up after {mail.attempts} attempts: {error}")
    delay = retry_delay(mail.attempts)
    enqueue_after_commit(JobCall(MAIL_JOB, (mail.id,), job_id=f"mail-{mail.id}-{mail.attempts + 1}",
                                 delay=delay))
    _finish(mail, "queued", error)
    return "retrying"


def _load_composers() -> None:
    # The composers live beside what they write about; importing them registers them.
    from tcma.services.accounts import invitations, passwords  # noqa: F401
    from tcma.services.experiments import feedback  # noqa: F401
    from tcma.services.sending import delivery  # noqa: F401
    from tcma.services.syndication import digests  # noqa: F401
