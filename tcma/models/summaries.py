"""Pre-summed copies of the event rollups that dashboards and experiments read instead of scanning them.

All are written beside the rollups, in the same transaction and from the same deltas
(tcma.services.tracking.summaries and .experiment_totals), so they count each stored event exactly
once as the rollups do.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tcma.models.base import Base


class ProgrammeDailyRollup(Base):
    """The rollups added up per (day, kind, channel, variant, campaign, partner tier, partner region).

    People (`total`, `uniques`) and machines (`bots`) stay apart; 0 / '' mean "none", as in the
    rollups. Tier and region are the partner's current ones: a partner moved to another tier or
    region has its rows moved with it.
    """

    __tablename__ = "programme_daily_rollup"
    __table_args__ = (
        UniqueConstraint("day", "kind", "channel", "variant", "campaign_id", "tier_id", "region_id",
                         name="uq_programme_daily_rollup_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(20), default="")
    variant: Mapped[str] = mapped_column(String(40), default="")
    campaign_id: Mapped[int] = mapped_column(default=0)
    tier_id: Mapped[int] = mapped_column(default=0)
    region_id: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    uniques: Mapped[int] = mapped_column(BigInteger, default=0)
    bots: Mapped[int] = mapped_column(BigInteger, default=0)


OWN_USE_SQL = "own_actions > 0"


class PartnerDailyEngagement(Base):
    """Per partner and day: the people's downloads, sends, posts and clicks (the dashboard's ranking),
    and the parts the insights score and flag (downloads, sends, unique clicks, own actions).

    A row exists for every (partner, day) with a rollup of a dashboard kind, even at 0, so the
    ranking sees the same partners the rollups hold.
    """

    __tablename__ = "partner_daily_engagement"
    # A partner's first and last day of its own use: one probe per partner.
    __table_args__ = (Index("ix_partner_daily_engagement_own_use", "partner_id", "day",
                            postgresql_where=text(OWN_USE_SQL), sqlite_where=text(OWN_USE_SQL)),)

    day: Mapped[date] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(primary_key=True)
    engagement: Mapped[int] = mapped_column(BigInteger, default=0)
    downloads: Mapped[int] = mapped_column(BigInteger, default=0)  # people's downloads (rollup totals)
    sends: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)  # unique people's clicks (rollup uniques)
    own_actions: Mapped[int] = mapped_column(BigInteger, default=0)  # downloads, sends and post events


class ExperimentPartnerTotal(Base):
    """Per experiment: the rollups added up per (partner, arm, kind) since the experiment's first day.

    Only rollups of the experiment's campaign, recorded under one of its arms on or after the day
    it started (its first day, UTC), count: exactly what its results read from the rollups, so an
    analysis reads a few rows per partner by key instead of every day's. People (`total`,
    `uniques`) and machines (`bots`) stay apart, as in the rollups.
    """

    __tablename__ = "experiment_partner_total"

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id", ondelete="CASCADE"),
                                               primary_key=True)
    partner_id: Mapped[int] = mapped_column(primary_key=True)
    variant: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    uniques: Mapped[int] = mapped_column(BigInteger, default=0)
    bots: Mapped[int] = mapped_column(BigInteger, default=0)
class PartnerTemplateUse(Base):
    """The first day a partner downloaded (`kind` "download") or sent ("send") an asset of a template:
    the KPIs' adoption per template without joining every rollup to its asset. Kept by the event
    writer from the rollup deltas it applies (people's events only); assets are never deleted.
    """

    __tablename__ = "partner_template_use"

    template_id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    partner_id: Mapped[int] = mapped_column(primary_key=True)
    first_day: Mapped[date]
