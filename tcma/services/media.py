"""Public media and email preferences: what email readers reach without signing in."""

from __future__ import annotations

from sqlalchemy import select

from tcma.extensions import db
from tcma.models import Partner
from tcma.storage import NotFound, check_key, get_storage


def public_logo(key: str) -> bytes:
    """The bytes of a partner logo; only keys under logos/ are public."""
    if not check_key(key).startswith("logos/"):
        raise NotFound(key)
    return get_storage().get(key)


def record_unsubscribe(slug: str, campaign_id: int | None, commit: bool) -> str | None:
    """The partner's name; with `commit`, the unsubscribe is recorded as an event for them."""
    from tcma.services.tracking import record_event

    partner = db.session.scalar(select(Partner).where(Partner.slug == slug))
    if partner is None:
        return None
    if commit:
        record_event("unsubscribe", partner.id, campaign_id=campaign_id, channel="email")
    return partner.name
