"""Asset aggregate: a partner's copy of an output, and the content-addressed render behind it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.vocabulary import ASSET_STATUSES
from tcma.models.base import Base, JSONType, TimestampMixin, enum_check, utcnow


class Render(Base):
    """Bytes produced once per distinct resolved input; `key` is the hash of those inputs."""

    __tablename__ = "render"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    storage_key: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    warnings: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Asset(TimestampMixin, Base):
    """One partner's co-branded output: from a campaign, or self-served in the portal."""

    __tablename__ = "asset"
    __table_args__ = (
        CheckConstraint(enum_check("status", ASSET_STATUSES), name="status"),
        UniqueConstraint("campaign_output_id", "partner_id"),
        # Launch progress is a grouped count of one campaign's assets by status; the index
        # also serves every lookup by campaign.
        Index("ix_asset_campaign_status", "campaign_id", "status"),
        # A campaign's assets page by page, in id order (5 M assets: not a walk of the primary key).
        Index("ix_asset_campaign_id_id", "campaign_id", "id"),
        # ... and a partner's, by page or after an id (the primary key walk passed 10,000 partners'
        # rows for each of theirs); it also serves every lookup by partner.
        Index("ix_asset_partner_id_id", "partner_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    campaign_output_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_output.id", ondelete="CASCADE")
    )
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    output: Mapped[str] = mapped_column(String(40))
    variant: Mapped[str | None] = mapped_column(String(40))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    inputs_hash: Mapped[str | None] = mapped_column(String(64))
    render_id: Mapped[int | None] = mapped_column(ForeignKey("render.id"))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)

    render: Mapped[Render | None] = relationship()
