"""Marketer dashboards (the programme, a campaign, a partner) with SVG charts and CSV exports,
the partner list with scores and churn flags, and the partner's own home page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Response, abort, request, url_for

from campaigns.vocabulary import ANY_CHURN_FLAG, CHURN_FLAGS, NETWORK_LABELS
from tcma.services.accounts.auth import Principal
from tcma.services.insights.dashboards import COLUMN_LABELS, DashboardQuery, dashboard, table_csv
from tcma.services.insights.overview import partner_home, partner_overview
from tcma.services.insights.partners import (
    InsightQuery,
    get_partner_insight,
    insights_csv,
    iter_partner_insights,
    partner_insights_page,
)
from tcma.web.dashboard_charts import SERIES_COLORS, bar_chart, line_chart
from tcma.web.portal import PARTNER, VENDOR, page, page_count, page_required, portal_blueprint

bp = portal_blueprint("portal_dashboards", __name__, url_prefix="/portal")
LINES = ("downloaded", "sent", "opened", "clicked", "posted", "machines")
PARTNERS_PER_PAGE = 50
SEGMENT_LIMIT = 500  # flagged partners handed to the builder in one link
COMPONENT_LABELS = {"downloads": "Downloads", "customizations": "Customizations",
                    "posts_approved": "Posts approved", "posts_published": "Posts published",
                    "sends": "Emails sent", "clicks": "Unique clicks earned", "recency": "Recency"}
FLAG_LABELS = {"inactive": "Inactive", "dropping": "Dropping", ANY_CHURN_FLAG: "Either flag"}


def _day_arg(name: str) -> date | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{name} must be a date like 2026-06-30, not {raw!r}.")


def _query(**scope: Any) -> DashboardQuery:
    return DashboardQuery(start=_day_arg("start"), end=_day_arg("end"), **scope)


def _csv(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _charts(board: dict[str, Any]) -> dict[str, Any]:
    """The pictures of one dashboard, drawn from the same rows as its tables."""
    what = {"programme": "the programme", "campaign": board["scope"]["campaign_name"],
            "partner": board["scope"]["partner_name"]}[board["scope"]["kind"]]
    funnel = [(row["label"], row["people"]) for row in board["funnel"]]
    return {
        "funnel": bar_chart(funnel, f"People's actions in {what}, step by step"),
        "over_time": line_chart(board["over_time"], [(c, COLUMN_LABELS[c]) for c in LINES],
                                f"Downloads, sends, opens, clicks and posts per day in {what}"),
        "by_channel": bar_chart([(r["label"], r["clicked"] + r["downloaded"] + r["posted"])
                                 for r in board["by_channel"]],
                                "Clicks, downloads and posts by channel", SERIES_COLORS["clicked"]),
        "by_tier": bar_chart([(r["label"], r["clicked"]) for r in board["by_tier"]], "Clicks by partner tier",
                             SERIES_COLORS["downloaded"]),
        "by_region": bar_chart([(r["label"], r["clicked"]) for r in board["by_region"]],
                               "Clicks by partner region", SERIES_COLORS["sent"]),
    }


def _dashboard_page(principal: Principal, query: DashboardQuery, filename: str, template: str,
                    **context: Any):
    board = dashboard(principal, query)
    export = request.args.get("export")
    if export:
        return _csv(table_csv(board, export), f"{filename}-{export}.csv")
    return page(template, board=board, charts=_charts(board), labels=COLUMN_LABELS, lines=LINES,
                colors=SERIES_COLORS, partner_url=_partner_url, campaign_url=_campaign_url, **context)


def _partner_url(partner_id: int) -> str:
    return url_for("portal_dashboards.partner", partner_id=partner_id)


def _campaign_url(campaign_id: int) -> str:
    return url_for("portal_dashboards.campaign_dashboard", campaign_id=campaign_id)


@bp.get("/dashboard")
@page_required(*VENDOR)
def programme(principal: Principal):
    """The whole programme: funnel, days, channels, tiers, regions, top partners and campaigns."""
    return _dashboard_page(principal, _query(), "tcma-programme", "portal/dashboard.html")


@bp.get("/dashboard/campaigns/<int:campaign_id>")
@page_required(*VENDOR)
def campaign_dashboard(principal: Principal, campaign_id: int):
    """One campaign's numbers from its launch on, with its variants and top assets."""
    return _dashboard_page(principal, _query(campaign_id=campaign_id), f"tcma-campaign-{campaign_id}",
                           "portal/dashboard.html")


