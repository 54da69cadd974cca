"""The programme dashboard's pre-summed tables, kept beside the event rollups.

`write_events` hands every rollup delta it applies (only events really inserted, so a re-written
batch adds nothing twice) to `add_to_dashboard_summaries` in the same transaction:
- programme_daily_rollup: per (day, kind, channel, variant, campaign, tier, region), people and
  machines apart; a few thousand rows where the rollups hold millions;
- partner_daily_engagement: per (partner, day), the people's downloads, sends, posts and clicks,
  to rank the top partners without reading every rollup; and apart, the downloads, sends, unique
  clicks and own actions (downloads, sends, post events) the insights score and flag with;
- partner_template_use: the first day each partner downloaded or sent an asset of each template
  (the KPIs' adoption); and published a post of it (kind "post": added by the scheduler as it
  publishes, `note_published_posts`, recomputed for a partner whose account is disconnected).

- `add_to_dashboard_summaries(conn, rollup_rows)`: add rollup deltas (the writer's call).
- `move_partner_in_dashboard_summaries(partner_id, old, new)`: a partner changed tier or region.
- `rebuild_dashboard_summaries() -> (rows, rows)`: recompute both from the rollups (`tcma events
  rebuild-summaries`; the migration does the same once).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select, text

from tcma.extensions import db
from tcma.models import (
    Asset,
    EventRollup,
    Partner,
    PartnerDailyEngagement,
    PartnerTemplateUse,
    ProgrammeDailyRollup,
    ScheduledPost,
    TemplateVersion,
)
from tcma.models.base import insert_for

# The kinds the dashboard shows, and those that rank its top partners (docs/insights.md).
DASHBOARD_KINDS = ("download", "send", "open", "click", "post", "like", "repost", "reply")
RANKED_KINDS = ("download", "send", "post", "click")
# A partner's own use of the programme among the rollup kinds (docs/insights.md): its first and last day.
OWN_KINDS = ("download", "send", "post")
# The insights' columns: (column, rollup kind, rollup number it adds up).
INSIGHT_PARTS = (("downloads", "download", "total"), ("sends", "send", "total"),
                 ("clicks", "click", "uniques"))
# Rollup kinds whose first day per (template, partner) the KPIs' adoption reads.
ADOPTION_KINDS = ("download", "send")
ENGAGEMENT_COLUMNS = ("engagement", *(column for column, _, _ in INSIGHT_PARTS), "own_actions")
PROGRAMME_KEY = ("day", "kind", "channel", "variant", "campaign_id", "tier_id", "region_id")
# Same key as ingest.WRITE_LOCK: moving a partner's rows waits for any event writer, and back.
EVENT_WRITE_LOCK = 0x74636D61_6576


def add_to_dashboard_summaries(conn: Connection, rollup_rows: list[dict[str, Any]]) -> None:
    """Add the rollup deltas being applied (total, uniques, bots per rollup key) to both summaries."""
    if not rollup_rows:
        return
    places = _tiers_and_regions(conn, {row["partner_id"] for row in rollup_rows})
    programme: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    engagement: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(ENGAGEMENT_COLUMNS))
    for row in rollup_rows:
        tier_id, region_id = places.get(row["partner_id"], (0, 0))
        bucket = programme[(row["day"], row["kind"], row["channel"], row["variant"], row["campaign_id"],
                            tier_id, region_id)]
        for i, name in enumerate(("total", "uniques", "bots")):
            bucket[i] += row[name]
        if row["partner_id"] and row["kind"] in DASHBOARD_KINDS:
            _add_engagement(engagement[(row["day"], row["partner_id"])], row)
    _upsert_programme(conn, programme)
    _upsert_engagement(conn, engagement)
    _upsert_template_use(conn, rollup_rows)


def _add_engagement(sums: list[int], row: dict[str, Any]) -> None:
    """Add one rollup delta to its (partner, day) sums, in ENGAGEMENT_COLUMNS order."""
    kind = row["kind"]
    sums[0] += row["total"] if kind in RANKED_KINDS else 0
    for i, (_, part_kind, number) in enumerate(INSIGHT_PARTS, start=1):
        sums[i] += row[number] if kind == part_kind else 0
    sums[-1] += row["total"] if kind in OWN_KINDS else 0


def _tiers_and_regions(conn: Connection, partner_ids: set[int]) -> dict[int, tuple[int, int]]:
    wanted = sorted(i for i in partner_ids if i)
    if not wanted:
        return {}
    stmt = select(Partner.id, Partner.tier_id, Partner.region_id).where(Partner.id.in_(wanted))
    return {pid: (tier_id, region_id) for pid, tier_id, region_id in conn.execute(stmt)}


def _upsert_programme(conn: Connection, deltas: dict[tuple[Any, ...], list[int]]) -> None:
    add_counts(conn, ProgrammeDailyRollup, PROGRAMME_KEY, deltas)


def add_counts(conn: Connection, model: Any, key: tuple[str, ...],
               deltas: dict[tuple[Any, ...], list[int]]) -> None:
    """Add (total, uniques, bots) deltas to `model`'s rows by `key`, inserting the rows not there yet
    (one statement; keys in order, so concurrent writers lock rows in the same order)."""
    if not deltas:
        return
    rows = [{**dict(zip(key, values, strict=True)), "total": t, "uniques": u, "bots": b}
            for values, (t, u, b) in sorted(deltas.items())]
    stmt = insert_for(conn.dialect.name, model)
    stmt = stmt.on_conflict_do_update(index_elements=list(key), set_={
        "total": model.total + stmt.excluded.total,
        "uniques": model.uniques + stmt.excluded.uniques,
        "bots": model.bots + stmt.excluded.bots,
    })
    conn.execute(stmt, rows)


def _upsert_engagement(conn: Connection, deltas: dict[tuple[Any, ...], list[int]]) -> None:
    if not deltas:
        return
    rows = [{"day": day, "partner_id": pid, **dict(zip(ENGAGEMENT_COLUMNS, values, strict=True))}
            for (day, pid), values in sorted(deltas.items())]
    stmt = insert_for(conn.dialect.name, PartnerDailyEngagement)
    stmt = stmt.on_conflict_do_update(index_elements=["day", "partner_id"], set_={
        name: getattr(PartnerDailyEngagement, name) + getattr(stmt.excluded, name)
        for name in ENGAGEMENT_COLUMNS})
    conn.execute(stmt, rows)


def _upsert_template_use(conn: Connection, rollup_rows: list[dict[str, Any]]) -> None:
    """Keep the earliest day each (template, partner) was downloaded or sent, through the asset."""
    days: dict[tuple[int, str], Any] = {}
    for row in rollup_rows:
        if row["kind"] in ADOPTION_KINDS and row["total"] > 0 and row["asset_id"]:
            key = (row["asset_id"], row["kind"])
            days[key] = min(days.get(key, row["day"]), row["day"])
    if not days:
        return
    assets = conn.execute(select(Asset.id, Asset.partner_id, TemplateVersion.template_id)
                          .join(TemplateVersion, TemplateVersion.id == Asset.template_version_id)
                          .where(Asset.id.in_(sorted({asset_id for asset_id, _ in days}))))
    owners = {asset_id: (partner_id, template_id) for asset_id, partner_id, template_id in assets}
    first: dict[tuple[int, str, int], Any] = {}
    for (asset_id, kind), day in days.items():
        if asset_id in owners:
            partner_id, template_id = owners[asset_id]
            key = (template_id, kind, partner_id)
            first[key] = min(first.get(key, day), day)
    _upsert_first_days(conn, first)


def _upsert_first_days(conn: Connection, first: dict[tuple[int, str, int], Any]) -> None:
    """Keep the earlier of each (template, kind, partner)'s stored first day and the one given."""
    if not first:
        return
    rows = [{"template_id": t, "kind": k, "partner_id": p, "first_day": day}
            for (t, k, p), day in sorted(first.items())]
    stmt = insert_for(conn.dialect.name, PartnerTemplateUse)
    use = PartnerTemplateUse
    stmt = stmt.on_conflict_do_update(index_elements=["template_id", "kind", "partner_id"], set_={
        "first_day": case((stmt.excluded.first_day < use.first_day, stmt.excluded.first_day),
                          else_=use.first_day)})
    conn.execute(stmt, rows)


