"""A partner's sends of a campaign email: create, preview, test to themselves, send now or at a
local time, cancel; progress and per-recipient status; the marketer's numbers across partners."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from campaigns.timing import resolve_local
from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Asset, Campaign, EmailRecipient, EmailSend, Partner, User
from tcma.services.accounts.auth import Principal
from tcma.services.paging import Page, Window, read_window
from tcma.services.scoping import get_scoped, require_vendor, scope_select
from tcma.services.sending import delivery
from tcma.services.sending.contacts import lists_of_partner, owner_partner
from tcma.services.sending.mail import queue_mail
from tcma.services.transaction import commit

DEFAULT_GREETING = "Hello {first_name},"
TEST_MAIL = "campaign_test"


def create_send(principal: Principal, values: dict[str, Any]) -> EmailSend:
    """A draft send of a campaign's email (as rendered for the caller's partner) to their lists."""
    partner_id = owner_partner(principal)
    asset = _email_asset(values["campaign_id"], partner_id)
    lists = lists_of_partner(partner_id, values["list_ids"])
    if not lists:
        raise InvalidInput("pick at least one list", {"list_ids": ["at least one list"]})
    greeting = (values.get("greeting") or DEFAULT_GREETING).strip()
    send = EmailSend(
        partner_id=partner_id,
        campaign_id=asset.campaign_id,
        template_version_id=asset.template_version_id,
        variant=asset.variant,
        list_ids=sorted(c.id for c in lists),
        greeting=greeting,
        status="draft",
        created_by_id=principal.user_id,
    )
    db.session.add(send)
    db.session.flush()
    delivery.prepare(send, asset.fields or {})
    commit()
    return send


def _email_asset(campaign_id: int, partner_id: int) -> Asset:
    """The partner's email asset of the campaign: the partner is in its segment, it has an email."""
    asset = db.session.scalar(
        select(Asset)
        .where(Asset.campaign_id == campaign_id, Asset.partner_id == partner_id, Asset.output == "email")
        .limit(1)
    )
    if asset is None:
        if db.session.get(Campaign, campaign_id) is None:
            raise NotFoundError(f"campaign {campaign_id} not found")
        raise InvalidInput(
            f"campaign {campaign_id} has no email for this partner",
            {"campaign_id": ["no email output for this partner"]},
        )
    return asset


def sendable_campaigns(principal: Principal) -> list[tuple[int, str]]:
    """(id, name) of the campaigns whose email the caller's partner may send, newest first."""
    partner_id = owner_partner(principal)
    return list(db.session.execute(
        select(Campaign.id, Campaign.name).where(Campaign.id.in_(
            select(Asset.campaign_id).where(Asset.partner_id == partner_id, Asset.output == "email")))
        .order_by(Campaign.id.desc())).all())


def get_send(principal: Principal, send_id: int) -> EmailSend:
    """A send the caller may see (another partner's answers 404)."""
    return get_scoped(EmailSend, send_id, principal, what="email send")


def _own_send(principal: Principal, send_id: int) -> EmailSend:
    owner_partner(principal)
    return get_send(principal, send_id)


def list_sends(principal: Principal, campaign_id: int | None = None) -> list[EmailSend]:
    """The sends the caller may see, newest first."""
    stmt = scope_select(select(EmailSend), EmailSend.partner_id, principal)
    if campaign_id:
        stmt = stmt.where(EmailSend.campaign_id == campaign_id)
    return list(db.session.scalars(stmt.order_by(EmailSend.id.desc())))


def preview_send(principal: Principal, send_id: int) -> dict[str, Any]:
    """Subject, preheader, From, Reply-To, HTML and text as a recipient without a first name sees them."""
    send = get_send(principal, send_id)
    message = delivery.filler_for(send).message(delivery.sample_person(send))
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    return {
        "subject": send.subject,
        "preheader": send.preheader,
        "html": html,
        "text": text,
        "from": str(message["From"]),
        "reply_to": str(message["Reply-To"] or ""),
    }


def test_send(principal: Principal, send_id: int) -> dict[str, Any]:
    """Mail the send to the caller's own address first, marked as a test (sent once, by a job)."""
    send = _own_send(principal, send_id)
    user = db.session.get(User, principal.user_id)
    mail = queue_mail(TEST_MAIL, send.id, user.email)
    commit()
    return {"to": user.email, "message_id": mail.message_id}


