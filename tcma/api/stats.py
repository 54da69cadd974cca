"""Engagement stats: per campaign, partner, asset, variant, channel and day; JSON or CSV."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from tcma.api.security import ANY_ROLE, auth_required
from tcma.schemas.stats import AllStatsArgs, StatsArgs, StatsSchema
from tcma.services.tracking import stats

blp = Blueprint("stats", __name__, url_prefix="stats",
                description="Clicks, opens, downloads and posts; partners see only their own")


@blp.get("")
@auth_required(*ANY_ROLE)
@blp.arguments(AllStatsArgs, location="query")
@blp.response(200, StatsSchema)
def get_stats(principal, args):
    """Numbers across campaigns, filtered and grouped as asked."""
    return stats.query_stats(principal, stats.StatsQuery(**_query(args)))


@blp.get("/campaigns/<int:campaign_id>")
@auth_required(*ANY_ROLE)
@blp.arguments(StatsArgs, location="query")
@blp.response(200, StatsSchema)
def get_campaign_stats(principal, args, campaign_id):
    """One campaign's numbers, grouped as asked (default: by kind of event)."""
    return stats.campaign_stats(principal, campaign_id, **_query(args))


@blp.get("/export.csv")
@auth_required(*ANY_ROLE)
@blp.arguments(AllStatsArgs, location="query")
@blp.response(200, content_type="text/csv")
def export_stats(principal, args):
    """The same numbers as CSV, one row per group."""
    result = stats.query_stats(principal, stats.StatsQuery(**_query(args)))
    return Response(stats.stats_csv(result), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="tcma-stats.csv"'})


def _query(args: dict) -> dict:
    return {**args, "group_by": tuple(args.get("group_by") or ("kind",))}
