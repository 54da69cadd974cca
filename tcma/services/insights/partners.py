"""Engagement scores and churn flags per partner, for marketers (all partners) and partners (their own).

- `list_partner_insights(principal, InsightQuery) -> list[PartnerInsight]`: active partners that
  had joined by `as_of`, filtered by flag and sorted; a partner user gets only its own row.
- `get_partner_insight(principal, partner_id, InsightQuery) -> PartnerInsight`: one partner
  (404 for another partner's id, exactly as for a missing one).
- `partner_insights_page(principal, InsightQuery, page, per_page) -> InsightPage`: one page of
  that list, its total and when it was computed; from a snapshot only the page's rows are read.
- `iter_partner_insights` / `insights_csv_lines(rows)`: the whole list and its CSV, a row at a time.
- `insights_csv(rows) -> str`: the list as CSV, one line per partner.
- `refresh_partner_snapshot(query) -> PartnerInsight list`: compute the list and store it.

Both read a stored snapshot of every active partner's score (tcma.services.insights.snapshots) when
one younger than TCMA_INSIGHT_MAX_AGE_SECONDS exists for the day and parameters; a marketer's list
without one is computed, stored and answered. Either way each row says when it was computed
(`computed_at`). A snapshot's list is filtered, sorted and paged in SQL (tcma.services.insights.snapshots
`listed`, by the partner's current name for the name sorts); a computed one in Python, in the same order.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from campaigns.vocabulary import ANY_CHURN_FLAG as ANY_FLAG
from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.models import Partner
from tcma.models.base import utcnow
from tcma.services.accounts.auth import OPERATOR, Principal
from tcma.services.insights import snapshots
from tcma.services.insights.activity import activity_in_periods, day_start, last_active_by_partner, period
from tcma.services.insights.score import (
    COMPONENTS,
    DEFAULT_WINDOW_DAYS,
    Activity,
    ChurnRules,
    Component,
    churn_flags,
    score_activity,
)
from tcma.services.scoping import get_scoped, scope_select


@dataclass
class InsightQuery:
    """Which day to score on, over how long, when to flag, which rows and in what order."""

    as_of: date | None = None
    window_days: int = DEFAULT_WINDOW_DAYS
    rules: ChurnRules = field(default_factory=ChurnRules)
    flag: str | None = None
    sort: str = "score"


@dataclass
class PartnerInsight:
    """One partner's score on `as_of`, its parts, flags (vendor users only) and hints."""

    partner_id: int
    name: str
    joined: date
    as_of: date
    score: float
    components: list[Component]
    last_active: date | None
    flags: list[dict[str, str]] | None
    hints: list[dict[str, object]]
    computed_at: datetime | None = None  # when the score was computed (a snapshot's: when stored)


EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
AS_OF_RANGE = f"as_of must be a day from {EARLIEST.isoformat()} to {LATEST.isoformat()}"


def checked_as_of(as_of: date | None) -> date:
    """The day asked for (today in UTC by default), within the range any period may reach."""
    if as_of is None:
        return datetime.now(UTC).date()
    if not EARLIEST <= as_of <= LATEST:
        raise InvalidInput(AS_OF_RANGE, {"as_of": [AS_OF_RANGE]})
    return as_of


def _partner_ids(principal: Principal, as_of: date) -> Select[tuple[int]]:
    """The active partners that had joined by `as_of` (a partner user: its own)."""
    stmt = select(Partner.id).where(Partner.created_at < day_start(as_of + timedelta(days=1)),
                                    Partner.status == "active")
    return scope_select(stmt, Partner.id, principal)


def _partners(principal: Principal, as_of: date) -> list[Any]:
    """Id, name and joining time of the active partners that had joined by `as_of` (columns only)."""
    ids = _partner_ids(principal, as_of)
    stmt = select(Partner.id, Partner.name, Partner.created_at).where(Partner.id.in_(ids))
    return list(db.session.execute(stmt.order_by(Partner.id)))


