"""A campaign's launch set for a later time: launched once by the maintenance pass, or cancelled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tcma.models.base import Base, TimestampMixin, enum_check

SCHEDULED_LAUNCH_STATUSES = ("waiting", "launched", "cancelled", "failed")


class ScheduledLaunch(TimestampMixin, Base):
    """When a campaign launches (UTC, and the wall time and zone the marketer chose)."""

    __tablename__ = "scheduled_launch"
    __table_args__ = (CheckConstraint(enum_check("status", SCHEDULED_LAUNCH_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), unique=True)
    launch_at: Mapped[datetime] = mapped_column(index=True)
    local_at: Mapped[str] = mapped_column(String(32))
    time_zone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    launched_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
