"""Delivering a send: render once, one row per recipient, jobs that claim and send in batches.

At most once: a batch of recipients is claimed (queued -> sending, Message-ID fixed) and committed
before the SMTP transaction; afterwards each is marked sent, failed, or back to queued (refused
for now, untouched by the server). A worker that dies mid-batch leaves its rows "sending": the
maintenance pass turns them "unknown" and nothing sends them again. Suppressions (the partner's
and the global complaints list) and the weekly per-contact cap are checked at claim time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from html import escape
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update

import campaigns
import renderers
from tcma.config import get_settings
from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.mail import OutgoingMail, TemporaryMailError, WireMessage, new_message_id, send_batch
from tcma.mail_throttle import Admission, DomainThrottle, domain_of
from tcma.models import (
    Contact,
    ContactListMember,
    EmailRecipient,
    EmailSend,
    Event,
    OutboundMail,
    TemplateVersion,
)
from tcma.models.base import insert_for, utcnow
from tcma.queue import JobCall
from tcma.services.catalogue.templates import template_for_version
from tcma.services.launch.renders import partner_profile
from tcma.services.sending.composing import (
    GREETING,
    PIXEL,
    UNSUBSCRIBE,
    MessageFiller,
    Personal,
    PreparedEmail,
    preheader_of,
    with_preheader,
)
from tcma.services.sending.domains import signer_for
from tcma.services.sending.mail import composer
from tcma.services.sending.suppressions import suppressed_among
from tcma.services.transaction import commit, enqueue_after_commit
from tcma.state import app_state

log = logging.getLogger(__name__)
SEND_JOB = "tcma.jobs.email.send_chunk"
BEHALF_START_JOB = "tcma.jobs.email.start_behalf_send"
COUNTED = ("sending", "sent", "unknown", "bounced", "complained")  # messages that (may) have gone out
SENDING_LEASE = timedelta(minutes=15)  # past the send job's timeout: a row still "sending" is orphaned
STALLED = timedelta(minutes=5)
BUSY_WAIT = 2.0  # seconds before a chunk tries again a domain whose slots were all taken


# Rendering once --------------------------------------------------------------------------------


def prepare(send: EmailSend, fields: dict[str, Any]) -> None:
    """Render the partner's email once, with placeholders for what each recipient gets."""
    prepared = render_email(send, fields, send.variant)
    send.subject, send.preheader, send.html, send.text = (
        prepared.subject, prepared.preheader, prepared.html, prepared.text)


def render_email(send: EmailSend, fields: dict[str, Any], variant: str | None) -> PreparedEmail:
    """The partner's email of the send in `variant` (its own, or an experiment arm's), placeholders kept."""
    partner = send.partner
    version = db.session.get(TemplateVersion, send.template_version_id)
    tpl = template_for_version(version)
    values = dict(fields)
    if any(f.name == "greeting" for f in tpl.fields):
        values["greeting"] = GREETING
    from tcma.services.tracking.links import LinkBatch

    links = LinkBatch(partner.id, send.campaign_id, None, variant)
    kit = partner.brand_kit
    base = get_settings().public_url
    logo_url = f"{base}/media/{kit.logo_key}" if kit and kit.logo_key else ""
    logo_dark_url = f"{base}/media/{kit.logo_dark_key}" if kit and kit.logo_dark_key else ""

    def resolve() -> campaigns.RenderRequest:
        return campaigns.resolve_request(
            tpl,
            partner_profile(partner),
            "email",
            variant=variant,
            fields=values,
            link_for=links.link_for,
            unsubscribe_url=UNSUBSCRIBE,
            pixel_url=PIXEL,
            logo_url=logo_url,
            logo_dark_url=logo_dark_url,
        )

    try:
        request = resolve()
        if not links.save():
            request = resolve()
        result = app_state().renderer.render(request.spec)
    except (campaigns.RequestError, campaigns.FieldError, renderers.RenderError) as exc:
        raise InvalidInput(f"the email cannot be rendered: {exc}", {"campaign_id": [str(exc)]}) from None
    preheader = result.extra.get("preheader") or preheader_of(version.spec, _unfreeze(request.spec.values))
    html = result.data.decode("utf-8")
    # A template that shows its preheader itself (mj-preview) gets no second one.
    html = html if escape(preheader) in html else with_preheader(html, preheader)
    return PreparedEmail(result.extra["subject"], preheader, html, result.text or "")


def _unfreeze(values: Any) -> Any:
    if isinstance(values, tuple) and all(
        isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) for v in values
    ):
        return {k: _unfreeze(v) for k, v in values}
    return values


