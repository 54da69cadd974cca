"""Partners' activity counted per period from the rollups, customizations, self-served assets and
posts: grouped queries over all partners at once, never the raw event table.

Only people count: a rollup's `total` holds people's events (bots, link scanners and the vendor's
own activity go to its `bots` column, never read here), and clicks are counted as `uniques`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Asset, Customization, EventRollup, ScheduledPost
from tcma.services.insights.score import Activity

# Rollup kinds that are a partner's own use of the programme (a published post is read from the
# post itself, so the rollup's "post" events count only for the first and last use).
OWN_KINDS = ("download", "send", "post")


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def period(as_of: date, days: int) -> tuple[date, date]:
    """The `days` days ending on `as_of`, both inclusive."""
    return as_of - timedelta(days=days - 1), as_of


def _timed_counts(column: Any, partner: Any, start: date, end: date, *where: Any) -> dict[int, int]:
    stmt = (select(partner, func.count()).where(column >= day_start(start),
                                                column < day_start(end + timedelta(days=1)), *where)
            .group_by(partner))
    return {pid: int(n) for pid, n in db.session.execute(stmt)}


def activity_by_partner(start: date, end: date) -> dict[int, Activity]:
    """Each partner's counted activity from `start` to `end` (UTC days, inclusive)."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rollups = (select(EventRollup.partner_id, EventRollup.kind, func.sum(EventRollup.total),
                      func.sum(EventRollup.uniques))
               .where(EventRollup.day >= start, EventRollup.day <= end, EventRollup.partner_id != 0,
                      EventRollup.kind.in_(("download", "send", "click")))
               .group_by(EventRollup.partner_id, EventRollup.kind))
    for pid, kind, total, uniques in db.session.execute(rollups):
        name = {"download": "downloads", "send": "sends", "click": "clicks"}[kind]
        counts[pid][name] = int(uniques if kind == "click" else total)
    customized = _timed_counts(Customization.updated_at, Customization.partner_id, start, end)
    self_served = _timed_counts(Asset.created_at, Asset.partner_id, start, end, Asset.campaign_id.is_(None))
    for pid in customized.keys() | self_served.keys():
        counts[pid]["customizations"] = customized.get(pid, 0) + self_served.get(pid, 0)
    approved = _timed_counts(ScheduledPost.approved_at, ScheduledPost.partner_id, start, end,
                             ScheduledPost.approved_by_id.is_not(None))
    published = _timed_counts(ScheduledPost.published_at, ScheduledPost.partner_id, start, end,
                              ScheduledPost.status == "published")
    for pid, n in approved.items():
        counts[pid]["posts_approved"] = n
    for pid, n in published.items():
        counts[pid]["posts_published"] = n
    return {pid: Activity(**values) for pid, values in counts.items()}


def _own_use_dates(earliest: bool, as_of: date) -> dict[int, date]:
    """Per partner, the first (or the last) day of its own actions up to `as_of`."""
    end = day_start(as_of + timedelta(days=1))
    pick, better = (func.min, min) if earliest else (func.max, max)
    found: dict[int, date] = {}

    def keep(pid: int, value: date | datetime | None) -> None:
        if value is None:
            return
        day = value.astimezone(UTC).date() if isinstance(value, datetime) else value
        found[pid] = better(found.get(pid, day), day)

    rollup = (select(EventRollup.partner_id, pick(EventRollup.day))
              .where(EventRollup.day <= as_of, EventRollup.partner_id != 0, EventRollup.total > 0,
                     EventRollup.kind.in_(OWN_KINDS)).group_by(EventRollup.partner_id))
    customized_at = Customization.created_at if earliest else Customization.updated_at
    sources = [
        rollup,
        select(Customization.partner_id, pick(customized_at)).where(customized_at < end)
        .group_by(Customization.partner_id),
        select(Asset.partner_id, pick(Asset.created_at))
        .where(Asset.created_at < end, Asset.campaign_id.is_(None)).group_by(Asset.partner_id),
        select(ScheduledPost.partner_id, pick(ScheduledPost.approved_at))
        .where(ScheduledPost.approved_at < end, ScheduledPost.approved_by_id.is_not(None))
        .group_by(ScheduledPost.partner_id),
        select(ScheduledPost.partner_id, pick(ScheduledPost.published_at))
        .where(ScheduledPost.published_at < end, ScheduledPost.status == "published")
        .group_by(ScheduledPost.partner_id),
    ]
    for stmt in sources:
        for pid, value in db.session.execute(stmt):
            keep(pid, _as_date(value))
    return found


def _as_date(value: Any) -> date | datetime | None:
    """SQLite hands aggregate datetimes back as text; PostgreSQL as values."""
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if len(value) > 10 else parsed.date()
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def last_active_by_partner(as_of: date) -> dict[int, date]:
    """The day of each partner's latest own action up to `as_of`."""
    return _own_use_dates(False, as_of)


def first_use_by_partner(as_of: date) -> dict[int, date]:
    """The day of each partner's first own action up to `as_of`."""
    return _own_use_dates(True, as_of)
