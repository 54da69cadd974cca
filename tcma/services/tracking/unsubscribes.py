"""Unsubscribe links in emails: signed per partner and campaign, recorded as events."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from campaigns.vocabulary import EMAIL
from tcma.config import get_settings
from tcma.extensions import db
from tcma.models import Partner


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="unsubscribe")


def unsubscribe_url(partner_id: int, campaign_id: int | None) -> str:
    """The signed link an email's footer offers (nobody can forge one for another partner)."""
    token = _signer().dumps([partner_id, campaign_id])
    return f"{get_settings().public_url}/unsubscribe/{token}"


def unsubscribe_partner(token: str) -> str | None:
    """The name of the partner a valid unsubscribe token speaks for, or None."""
    partner = _partner_of(token)
    return partner[0].name if partner else None


def record_unsubscribe(token: str) -> str | None:
    """Record an email reader's unsubscribe as an event; the partner's name, or None for a bad token."""
    from tcma.services.tracking.events import record_event

    found = _partner_of(token)
    if found is None:
        return None
    partner, campaign_id = found
    record_event("unsubscribe", partner.id, campaign_id=campaign_id, channel=EMAIL)
    return partner.name


def _partner_of(token: str) -> tuple[Partner, int | None] | None:
    try:
        partner_id, campaign_id = _signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    partner = db.session.get(Partner, partner_id)
    return (partner, campaign_id) if partner is not None else None
