"""Stored answers of the insights (partners' scores, the programme's KPIs), computed now and then
instead of on every page view: one snapshot per (kind, as_of day, scoring parameters), the time it
was computed, and for the partners' scores one row per partner.

A snapshot is read while it is younger than TCMA_INSIGHT_MAX_AGE_SECONDS; the maintenance pass
recomputes today's default ones before they grow older, and drops those of past days.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tcma.models.base import Base, JSONType


class InsightSnapshot(Base):
    """One stored answer: `kind` "partners" (its rows in insight_snapshot_row) or "kpis" (in `result`)."""

    __tablename__ = "insight_snapshot"
    __table_args__ = (UniqueConstraint("kind", "as_of", "params", name="uq_insight_snapshot_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date]
    # The parameters that change the answer, as text (tcma.services.insights.snapshots makes it).
    params: Mapped[str] = mapped_column(String(120))
    computed_at: Mapped[datetime]
    partners: Mapped[int] = mapped_column(default=0)
    result: Mapped[Any | None] = mapped_column(JSONType, default=None)


class InsightSnapshotRow(Base):
    """One partner's score in a "partners" snapshot: what the list sorts and filters on, and the
    flags with their reasons, components and hints (read only for the rows shown).

    The two indexes (migration 0023) serve a page of a snapshot in score or last action order (or
    its reverse, read backwards): it reads only its rows."""

    __tablename__ = "insight_snapshot_row"
    __table_args__ = (Index("ix_insight_snapshot_row_score", "snapshot_id", "score", "partner_id"),)

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("insight_snapshot.id", ondelete="CASCADE"),
                                             primary_key=True)
    partner_id: Mapped[int] = mapped_column(primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    last_active: Mapped[date | None]
    flag_names: Mapped[str] = mapped_column(String(40), default="")  # "inactive dropping": lists filter on it
    flags: Mapped[Any] = mapped_column(JSONType)
    components: Mapped[Any] = mapped_column(JSONType)
    hints: Mapped[Any] = mapped_column(JSONType)


# No last action first, as the list sorts (created by migration 0023; NULLS FIRST on PostgreSQL).
Index("ix_insight_snapshot_row_last_active", InsightSnapshotRow.snapshot_id,
      InsightSnapshotRow.last_active.nulls_first(), InsightSnapshotRow.partner_id)