def _insights(principal: Principal, partners: list[Any], query: InsightQuery,
              partner_ids: Any) -> list[PartnerInsight]:
    """Score and flag `partners`, whose ids `partner_ids` gives (ids, or the select that found them)."""
    as_of, rules = checked_as_of(query.as_of), query.rules
    window, recent, baseline = activity_in_periods([
        period(as_of, query.window_days), period(as_of, rules.recent_days),
        period(as_of - timedelta(days=rules.recent_days), rules.baseline_days)], partner_ids)
    last = last_active_by_partner(as_of, partner_ids)
    rows, nothing, now = [], Activity(), utcnow()
    for partner in partners:
        joined = partner.created_at.astimezone(UTC).date()
        scored = score_activity(window.get(partner.id, nothing), last.get(partner.id), as_of,
                                query.window_days)
        flags = None if principal.is_partner else churn_flags(
            recent.get(partner.id, nothing), baseline.get(partner.id, nothing), last.get(partner.id),
            joined, as_of, rules)
        rows.append(PartnerInsight(partner.id, partner.name, joined, as_of, scored.score, scored.components,
                                   last.get(partner.id), flags, scored.hints, now))
    return rows


def _wanted(row: PartnerInsight, flag: str | None) -> bool:
    if flag is None or row.flags is None:
        return flag is None
    names = {f["flag"] for f in row.flags}
    return bool(names) if flag == ANY_FLAG else flag in names


def _sort_key(sort: str):
    name = sort.lstrip("-")
    if name == "last_active":
        return lambda r: (r.last_active or date.min, r.partner_id)
    if name == "name":
        return lambda r: (r.name.lower(), r.partner_id)
    return lambda r: (r.score, r.partner_id)


def _computed(principal: Principal, query: InsightQuery, as_of: date) -> list[PartnerInsight]:
    """Every row of the list computed now (for a marketer while snapshots are on: also stored),
    filtered and sorted in Python."""
    if principal.is_vendor and snapshots.max_age():
        found = refresh_partner_snapshot(dataclasses.replace(query, as_of=as_of))
    else:
        found = _insights(principal, _partners(principal, as_of), query, _partner_ids(principal, as_of))
    return sorted((r for r in found if _wanted(r, query.flag)), key=_sort_key(query.sort),
                  reverse=query.sort.startswith("-"))


def snapshot_params(query: InsightQuery) -> str:
    return snapshots.partner_params(query.window_days, query.rules)


@dataclass(frozen=True)
class _Snapshot:
    """A fresh snapshot to read a list from, and which of its rows the caller may see."""

    id: int
    computed_at: datetime
    as_of: date
    partner: bool  # a partner user: its own row, no flags
    partner_ids: list[int] | None
    flag: str | None

    def where(self) -> dict[str, Any]:
        return {"partner_ids": self.partner_ids, "flag": self.flag, "any_flag": ANY_FLAG}

    def insight(self, found: Any) -> PartnerInsight:
        pid, score, last_active, _, flags, components, hints, name, created_at = found
        return PartnerInsight(pid, name, created_at.astimezone(UTC).date(), self.as_of, score,
                              [Component(**c) for c in components], last_active,
                              None if self.partner else flags, hints, self.computed_at)


def _fresh(principal: Principal, query: InsightQuery, as_of: date,
           partner_ids: list[int] | None = None) -> _Snapshot | None:
    """The fresh snapshot of this day and parameters, scoped to the partners the caller may see (of
    `partner_ids` only, if given) and to the query's flag; None without one."""
    snapshot = snapshots.fresh(snapshots.PARTNERS, as_of, snapshot_params(query))
    if snapshot is None:
        return None
    if principal.is_partner:
        partner_ids = [principal.partner_id]
    return _Snapshot(snapshot.id, snapshot.computed_at, as_of, principal.is_partner, partner_ids, query.flag)


@dataclass(frozen=True)
class InsightPage:
    """One page of the list, how many rows the whole list has, and when its scores were computed
    (None when it has no row)."""

    items: list[PartnerInsight]
    total: int
    computed_at: datetime | None
    first_ids: list[int] = field(default_factory=list)  # the list's first partners' ids, if asked


def partner_insights_page(principal: Principal, query: InsightQuery, page: int, per_page: int,
                          first_ids: int = 0) -> InsightPage:
    """Page `page` (of `per_page` rows) of `list_partner_insights`, read from a fresh snapshot in SQL
    (filtered, sorted and paged there: only the page's rows are read), else computed; with the ids
    of the list's first `first_ids` partners."""
    as_of = checked_as_of(query.as_of)
    start = (page - 1) * per_page
    if principal.is_partner and query.flag is not None:  # a partner user's row has no flags
        return InsightPage([], 0, None)
    fresh = _fresh(principal, query, as_of)
    if fresh is None:
        rows = _computed(principal, query, as_of)
        return InsightPage(rows[start:start + per_page], len(rows),
                           min((r.computed_at for r in rows), default=None),  # type: ignore[type-var]
                           [r.partner_id for r in rows[:first_ids]])
    total = snapshots.counted(fresh.id, as_of, **fresh.where())
    items = [] if start >= total else [fresh.insight(found) for found in snapshots.listed(
        fresh.id, as_of, sort=query.sort, offset=start, limit=per_page, **fresh.where())]
    ids = snapshots.listed_ids(fresh.id, as_of, sort=query.sort, limit=first_ids,
                               **fresh.where()) if first_ids and total else []
    return InsightPage(items, total, fresh.computed_at if total else None, ids)


