"""Stored insights answers (tcma.models.insight_snapshot): finding a fresh one, storing, pruning.

A snapshot is keyed by its kind ("partners": every active partner's score, flags and hints; "kpis":
the programme's KPIs), the day scored and the parameters that change the answer (`partner_params`,
`kpi_params`). It is read while younger than TCMA_INSIGHT_MAX_AGE_SECONDS (0: never stored nor
read); storing one replaces the one of the same key.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, insert, literal, select, text
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
    if rows:
        _analyze_rows()
    return snapshot


def _analyze_rows() -> None:
    """Fresh planner statistics of the snapshot rows after a snapshot's were replaced (PostgreSQL):
    with the replaced rows' statistics a list's count and name order read about twice as long (10,000
    partners) until autovacuum comes by."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE insight_snapshot_row"))
        commit()


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


ROW_COLUMNS = ("partner_id", "score", "last_active", "flag_names", "flags", "components", "hints")


def _rows(snapshot_id: int, as_of: date, partner_ids: Any = None, flag: str | None = None,
          any_flag: str = "") -> Select[Any]:
    """The snapshot's rows (stored columns, then the partner's current name and joining time) whose
    partner is (still) active and had joined by `as_of` (of `partner_ids` only, if given), carrying
    `flag` (`any_flag`: any flag; None: every row)."""
    row = InsightSnapshotRow
    stmt = (select(*(getattr(row, c) for c in ROW_COLUMNS), Partner.name, Partner.created_at)
            .join(Partner, Partner.id == row.partner_id)
            .where(row.snapshot_id == snapshot_id, Partner.status == "active",
                   Partner.created_at < datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)))
    if partner_ids is not None:
        stmt = stmt.where(row.partner_id.in_(partner_ids))
    if flag is not None and flag == any_flag:
        stmt = stmt.where(row.flag_names != "")
    elif flag is not None:  # flag_names is "inactive dropping": a whole word of it
        stmt = stmt.where((literal(" ") + row.flag_names + " ").like(f"% {flag} %"))
    return stmt


def _order(sort: str) -> list[Any]:
    """ORDER BY of a list sort ("score", "name", "last_active"; "-" reverses): the sort key, then the
    partner id, as Python's sort of (key, partner_id) orders them (no last action first; names
    lowercased, by code point)."""
    row, descending = InsightSnapshotRow, sort.startswith("-")
    name = sort.lstrip("-")
    if name == "name":
        key: Any = func.lower(Partner.name)
        if db.session.get_bind().dialect.name == "postgresql":
            key = key.collate("C")  # code point order, whatever the database's collation
        keys = [key.desc() if descending else key.asc()]
    elif name == "last_active":
        keys = [row.last_active.desc().nulls_last() if descending else row.last_active.asc().nulls_first()]
    else:
        keys = [row.score.desc() if descending else row.score.asc()]
    return [*keys, row.partner_id.desc() if descending else row.partner_id.asc()]


def listed(snapshot_id: int, as_of: date, *, partner_ids: Any = None, flag: str | None = None,
           any_flag: str = "", sort: str = "score", offset: int = 0, limit: int | None = None,
           batch: int = 1000) -> Iterator[Any]:
    """(partner_id, score, last_active, flag_names, flags, components, hints, name, created_at) of the
    snapshot's rows `_rows` selects, in `sort` order, `limit` of them after the first `offset`; names
    are the partners' current ones.

    The order is found on the keys alone (sorting the stored JSON too spilled 14 MB to disk at 10,000
    partners), then the rows are read by partner id, `batch` at a time."""
    ids = listed_ids(snapshot_id, as_of, partner_ids=partner_ids, flag=flag, any_flag=any_flag, sort=sort,
                     offset=offset, limit=limit)
    for at in range(0, len(ids), batch):
        chunk = ids[at:at + batch]
        found = {r.partner_id: r for r in db.session.execute(_rows(snapshot_id, as_of, chunk))}
        yield from (found[pid] for pid in chunk if pid in found)


def listed_ids(snapshot_id: int, as_of: date, *, partner_ids: Any = None, flag: str | None = None,
               any_flag: str = "", sort: str = "score", offset: int = 0,
               limit: int | None = None) -> list[int]:
    """The partner ids of `listed`'s rows, in order."""
    rows = _rows(snapshot_id, as_of, partner_ids, flag, any_flag)
    stmt = rows.with_only_columns(InsightSnapshotRow.partner_id).order_by(*_order(sort)).offset(offset)
    return list(db.session.scalars(stmt if limit is None else stmt.limit(limit)))


def counted(snapshot_id: int, as_of: date, *, partner_ids: Any = None, flag: str | None = None,
            any_flag: str = "") -> int:
    """How many rows `listed` gives without offset and limit."""
    rows = _rows(snapshot_id, as_of, partner_ids, flag, any_flag).subquery()
    return int(db.session.scalar(select(func.count()).select_from(rows)) or 0)
