"""Experiment aggregate: A/B tests over a campaign's variants and their decided winner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tcma.models.base import Base, TimestampMixin, enum_check

EXPERIMENT_STATUSES = ("running", "decided", "stopped")


class Experiment(TimestampMixin, Base):
    """An A/B test on one campaign, judged on one metric (clicks, opens, downloads)."""

    __tablename__ = "experiment"
    __table_args__ = (
        CheckConstraint(enum_check("status", EXPERIMENT_STATUSES), name="status"),
        CheckConstraint(enum_check("metric", ("click", "open", "download")), name="metric"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(16), default="click")
    status: Mapped[str] = mapped_column(String(16), default="running")
    confidence: Mapped[float] = mapped_column(default=0.95)
    min_sample: Mapped[int] = mapped_column(default=100)
    auto_decide: Mapped[bool] = mapped_column(default=True)
    winner: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None]

    variants: Mapped[list[Variant]] = relationship(
        back_populates="experiment", cascade="all, delete-orphan", order_by="Variant.id"
    )


class Variant(Base):
    """A named arm of an experiment (the template's variant name) with its traffic weight."""

    __tablename__ = "variant"
    __table_args__ = (UniqueConstraint("experiment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    weight: Mapped[int] = mapped_column(default=1)

    experiment: Mapped[Experiment] = relationship(back_populates="variants")