def refresh_partner_snapshot(query: InsightQuery) -> list[PartnerInsight]:
    """Compute every active partner's score and flags for `query`'s day and parameters and store them
    as its snapshot (committed); the rows computed."""
    as_of, everyone, started = checked_as_of(query.as_of), OPERATOR, utcnow()
    rows = _insights(everyone, _partners(everyone, as_of), query, _partner_ids(everyone, as_of))
    stored = []
    for row in rows:
        row.computed_at = started  # the data read is as of the start
        stored.append({"partner_id": row.partner_id, "score": row.score, "last_active": row.last_active,
                       "flag_names": " ".join(f["flag"] for f in row.flags or []), "flags": row.flags,
                       "components": [dataclasses.asdict(c) for c in row.components],
                       "hints": row.hints})
    snapshots.store(snapshots.PARTNERS, as_of, snapshot_params(query), started, partners=len(rows),
                    rows=stored)
    return rows


def iter_partner_insights(principal: Principal, query: InsightQuery) -> Iterator[PartnerInsight]:
    """Every row of the list in order (a snapshot's read a batch at a time), for exports."""
    as_of = checked_as_of(query.as_of)
    if principal.is_partner and query.flag is not None:
        return iter(())
    fresh = _fresh(principal, query, as_of)
    if fresh is None:
        return iter(_computed(principal, query, as_of))
    return (fresh.insight(found) for found in snapshots.listed(
        fresh.id, as_of, sort=query.sort, batch=EXPORT_BATCH, **fresh.where()))


def list_partner_insights(principal: Principal, query: InsightQuery) -> list[PartnerInsight]:
    """Every active partner's score and flags (a partner user: its own row only), filtered and sorted,
    from a fresh snapshot, else computed (and, for a marketer while snapshots are on, stored)."""
    return list(iter_partner_insights(principal, query))


def get_partner_insight(principal: Principal, partner_id: int, query: InsightQuery) -> PartnerInsight:
    """One partner's score, parts, flags and hints; another partner's id answers 404."""
    partner = get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
    joined, as_of = partner.created_at.astimezone(UTC).date(), checked_as_of(query.as_of)
    if as_of < joined:
        message = f"as_of {as_of.isoformat()} is before partner {partner_id} joined ({joined.isoformat()})"
        raise InvalidInput(message, {"as_of": [message]})
    fresh = _fresh(principal, dataclasses.replace(query, flag=None), as_of, [partner.id])
    if fresh is not None:
        for found in snapshots.listed(fresh.id, as_of, **fresh.where()):
            return fresh.insight(found)
    return _insights(principal, [partner], query, [partner.id])[0]


EXPORT_BATCH = 1000  # snapshot rows an export reads at a time
CSV_COLUMNS = ("partner_id", "name", "score", "last_active", "flags", "reasons")


def insights_csv_lines(rows: Iterable[PartnerInsight]) -> Iterator[str]:
    """The CSV a line at a time (a header, then one line per partner): id, name, score, each
    component's points, last action, flags and why."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")

    def line(values: list[Any]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(values)
        return out.getvalue()

    parts = [*(name for name, *_ in COMPONENTS), "recency"]
    yield line([*CSV_COLUMNS[:3], *(f"{p}_points" for p in parts), *CSV_COLUMNS[3:]])
    for row in rows:
        flags = row.flags or []
        yield line([row.partner_id, row.name, row.score, *(c.points for c in row.components),
                    row.last_active.isoformat() if row.last_active else "",
                    " ".join(f["flag"] for f in flags), "; ".join(f["reason"] for f in flags)])


def insights_csv(rows: Iterable[PartnerInsight]) -> str:
    """The whole CSV as one text (`insights_csv_lines` joined)."""
    return "".join(insights_csv_lines(rows))
