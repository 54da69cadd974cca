"""Dashboards for the programme, one campaign or one partner: what was delivered, downloaded,
customized, sent, opened, clicked and posted, over time and by channel, tier, region and variant,
people and machines apart, and the top partners, campaigns and assets, each with its name.

The engagement numbers are the daily rollups' (the stats API's `count` for people and `bots` for
machines, for the same filters and days), read in one scan on PostgreSQL (GROUPING SETS) and one
grouped query per breakdown elsewhere. The programme's dashboard reads the same sums pre-added per
day, kind, channel, variant, campaign, tier and region (tcma.services.tracking.summaries), and
ranks its top partners on their daily engagement, reading only the leaders' rollups.
"Delivered" counts assets rendered in the period and "customized" the field values saved plus
self-served renders (docs/insights.md).

- `dashboard(principal, DashboardQuery) -> dict`: every table of one dashboard.
- `table_csv(board, table) -> str`: one of its tables as CSV.
"""

from __future__ import annotations

import csv
import heapq
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, tuple_

from tcma.errors import InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import (
    Asset,
    Campaign,
    CampaignOutput,
    Customization,
    EventRollup,
    Partner,
    PartnerDailyEngagement,
    ProgrammeDailyRollup,
    Region,
    Template,
    TemplateVersion,
    Tier,
)
from tcma.services.accounts.auth import Principal
from tcma.services.insights.activity import day_start
from tcma.services.scoping import get_scoped

# Each column of a table and the rollup kinds it adds up (people's events; machines apart).
COLUMN_KINDS: dict[str, tuple[str, ...]] = {
    "downloaded": ("download",), "sent": ("send",), "opened": ("open",), "clicked": ("click",),
    "posted": ("post",), "reactions": ("like", "repost", "reply"),
}
KIND_COLUMN = {kind: column for column, kinds in COLUMN_KINDS.items() for kind in kinds}
COLUMNS = (*COLUMN_KINDS, "unique_clicks", "machines")
COLUMN_LABELS = {"downloaded": "Downloaded", "sent": "Sent", "opened": "Opened", "clicked": "Clicked",
                 "posted": "Posted", "reactions": "Reactions", "unique_clicks": "Unique clicks",
                 "machines": "Machines (not counted)"}
FUNNEL = ("delivered", "downloaded", "customized", "sent", "opened", "clicked", "posted")
FUNNEL_LABELS = {"delivered": "Delivered", "customized": "Customized",
                 **{k: v for k, v in COLUMN_LABELS.items() if k in FUNNEL}}
BREAKDOWNS = ("day", "channel", "partner_id", "variant", "campaign_id", "asset_id")
PROGRAMME_BREAKDOWNS = ("day", "channel", "variant", "campaign_id", "tier_id", "region_id")
TABLES = ("funnel", "over_time", "by_channel", "by_tier", "by_region", "by_variant", "top_partners",
          "top_campaigns", "top_assets")
TOP = 10
DEFAULT_DAYS = 30
MAX_DAYS = 732
PERIOD_TOO_LONG = f"the period may be at most {MAX_DAYS} days long"
NONE_LABELS = {"channel": "(no channel)", "variant": "(no variant)", "campaign_id": "(library, no campaign)",
               "partner_id": "(no partner)"}


@dataclass
class DashboardQuery:
    """Whose numbers (the programme, a campaign, a partner) and which UTC days, both inclusive."""

    campaign_id: int | None = None
    partner_id: int | None = None
    start: date | None = None
    end: date | None = None


def dashboard(principal: Principal, query: DashboardQuery) -> dict[str, Any]:
    """Every table of the dashboard asked for; a partner user only ever gets its own partner's."""
    scope = _scope(principal, query)
    start, end = _period(query, scope)
    if scope["kind"] == "programme":
        return _programme_dashboard(scope, start, end)
    where = _rollup_filters(scope, start, end)
    groups = _rollup_groups(where, _breakdowns(scope))
    partners = _partner_names(key for key, *_ in groups["partner_id"])
    board = _board(scope, start, end, groups)
    board.update(by_tier=_merged(groups["partner_id"], partners, "tier"),
                 by_region=_merged(groups["partner_id"], partners, "region"),
                 top_partners=_top(_table(groups["partner_id"], "partner_id", _partner_label(partners))))
    return _with_tops(board, groups)


