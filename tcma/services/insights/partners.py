"""Engagement scores and churn flags per partner, for marketers (all partners) and partners (their own).

- `list_partner_insights(principal, InsightQuery) -> list[PartnerInsight]`: active partners that
  had joined by `as_of`, filtered by flag and sorted; a partner user gets only its own row.
- `get_partner_insight(principal, partner_id, InsightQuery) -> PartnerInsight`: one partner
  (404 for another partner's id, exactly as for a missing one).
- `insights_csv(rows) -> str`: the list as CSV, one line per partner.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from campaigns.vocabulary import ANY_CHURN_FLAG as ANY_FLAG
from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.models import Partner
from tcma.services.accounts.auth import Principal
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
    rows, nothing = [], Activity()
    for partner in partners:
        joined = partner.created_at.astimezone(UTC).date()
        scored = score_activity(window.get(partner.id, nothing), last.get(partner.id), as_of,
                                query.window_days)
        flags = None if principal.is_partner else churn_flags(
            recent.get(partner.id, nothing), baseline.get(partner.id, nothing), last.get(partner.id),
            joined, as_of, rules)
        rows.append(PartnerInsight(partner.id, partner.name, joined, as_of, scored.score, scored.components,
                                   last.get(partner.id), flags, scored.hints))
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


def list_partner_insights(principal: Principal, query: InsightQuery) -> list[PartnerInsight]:
    """Every active partner's score and flags (a partner user: its own row only)."""
    as_of = checked_as_of(query.as_of)
    found = _insights(principal, _partners(principal, as_of), query, _partner_ids(principal, as_of))
    rows = [r for r in found if _wanted(r, query.flag)]
    return sorted(rows, key=_sort_key(query.sort), reverse=query.sort.startswith("-"))


def get_partner_insight(principal: Principal, partner_id: int, query: InsightQuery) -> PartnerInsight:
    """One partner's score, parts, flags and hints; another partner's id answers 404."""
    partner = get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
    joined, as_of = partner.created_at.astimezone(UTC).date(), checked_as_of(query.as_of)
    if as_of < joined:
        message = f"as_of {as_of.isoformat()} is before partner {partner_id} joined ({joined.isoformat()})"
        raise InvalidInput(message, {"as_of": [message]})
    return _insights(principal, [partner], query, [partner.id])[0]


CSV_COLUMNS = ("partner_id", "name", "score", "last_active", "flags", "reasons")


def insights_csv(rows: list[PartnerInsight]) -> str:
    """One line per partner: id, name, score, each component's points, last action, flags and why."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    parts = [*(name for name, *_ in COMPONENTS), "recency"]
    writer.writerow([*CSV_COLUMNS[:3], *(f"{p}_points" for p in parts), *CSV_COLUMNS[3:]])
    for row in rows:
        flags = row.flags or []
        writer.writerow([row.partner_id, row.name, row.score, *(c.points for c in row.components),
                         row.last_active.isoformat() if row.last_active else "",
                         " ".join(f["flag"] for f in flags), "; ".join(f["reason"] for f in flags)])
    return out.getvalue()
