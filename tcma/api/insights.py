"""Partner engagement scores, churn flags (JSON or CSV) and the programme's KPIs."""

from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint

from tcma.api.pagination import page_envelope
from tcma.api.security import ANY_ROLE, VENDOR, auth_required
from tcma.schemas.dashboards import DashboardArgs, DashboardSchema
from tcma.schemas.insights import (
    KpiArgs,
    KpiSchema,
    PartnerInsightArgs,
    PartnerInsightPageSchema,
    PartnerInsightSchema,
    ScoreArgs,
)
from tcma.services.insights import dashboards, kpis, partners
from tcma.services.insights.score import ChurnRules

blp = Blueprint("insights", __name__, url_prefix="insights",
                description="Engagement scores, churn flags and KPIs; partners see only their own score")

RULES = ("inactive_days", "recent_days", "baseline_days", "drop_percent", "min_baseline_actions")


def _query(args: dict) -> partners.InsightQuery:
    rules = ChurnRules(**{name: args.pop(name) for name in RULES if name in args})  # its defaults otherwise
    return partners.InsightQuery(rules=rules, **args)


def _wants_csv(args: dict) -> bool:
    fmt = args.pop("format")
    if "format" in request.args:
        return fmt == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


@blp.get("/partners")
@auth_required(*ANY_ROLE)
@blp.arguments(PartnerInsightArgs, location="query")
@blp.response(200, PartnerInsightPageSchema)
@blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def list_partner_insights(principal, args):
    """Every active partner's score and churn flags, lowest score first; CSV has every row, no pages."""
    page, per_page, csv_wanted = args.pop("page"), args.pop("per_page"), _wants_csv(args)
    query = _query(args)
    if csv_wanted:
        text = partners.insights_csv(partners.iter_partner_insights(principal, query))
        return Response(text, mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="tcma-partner-scores.csv"'})
    found = partners.partner_insights_page(principal, query, page, per_page)
    return {**page_envelope(found.items, found.total, page, per_page), "computed_at": found.computed_at}


@blp.get("/partners/<int:partner_id>")
@auth_required(*ANY_ROLE)
@blp.arguments(ScoreArgs, location="query")
@blp.response(200, PartnerInsightSchema)
def get_partner_insight(principal, args, partner_id):
    """One partner's score, its parts, flags and how to raise it (a partner user: only its own)."""
    return partners.get_partner_insight(principal, partner_id, _query(args))


@blp.get("/kpis")
@auth_required(*VENDOR)
@blp.arguments(KpiArgs, location="query")
@blp.response(200, KpiSchema)
def get_kpis(principal, args):
    """Activation rate, time to first use, adoption per template and churn (marketers and admins)."""
    return kpis.programme_kpis(principal, kpis.KpiQuery(**args))


@blp.get("/dashboard")
@auth_required(*ANY_ROLE)
@blp.arguments(DashboardArgs, location="query")
@blp.response(200, DashboardSchema)
def get_dashboard(principal, args):
    """The numbers the portal's dashboards show, with names (a partner user: only its own)."""
    return dashboards.dashboard(principal, dashboards.DashboardQuery(**args))
