"""Mail aggregate: every message tcma sends, recorded before it is sent so it goes out once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.vocabulary import MAIL_STATUSES
from tcma.models.base import Base, enum_check, utcnow


class OutboundMail(Base):
    """One message to send: what it is about (kind + row id), to whom, and how sending went.

    The body is built when the message is sent, from the row it is about, so no link or token
    is stored here; `message_id` is fixed before the first attempt, so a retry is the same message.
    """

    __tablename__ = "outbound_mail"
    __table_args__ = (CheckConstraint(enum_check("status", MAIL_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    ref_id: Mapped[int]
    recipient: Mapped[str] = mapped_column(String(254))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    transport_id: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