def note_published_posts(conn: Connection, post_ids: list[int]) -> None:
    """Add the posts just published (in the caller's transaction) to partner_template_use, kind
    "post": the first UTC day a post of each template's asset went out for each partner."""
    if not post_ids:
        return
    _upsert_first_days(conn, _posted_first_days(conn, ScheduledPost.id.in_(sorted(post_ids))))


def refresh_posted_template_use(conn: Connection, partner_ids: list[int]) -> None:
    """Recompute the partners' "post" rows from their published posts (some posts are gone: an
    account was disconnected)."""
    if not partner_ids:
        return
    conn.execute(delete(PartnerTemplateUse).where(PartnerTemplateUse.kind == "post",
                                                  PartnerTemplateUse.partner_id.in_(partner_ids)))
    _upsert_first_days(conn, _posted_first_days(conn, ScheduledPost.partner_id.in_(partner_ids)))


def _posted_first_days(conn: Connection, which: Any) -> dict[tuple[int, str, int], Any]:
    """(template, "post", partner) -> the first UTC day of the published posts `which` selects."""
    stmt = (select(TemplateVersion.template_id, Asset.partner_id, func.min(ScheduledPost.published_at))
            .select_from(ScheduledPost).join(Asset, Asset.id == ScheduledPost.asset_id)
            .join(TemplateVersion, TemplateVersion.id == Asset.template_version_id)
            .where(which, ScheduledPost.status == "published", ScheduledPost.published_at.is_not(None))
            .group_by(TemplateVersion.template_id, Asset.partner_id))
    return {(template_id, "post", partner_id): _utc_day(first)
            for template_id, partner_id, first in conn.execute(stmt)}