def schedule_send(principal: Principal, send_id: int, local_at: datetime | None) -> EmailSend:
    """Send now, or at `local_at` on the partner's wall clock (its time zone)."""
    send = _own_send(principal, send_id)
    if send.status not in ("draft", "scheduled"):
        raise ConflictError(f"the send is {send.status}; only a draft or scheduled send can be scheduled")
    if not send.list_ids:
        raise InvalidInput("pick at least one list", {"list_ids": ["at least one list"]})
    partner = db.session.get(Partner, send.partner_id)
    if local_at is None:
        send.local_at, send.time_zone, send.scheduled_at = None, partner.time_zone, None
        delivery.start(send)
    else:
        when = resolve_local(local_at.replace(tzinfo=None), partner.time_zone)
        if when <= datetime.now(when.tzinfo):
            raise InvalidInput(
                f"{local_at:%Y-%m-%d %H:%M} in {partner.time_zone} has passed", {"local_at": ["in the past"]}
            )
        send.status, send.scheduled_at = "scheduled", when
        send.local_at, send.time_zone = local_at.strftime("%Y-%m-%dT%H:%M:%S"), partner.time_zone
    commit()
    return send


def cancel_send(principal: Principal, send_id: int) -> EmailSend:
    """Stop a send: messages not yet handed over are not sent (they stay queued, as cancelled)."""
    send = _own_send(principal, send_id)
    if send.status in ("done", "cancelled"):
        raise ConflictError(f"the send is already {send.status}")
    send.status = "cancelled"
    commit()
    return send


def send_numbers(send_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per send: recipients by status, and human/machine opens and clicks, unsubscribes."""
    numbers: dict[int, dict[str, int]] = {i: {} for i in send_ids}
    if not send_ids:
        return numbers
    for send_id, status, count in db.session.execute(
        select(EmailRecipient.send_id, EmailRecipient.status, func.count())
        .where(EmailRecipient.send_id.in_(send_ids))
        .group_by(EmailRecipient.send_id, EmailRecipient.status)
    ):
        numbers[send_id][status] = count
    for send_id, name, count in delivery.engagement(send_ids):
        numbers[send_id][name] = count
    return numbers


def list_recipients(
    principal: Principal, send_id: int, status: str | None, page: int, per_page: int
) -> tuple[list[EmailRecipient], int]:
    """Each message of a send with its address and status (the partner's users only); one page."""
    found = recipient_page(principal, send_id, status, Window(page, per_page))
    return found.items, found.total


def recipient_page(principal: Principal, send_id: int, status: str | None, window: Window
                   ) -> Page[EmailRecipient]:
    """Each message of a send (the partner's users only), by id: a page by number or after an id."""
    send = _own_send(principal, send_id)
    stmt = select(EmailRecipient).where(EmailRecipient.send_id == send.id)
    if status:
        stmt = stmt.where(EmailRecipient.status == status)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows, more = read_window(stmt, [EmailRecipient.id], window)
    recipients = [row[0] for row in rows]
    return Page(recipients, total, (recipients[-1].id,) if more else None)


def campaign_send_stats(principal: Principal, campaign_id: int) -> dict[str, Any]:
    """A marketer's numbers for a campaign's sends across partners: no address, no name."""
    require_vendor(principal)
    if db.session.get(Campaign, campaign_id) is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    sends = list(
        db.session.scalars(
            select(EmailSend)
            .where(EmailSend.campaign_id == campaign_id)
            .order_by(EmailSend.partner_id, EmailSend.id)
        )
    )
    numbers = send_numbers([s.id for s in sends])
    per_partner = [
        {"send_id": s.id, "partner_id": s.partner_id, "status": s.status, **summary(numbers[s.id])}
        for s in sends
    ]
    totals: dict[str, int] = {}
    for row in per_partner:
        for key, value in row.items():
            if key not in ("send_id", "partner_id", "status"):
                totals[key] = totals.get(key, 0) + value
    return {"campaign_id": campaign_id, "totals": totals, "sends": per_partner}


SUMMARY = (
    "recipients",
    "sent",
    "delivered",
    "skipped",
    "unknown",
    "failed",
    "bounced",
    "complained",
    "held_for_winner",
    "opened",
    "opened_machine",
    "clicked",
    "clicked_machine",
    "unsubscribed",
)


def summary(counts: dict[str, int]) -> dict[str, int]:
    """The numbers a send shows: delivered = sent and not bounced; opens and clicks of people,
    with machine activity (privacy proxies, link scanners) beside them."""
    by_status = {
        k: counts.get(k, 0)
        for k in ("queued", "sending", "sent", "skipped", "unknown", "failed", "bounced", "complained",
                  "held_for_winner")
    }
    values = {
        "recipients": sum(by_status.values()),
        **by_status,
        "delivered": by_status["sent"] + by_status["complained"],
        **{
            k: counts.get(k, 0)
            for k in ("opened", "opened_machine", "clicked", "clicked_machine", "unsubscribed")
        },
    }
    values["sent"] = by_status["sent"] + by_status["bounced"] + by_status["complained"]
    return {k: values[k] for k in (*SUMMARY, "queued", "sending")}
