"""Experiment aggregate: A/B tests over a campaign's variants, who is in which arm, and the decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tcma.models.base import Base, JSONType, TimestampMixin, enum_check, utcnow

EXPERIMENT_STATUSES = ("running", "decided", "stopped")
EXPERIMENT_METRICS = ("click", "open", "download", "reaction")
EXPERIMENT_UNITS = ("partner", "recipient")
EXPERIMENT_METHODS = ("sequential", "bayesian")


class Experiment(TimestampMixin, Base):
    """An A/B test on one campaign, judged on one metric by one decision rule.

    The rule: `method` sequential (always-valid p-values, Holm-corrected, at alpha = 1 - confidence)
    or bayesian (chance to win >= confidence); at least `min_sample` units per arm; no decision
    before `min_runtime_days`; after `max_runtime_days` an undecided test keeps the control.
    """

    __tablename__ = "experiment"
    __table_args__ = (
        CheckConstraint(enum_check("status", EXPERIMENT_STATUSES), name="status"),
        CheckConstraint(enum_check("metric", EXPERIMENT_METRICS), name="metric"),
        CheckConstraint(enum_check("unit", EXPERIMENT_UNITS), name="unit"),
        CheckConstraint(enum_check("method", EXPERIMENT_METHODS), name="method"),
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
    unit: Mapped[str] = mapped_column(String(16), default="partner", server_default="partner")
    method: Mapped[str] = mapped_column(String(16), default="sequential", server_default="sequential")
    salt: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Partner dimensions to balance the arms within: [] or any of "tier", "region".
    strata: Mapped[list[str]] = mapped_column(JSONType, default=list)
    min_runtime_days: Mapped[int] = mapped_column(default=7, server_default="7")
    max_runtime_days: Mapped[int] = mapped_column(default=28, server_default="28")
    max_machine_share_gap: Mapped[float] = mapped_column(default=0.1, server_default="0.1")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None]
    # The numbers a decision rested on: the results as they were, who decided and why.
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # "Test on a share, then send the winner to the rest": only `test_share` of the units (recipients
    # of email sends, partners for posts) get arms; the rest are held until the decision, or at the
    # latest `rest_deadline` (then the rule decides, and with no clear winner the control goes).
    test_share: Mapped[float | None]
    rest_deadline: Mapped[datetime | None]
    rest_released_at: Mapped[datetime | None]
    # What went to the rest: {"variant", "reason", "posts", "recipients", "sends"}.
    rest_release: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

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


class ExperimentAssignment(Base):
    """Which arm one unit (a partner) is in; kept so relaunches and late joiners never move it."""

    __tablename__ = "experiment_assignment"
    __table_args__ = (
        UniqueConstraint("experiment_id", "partner_id"),
        Index("ix_experiment_assignment_stratum", "experiment_id", "stratum", "variant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    variant: Mapped[str] = mapped_column(String(40))
    stratum: Mapped[str] = mapped_column(String(120), default="")
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class SendArmEmail(Base):
    """One email send rendered in one arm of a recipient-level experiment (each recipient's message is
    filled in from its arm's render, as from the send's own)."""

    __tablename__ = "send_arm_email"
    __table_args__ = (UniqueConstraint("send_id", "variant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("email_send.id", ondelete="CASCADE"))
    variant: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(Text)
    preheader: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
