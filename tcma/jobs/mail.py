"""Mail jobs: send one recorded message (retries are scheduled by the service, with backoff)."""

from __future__ import annotations

from tcma.jobs import job
from tcma.services.sending.mail import deliver_mail


@job(queue="high", timeout=120, result_ttl=600)
def send_mail(mail_id: int) -> str:
    """Send the message if it is still to send (idempotent: a sent or failed one is skipped)."""
    return deliver_mail(mail_id)
