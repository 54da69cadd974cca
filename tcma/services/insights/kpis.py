"""The programme's KPIs (docs/insights.md defines each): activation, time to first use, content
adoption per template, and churn. Vendor users only; read from the summaries the event writer keeps
(partner_daily_engagement, partner_template_use), customizations, assets and posts, never the
rollups or the raw event table.

- `programme_kpis(principal, KpiQuery) -> dict`: every KPI on `as_of`, with `computed_at`: from a
  stored snapshot younger than TCMA_INSIGHT_MAX_AGE_SECONDS, else computed and stored.
- `refresh_kpi_snapshot(KpiQuery) -> dict`: compute them and store them as the snapshot.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, select

from campaigns.vocabulary import tier_allows
from tcma.extensions import db
from tcma.models import (
    Asset,
    Customization,
    Partner,
    PartnerTemplateUse,
    Template,
    TemplateVersion,
)
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.insights import snapshots
from tcma.services.insights.activity import activity_in_periods, day_start, first_use_by_partner, period
from tcma.services.insights.partners import checked_as_of
from tcma.services.scoping import require_vendor

ADOPTION_ACTIONS = ("downloaded", "customized", "sent", "posted")


@dataclass
class KpiQuery:
    """The day the KPIs are taken on and the periods they look at."""

    as_of: date | None = None
    activation_days: int = 30
    inactive_days: int = 45
    baseline_days: int = 90


def _rate(part: int, whole: int) -> float | None:
    """part / whole to four decimals (None when there is no whole to divide by)."""
    if not whole:
        return None
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _joined(partner: Partner) -> date:
    return partner.created_at.astimezone(UTC).date()


def snapshot_params(query: KpiQuery) -> str:
    return snapshots.kpi_params(query.activation_days, query.inactive_days, query.baseline_days)


def programme_kpis(principal: Principal, query: KpiQuery) -> dict[str, Any]:
    """Activation, time to first use, adoption per template and churn, on `as_of`, and when they were
    computed: a fresh snapshot's, else computed now (and stored while snapshots are on)."""
    require_vendor(principal)
    as_of = checked_as_of(query.as_of)
    stored = snapshots.fresh(snapshots.KPIS, as_of, snapshot_params(query))
    if stored is not None:
        return {**stored.result, "as_of": as_of, "computed_at": stored.computed_at}
    if snapshots.max_age():
        return refresh_kpi_snapshot(query)
    return {**_kpis(as_of, query), "computed_at": utcnow()}


def refresh_kpi_snapshot(query: KpiQuery) -> dict[str, Any]:
    """Compute the KPIs of `query` and store them as its snapshot (committed); what was computed."""
    as_of, computed_at = checked_as_of(query.as_of), utcnow()
    kpis = _kpis(as_of, query)
    snapshots.store(snapshots.KPIS, as_of, snapshot_params(query), computed_at, partners=kpis["partners"],
                    result={k: v for k, v in kpis.items() if k != "as_of"})
    return {**kpis, "computed_at": computed_at}


def _kpis(as_of: date, query: KpiQuery) -> dict[str, Any]:
    joined = select(Partner.id).where(Partner.status == "active",
                                      Partner.created_at < day_start(as_of + timedelta(days=1)))
    partners = list(db.session.scalars(select(Partner).where(Partner.id.in_(joined)).order_by(Partner.id)))
    return {"as_of": as_of, "partners": len(partners),
            "activation": _activation(partners, joined, as_of, query.activation_days),
            "adoption": _adoption(partners, as_of),
            "churn": _churn(partners, joined, as_of, query.inactive_days, query.baseline_days)}


def _activation(partners: list[Partner], joined: Select[tuple[int]], as_of: date,
                days: int) -> dict[str, Any]:
    first = first_use_by_partner(as_of, joined)
    cohort = [p for p in partners if (as_of - _joined(p)).days >= days]
    activated = [p for p in cohort if p.id in first and (first[p.id] - _joined(p)).days <= days]
    waits = [(first[p.id] - _joined(p)).days for p in partners if p.id in first]
    return {"days": days, "cohort": len(cohort), "activated": len(activated),
            "rate": _rate(len(activated), len(cohort)), "used": len(waits),
            "median_days_to_first_use": statistics.median(waits) if waits else None}


def _adopters(as_of: date) -> dict[str, dict[int, set[int]]]:
    """Per action, per template id: the partners who took it up to `as_of`."""
    end = day_start(as_of + timedelta(days=1))
    through_asset = select(TemplateVersion.template_id, Asset.partner_id).join(
        TemplateVersion, TemplateVersion.id == Asset.template_version_id)
    use = PartnerTemplateUse  # the first day of each, kept by the event writer
    queries = {
        "downloaded": select(use.template_id, use.partner_id).where(use.kind == "download",
                                                                    use.first_day <= as_of),
        "sent": select(use.template_id, use.partner_id).where(use.kind == "send", use.first_day <= as_of),
        "posted": select(use.template_id, use.partner_id).where(use.kind == "post", use.first_day <= as_of),
        "customized": select(TemplateVersion.template_id, Customization.partner_id).join(
            TemplateVersion, TemplateVersion.id == Customization.template_version_id).where(
            Customization.created_at < end),
    }
    found: dict[str, dict[int, set[int]]] = {}
    for action, stmt in queries.items():
        found[action] = defaultdict(set)
        for template_id, partner_id in db.session.execute(stmt.distinct()):
            found[action][template_id].add(partner_id)
    self_served = through_asset.where(Asset.campaign_id.is_(None), Asset.created_at < end).distinct()
    for template_id, partner_id in db.session.execute(self_served):
        found["customized"][template_id].add(partner_id)
    return found


def _latest_versions() -> list[tuple[Template, TemplateVersion]]:
    latest = {}
    rows = db.session.execute(
        select(Template, TemplateVersion).join(TemplateVersion, TemplateVersion.template_id == Template.id)
        .order_by(Template.slug, TemplateVersion.version))
    for template, version in rows:
        latest[template.id] = (template, version)
    return list(latest.values())


def _adoption(partners: list[Partner], as_of: date) -> list[dict[str, Any]]:
    found, rows = _adopters(as_of), []
    for template, version in _latest_versions():
        eligible = {p.id for p in partners if tier_allows(version.available_tiers, p.tier.slug)}
        row: dict[str, Any] = {"template_id": template.id, "slug": template.slug, "name": template.name,
                               "eligible": len(eligible)}
        adopted: set[int] = set()
        for action in ADOPTION_ACTIONS:
            took = found[action].get(template.id, set()) & eligible
            row[action] = len(took)
            adopted |= took
        rows.append({**row, "adopted": len(adopted), "rate": _rate(len(adopted), len(eligible))})
    return rows


def _churn(partners: list[Partner], joined: Select[tuple[int]], as_of: date, inactive_days: int,
           baseline_days: int) -> dict[str, Any]:
    recent, baseline = activity_in_periods(
        [period(as_of, inactive_days), period(as_of - timedelta(days=inactive_days), baseline_days)], joined)
    ids = {p.id for p in partners}
    were_active = {pid for pid, act in baseline.items() if pid in ids and act.actions}
    churned = {pid for pid in were_active if not (pid in recent and recent[pid].actions)}
    return {"inactive_days": inactive_days, "baseline_days": baseline_days, "were_active": len(were_active),
            "churned": len(churned), "rate": _rate(len(churned), len(were_active))}
