"""The vendor sending a campaign email in partners' names, where a partner allows it.

A partner opts in (which of its lists, which tags, how many sends in 30 days) and may withdraw at
any time: what has not gone out for it is cancelled. A marketer's send becomes one ordinary
EmailSend per consenting partner, so each goes out exactly as the partner's own would: the
partner's name and From rules, its suppressions, the weekly and daily caps, its unsubscribe link.
The vendor sees counts and reasons, never an address.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from campaigns.timing import resolve_local
from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import (
    Asset,
    BehalfSend,
    Campaign,
    Contact,
    ContactListMember,
    EmailSend,
    Partner,
    SendConsent,
)
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import require_vendor
from tcma.services.sending import delivery
from tcma.services.sending.contacts import clean_tags, lists_of_partner, owner_partner
from tcma.services.transaction import commit, enqueue_after_commit

PENDING = ("draft", "scheduled", "sending")
MONTH = timedelta(days=30)
MAX_SENDS_PER_MONTH = 100  # the most sends on a partner's behalf it may allow in 30 days
WITHDRAWN = "the partner withdrew its consent to sends on its behalf"
DEFAULT_GREETING = "Hello {first_name},"


# The partner's consent ----------------------------------------------------------------------------


def get_consent(principal: Principal) -> SendConsent | None:
    """The caller's partner's consent (None: never given)."""
    partner_id = owner_partner(principal)
    return db.session.scalar(select(SendConsent).where(SendConsent.partner_id == partner_id))


def grant_consent(principal: Principal, values: dict[str, Any]) -> SendConsent:
    """Allow (or change what is allowed to) the vendor's sends in the partner's name.

    Sends on its behalf that have not started yet follow the new lists and tags.
    """
    partner_id = owner_partner(principal)
    limit = values["max_sends_per_month"]
    if not isinstance(limit, int) or not 1 <= limit <= MAX_SENDS_PER_MONTH:
        raise InvalidInput(
            f"the number of sends in 30 days must be a whole number from 1 to {MAX_SENDS_PER_MONTH}",
            {"max_sends_per_month": [f"1 to {MAX_SENDS_PER_MONTH}"]},
        )
    lists = lists_of_partner(partner_id, values["list_ids"])
    if not lists:
        raise InvalidInput("pick at least one list", {"list_ids": ["at least one list"]})
    tags = clean_tags(values.get("tags"))
    consent = db.session.scalar(
        select(SendConsent).where(SendConsent.partner_id == partner_id).with_for_update()
    )
    if consent is None:
        consent = SendConsent(partner_id=partner_id)
        db.session.add(consent)
    if consent.status != "active":
        consent.granted_at, consent.granted_by_id = utcnow(), principal.user_id
    consent.status, consent.withdrawn_at, consent.withdrawn_by_id = "active", None, None
    consent.list_ids = sorted(c.id for c in lists)
    consent.tags = tags
    consent.max_sends_per_month = limit
    db.session.execute(
        update(EmailSend)
        .where(
            EmailSend.partner_id == partner_id,
            EmailSend.behalf_id.is_not(None),
            EmailSend.status.in_(("draft", "scheduled")),
        )
        .values(list_ids=consent.list_ids, tags=tags or None)
    )
    commit()
    return consent


def withdraw_consent(principal: Principal) -> tuple[SendConsent, int]:
    """Withdraw the partner's consent; its sends on its behalf not yet done are cancelled.

    Returns the consent and how many sends were cancelled. A batch already handed to the mail
    server goes out; nothing is claimed after this commits (claims read the send's status under
    a shared lock that this update waits for).
    """
    partner_id = owner_partner(principal)
    consent = db.session.scalar(
        select(SendConsent).where(SendConsent.partner_id == partner_id).with_for_update()
    )
    if consent is None:
        raise NotFoundError("this partner has not allowed sends on its behalf")
    if consent.status == "withdrawn":
        raise ConflictError(f"the consent was already withdrawn on {consent.withdrawn_at:%Y-%m-%d %H:%M} UTC")
    consent.status, consent.withdrawn_at, consent.withdrawn_by_id = "withdrawn", utcnow(), principal.user_id
    cancelled = db.session.execute(
        update(EmailSend)
        .where(
            EmailSend.partner_id == partner_id,
            EmailSend.behalf_id.is_not(None),
            EmailSend.status.in_(PENDING),
        )
        .values(status="cancelled", detail=WITHDRAWN)
    ).rowcount
    commit()
    return consent, cancelled


def consents_for_vendor(principal: Principal) -> list[dict[str, Any]]:
    """Every partner's consent as the vendor sees it: numbers of lists and contacts, no address."""
    require_vendor(principal)
    consents = list(
        db.session.execute(
            select(SendConsent, Partner.name)
            .join(Partner, Partner.id == SendConsent.partner_id)
            .order_by(Partner.name, Partner.id)
        )
    )
    reach = _reach({c.partner_id: c for c, _ in consents})
    return [
        {
            "partner_id": c.partner_id,
            "partner_name": name,
            "status": c.status,
            "lists": len(c.list_ids),
            "tags": c.tags,
            "max_sends_per_month": c.max_sends_per_month,
            "contacts": reach.get(c.partner_id, 0),
            "granted_at": c.granted_at,
            "withdrawn_at": c.withdrawn_at,
        }
        for c, name in consents
    ]


