"""Engagement scores and churn flags per partner, for marketers (all partners) and partners (their own).

- `list_partner_insights(principal, InsightQuery) -> list[PartnerInsight]`: active partners that
  had joined by `as_of`, filtered by flag and sorted; a partner user gets only its own row.
- `get_partner_insight(principal, partner_id, InsightQuery) -> PartnerInsight`: one partner
  (404 for another partner's id, exactly as for a missing one).
- `insights_csv(rows) -> str`: the list as CSV, one line per partner.
- `refresh_partner_snapshot(query) -> PartnerInsight list`: compute the list and store it.

Both read a stored snapshot of every active partner's score (tcma.services.insights.snapshots) when
one younger than TCMA_INSIGHT_MAX_AGE_SECONDS exists for the day and parameters; a marketer's list
without one is computed, stored and answered. Either way each row says when it was computed
(`computed_at`); a snapshot's rows read their components and hints only when used (the rows shown).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
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


Details = tuple[list[Component], list[dict[str, object]], list[dict[str, str]]]


class StoredInsight(PartnerInsight):
    """A snapshot's row: lists sort and filter on its score, last action and flag names; its flags'
    reasons, components and hints are read from the snapshot on first use, together with those of the
    rows after it in the answer's order (a page's rows in one query)."""

    def __init__(self, partner_id: int, name: str, joined: date, as_of: date, score: float,
                 last_active: date | None, flag_names: frozenset[str] | None, computed_at: datetime,
                 details: _StoredDetails) -> None:
        self.partner_id, self.name, self.joined, self.as_of = partner_id, name, joined, as_of
        self.score, self.last_active, self.computed_at = score, last_active, computed_at
        self.flag_names = flag_names  # None: a partner user's row (no flags)
        self._details = details
        self._loaded: Details | None = None

    @property
    def components(self) -> list[Component]:  # type: ignore[override]
        return self._details.of(self)[0]

    @property
    def hints(self) -> list[dict[str, object]]:  # type: ignore[override]
        return self._details.of(self)[1]

    @property
    def flags(self) -> list[dict[str, str]] | None:  # type: ignore[override]
        return None if self.flag_names is None else self._details.of(self)[2]


class _StoredDetails:
    """Reads the details of one snapshot's rows in `order`: CHUNK rows, then twice as many each time
    (a page in one query, every row of a CSV in a few)."""

    CHUNK = 50  # the API's and the portal's page

    def __init__(self, snapshot_id: int, query: InsightQuery) -> None:
        self.snapshot_id, self.query = snapshot_id, query
        self.order: list[StoredInsight] = []
        self.position: dict[int, int] = {}
        self.chunk = self.CHUNK

    def arrange(self, rows: list[StoredInsight]) -> None:
        """The rows in the order they are answered: a row read loads the ones after it too."""
        self.order, self.position = rows, {row.partner_id: i for i, row in enumerate(rows)}

    def of(self, row: StoredInsight) -> Details:
        if row._loaded is None:
            at = self.position.get(row.partner_id)
            chunk = [row] if at is None else [r for r in self.order[at:at + self.chunk] if r._loaded is None]
            self.chunk *= 2
            found = snapshots.details(self.snapshot_id, [r.partner_id for r in chunk])
            missing = [r for r in chunk if r.partner_id not in found]
            if missing:  # the snapshot was replaced meanwhile: these rows' details are computed again
                partners = [SimpleNamespace(id=r.partner_id, name=r.name, created_at=day_start(r.joined))
                            for r in missing]
                for again in _insights(OPERATOR, partners, self.query, [r.partner_id for r in missing]):
                    found[again.partner_id] = ([dataclasses.asdict(c) for c in again.components], again.hints,
                                               again.flags)
            for r in chunk:
                components, hints, flags = found[r.partner_id]
                r._loaded = ([Component(**c) for c in components], hints, flags)
        return row._loaded


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


def _flag_names(row: PartnerInsight) -> frozenset[str] | None:
    if isinstance(row, StoredInsight):
        return row.flag_names
    return None if row.flags is None else frozenset(f["flag"] for f in row.flags)


def _wanted(row: PartnerInsight, flag: str | None) -> bool:
    names = None if flag is None else _flag_names(row)
    if flag is None or names is None:
        return flag is None
    return bool(names) if flag == ANY_FLAG else flag in names


def _sort_key(sort: str):
    name = sort.lstrip("-")
    if name == "last_active":
        return lambda r: (r.last_active or date.min, r.partner_id)
    if name == "name":
        return lambda r: (r.name.lower(), r.partner_id)
    return lambda r: (r.score, r.partner_id)


def snapshot_params(query: InsightQuery) -> str:
    return snapshots.partner_params(query.window_days, query.rules)


def _stored(principal: Principal, query: InsightQuery, as_of: date,
            partner_ids: Any = None) -> tuple[list[StoredInsight], _StoredDetails] | None:
    """The rows of a fresh snapshot of this day and parameters, of the partners the caller may see
    that are active (of `partner_ids` only, if given); None without a fresh snapshot."""
    snapshot = snapshots.fresh(snapshots.PARTNERS, as_of, snapshot_params(query))
    if snapshot is None:
        return None
    if principal.is_partner:
        partner_ids = [principal.partner_id]
    details, partner = _StoredDetails(snapshot.id, query), principal.is_partner
    rows = [StoredInsight(pid, name, created_at.astimezone(UTC).date(), as_of, score, last_active,
                          None if partner else frozenset(names.split()), snapshot.computed_at, details)
            for pid, score, last_active, names, name, created_at in snapshots.listed(
                snapshot.id, as_of, partner_ids)]
    return rows, details


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


def list_partner_insights(principal: Principal, query: InsightQuery) -> list[PartnerInsight]:
    """Every active partner's score and flags (a partner user: its own row only), from a fresh
    snapshot, else computed (and, for a marketer while snapshots are on, stored)."""
    as_of = checked_as_of(query.as_of)
    stored = _stored(principal, query, as_of)
    if stored is not None:
        found: list[PartnerInsight] = list(stored[0])
    elif principal.is_vendor and snapshots.max_age():
        found = refresh_partner_snapshot(dataclasses.replace(query, as_of=as_of))
    else:
        found = _insights(principal, _partners(principal, as_of), query, _partner_ids(principal, as_of))
    rows = sorted((r for r in found if _wanted(r, query.flag)), key=_sort_key(query.sort),
                  reverse=query.sort.startswith("-"))
    if stored is not None:
        stored[1].arrange(rows)  # type: ignore[arg-type]
    return rows


def get_partner_insight(principal: Principal, partner_id: int, query: InsightQuery) -> PartnerInsight:
    """One partner's score, parts, flags and hints; another partner's id answers 404."""
    partner = get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
    joined, as_of = partner.created_at.astimezone(UTC).date(), checked_as_of(query.as_of)
    if as_of < joined:
        message = f"as_of {as_of.isoformat()} is before partner {partner_id} joined ({joined.isoformat()})"
        raise InvalidInput(message, {"as_of": [message]})
    stored = _stored(principal, query, as_of, [partner.id])
    if stored is not None and stored[0]:
        return stored[0][0]
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
