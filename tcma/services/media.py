"""Public media and email preferences: what email readers reach without signing in."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from tcma.extensions import db
from tcma.models import Partner
from tcma.storage import NotFound, check_key, get_storage


def public_logo(key: str) -> bytes:
    """The bytes of a partner logo; only keys under logos/ are public."""
    if not check_key(key).startswith("logos/"):
        raise NotFound(key)
    return get_storage().get(key)


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_url(partner_id: int, campaign_id: int | None) -> str:
    """The signed link an email's footer offers (nobody can forge one for another partner)."""
    token = _signer().dumps([partner_id, campaign_id])
    return f"{current_app.config['PUBLIC_URL']}/unsubscribe/{token}"


def record_unsubscribe(token: str, commit: bool) -> str | None:
    """The partner's name for a valid token; with `commit`, the request is recorded as an event."""
    from tcma.services.tracking import record_event

    try:
        partner_id, campaign_id = _signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        return None
    if commit:
        record_event("unsubscribe", partner.id, campaign_id=campaign_id, channel="email")
    return partner.name