def filler_for(send: EmailSend, arm: Any = None) -> MessageFiller:
    """What fills each recipient's message of this send (in an experiment `arm`'s render, if given)."""
    from tcma.services.tracking.events import pixel_urls

    partner = send.partner
    settings = get_settings()
    own = arm or send
    prepared = PreparedEmail(own.subject or "", own.preheader or "", own.html or "", own.text or "")
    variant = arm.variant if arm else send.variant
    return MessageFiller(
        prepared,
        partner_name=partner.name,
        reply_to=_reply_to(partner),
        greeting=send.greeting,
        pixel_for=pixel_urls(partner.id, send.campaign_id, None, variant),
        mail_settings=app_state().mail_settings,
        list_id=f"<partner-{partner.id}.{settings.email_sending_domain}>",
        signer=signer_for(partner.id),
    )


class SendFillers:
    """A send's fillers: its own, and one per experiment arm its recipients were given."""

    def __init__(self, send: EmailSend) -> None:
        from tcma.services.experiments.rollout import arm_emails

        self.own = filler_for(send)
        self.arms = {variant: filler_for(send, arm) for variant, arm in arm_emails(send.id).items()}

    def of(self, person: Personal) -> MessageFiller:
        """The filler of the person's variant."""
        return self.arms.get(person.variant or "", self.own)

    def wire(self, person: Personal) -> bytes:
        return self.of(person).wire(person)

    def envelope_from(self, uid: str) -> str:
        return self.own.envelope_from(uid)


def _reply_to(partner) -> str | None:
    address = partner.brand_kit.contact_email if partner.brand_kit else None
    if not address:
        return None
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        log.warning("partner %s has a contact address that is not valid; no Reply-To", partner.id)
        return None


def sample_person(send: EmailSend, address: str = "recipient@example.com") -> Personal:
    """A stand-in recipient for previews and tests (its links and pixel count nothing)."""
    return Personal(
        recipient_id=0,
        uid="preview",
        address=address,
        first_name=None,
        message_id=new_message_id(app_state().mail_settings),
    )


@composer("campaign_test")
def compose_test(send_id: int, message_id: str) -> OutgoingMail | None:
    """The test a partner's user sends themselves: the send as its recipients will get it."""
    send = db.session.get(EmailSend, send_id)
    mail = db.session.scalar(select(OutboundMail).where(OutboundMail.message_id == message_id))
    if send is None or mail is None:
        return None
    message = filler_for(send).message(sample_person(send, mail.recipient))
    return OutgoingMail(
        to=[mail.recipient],
        subject=f"[Test] {send.subject}",
        message_id=message_id,
        text=message.get_body(("plain",)).get_content(),
        html=message.get_body(("html",)).get_content(),
        reply_to=str(message["Reply-To"] or "") or None,
    )


# Starting --------------------------------------------------------------------------------------


def start(send: EmailSend) -> int:
    """One queued row per distinct contact on the send's lists, and the jobs that send them."""
    rows = db.session.execute(
        select(Contact.id, Contact.email, Contact.address_hash, Contact.tags)
        .join(ContactListMember, ContactListMember.contact_id == Contact.id)
        .where(ContactListMember.list_id.in_(send.list_ids), Contact.partner_id == send.partner_id)
        .order_by(Contact.id)
    ).all()
    seen: set[str] = set()
    now = utcnow()
    values = []
    domain = message_id_domain(app_state().mail_settings)
    for contact_id, email, hashed, tags in rows:
        if hashed not in seen and tags_allow(send.tags, tags):
            seen.add(hashed)
            uid = _uid()
            values.append(
                {
                    "send_id": send.id,
                    "partner_id": send.partner_id,
                    "contact_id": contact_id,
                    "address": email,
                    "address_hash": hashed,
                    "uid": uid,
                    # Fixed before anything is sent: a crash after the SMTP transaction still knows it.
                    "message_id": f"<{uid}@{domain}>",
                    "status": "queued",
                    "created_at": now,
                }
            )
    if values:
        db.session.execute(insert_for(db.session.get_bind().dialect.name, EmailRecipient), values)
        from tcma.services.experiments.rollout import plan_send_recipients

        plan_send_recipients(send)  # an experiment's arms per recipient; outside a test share: held
    send.status, send.started_at, send.resume_at = "sending", now, None
    db.session.flush()
    _enqueue_chunks(send.id, "start")
    return len(values)


