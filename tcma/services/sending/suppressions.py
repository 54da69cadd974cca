"""Addresses never to mail: per partner (unsubscribes, hard bounces, erasures) and for every partner
(complaints). Only a salted hash of each address is kept, so erasure leaves no address behind."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select

from campaigns.vocabulary import SUPPRESSION_REASONS
from tcma.config import get_settings
from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.models import Suppression


def normalise_address(address: str, field: str = "email") -> str:
    """The address as tcma stores it (email-validator's normal form, lower case), or InvalidInput."""
    text = (address or "").strip()
    if len(text) > 254:
        raise InvalidInput(f"{field} is longer than 254 characters", {field: ["at most 254 characters"]})
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"{field} {text!r} is not a valid address: {exc}", {field: [str(exc)]}) from None
    return checked.normalized.lower()


def address_hash(address: str) -> str:
    """The salted hash an address is known by once it may no longer be kept."""
    settings = get_settings()
    salt = (
        settings.email_hash_salt
        or hashlib.sha256(f"tcma-address-hash:{settings.secret_key}".encode()).hexdigest()
    )
    return hmac.new(salt.encode(), address.strip().lower().encode(), hashlib.sha256).hexdigest()


def suppress(partner_id: int | None, hashed: str, reason: str, source: str | None = None) -> bool:
    """Add the address (hashed) to a partner's list, or the global list; False if it was there."""
    if reason not in SUPPRESSION_REASONS:
        raise ValueError(f"unknown suppression reason {reason!r}")
    owner = Suppression.partner_id.is_(None) if partner_id is None else Suppression.partner_id == partner_id
    if db.session.scalar(
        select(Suppression.id)
        .where(Suppression.address_hash == hashed, owner)
        .where(Suppression.reason == reason)
    ):
        return False
    db.session.add(
        Suppression(
            partner_id=partner_id, address_hash=hashed, reason=reason, source=(source or "")[:120] or None
        )
    )
    db.session.flush()
    return True


def suppressed_among(partner_id: int, hashes: Iterable[str]) -> dict[str, str]:
    """Of these hashes, the ones this partner may not mail, each with its reason."""
    wanted = list(set(hashes))
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Suppression.address_hash, Suppression.reason)
        .where(Suppression.address_hash.in_(wanted))
        .where(or_(Suppression.partner_id == partner_id, Suppression.partner_id.is_(None)))
        .order_by(Suppression.id)
    ).all()
    return {hashed: reason for hashed, reason in rows}


def suppression_counts(partner_id: int) -> dict[str, int]:
    """How many addresses a partner may not mail, by reason (complaints about any partner apart)."""
    rows = db.session.execute(
        select(Suppression.reason, func.count())
        .where(Suppression.partner_id == partner_id)
        .group_by(Suppression.reason)
    ).all()
    return {reason: count for reason, count in rows}