def scores_as_of(rows: list[Any]) -> str | None:
    """'Scores as of 08:14 UTC' (with the day when it is not today): when the oldest row was computed."""
    return _scored_at(min((r.computed_at for r in rows if r.computed_at is not None), default=None))


def _scored_at(computed: datetime | None) -> str | None:
    """'Scores as of 08:14 UTC' for scores computed at `computed` (None: no text)."""
    if computed is None:
        return None
    computed = computed.astimezone(UTC)
    day = "" if computed.date() == datetime.now(UTC).date() else computed.strftime(" on %-d %b %Y")
    return f"Scores as of {computed:%H:%M} UTC{day}"


def _insight_query(**extra: Any) -> InsightQuery:
    return InsightQuery(as_of=_day_arg("as_of"), **extra)


@bp.get("/partners")
@page_required(*VENDOR)
def partners(principal: Principal):
    """Every active partner's engagement score and churn flags, lowest first; CSV of every row."""
    flag = request.args.get("flag") or None
    flags = (*CHURN_FLAGS, ANY_CHURN_FLAG)
    if flag is not None and flag not in flags:
        abort(400, description=f"flag must be one of {', '.join(flags)}, not {flag!r}.")
    sort = request.args.get("sort") or "score"
    if sort not in ("score", "-score", "name", "last_active"):
        abort(400, description=f"sort must be score, -score, name or last_active, not {sort!r}.")
    query = _insight_query(flag=flag, sort=sort)
    if request.args.get("format") == "csv":
        return _csv(insights_csv(iter_partner_insights(principal, query)), "tcma-partner-scores.csv")
    number = max(request.args.get("page", 1, type=int), 1)
    found = partner_insights_page(principal, query, number, PARTNERS_PER_PAGE,
                                  first_ids=SEGMENT_LIMIT if flag else 0)
    segment_ids = ",".join(str(pid) for pid in found.first_ids)
    return page("portal/partners.html", rows=found.items, total=found.total, flag=flag, sort=sort,
                segment_ids=segment_ids, segment_limit=SEGMENT_LIMIT, scored=_scored_at(found.computed_at),
                flag_labels=FLAG_LABELS, page_number=number, pages=page_count(found.total, PARTNERS_PER_PAGE))


@bp.get("/partners/<int:partner_id>")
@page_required(*VENDOR)
def partner(principal: Principal, partner_id: int):
    """One partner: score, its parts, flags and hints; brand kit warnings, accounts, campaigns, numbers."""
    overview = partner_overview(principal, partner_id)
    insight = get_partner_insight(principal, partner_id, _insight_query())
    return _dashboard_page(principal, _query(partner_id=partner_id), f"tcma-partner-{partner_id}",
                           "portal/partner.html", overview=overview, insight=insight,
                           scored=scores_as_of([insight]),
                           networks=NETWORK_LABELS, component_labels=COMPONENT_LABELS)


@bp.get("/home")
@page_required(*PARTNER)
def home(principal: Principal):
    """The partner's first page: what is new, what waits for them, their numbers this month."""
    today = datetime.now(UTC).date()
    month = dashboard(principal, DashboardQuery(start=today.replace(day=1), end=today))
    insight = get_partner_insight(principal, principal.partner_id, InsightQuery())
    return page("portal/home.html", home=partner_home(principal), month=month, insight=insight,
                labels=COLUMN_LABELS, networks=NETWORK_LABELS, component_labels=COMPONENT_LABELS)