def message_id_domain(settings) -> str:
    """The domain of campaign messages' Message-IDs (tcma's own From domain, as for all its mail)."""
    return parseaddr(settings.from_address)[1].rpartition("@")[2]


def tags_allow(wanted: list[str] | None, tags: list[str] | None) -> bool:
    """Whether a contact with `tags` is in a send limited to `wanted` tags (none wanted: everyone)."""
    return not wanted or bool(set(wanted) & set(tags or ()))


def _uid() -> str:
    import uuid

    return uuid.uuid4().hex


def resume_send_jobs(send_id: int, tag: str) -> int:
    """Jobs for a sending send's queued messages (held ones an experiment released); after the commit."""
    return _enqueue_chunks(send_id, tag)


def _enqueue_chunks(send_id: int, tag: str) -> int:
    ids = list(
        db.session.scalars(
            select(EmailRecipient.id)
            .where(EmailRecipient.send_id == send_id, EmailRecipient.status == "queued")
            .order_by(EmailRecipient.id)
        )
    )
    size = get_settings().email_send_chunk
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)] or [[0]]
    for chunk in chunks:
        enqueue_after_commit(
            JobCall(SEND_JOB, (send_id, chunk[0], chunk[-1]), job_id=f"email-{send_id}-{chunk[0]}-{tag}")
        )
    return len(chunks)


# Sending ---------------------------------------------------------------------------------------


def deliver_chunk(send_id: int, first_id: int, last_id: int) -> str:
    """Send the queued recipients of a send with ids first..last, batch by batch.

    Each batch holds a slot per recipient domain (mail_throttle); recipients of a domain whose
    slots are all taken, or that is paused after a 4xx, stay queued and the chunk comes back
    once the earliest of them may go.
    """
    settings = get_settings()
    throttle = app_state().mail_domains
    filler, after, waiting = None, first_id - 1, {}
    while True:
        send = _locked_send(send_id)
        if send is None or send.status != "sending":
            commit()
            return "stopped"
        room = settings.email_daily_cap - _sent_today(send.partner_id)
        if room <= 0:
            send.resume_at = _next_day()
            commit()
            return "capped"
        batch = _claim(send, after, last_id, min(settings.email_send_batch, room), throttle)
        if batch is None:
            break
        after = batch.last_id
        waiting.update(batch.waiting)
        if batch.people:
            filler = filler or SendFillers(send)
            try:
                delivered = _deliver(send, filler, batch.people, throttle, waiting)
            finally:
                throttle.release(batch.admission)
            if not delivered:
                return "retrying"
    if waiting:
        _come_back(send_id, first_id, last_id, max(min(waiting.values()), BUSY_WAIT))
        return "waiting"
    _finish_if_done(send_id)
    return "done"


def _locked_send(send_id: int) -> EmailSend | None:
    """The send, read under a shared row lock held until the claim commits: a cancel (or a
    withdrawn consent) waits for a claim under way, and no claim starts after it commits."""
    return db.session.scalar(
        select(EmailSend)
        .where(EmailSend.id == send_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )


def _come_back(send_id: int, first_id: int, last_id: int, delay: float) -> None:
    """Run this chunk again after `delay` seconds, for the recipients it had to leave queued."""
    tag = f"later-{time.time_ns()}"
    job = JobCall(SEND_JOB, (send_id, first_id, last_id), job_id=f"email-{send_id}-{first_id}-{tag}",
                  delay=delay)
    enqueue_after_commit(job)
    commit()


def _sent_today(partner_id: int) -> int:
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        db.session.scalar(
            select(func.count())
            .select_from(EmailRecipient)
            .where(
                EmailRecipient.partner_id == partner_id,
                EmailRecipient.claimed_at >= midnight,
                EmailRecipient.status.in_(COUNTED),
            )
        )
        or 0
    )


def _next_day() -> datetime:
    return utcnow().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


@dataclass
class Batch:
    """What one claim took: the people to send to now, the domain slots held for them, the last
    row looked at, and the domains left for later (seconds until they may go)."""

    people: list[Personal]
    admission: Admission
    last_id: int
    waiting: dict[str, float]