def _utc_day(moment: Any) -> date:
    """A stored moment's UTC day (SQLite hands aggregates back as text, naive, in UTC)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def move_partner_in_dashboard_summaries(partner_id: int, old: tuple[int, int], new: tuple[int, int]) -> None:
    """Move a partner's counts from its old (tier, region) to its new one, in the caller's transaction.

    The caller commits; event writers wait for that commit, so none adds to the old place after.
    """
    if old == new:
        return
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_WRITE_LOCK})
    r = EventRollup
    dims = (r.day, r.kind, r.channel, r.variant, r.campaign_id)
    stmt = (select(*dims, func.sum(r.total), func.sum(r.uniques), func.sum(r.bots))
            .where(r.partner_id == partner_id).group_by(*dims))
    moves: dict[tuple[Any, ...], list[int]] = {}
    for *key, total, uniques, bots in conn.execute(stmt):
        moves[(*key, *old)] = [-int(total), -int(uniques), -int(bots)]
        moves[(*key, *new)] = [int(total), int(uniques), int(bots)]
    _upsert_programme(conn, moves)
    conn.execute(delete(ProgrammeDailyRollup).where(
        ProgrammeDailyRollup.tier_id == old[0], ProgrammeDailyRollup.region_id == old[1],
        ProgrammeDailyRollup.total == 0, ProgrammeDailyRollup.uniques == 0, ProgrammeDailyRollup.bots == 0))


def rebuild_dashboard_summaries() -> tuple[int, int]:
    """Recompute both summaries from the rollups (under the event writers' lock); their row counts."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_WRITE_LOCK})
        conn.execute(delete(ProgrammeDailyRollup))
        conn.execute(delete(PartnerDailyEngagement))
        conn.execute(delete(PartnerTemplateUse))
        conn.execute(_programme_from_rollups())
        conn.execute(_engagement_from_rollups())
        conn.execute(_template_use_from_rollups())
        _upsert_first_days(conn, _posted_first_days(conn, ScheduledPost.id.is_not(None)))
        counts = (conn.scalar(select(func.count()).select_from(ProgrammeDailyRollup)),
                  conn.scalar(select(func.count()).select_from(PartnerDailyEngagement)))
    return int(counts[0] or 0), int(counts[1] or 0)


def _template_use_from_rollups() -> Any:
    r = EventRollup
    rows = (select(TemplateVersion.template_id, r.kind, Asset.partner_id, func.min(r.day))
            .select_from(r).join(Asset, Asset.id == r.asset_id)
            .join(TemplateVersion, TemplateVersion.id == Asset.template_version_id)
            .where(r.kind.in_(ADOPTION_KINDS), r.total > 0)
            .group_by(TemplateVersion.template_id, r.kind, Asset.partner_id))
    return insert(PartnerTemplateUse).from_select(["template_id", "kind", "partner_id", "first_day"], rows)


def _programme_from_rollups() -> Any:
    r = EventRollup
    tier, region = func.coalesce(Partner.tier_id, 0), func.coalesce(Partner.region_id, 0)
    dims = (r.day, r.kind, r.channel, r.variant, r.campaign_id, tier, region)
    rows = (select(*dims, func.sum(r.total), func.sum(r.uniques), func.sum(r.bots))
            .outerjoin(Partner, Partner.id == r.partner_id).group_by(*dims))
    return insert(ProgrammeDailyRollup).from_select([*PROGRAMME_KEY, "total", "uniques", "bots"], rows)


def _engagement_from_rollups() -> Any:
    r = EventRollup
    ranked = func.sum(case((r.kind.in_(RANKED_KINDS), r.total), else_=0))
    parts = [func.sum(case((r.kind == kind, getattr(r, number)), else_=0))
             for _, kind, number in INSIGHT_PARTS]
    own = func.sum(case((r.kind.in_(OWN_KINDS), r.total), else_=0))
    rows = (select(r.day, r.partner_id, ranked, *parts, own)
            .where(r.partner_id != 0, r.kind.in_(DASHBOARD_KINDS)).group_by(r.day, r.partner_id))
    return insert(PartnerDailyEngagement).from_select(["day", "partner_id", *ENGAGEMENT_COLUMNS], rows)

