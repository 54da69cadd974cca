"""The maintenance pass: what must finish by itself when a worker, a job or Redis was lost.

One pass enqueues the jobs committed use cases left in the outbox, re-enqueues renders a dead
worker held past their lease, re-enqueues mail whose job is gone, purges ended portal
sessions and old outbox rows, renews social tokens about to end and mails partners a digest of
posts awaiting their approval, decides experiments whose rule names an outcome, and recomputes
today's insights snapshot (partners' scores or KPIs) before it is older than
TCMA_INSIGHT_MAX_AGE_SECONDS. Workers run it every
TCMA_MAINTENANCE_INTERVAL seconds (and `tcma maintenance` for cron or a supervisor); a Redis
key lets one pass run per interval whatever the number of workers. Each step is idempotent, so
a pass run twice does no harm.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from tcma.config import get_settings
from tcma.extensions import db
from tcma.models import OutboundMail
from tcma.models.base import utcnow
from tcma.queue import JobCall, get_queue
from tcma.services.accounts.sessions import purge_sessions
from tcma.services.experiments.experiments import decide_due_experiments
from tcma.services.insights.refresh import refresh_snapshots
from tcma.services.launch.launches import recover_stalled
from tcma.services.scheduled_launches import launch_due_campaigns
from tcma.services.sending.mail import MAIL_JOB
from tcma.services.syndication.digests import queue_approval_digests
from tcma.services.syndication.tokens import refresh_due_tokens
from tcma.services.transaction import commit, drain_outbox, enqueue_after_commit, purge_outbox, rollback

# A mail row younger than this may still have its job on its way (enqueued after its commit).
MAIL_GRACE = timedelta(minutes=1)
log = logging.getLogger(__name__)


@dataclass
class MaintenanceReport:
    """What one pass did, step by step; a step that failed is named in `errors`."""

    outbox: int = 0
    assets: int = 0
    mail: int = 0
    sessions: int = 0
    outbox_purged: int = 0
    tokens: int = 0
    digests: int = 0
    email_sends: int = 0
    experiments: int = 0
    launches: int = 0
    insights: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and the command line."""
        text = (f"enqueued {self.outbox} outbox jobs, recovered {self.assets} assets, "
                f"re-enqueued {self.mail} mails, purged {self.sessions} sessions "
                f"and {self.outbox_purged} outbox rows, renewed {self.tokens} social tokens, "
                f"queued {self.digests} approval digests, moved on {self.email_sends} email sends, "
                f"decided {self.experiments} experiments, launched {self.launches} scheduled campaigns, "
                f"refreshed {self.insights} insight snapshots")
        return text + "".join(f"; {step} failed: {error}" for step, error in self.errors.items())


def maintenance_interval() -> float:
    """Seconds between passes (TCMA_MAINTENANCE_INTERVAL; 0 turns the periodic pass off)."""
    return get_settings().maintenance_interval


def run_maintenance() -> MaintenanceReport:
    """Run every step once; one failing step (Redis still down) does not stop the others."""
    report = MaintenanceReport()
    steps: dict[str, Callable[[], int]] = {
        "outbox": drain_outbox, "assets": recover_stalled, "mail": requeue_lost_mail,
        "sessions": purge_sessions, "outbox_purged": purge_outbox, "tokens": refresh_social_tokens,
        "digests": queue_approval_digests, "email_sends": recover_email_sends,
        "experiments": decide_due_experiments, "launches": launch_due_campaigns,
        "insights": refresh_snapshots,
    }
    for name, step in steps.items():
        try:
            setattr(report, name, step())
        except Exception as exc:  # the next pass tries again; the others still run now
            rollback()
            log.exception("maintenance step %s failed", name)
            report.errors[name] = f"{type(exc).__name__}: {exc}"
    return report


def run_maintenance_if_due(interval: float) -> MaintenanceReport | None:
    """Run a pass unless another process ran one less than `interval` seconds ago (None then).

    Without Redis there is one process to care about, and the pass simply runs.
    """
    queue = get_queue()
    if queue.is_async and interval > 0:
        key = queue.queue_name("maintenance:last-pass")
        owner = f"{socket.gethostname()}:{os.getpid()}"
        if not queue.redis.set(key, owner, nx=True, px=max(1, int(interval * 1000))):
            return None
    return run_maintenance()


def recover_email_sends() -> int:
    """Campaign email: orphaned messages to unknown, due sends started, stalled or capped ones resumed."""
    from tcma.services.sending.delivery import recover_sends

    return sum(recover_sends().values())


def refresh_social_tokens() -> int:
    """Renew the social tokens that end soon; accounts that cannot be renewed turn needs_reconnect."""
    return len(refresh_due_tokens().refreshed)


def requeue_lost_mail() -> int:
    """Enqueue again each queued mail whose send job rq no longer holds; returns how many."""
    queue = get_queue()
    if not queue.is_async:
        return 0
    rows = db.session.execute(select(OutboundMail.id, OutboundMail.attempts).where(
        OutboundMail.status == "queued", OutboundMail.created_at < utcnow() - MAIL_GRACE)).all()
    # The job a queued mail waits for is its next attempt's (see services/sending/mail.py).
    expected = {f"mail-{mail_id}-{attempts + 1}": mail_id for mail_id, attempts in rows}
    lost = sorted(set(expected) - queue.pending_job_ids(expected))
    enqueue_after_commit(*(JobCall(MAIL_JOB, (expected[job_id],), job_id=job_id) for job_id in lost))
    commit()
    return len(lost)
