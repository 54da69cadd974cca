"""One-click unsubscribe (RFC 8058) from a partner's campaign email: the recipient's signed link
suppresses that address for that partner at once, and is recorded as an event."""

from __future__ import annotations

from campaigns.vocabulary import EMAIL
from tcma.extensions import db
from tcma.models import EmailRecipient, EmailSend
from tcma.services.sending.composing import recipient_of_token
from tcma.services.sending.suppressions import suppress
from tcma.services.transaction import commit


def unsubscribe_target(token: str) -> str | None:
    """The name of the partner whose emails the token's recipient would stop, or None."""
    found = _recipient(token)
    return found[1].partner.name if found else None


def unsubscribe_recipient(token: str, how: str) -> str | None:
    """Suppress the token's recipient for its partner now; the partner's name, or None for a bad token."""
    from tcma.services.tracking.events import record_event

    found = _recipient(token)
    if found is None:
        return None
    recipient, send = found
    added = suppress(recipient.partner_id, recipient.address_hash, "unsubscribed", how)
    name = send.partner.name
    commit()
    if added:
        record_event(
            "unsubscribe",
            recipient.partner_id,
            campaign_id=send.campaign_id,
            channel=EMAIL,
            variant=send.variant,
            send_id=recipient.uid,
            uid=f"unsub-{recipient.uid}",
            data={"how": how},
        )
    return name


def _recipient(token: str) -> tuple[EmailRecipient, EmailSend] | None:
    recipient_id = recipient_of_token(token)
    recipient = db.session.get(EmailRecipient, recipient_id) if recipient_id else None
    if recipient is None:
        return None
    return recipient, db.session.get(EmailSend, recipient.send_id)
