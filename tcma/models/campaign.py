"""Campaign aggregate: a launch of template outputs to a segment of partners."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.vocabulary import CAMPAIGN_STATUSES
from tcma.models.base import Base, JSONType, TimestampMixin, enum_check, utcnow
from tcma.models.template import TemplateVersion


class Campaign(TimestampMixin, Base):
    """What a marketer launches: outputs for every partner of a segment, on a schedule."""

    __tablename__ = "campaign"
    __table_args__ = (CheckConstraint(enum_check("status", CAMPAIGN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # {"tiers": [...], "verticals": [...], "regions": [...], "partner_ids": [...]}
    segment: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    launched_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    outputs: Mapped[list[CampaignOutput]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignOutput.id"
    )


class CampaignOutput(Base):
    """One output of a template version that a campaign renders for each partner."""

    __tablename__ = "campaign_output"
    __table_args__ = (UniqueConstraint("campaign_id", "template_version_id", "output"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    output: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))

    campaign: Mapped[Campaign] = relationship(back_populates="outputs")
    template_version: Mapped[TemplateVersion] = relationship()


REVIEW_DECISIONS = ("seen", "skipped")


class LaunchReview(Base):
    """A look at a campaign's contact sheet before launch (or a skip), and the launch it let through."""

    __tablename__ = "launch_review"
    __table_args__ = (CheckConstraint(enum_check("decision", REVIEW_DECISIONS), name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(8))
    via: Mapped[str] = mapped_column(String(8))  # "portal", "api", "cli" or "schedule"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # first shown, or skipped
    seen_at: Mapped[datetime | None]  # the last page shown
    pages_seen: Mapped[list[int]] = mapped_column(JSONType, default=list)
    items_seen: Mapped[int] = mapped_column(default=0)
    warnings_seen: Mapped[int] = mapped_column(default=0)
    launched_at: Mapped[datetime | None]
    launched_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