def _reach(consents: dict[int, SendConsent]) -> dict[int, int]:
    """Per partner, how many distinct contacts its consent's lists and tags allow."""
    list_ids = [i for c in consents.values() for i in c.list_ids]
    if not list_ids:
        return {}
    rows = db.session.execute(
        select(Contact.partner_id, Contact.id, Contact.tags, ContactListMember.list_id)
        .join(ContactListMember, ContactListMember.contact_id == Contact.id)
        .where(ContactListMember.list_id.in_(list_ids))
    )
    seen: dict[int, set[int]] = {}
    for partner_id, contact_id, tags, list_id in rows:
        consent = consents.get(partner_id)
        if consent and list_id in consent.list_ids and delivery.tags_allow(consent.tags, tags):
            seen.setdefault(partner_id, set()).add(contact_id)
    return {partner_id: len(ids) for partner_id, ids in seen.items()}


# The vendor's send -------------------------------------------------------------------------------


def create_behalf_send(principal: Principal, values: dict[str, Any]) -> BehalfSend:
    """Send a campaign's email on behalf of every partner that allows it, now or at `local_at` on
    each partner's wall clock; the partners left out are listed with the reason."""
    require_vendor(principal)
    campaign = db.session.get(Campaign, values["campaign_id"])
    if campaign is None:
        raise NotFoundError(f"campaign {values['campaign_id']} not found")
    assets = _email_assets(campaign.id)
    if not assets:
        raise InvalidInput(
            f"campaign {campaign.id} has no email rendered for any partner",
            {"campaign_id": ["no email output"]},
        )
    local_at: datetime | None = values.get("local_at")
    behalf = BehalfSend(
        campaign_id=campaign.id,
        greeting=(values.get("greeting") or DEFAULT_GREETING).strip(),
        local_at=local_at.strftime("%Y-%m-%dT%H:%M:%S") if local_at else None,
        created_by_id=principal.user_id,
    )
    db.session.add(behalf)
    db.session.flush()
    consents = {
        c.partner_id: c
        for c in db.session.scalars(select(SendConsent).where(SendConsent.partner_id.in_(list(assets))))
    }
    recent = _recent_behalf_sends(list(consents))
    skipped, now = [], utcnow()
    partners = db.session.scalars(select(Partner).where(Partner.id.in_(list(assets))).order_by(Partner.id))
    for partner in partners:
        when = resolve_local(local_at.replace(tzinfo=None), partner.time_zone) if local_at else now
        reason = _left_out(partner, consents.get(partner.id), recent.get(partner.id, 0),
                           when if local_at else None, now)
        if reason:
            skipped.append({"partner_id": partner.id, "partner_name": partner.name, "reason": reason})
            continue
        _new_partner_send(behalf, partner, assets[partner.id], consents[partner.id], when, local_at)
    behalf.skipped = skipped
    db.session.flush()
    if local_at is None:
        for send_id in db.session.scalars(select(EmailSend.id).where(EmailSend.behalf_id == behalf.id)):
            enqueue_after_commit(delivery.behalf_start_job(send_id))
    commit()
    return behalf


def _email_assets(campaign_id: int) -> dict[int, Asset]:
    """The campaign's email asset per partner (the partners in its segment)."""
    assets: dict[int, Asset] = {}
    for asset in db.session.scalars(
        select(Asset).where(Asset.campaign_id == campaign_id, Asset.output == "email").order_by(Asset.id)
    ):
        assets.setdefault(asset.partner_id, asset)
    return assets


def _recent_behalf_sends(partner_ids: list[int]) -> dict[int, int]:
    """Sends on each partner's behalf created in the last 30 days that were not cancelled before
    they started (what the partner's monthly allowance counts)."""
    if not partner_ids:
        return {}
    return dict(
        db.session.execute(
            select(EmailSend.partner_id, func.count())
            .where(
                EmailSend.partner_id.in_(partner_ids),
                EmailSend.behalf_id.is_not(None),
                EmailSend.created_at >= utcnow() - MONTH,
                (EmailSend.status != "cancelled") | EmailSend.started_at.is_not(None),
            )
            .group_by(EmailSend.partner_id)
        ).all()
    )


