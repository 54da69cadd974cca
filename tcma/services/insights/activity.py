"""Partners' activity counted per period from the daily summary of the rollups
(partner_daily_engagement, kept by the event writer), customizations, self-served assets and posts:
grouped queries over all partners and all asked periods at once, never the rollups or raw events.

Only people count: a rollup's `total` holds people's events (bots, link scanners and the vendor's
own activity go to its `bots` column, never read here), and clicks are counted as `uniques`; the
summary adds up exactly those (tcma.services.tracking.summaries.INSIGHT_PARTS).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select

from tcma.extensions import db
from tcma.models import Asset, Customization, Partner, PartnerDailyEngagement, ScheduledPost
from tcma.services.insights.score import Activity
from tcma.services.tracking.summaries import INSIGHT_PARTS


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def period(as_of: date, days: int) -> tuple[date, date]:
    """The `days` days ending on `as_of`, both inclusive."""
    return as_of - timedelta(days=days - 1), as_of


Period = tuple[date, date]


def _in(column: Any, start: date, end: date) -> Any:
    """A moment within the UTC days `start` to `end`, both inclusive."""
    return (column >= day_start(start)) & (column < day_start(end + timedelta(days=1)))


def _span(periods: Sequence[Period]) -> Period:
    return min(start for start, _ in periods), max(end for _, end in periods)


def _timed_counts(column: Any, partner: Any, periods: Sequence[Period], partner_ids: Any,
                  *where: Any) -> list[dict[int, int]]:
    """Per period, each partner's rows whose `column` falls in it: one grouped query for all periods."""
    sums = [func.sum(case((_in(column, start, end), 1), else_=0)) for start, end in periods]
    stmt = select(partner, *sums).where(_in(column, *_span(periods)), *where).group_by(partner)
    if partner_ids is not None:
        stmt = stmt.where(partner.in_(partner_ids))
    found: list[dict[int, int]] = [{} for _ in periods]
    for pid, *counts in db.session.execute(stmt):
        for i, n in enumerate(counts):
            if n:
                found[i][pid] = int(n)
    return found


def _summed_parts(periods: Sequence[Period], partner_ids: Any) -> list[dict[int, dict[str, int]]]:
    """Per period, each partner's downloads, sends and unique clicks from the daily summary."""
    e = PartnerDailyEngagement
    names = [name for name, _, _ in INSIGHT_PARTS]
    sums = [func.sum(case(((e.day >= start) & (e.day <= end), getattr(e, name)), else_=0))
            for start, end in periods for name in names]
    first, last = _span(periods)
    stmt = select(e.partner_id, *sums).where(e.day >= first, e.day <= last).group_by(e.partner_id)
    if partner_ids is not None:
        stmt = stmt.where(e.partner_id.in_(partner_ids))
    found: list[dict[int, dict[str, int]]] = [{} for _ in periods]
    for pid, *values in db.session.execute(stmt):
        for i in range(len(periods)):
            parts = {name: int(v) for name, v in zip(names, values[i * len(names):(i + 1) * len(names)],
                                                     strict=True) if v}
            if parts:
                found[i][pid] = parts
    return found


def activity_in_periods(periods: Sequence[Period], partner_ids: Any = None) -> list[dict[int, Activity]]:
    """Each partner's counted activity in each period (UTC days, inclusive), in five queries for all
    periods: the daily summary, customizations, self-served renders, approvals and publications.
    `partner_ids` (ids or a select of them) narrows it to those partners."""
    counts: list[dict[int, dict[str, int]]] = _summed_parts(periods, partner_ids)
    customized = _timed_counts(Customization.updated_at, Customization.partner_id, periods, partner_ids)
    self_served = _timed_counts(Asset.created_at, Asset.partner_id, periods, partner_ids,
                                Asset.campaign_id.is_(None))
    approved = _timed_counts(ScheduledPost.approved_at, ScheduledPost.partner_id, periods, partner_ids,
                             ScheduledPost.approved_by_id.is_not(None))
    published = _timed_counts(ScheduledPost.published_at, ScheduledPost.partner_id, periods, partner_ids,
                              ScheduledPost.status == "published")
    for i, found in enumerate(counts):
        for pid in customized[i].keys() | self_served[i].keys():
            made = customized[i].get(pid, 0) + self_served[i].get(pid, 0)
            found.setdefault(pid, {})["customizations"] = made
        for pid, n in approved[i].items():
            found.setdefault(pid, {})["posts_approved"] = n
        for pid, n in published[i].items():
            found.setdefault(pid, {})["posts_published"] = n
    return [{pid: Activity(**values) for pid, values in found.items()} for found in counts]


def activity_by_partner(start: date, end: date, partner_ids: Any = None) -> dict[int, Activity]:
    """Each partner's counted activity from `start` to `end` (UTC days, inclusive)."""
    return activity_in_periods([(start, end)], partner_ids)[0]


def _own_use_dates(earliest: bool, as_of: date, partner_ids: Any) -> dict[int, date]:
    """Per partner, the first (or the last) day of its own actions up to `as_of`.

    The daily summary's own-use days and the approved and published posts are probed per partner
    (one index lookup each, in one query); customizations and self-served renders are few.
    """
    end = day_start(as_of + timedelta(days=1))
    pick, better = (func.min, min) if earliest else (func.max, max)
    found: dict[int, date] = {}

    def keep(pid: int, value: date | datetime | None) -> None:
        if value is None:
            return
        day = value.astimezone(UTC).date() if isinstance(value, datetime) else value
        found[pid] = better(found.get(pid, day), day)

    e, post = PartnerDailyEngagement, ScheduledPost
    probes = [
        select(pick(e.day)).where(e.partner_id == Partner.id, e.day <= as_of, e.own_actions > 0),
        select(pick(post.approved_at)).where(post.partner_id == Partner.id, post.approved_by_id.is_not(None),
                                             post.approved_at < end),
        select(pick(post.published_at)).where(post.partner_id == Partner.id, post.status == "published",
                                              post.published_at < end),
    ]
    stmt = select(Partner.id, *(p.scalar_subquery() for p in probes)).where(Partner.id.in_(partner_ids))
    for pid, *values in db.session.execute(stmt):
        for value in values:
            keep(pid, _as_date(value))
    customized_at = Customization.created_at if earliest else Customization.updated_at
    grouped = [
        select(Customization.partner_id, pick(customized_at))
        .where(customized_at < end, Customization.partner_id.in_(partner_ids))
        .group_by(Customization.partner_id),
        select(Asset.partner_id, pick(Asset.created_at))
        .where(Asset.created_at < end, Asset.campaign_id.is_(None), Asset.partner_id.in_(partner_ids))
        .group_by(Asset.partner_id),
    ]
    for stmt in grouped:
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


def last_active_by_partner(as_of: date, partner_ids: Any) -> dict[int, date]:
    """The day of each partner's (of `partner_ids`: ids or a select of them) latest own action up to
    `as_of`."""
    return _own_use_dates(False, as_of, partner_ids)


def first_use_by_partner(as_of: date, partner_ids: Any) -> dict[int, date]:
    """The day of each partner's (of `partner_ids`) first own action up to `as_of`."""
    return _own_use_dates(True, as_of, partner_ids)
