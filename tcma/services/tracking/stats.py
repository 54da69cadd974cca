"""Engagement numbers read from the daily rollups: per campaign, partner, asset, variant, channel, day.

Readers (partner users always get only their own partner's numbers):
- `query_stats(principal, StatsQuery) -> StatsResult`: any filter, any grouping.
- `campaign_stats(principal, campaign_id, group_by=("kind",), start=None, end=None,
  include_bots=False) -> StatsResult`: one campaign (404 if it does not exist; a partner user gets
  their own numbers, empty for a campaign they are not in, so no answer tells which campaigns exist).
- `stats_csv(result) -> str` and `format_stats(result) -> str` (for the CLI and the demo).

Grouped by campaign_id or partner_id, each row also carries campaign_name / partner_name (the CSV
too, beside the id): the same names the dashboards show.

`count` is people's events (bots added only with include_bots), `uniques` counts one per visitor
per unique window per day, `bots` is what was flagged and `bot_share` = bots / all events.

A vendor's question about the whole programme, grouped by and filtered on programme_daily_rollup's
dimensions only (day, kind, channel, variant, campaign; no campaign filter: the rollups' covering
index reads one campaign's rows faster) is summed from that table (kept by the same writes, about a
tenth of the rows) instead of the event rollups (11 M rows at the design's size): the same sums of
the same people's events, uniques and bots.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select

from tcma.errors import NotFoundError
from tcma.extensions import db
from tcma.models import Campaign, EventRollup, Partner, ProgrammeDailyRollup
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import scope_select

FILTERS = ("campaign_id", "partner_id", "asset_id", "variant", "channel", "kind")
NAMED = {"campaign_id": ("campaign_name", Campaign), "partner_id": ("partner_name", Partner)}
MEASURES = ("count", "uniques", "bots", "bot_share")
# What programme_daily_rollup answers: its dimensions, and filters that leave most of the programme
# (one campaign's rows come faster from ix_event_rollup_campaign_kind, which holds every measure).
PROGRAMME_DIMENSIONS = frozenset({"day", "kind", "channel", "variant", "campaign_id"})
PROGRAMME_FILTERS = ("variant", "channel", "kind")


@dataclass
class StatsQuery:
    """Which rollups to read and how to group them."""

    campaign_id: int | None = None
    partner_id: int | None = None
    asset_id: int | None = None
    variant: str | None = None
    channel: str | None = None
    kind: str | None = None
    start: date | None = None
    end: date | None = None
    group_by: tuple[str, ...] = ("kind",)
    include_bots: bool = False


@dataclass
class StatsResult:
    """Rows (one per group) and the totals over all of them."""

    group_by: tuple[str, ...]
    include_bots: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)


def query_stats(principal: Principal, query: StatsQuery) -> StatsResult:
    """Sum the rollups matching `query`, grouped by its dimensions (kind always among them)."""
    group_by = tuple(dict.fromkeys(("kind", *query.group_by)))
    table = ProgrammeDailyRollup if _programme_answers(principal, query, group_by) else EventRollup
    columns = [getattr(table, name) for name in group_by]
    stmt = select(*columns, func.sum(table.total), func.sum(table.uniques), func.sum(table.bots))
    stmt = _filtered(stmt, query, table)
    if table is EventRollup:
        stmt = scope_select(stmt, EventRollup.partner_id, principal)
    stmt = stmt.group_by(*columns).order_by(*columns)
    result = StatsResult(group_by, query.include_bots)
    for row in db.session.execute(stmt):
        dims = {name: _public(value) for name, value in zip(group_by, row[:-3], strict=True)}
        result.rows.append({**dims, **_measures(*row[-3:], query.include_bots)})
    _name_rows(result)
    result.totals = _totals(result.rows, query.include_bots)
    return result


def _programme_answers(principal: Principal, query: StatsQuery, group_by: tuple[str, ...]) -> bool:
    """Whether programme_daily_rollup has every dimension asked (a partner's numbers never: it has no
    partner)."""
    narrowed = [name for name in FILTERS if getattr(query, name) is not None]
    return (not principal.is_partner and set(group_by) <= PROGRAMME_DIMENSIONS
            and set(narrowed) <= set(PROGRAMME_FILTERS))


def _name_rows(result: StatsResult) -> None:
    """Put each grouped campaign's and partner's name beside its id (one query per dimension)."""
    for dimension in (name for name in result.group_by if name in NAMED):
        label, model = NAMED[dimension]
        ids = {row[dimension] for row in result.rows if row[dimension] is not None}
        found = db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all() if ids else []
        names = dict(found)
        for row in result.rows:
            row[label] = names.get(row[dimension])


def _columns(group_by: tuple[str, ...]) -> list[str]:
    """The CSV and table columns: each dimension, a name after a named id, then the measures."""
    columns: list[str] = []
    for name in group_by:
        columns += [name, NAMED[name][0]] if name in NAMED else [name]
    return [*columns, *MEASURES]


def campaign_stats(principal: Principal, campaign_id: int, group_by: tuple[str, ...] | list[str] = ("kind",),
                   start: date | None = None, end: date | None = None,
                   include_bots: bool = False, **filters: Any) -> StatsResult:
    """One campaign's numbers (a partner user sees only their own partner's)."""
    if not principal.is_partner and db.session.get(Campaign, campaign_id) is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    query = StatsQuery(campaign_id=campaign_id, start=start, end=end, group_by=tuple(group_by),
                       include_bots=include_bots, **filters)
    return query_stats(principal, query)


def _filtered(stmt: Any, query: StatsQuery, table: Any = EventRollup) -> Any:
    for name in FILTERS:
        value = getattr(query, name)
        if value is not None:
            stmt = stmt.where(getattr(table, name) == value)
    if query.start is not None:
        stmt = stmt.where(table.day >= query.start)
    if query.end is not None:
        stmt = stmt.where(table.day <= query.end)
    return stmt


def _public(value: Any) -> Any:
    """Rollups store 0 and '' for "none"; readers see None."""
    return None if value in (0, "") else value


def _measures(total: int, uniques: int, bots: int, include_bots: bool) -> dict[str, Any]:
    total, uniques, bots = int(total or 0), int(uniques or 0), int(bots or 0)
    everything = total + bots
    return {"count": everything if include_bots else total, "uniques": uniques, "bots": bots,
            "bot_share": round(bots / everything, 4) if everything else 0.0}


def _totals(rows: list[dict[str, Any]], include_bots: bool) -> dict[str, Any]:
    """Totals per kind (counts of different kinds are never added together)."""
    per_kind: dict[str, dict[str, Any]] = {}
    for row in rows:
        bucket = per_kind.setdefault(row["kind"], {"count": 0, "uniques": 0, "bots": 0})
        for name in ("count", "uniques", "bots"):
            bucket[name] += row[name]
    for bucket in per_kind.values():
        people = bucket["count"] - (bucket["bots"] if include_bots else 0)
        everything = people + bucket["bots"]
        bucket["bot_share"] = round(bucket["bots"] / everything, 4) if everything else 0.0
    return per_kind


def stats_csv(result: StatsResult) -> str:
    """The rows as CSV with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = _columns(result.group_by)
    writer.writerow(columns)
    for row in result.rows:
        writer.writerow([_csv_value(row[name]) for name in columns])
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    return "" if value is None else value.isoformat() if isinstance(value, date) else value


def format_stats(result: StatsResult) -> str:
    """A plain-text table of the rows and per-kind totals, for terminals."""
    headers = _columns(result.group_by)
    table = [headers] + [[str(_csv_value(row[h])) for h in headers] for row in result.rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
             for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    for kind, total in result.totals.items():
        lines.append(f"total {kind}: {total['count']} ({total['uniques']} unique), "
                     f"{total['bots']} by bots ({total['bot_share']:.0%} of all)")
    return "\n".join(lines)