def _claim(send: EmailSend, after: int, last_id: int, limit: int, throttle: DomainThrottle) -> Batch | None:
    """Take up to `limit` queued recipients past `after`; skip the suppressed and capped, leave
    those whose domain may not take more now; commit. None: no queued row left past `after`."""
    rows = db.session.execute(
        select(
            EmailRecipient.id,
            EmailRecipient.uid,
            EmailRecipient.address,
            EmailRecipient.address_hash,
            EmailRecipient.contact_id,
            EmailRecipient.message_id,
            EmailRecipient.variant,
        )
        .where(
            EmailRecipient.send_id == send.id,
            EmailRecipient.status == "queued",
            EmailRecipient.id > after,
            EmailRecipient.id <= last_id,
        )
        .order_by(EmailRecipient.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        commit()
        return None
    hashes = [r.address_hash for r in rows]
    suppressed = suppressed_among(send.partner_id, hashes)
    recent = _recent_counts(hashes)
    names = dict(
        db.session.execute(
            select(Contact.id, Contact.first_name).where(
                Contact.id.in_([r.contact_id for r in rows if r.contact_id])
            )
        ).all()
    )
    now, cap = utcnow(), get_settings().email_weekly_cap
    changes, sendable = [], []
    for row in rows:
        reason = (
            f"suppressed: {suppressed[row.address_hash]}"
            if row.address_hash in suppressed
            else "contact deleted"
            if row.contact_id is None or not row.address
            else f"weekly cap: {cap} emails in 7 days"
            if recent.get(row.address_hash, 0) >= cap
            else None
        )
        if reason:
            changes.append({"id": row.id, "status": "skipped", "detail": reason})
        else:
            sendable.append(row)
    admission = throttle.admit(domain_of(row.address) for row in sendable)
    try:
        allowed, domain = set(admission.taken), message_id_domain(app_state().mail_settings)
        people = []
        for row in sendable:
            if domain_of(row.address) not in allowed:
                continue
            message_id = row.message_id
            if message_id is None:  # a row queued before Message-IDs were fixed at the start
                message_id = f"<{row.uid}@{domain}>"
                changes.append({"id": row.id, "message_id": message_id})
            people.append(
                Personal(row.id, row.uid, row.address, names.get(row.contact_id), message_id, row.variant)
            )
        if changes:
            db.session.execute(update(EmailRecipient), changes)
        if people:
            taken = [p.recipient_id for p in people]
            claim = update(EmailRecipient).where(EmailRecipient.id.in_(taken))
            db.session.execute(claim.values(status="sending", claimed_at=now))
        commit()
    except BaseException:
        throttle.release(admission)
        raise
    waiting = {**dict.fromkeys(admission.busy, BUSY_WAIT), **admission.deferred}
    return Batch(people, admission, rows[-1].id, waiting)


def _recent_counts(hashes: list[str]) -> dict[str, int]:
    since = utcnow() - timedelta(days=7)
    return dict(
        db.session.execute(
            select(EmailRecipient.address_hash, func.count())
            .where(
                EmailRecipient.address_hash.in_(hashes),
                EmailRecipient.claimed_at >= since,
                EmailRecipient.status.in_(COUNTED),
            )
            .group_by(EmailRecipient.address_hash)
        ).all()
    )


def _deliver(send: EmailSend, filler: SendFillers, people: list[Personal], throttle: DomainThrottle,
             waiting: dict[str, float]) -> bool:
    """Hand the claimed messages over; record each outcome. False: the session failed for now.

    A 4xx about a message pauses its domain (the others go on); its message and the domain's
    later ones in the batch go back to the queue.
    """
    messages = [
        WireMessage(filler.wire(p), filler.envelope_from(p.uid), p.address, p.message_id) for p in people
    ]
    results = send_batch(app_state().mailer, messages)
    now, changes, sent, sent_ids, retry = utcnow(), [], [], [], False
    for person, result in zip(people, results, strict=True):
        if result.transport_id is not None:
            sent_ids.append(person.recipient_id)
            sent.append(person)
        elif result.unknown:
            changes.append({"id": person.recipient_id, "status": "unknown", "detail": str(result.error)})
        elif isinstance(result.error, TemporaryMailError):
            domain = domain_of(person.address)
            if result.answered and domain not in waiting:
                waiting[domain] = throttle.defer(domain)
            elif domain not in waiting:
                retry = True  # the session itself failed: the whole chunk waits for the maintenance pass
            changes.append(
                {
                    "id": person.recipient_id,
                    "status": "queued",
                    "claimed_at": None,
                    "detail": str(result.error),
                }
            )
        else:
            changes.append({"id": person.recipient_id, "status": "failed", "detail": str(result.error)})
    if sent_ids:  # one statement for the common case
        db.session.execute(
            update(EmailRecipient)
            .where(EmailRecipient.id.in_(sent_ids))
            .values(status="sent", sent_at=now, detail=None)
        )
    if changes:
        db.session.execute(update(EmailRecipient), changes)
    commit()
    _record_sends(send, sent)
    return not retry


def _record_sends(send: EmailSend, people: list[Personal]) -> None:
    """A send event per message, in its variant: the tracking flags clicks seconds after it as a scanner's."""
    from tcma.services.tracking.events import record_sends

    by_variant: dict[str | None, list[str]] = {}
    for person in people:
        by_variant.setdefault(person.variant or send.variant, []).append(person.uid)
    for variant, uids in by_variant.items():
        record_sends(send.partner_id, send.campaign_id, variant, uids)


def _finish_if_done(send_id: int) -> None:
    left = db.session.scalar(
        select(func.count())
        .select_from(EmailRecipient)
        .where(EmailRecipient.send_id == send_id,
               EmailRecipient.status.in_(("queued", "sending", "held_for_winner")))
    )
    send = db.session.get(EmailSend, send_id)
    if not left and send is not None and send.status == "sending":
        send.status, send.finished_at = "done", utcnow()
    commit()


# Maintenance -----------------------------------------------------------------------------------


def recover_sends(lease: timedelta = SENDING_LEASE, stalled: timedelta = STALLED) -> dict[str, int]:
    """Orphaned messages become "unknown" (never resent); due sends start; stalled ones go on."""
    now = utcnow()
    unknown = db.session.execute(
        update(EmailRecipient)
        .where(EmailRecipient.status == "sending", EmailRecipient.claimed_at < now - lease)
        .values(
            status="unknown",
            detail="the worker stopped during the SMTP transaction; it may have been "
            "delivered, so it is not sent again",
        )
    ).rowcount
    if unknown:
        log.warning("%d campaign messages left mid-send are now 'unknown' (never sent again)", unknown)
    started = 0
    for send in db.session.scalars(
        select(EmailSend).where(EmailSend.status == "scheduled", EmailSend.scheduled_at <= now)
    ):
        if send.behalf_id is None:
            start(send)
        else:  # rendered and started by a job, once the partner's consent is checked again
            enqueue_after_commit(behalf_start_job(send.id))
        started += 1
    resumed = 0
    for send in db.session.scalars(select(EmailSend).where(EmailSend.status == "sending")):
        if _stalled(send, now, stalled):
            send.resume_at = None
            resumed += _enqueue_chunks(send.id, f"resume-{int(now.timestamp())}")
    commit()
    for send_id in db.session.scalars(select(EmailSend.id).where(EmailSend.status == "sending")):
        _finish_if_done(send_id)
    return {"unknown": unknown, "started": started, "resumed": resumed}


def behalf_start_job(send_id: int) -> JobCall:
    """The job that renders and starts a send on a partner's behalf (one per send, however often asked)."""
    return JobCall(BEHALF_START_JOB, (send_id,), job_id=f"email-behalf-start-{send_id}")


def _stalled(send: EmailSend, now: datetime, after: timedelta) -> bool:
    if send.resume_at is not None:
        return send.resume_at <= now
    last = db.session.scalar(
        select(func.max(EmailRecipient.claimed_at)).where(EmailRecipient.send_id == send.id)
    )
    queued = db.session.scalar(
        select(EmailRecipient.id)
        .where(EmailRecipient.send_id == send.id, EmailRecipient.status == "queued")
        .limit(1)
    )
    return queued is not None and (last or send.started_at or now) <= now - after


def engagement(send_ids: list[int]) -> list[tuple[int, str, int]]:
    """(send id, opened|opened_machine|clicked|clicked_machine|unsubscribed, recipients) per send."""
    names = {
        ("open", False): "opened",
        ("open", True): "opened_machine",
        ("click", False): "clicked",
        ("click", True): "clicked_machine",
        ("unsubscribe", False): "unsubscribed",
        ("unsubscribe", True): "unsubscribed",
    }
    rows = db.session.execute(
        select(EmailRecipient.send_id, Event.kind, Event.is_bot, func.count(func.distinct(Event.send_id)))
        .join(Event, Event.send_id == EmailRecipient.uid)
        .where(EmailRecipient.send_id.in_(send_ids), Event.kind.in_(("open", "click", "unsubscribe")))
        .group_by(EmailRecipient.send_id, Event.kind, Event.is_bot)
    ).all()
    totals: dict[tuple[int, str], int] = {}
    for send_id, kind, is_bot, count in rows:
        key = (send_id, names[kind, bool(is_bot)])
        totals[key] = totals.get(key, 0) + count
    return [(send_id, name, count) for (send_id, name), count in totals.items()]