def _left_out(partner: Partner, consent: SendConsent | None, recent: int, when: datetime | None,
              now: datetime) -> str | None:
    """Why this partner gets no send on its behalf, or None."""
    if partner.status != "active":
        return f"the partner is {partner.status}"
    if consent is None:
        return "has not allowed sends on its behalf"
    if consent.status != "active":
        return f"withdrew its consent on {consent.withdrawn_at:%Y-%m-%d}"
    if recent >= consent.max_sends_per_month:
        return f"its limit is reached: {consent.max_sends_per_month} sends on its behalf in 30 days"
    if when is not None and when <= now:
        local = when.astimezone(_zone(partner.time_zone))
        return f"{local:%Y-%m-%d %H:%M} in {partner.time_zone} has passed"
    return None


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _new_partner_send(behalf: BehalfSend, partner: Partner, asset: Asset, consent: SendConsent,
                      when: datetime, local_at: datetime | None) -> EmailSend:
    send = EmailSend(
        partner_id=partner.id,
        campaign_id=behalf.campaign_id,
        template_version_id=asset.template_version_id,
        variant=asset.variant,
        list_ids=list(consent.list_ids),
        tags=list(consent.tags) or None,
        greeting=behalf.greeting,
        status="scheduled",
        scheduled_at=when,
        local_at=behalf.local_at,
        time_zone=partner.time_zone if local_at else None,
        created_by_id=behalf.created_by_id,
        behalf_id=behalf.id,
    )
    db.session.add(send)
    return send


def start_behalf_send(send_id: int) -> str:
    """Render a send on a partner's behalf and start it, if it is still due and still allowed."""
    send = db.session.scalar(select(EmailSend).where(EmailSend.id == send_id).with_for_update())
    if send is None or send.status != "scheduled":
        commit()
        return "not due"
    consent = db.session.scalar(select(SendConsent).where(SendConsent.partner_id == send.partner_id))
    if consent is None or consent.status != "active":
        send.status, send.detail = "cancelled", WITHDRAWN
        commit()
        return "withdrawn"
    asset = _email_assets(send.campaign_id).get(send.partner_id)
    try:
        if asset is None:
            raise InvalidInput("the partner's email of this campaign is gone")
        delivery.prepare(send, asset.fields or {})
    except InvalidInput as exc:
        db.session.rollback()
        send = db.session.get(EmailSend, send_id)
        send.status, send.detail = "cancelled", exc.message
        commit()
        return "failed"
    delivery.start(send)
    commit()
    return "started"


def campaigns_with_email(principal: Principal) -> list[tuple[int, str]]:
    """(id, name) of the campaigns with an email rendered for some partner, newest first."""
    require_vendor(principal)
    return list(db.session.execute(
        select(Campaign.id, Campaign.name)
        .where(Campaign.id.in_(select(Asset.campaign_id).where(Asset.output == "email")))
        .order_by(Campaign.id.desc())
    ).all())


def list_behalf_sends(principal: Principal, campaign_id: int | None = None) -> list[BehalfSend]:
    """The vendor's sends on partners' behalf, newest first."""
    require_vendor(principal)
    stmt = select(BehalfSend).order_by(BehalfSend.id.desc())
    if campaign_id:
        stmt = stmt.where(BehalfSend.campaign_id == campaign_id)
    return list(db.session.scalars(stmt))


def get_behalf_send(principal: Principal, behalf_id: int) -> BehalfSend:
    """One of the vendor's sends on partners' behalf."""
    require_vendor(principal)
    behalf = db.session.get(BehalfSend, behalf_id)
    if behalf is None:
        raise NotFoundError(f"send on behalf {behalf_id} not found")
    return behalf


def partner_sends(behalf: BehalfSend) -> list[tuple[EmailSend, str]]:
    """The send of each partner included, with the partner's name."""
    return list(
        db.session.execute(
            select(EmailSend, Partner.name)
            .join(Partner, Partner.id == EmailSend.partner_id)
            .where(EmailSend.behalf_id == behalf.id)
            .order_by(EmailSend.partner_id)
        ).all()
    )


def cancel_behalf_send(principal: Principal, behalf_id: int) -> BehalfSend:
    """Stop every partner's send of it that is not done (messages handed over stay sent)."""
    behalf = get_behalf_send(principal, behalf_id)
    if behalf.cancelled_at is not None:
        raise ConflictError("this send on partners' behalf is already cancelled")
    behalf.cancelled_at = utcnow()
    db.session.execute(
        update(EmailSend)
        .where(EmailSend.behalf_id == behalf.id, EmailSend.status.in_(PENDING))
        .values(status="cancelled", detail="cancelled by the vendor")
    )
    commit()
    return behalf


def describe_behalf(behalf: BehalfSend) -> dict[str, Any]:
    """What the vendor sees of its send on partners' behalf: per partner its status and numbers,
    the totals, and who was left out and why. Never an address."""
    from tcma.services.sending.sends import send_numbers, summary

    rows = partner_sends(behalf)
    numbers = send_numbers([send.id for send, _ in rows])
    per_partner, totals = [], {}
    for send, name in rows:
        counts = summary(numbers[send.id])
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        per_partner.append({
            "send_id": send.id, "partner_id": send.partner_id, "partner_name": name, "status": send.status,
            "detail": send.detail, "scheduled_at": send.scheduled_at, **counts,
        })
    return {
        "id": behalf.id, "campaign_id": behalf.campaign_id, "greeting": behalf.greeting,
        "local_at": behalf.local_at, "created_at": behalf.created_at, "cancelled_at": behalf.cancelled_at,
        "sends": per_partner, "skipped": behalf.skipped, "totals": totals,
    }
