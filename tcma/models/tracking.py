"""Tracking aggregate: registered destinations, tracked links, events and their rollups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tcma.models.base import Base, JSONType, TimestampMixin, utcnow


class Destination(TimestampMixin, Base):
    """A URL the vendor registered; tracked links may only redirect here."""

    __tablename__ = "destination"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    url: Mapped[str] = mapped_column(Text)


class TrackedLink(Base):
    """A short code standing for one (partner, campaign, asset, channel, variant, destination)."""

    __tablename__ = "tracked_link"
    __table_args__ = (
        # NULL campaign/asset/variant must still collide, or a relaunch would mint a second code.
        UniqueConstraint("partner_id", "campaign_id", "asset_id", "channel", "variant", "destination_id",
                         postgresql_nulls_not_distinct=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    variant: Mapped[str | None] = mapped_column(String(40))
    destination_id: Mapped[int] = mapped_column(ForeignKey("destination.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    destination: Mapped[Destination] = relationship(lazy="joined")


class Event(Base):
    """One engagement event; rows are only ever appended. `uid` makes recording idempotent."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_campaign_occurred", "campaign_id", "occurred_at"),
        # The flusher looks back by visitor for uniques and link scanners.
        Index("ix_event_visitor_occurred", "visitor", "occurred_at"),
    )

    # SQLite only auto-increments INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    partner_id: Mapped[int | None] = mapped_column(index=True)
    campaign_id: Mapped[int | None]
    asset_id: Mapped[int | None]
    link_id: Mapped[int | None]
    channel: Mapped[str | None] = mapped_column(String(20))
    variant: Mapped[str | None] = mapped_column(String(40))
    visitor: Mapped[str | None] = mapped_column(String(64))
    send_id: Mapped[str | None] = mapped_column(String(64), index=True)  # a campaign email's recipient
    is_bot: Mapped[bool] = mapped_column(default=False)
    bot_reason: Mapped[str | None] = mapped_column(String(40))
    is_unique: Mapped[bool] = mapped_column(default=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


ROLLUP_MEASURES = ("total", "uniques", "bots")


class EventRollup(Base):
    """Counts per (campaign, asset, variant, partner, channel, day, kind); stats read these.

    Dimensions are NOT NULL with 0 / '' for "none" so the natural key can be unique.
    """

    __tablename__ = "event_rollup"
    __table_args__ = (
        UniqueConstraint(
            "campaign_id", "asset_id", "variant", "partner_id", "channel", "day", "kind"
        ),
        # Stats, experiment results and insights read a campaign's or a partner's rows from these
        # alone (index-only): at 11 M rows, fetching each from the table took most of a second.
        Index("ix_event_rollup_campaign_kind", "campaign_id", "kind", "day",
              postgresql_include=["variant", "partner_id", "channel", *ROLLUP_MEASURES]),
        Index("ix_event_rollup_partner_day", "partner_id", "day",
              postgresql_include=["kind", "campaign_id", *ROLLUP_MEASURES]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(default=0)
    asset_id: Mapped[int] = mapped_column(default=0)
    variant: Mapped[str] = mapped_column(String(40), default="")
    partner_id: Mapped[int] = mapped_column(default=0)  # indexed with day (ix_event_rollup_partner_day)
    channel: Mapped[str] = mapped_column(String(20), default="")
    day: Mapped[date]
    kind: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    uniques: Mapped[int] = mapped_column(BigInteger, default=0)
    bots: Mapped[int] = mapped_column(BigInteger, default=0)
