"""Campaign email jobs: start a send on a partner's behalf; send one chunk of a send (batches claimed
before each SMTP session)."""

from __future__ import annotations

from tcma.jobs import job
from tcma.services.sending.behalf import start_behalf_send as start_send_on_behalf
from tcma.services.sending.delivery import deliver_chunk


@job(queue="default", timeout=600, result_ttl=3600)
def send_chunk(send_id: int, first_id: int, last_id: int) -> str:
    """Send the queued recipients first..last of a send (idempotent: claimed rows are never resent)."""
    return deliver_chunk(send_id, first_id, last_id)


@job(queue="default", timeout=600, result_ttl=3600)
def start_behalf_send(send_id: int) -> str:
    """Render a send on a partner's behalf and start it, if still due and the partner still allows it."""
    return start_send_on_behalf(send_id)
