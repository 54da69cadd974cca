"""Stored insights answers (tcma.models.insight_snapshot): finding a fresh one, storing, pruning.

A snapshot is keyed by its kind ("partners": every active partner's score, flags and hints; "kpis":
the programme's KPIs), the day scored and the parameters that change the answer (`partner_params`,
`kpi_params`). It is read while younger than TCMA_INSIGHT_MAX_AGE_SECONDS (0: never stored nor
read); storing one replaces the one of the same key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from tcma.config import get_settings
from tcma.extensions import db
from tcma.models import InsightSnapshot, InsightSnapshotRow, Partner
from tcma.models.base import utcnow
from tcma.services.transaction import commit, rollback

PARTNERS, KPIS = "partners", "kpis"
KEEP_DAYS = 3  # snapshots computed longer ago than this are dropped by `prune`
# The maintenance pass recomputes a default snapshot once it is this share of the max age old,
# so that a request never finds it expired.
REFRESH_AT = 0.8


def max_age() -> int:
    """Seconds a snapshot is read for (TCMA_INSIGHT_MAX_AGE_SECONDS; 0: snapshots are off)."""
    return get_settings().insight_max_age_seconds


def partner_params(window_days: int, rules: Any) -> str:
    """The key of the scoring parameters: the window and every churn threshold."""
    return (f"window={window_days};inactive={rules.inactive_days};recent={rules.recent_days};"
            f"baseline={rules.baseline_days};drop={rules.drop_percent};min={rules.min_baseline_actions}")


def kpi_params(activation_days: int, inactive_days: int, baseline_days: int) -> str:
    """The key of the KPIs' periods."""
    return f"activation={activation_days};inactive={inactive_days};baseline={baseline_days}"


def latest(kind: str, as_of: date, params: str) -> InsightSnapshot | None:
    """The stored snapshot of this key, however old."""
    return db.session.scalars(select(InsightSnapshot).where(_key(kind, as_of, params))).first()


def _key(kind: str, as_of: date, params: str) -> Any:
    return ((InsightSnapshot.kind == kind) & (InsightSnapshot.as_of == as_of)
            & (InsightSnapshot.params == params))


def age(snapshot: InsightSnapshot, now: datetime | None = None) -> float:
    """Seconds since `snapshot` was computed."""
    return ((now or utcnow()) - snapshot.computed_at).total_seconds()


def fresh(kind: str, as_of: date, params: str) -> InsightSnapshot | None:
    """The snapshot of this key if it is younger than the max age (None when snapshots are off)."""
    limit = max_age()
    if not limit:
        return None
    found = latest(kind, as_of, params)
    return found if found is not None and age(found) <= limit else None


def store(kind: str, as_of: date, params: str, computed_at: datetime, *, partners: int = 0,
          result: Any = None, rows: Sequence[dict[str, Any]] = ()) -> InsightSnapshot | None:
    """Replace the snapshot of this key and commit; None when another process stored one of the same
    key at the same moment (theirs is as good)."""
    try:
        _drop(select(InsightSnapshot.id).where(_key(kind, as_of, params)))
        snapshot = InsightSnapshot(kind=kind, as_of=as_of, params=params, computed_at=computed_at,
                                   partners=partners, result=result)
        db.session.add(snapshot)
        db.session.flush()
        if rows:
            db.session.execute(insert(InsightSnapshotRow),
                               [{"snapshot_id": snapshot.id, **row} for row in rows])
        commit()
    except IntegrityError:
        rollback()
        return None
    return snapshot


def _drop(ids: Any) -> int:
    """Delete the snapshots `ids` selects, rows first (SQLite may not cascade)."""
    found = list(db.session.scalars(ids))
    if not found:
        return 0
    db.session.execute(delete(InsightSnapshotRow).where(InsightSnapshotRow.snapshot_id.in_(found)))
    db.session.execute(delete(InsightSnapshot).where(InsightSnapshot.id.in_(found)))
    return len(found)


def prune(keep_days: int = KEEP_DAYS) -> int:
    """Drop the snapshots computed more than `keep_days` days ago; how many (committed)."""
    dropped = _drop(select(InsightSnapshot.id).where(
        InsightSnapshot.computed_at < utcnow() - timedelta(days=keep_days)))
    commit()
    return dropped


def listed(snapshot_id: int, as_of: date, partner_ids: Any = None) -> list[Any]:
    """(partner_id, score, last_active, flag_names, name, created_at) of the snapshot's rows whose partner is
    (still) active and had joined by `as_of`, by partner id (of `partner_ids` only, if given); names
    are the partners' current ones."""
    row = InsightSnapshotRow
    stmt = (select(row.partner_id, row.score, row.last_active, row.flag_names, Partner.name,
                   Partner.created_at).join(Partner, Partner.id == row.partner_id)
            .where(row.snapshot_id == snapshot_id, Partner.status == "active",
                   Partner.created_at < datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC))
            .order_by(row.partner_id))
    if partner_ids is not None:
        stmt = stmt.where(row.partner_id.in_(partner_ids))
    return list(db.session.execute(stmt))


def details(snapshot_id: int, partner_ids: Iterable[int]) -> dict[int, tuple[Any, Any, Any]]:
    """Per partner of `partner_ids`: its stored components, hints and flags (partners not stored are
    left out)."""
    row = InsightSnapshotRow
    stmt = select(row.partner_id, row.components, row.hints, row.flags).where(
        row.snapshot_id == snapshot_id, row.partner_id.in_(list(partner_ids)))
    return {pid: (components, hints, flags) for pid, components, hints, flags in db.session.execute(stmt)}
