"""Email sends aggregate: a campaign's email sent by a partner to its lists, one row per recipient."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.vocabulary import DOMAIN_STATUSES, EMAIL_SEND_STATUSES, RECIPIENT_STATUSES
from tcma.models.base import Base, JSONType, TimestampMixin, enum_check, utcnow
from tcma.models.campaign import Campaign
from tcma.models.partner import Partner

CONSENT_STATUSES = ("active", "withdrawn")


class EmailSend(TimestampMixin, Base):
    """A partner's send of one campaign email to chosen lists: now, or at a local time.

    The co-branded body is rendered once, when sending starts, with placeholders that each
    recipient's message fills (greeting, tracked links, open pixel, unsubscribe link).
    """

    __tablename__ = "email_send"
    __table_args__ = (CheckConstraint(enum_check("status", EMAIL_SEND_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    variant: Mapped[str | None] = mapped_column(String(40))
    list_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    greeting: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    local_at: Mapped[str | None] = mapped_column(String(19))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    scheduled_at: Mapped[datetime | None] = mapped_column(index=True)
    resume_at: Mapped[datetime | None]  # the partner's daily cap was reached: go on then
    subject: Mapped[str | None] = mapped_column(Text)
    preheader: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Sent by the vendor in the partner's name (the partner's consent says which lists and tags).
    behalf_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_behalf_send.id", ondelete="SET NULL"), index=True
    )
    tags: Mapped[list[str] | None] = mapped_column(JSONType)  # only contacts with one of these tags
    detail: Mapped[str | None] = mapped_column(Text)  # why it stopped, when it did not finish

    partner: Mapped[Partner] = relationship()
    campaign: Mapped[Campaign] = relationship()


class SendConsent(TimestampMixin, Base):
    """A partner's permission for the vendor to send campaign emails in its name: which lists,
    which tags, how many sends in 30 days; withdrawn, it cancels what has not gone out."""

    __tablename__ = "email_send_consent"
    __table_args__ = (CheckConstraint(enum_check("status", CONSENT_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    list_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)  # empty: every contact on the lists
    max_sends_per_month: Mapped[int]
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class BehalfSend(TimestampMixin, Base):
    """A marketer's send of a campaign email on behalf of every partner that allows it: one
    EmailSend per consenting partner, and the partners left out with the reason."""

    __tablename__ = "email_behalf_send"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    greeting: Mapped[str] = mapped_column(String(80))
    local_at: Mapped[str | None] = mapped_column(String(19))  # each partner's wall clock; None: now
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship()


class EmailRecipient(Base):
    """One message of a send: to whom, its Message-ID and tracking id, and what became of it.

    `address` is erased with its contact (the hash stays, for suppression and the weekly cap);
    `uid` is the send id the message's links and pixel carry, so its opens and clicks are its own.
    """

    __tablename__ = "email_recipient"
    __table_args__ = (
        CheckConstraint(enum_check("status", RECIPIENT_STATUSES), name="status"),
        UniqueConstraint("send_id", "address_hash"),
        Index("ix_email_recipient_send_status", "send_id", "status"),
        Index("ix_email_recipient_recent", "address_hash", "sent_at"),
        Index("ix_email_recipient_partner_sent", "partner_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("email_send.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    address: Mapped[str | None] = mapped_column(String(254))
    address_hash: Mapped[str] = mapped_column(String(64))
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    # The arm of a recipient-level experiment this message uses (None: the send's own variant).
    variant: Mapped[str | None] = mapped_column(String(40))
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    detail: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SendingDomain(TimestampMixin, Base):
    """A partner's own domain to send from, once its DNS shows tcma's DKIM key and a DMARC policy.

    The DKIM private key is sealed like social credentials; only the public key is ever shown.
    """

    __tablename__ = "sending_domain"
    __table_args__ = (CheckConstraint(enum_check("status", DOMAIN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    from_local: Mapped[str] = mapped_column(String(64))
    selector: Mapped[str] = mapped_column(String(63))
    public_key: Mapped[str] = mapped_column(Text)
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    checks: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    checked_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