def _programme_dashboard(scope: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    """The programme's tables from the pre-summed daily table (a few thousand rows, not millions).

    Tier and region come summed per partner's tier and region; the top partners are ranked on
    the per-partner daily engagement, then only the leaders' rollups are read.
    """
    where = [ProgrammeDailyRollup.day >= start, ProgrammeDailyRollup.day <= end,
             ProgrammeDailyRollup.kind.in_(KIND_COLUMN)]
    groups = _rollup_groups(where, PROGRAMME_BREAKDOWNS, ProgrammeDailyRollup)
    board = _board(scope, start, end, groups)
    leaders = _leading_partners(start, end)
    leader_rows = _partner_rows(_rollup_filters(scope, start, end), leaders)
    partners = _partner_names(leaders)
    board.update(by_tier=_by_place(groups["tier_id"], Tier), by_region=_by_place(groups["region_id"], Region),
                 top_partners=_top(_table(leader_rows, "partner_id", _partner_label(partners))))
    return _with_tops(board, groups)


def _board(scope: dict[str, Any], start: date, end: date, groups: dict[str, list[tuple]]) -> dict[str, Any]:
    over_time = _over_time(groups["day"], start, end)
    totals = _sum_rows(over_time)
    return {"scope": scope, "start": start, "end": end, "totals": totals,
            "funnel": _funnel(scope, start, end, totals, _machines_per_column(groups["day"])),
            "over_time": over_time,
            "by_channel": _table(groups["channel"], "channel", lambda k: k),
            "by_tier": [], "by_region": [],
            "by_variant": _table(groups["variant"], "variant", lambda k: k),
            "top_partners": []}


def _with_tops(board: dict[str, Any], groups: dict[str, list[tuple]]) -> dict[str, Any]:
    board["top_campaigns"] = _top(_table(groups.get("campaign_id", []), "campaign_id", _campaign_names(
        key for key, *_ in groups.get("campaign_id", []))))
    board["top_assets"] = _top(_table(groups.get("asset_id", []), "asset_id", _asset_names(
        key for key, *_ in groups.get("asset_id", []))))
    return board


def _partner_label(partners: dict[int, dict[str, str]]) -> Any:
    return lambda key: partners.get(key, {}).get("name", f"partner {key}")


def _leading_partners(start: date, end: date) -> list[int]:
    """The ten partners with the most engagement in the period, ties broken by name as `_top` does.

    The database ranks (all partners tied with the tenth come back); the names settle the ties.
    """
    engagement = func.sum(PartnerDailyEngagement.engagement)
    ranked = (select(PartnerDailyEngagement.partner_id, engagement.label("engagement"),
                     func.rank().over(order_by=engagement.desc()).label("place"))
              .where(PartnerDailyEngagement.day >= start, PartnerDailyEngagement.day <= end)
              .group_by(PartnerDailyEngagement.partner_id).subquery())
    scores = dict(db.session.execute(select(ranked.c.partner_id, ranked.c.engagement)
                                     .where(ranked.c.place <= TOP)).all())
    if len(scores) <= TOP:
        return list(scores)
    names_stmt = select(Partner.id, Partner.name)
    if len(scores) <= 1000:
        names_stmt = names_stmt.where(Partner.id.in_(scores))
    names = dict(db.session.execute(names_stmt).all())
    return heapq.nsmallest(TOP, scores, key=lambda pid: (-int(scores[pid] or 0),
                                                         names.get(pid, f"partner {pid}").lower()))


def _partner_rows(where: list[Any], partner_ids: list[int]) -> list[tuple]:
    """(partner, kind, people, uniques, machines) rows of these partners only (the rollups' index)."""
    if not partner_ids:
        return []
    stmt = (select(EventRollup.partner_id, EventRollup.kind, func.sum(EventRollup.total),
                   func.sum(EventRollup.uniques), func.sum(EventRollup.bots))
            .where(*where, EventRollup.partner_id.in_(partner_ids))
            .group_by(EventRollup.partner_id, EventRollup.kind))
    return [tuple(row) for row in db.session.execute(stmt)]


def _by_place(rows: list[tuple], model: type) -> list[dict[str, Any]]:
    """Rows summed per tier or region id, named and keyed as the partners' tier or region."""
    wanted = {key for key, *_ in rows if key}
    names = {pid: (slug, name) for pid, slug, name in db.session.execute(
        select(model.id, model.slug, model.name).where(model.id.in_(wanted)))} if wanted else {}
    table: dict[str, dict[str, Any]] = {}
    for key, kind, people, uniques, machines in rows:
        slug, label = names.get(key, (None, NONE_LABELS["partner_id"]))
        if label not in table:
            table[label] = _empty_row(slug, label)
        _add(table[label], kind, people, uniques, machines)
    return sorted(table.values(), key=lambda r: (r["key"] is None, r["label"].lower()))


def _scope(principal: Principal, query: DashboardQuery) -> dict[str, Any]:
    partner_id = principal.partner_id if principal.is_partner else query.partner_id
    scope: dict[str, Any] = {"kind": "programme", "campaign_id": None, "campaign_name": None,
                             "partner_id": None, "partner_name": None}
    if query.campaign_id is not None:
        campaign = db.session.get(Campaign, query.campaign_id)
        if campaign is None:
            raise NotFoundError(f"campaign {query.campaign_id} not found")
        scope.update(kind="campaign", campaign_id=campaign.id, campaign_name=campaign.name,
                     launched=(campaign.launched_at or campaign.created_at).astimezone(UTC).date())
    if query.partner_id is not None and principal.is_partner and query.partner_id != principal.partner_id:
        raise NotFoundError(f"partner {query.partner_id} not found")
    if partner_id is not None:
        partner = get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
        scope.update(kind="partner" if query.campaign_id is None else "campaign",
                     partner_id=partner.id, partner_name=partner.name)
    return scope


def _period(query: DashboardQuery, scope: dict[str, Any]) -> tuple[date, date]:
    end = query.end or datetime.now(UTC).date()
    start = query.start
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
        if scope.get("launched"):  # a campaign's dashboard starts at its launch (a year at most)
            start = max(min(scope["launched"], end), end - timedelta(days=365))
    if start > end:
        raise InvalidInput("start must not be after end", {"start": ["must not be after end"]})
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(PERIOD_TOO_LONG, {"start": [PERIOD_TOO_LONG]})
    scope.pop("launched", None)
    return start, end


def _rollup_filters(scope: dict[str, Any], start: date, end: date) -> list[Any]:
    where = [EventRollup.day >= start, EventRollup.day <= end, EventRollup.kind.in_(KIND_COLUMN)]
    if scope["campaign_id"] is not None:
        where.append(EventRollup.campaign_id == scope["campaign_id"])
    if scope["partner_id"] is not None:
        where.append(EventRollup.partner_id == scope["partner_id"])
    return where


def _breakdowns(scope: dict[str, Any]) -> tuple[str, ...]:
    """A campaign's dashboard has one campaign to rank; a partner's ranks its campaigns and assets."""
    if scope["kind"] == "campaign":
        return tuple(b for b in BREAKDOWNS if b != "campaign_id")
    return BREAKDOWNS


def _rollup_groups(where: list[Any], dims: tuple[str, ...],
                   source: type = EventRollup) -> dict[str, list[tuple]]:
    """Per breakdown: (value, kind, people, uniques, machines) rows, from one scan where possible.

    `source`: the rollups, or the programme's pre-summed daily table (the same columns).
    """
    measures = (func.sum(source.total), func.sum(source.uniques), func.sum(source.bots))
    columns = [getattr(source, name) for name in dims]
    found: dict[str, list[tuple]] = {name: [] for name in dims}
    if db.session.get_bind().dialect.name != "postgresql":
        for name, column in zip(dims, columns, strict=True):
            stmt = select(column, source.kind, *measures).where(*where).group_by(column, source.kind)
            found[name] = [tuple(row) for row in db.session.execute(stmt)]
        return found
    # GROUPING(...) is a bit mask with a 1 for every column a row is NOT grouped by.
    full = (1 << len(columns)) - 1
    which = {full ^ (1 << (len(columns) - 1 - i)): name for i, name in enumerate(dims)}
    stmt = (select(func.grouping(*columns), *columns, source.kind, *measures).where(*where)
            .group_by(func.grouping_sets(*(tuple_(column, source.kind) for column in columns))))
    for row in db.session.execute(stmt):
        name = which[row[0]]
        found[name].append((row[1 + dims.index(name)], *row[1 + len(dims):]))
    return found


def _empty_row(key: Any, label: str) -> dict[str, Any]:
    return {"key": key, "label": label, **dict.fromkeys(COLUMNS, 0)}


def _add(row: dict[str, Any], kind: str, people: Any, uniques: Any, machines: Any) -> None:
    row[KIND_COLUMN[kind]] += int(people or 0)
    row["machines"] += int(machines or 0)
    if kind == "click":
        row["unique_clicks"] += int(uniques or 0)


def _table(rows: list[tuple], dim: str, name_of: Any) -> list[dict[str, Any]]:
    """One row per value of `dim`, named, in the order of the values."""
    table: dict[Any, dict[str, Any]] = {}
    for key, kind, people, uniques, machines in rows:
        key = None if key in (0, "") else key
        if key not in table:
            table[key] = _empty_row(key, NONE_LABELS.get(dim, "(none)") if key is None else str(name_of(key)))
        _add(table[key], kind, people, uniques, machines)
    return sorted(table.values(), key=lambda r: (r["key"] is None, str(r["label"]).lower()))


def _over_time(rows: list[tuple], start: date, end: date) -> list[dict[str, Any]]:
    """One row per day of the period (key and label: the ISO day), zeros where nothing happened."""
    days = {}
    for offset in range((end - start).days + 1):
        day = (start + timedelta(days=offset)).isoformat()
        days[day] = _empty_row(day, day)
    for day, kind, people, uniques, machines in rows:
        _add(days[day if isinstance(day, str) else day.isoformat()], kind, people, uniques, machines)
    return list(days.values())


def _sum_rows(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    totals = dict.fromkeys(COLUMNS, 0)
    for row in rows:
        for column in COLUMNS:
            totals[column] += row[column]
    return totals


def _merged(rows: list[tuple], partners: dict[int, dict[str, str]], by: str) -> list[dict[str, Any]]:
    """Partner rows added up by the partner's tier or region."""
    table: dict[str, dict[str, Any]] = {}
    for key, kind, people, uniques, machines in rows:
        label = partners.get(key, {}).get(by, NONE_LABELS["partner_id"])
        if label not in table:
            table[label] = _empty_row(partners.get(key, {}).get(f"{by}_slug"), label)
        _add(table[label], kind, people, uniques, machines)
    return sorted(table.values(), key=lambda r: (r["key"] is None, r["label"].lower()))


def _top(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ten rows with the most engagement (people's downloads, sends, posts and clicks)."""
    named = [row for row in rows if row["key"] is not None]
    return sorted(named, key=lambda r: (-(r["downloaded"] + r["sent"] + r["posted"] + r["clicked"]),
                                        r["label"].lower()))[:TOP]


def _partner_names(ids: Iterable[Any]) -> dict[int, dict[str, str]]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    stmt = (select(Partner.id, Partner.name, Tier.slug, Tier.name, Region.slug, Region.name)
            .join(Tier, Tier.id == Partner.tier_id).join(Region, Region.id == Partner.region_id))
    if len(wanted) <= 1000:
        stmt = stmt.where(Partner.id.in_(wanted))
    return {pid: {"name": name, "tier_slug": tier_slug, "tier": tier, "region_slug": region_slug,
                  "region": region}
            for pid, name, tier_slug, tier, region_slug, region in db.session.execute(stmt)}


def _campaign_names(ids: Iterable[Any]) -> Any:
    wanted = {i for i in ids if i}
    names = dict(db.session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(wanted)))
                 .all()) if wanted else {}
    return lambda key: names.get(key, f"campaign {key}")


def _asset_names(ids: Iterable[Any]) -> Any:
    wanted = {i for i in ids if i}
    names = {}
    if wanted:
        stmt = (select(Asset.id, Template.name, Asset.output, Partner.name)
                .join(TemplateVersion, TemplateVersion.id == Asset.template_version_id)
                .join(Template, Template.id == TemplateVersion.template_id)
                .join(Partner, Partner.id == Asset.partner_id).where(Asset.id.in_(wanted)))
        names = {aid: f"{template} ({output.upper()}) · {partner}"
                 for aid, template, output, partner in db.session.execute(stmt)}
    return lambda key: names.get(key, f"asset {key}")


def _machines_per_column(rows: list[tuple]) -> dict[str, int]:
    machines = dict.fromkeys(COLUMN_KINDS, 0)
    for _, kind, _, _, bots in rows:
        machines[KIND_COLUMN[kind]] += int(bots or 0)
    return machines


def _funnel(scope: dict[str, Any], start: date, end: date, totals: dict[str, int],
            machines: dict[str, int]) -> list[dict[str, Any]]:
    """Each step's people and, for tracked events, the machines left out."""
    return [{"key": step, "label": FUNNEL_LABELS[step],
             "people": (_delivered(scope, start, end) if step == "delivered"
                        else _customized(scope, start, end) if step == "customized" else totals[step]),
             "machines": None if step in ("delivered", "customized") else machines[step]}
            for step in FUNNEL]


def _delivered(scope: dict[str, Any], start: date, end: date) -> int:
    """Assets rendered (done) in the period, for the scope's campaign and partner."""
    stmt = select(func.count()).select_from(Asset).where(
        Asset.status == "done", Asset.updated_at >= day_start(start),
        Asset.updated_at < day_start(end + timedelta(days=1)))
    if scope["campaign_id"] is not None:
        stmt = stmt.where(Asset.campaign_id == scope["campaign_id"])
    if scope["partner_id"] is not None:
        stmt = stmt.where(Asset.partner_id == scope["partner_id"])
    return int(db.session.scalar(stmt) or 0)


def _customized(scope: dict[str, Any], start: date, end: date) -> int:
    """Field values saved in the period plus self-served renders (a campaign: of its templates)."""
    low, high = day_start(start), day_start(end + timedelta(days=1))
    saved = select(func.count()).select_from(Customization).where(
        Customization.updated_at >= low, Customization.updated_at < high)
    served = select(func.count()).select_from(Asset).where(
        Asset.campaign_id.is_(None), Asset.created_at >= low, Asset.created_at < high)
    if scope["campaign_id"] is not None:
        versions = select(CampaignOutput.template_version_id).where(
            CampaignOutput.campaign_id == scope["campaign_id"])
        saved = saved.where(Customization.template_version_id.in_(versions))
        served = served.where(Asset.template_version_id.in_(versions))
    if scope["partner_id"] is not None:
        saved = saved.where(Customization.partner_id == scope["partner_id"])
        served = served.where(Asset.partner_id == scope["partner_id"])
    return int(db.session.scalar(saved) or 0) + int(db.session.scalar(served) or 0)


def table_csv(board: dict[str, Any], table: str) -> str:
    """One table of a dashboard as CSV, with a header line."""
    if table not in TABLES:
        message = f"no table {table!r}: one of {', '.join(TABLES)}"
        raise InvalidInput(message, {"table": [message]})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if table == "funnel":
        writer.writerow(["step", "people", "machines"])
        for row in board["funnel"]:
            writer.writerow([row["key"], row["people"], "" if row["machines"] is None else row["machines"]])
        return out.getvalue()
    first = "day" if table == "over_time" else "id" if table.startswith("top_") else table.removeprefix("by_")
    writer.writerow([first, *(["name"] if table.startswith("top_") else []), *COLUMNS])
    for row in board[table]:
        key = row["label"] if not table.startswith("top_") else row["key"]
        names = [row["label"]] if table.startswith("top_") else []
        writer.writerow([key, *names, *(row[c] for c in COLUMNS)])
    return out.getvalue()
