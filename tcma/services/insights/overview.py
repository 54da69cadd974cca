"""What one partner is about at a glance: for a marketer's partner page (brand kit and its render
warnings, social accounts, campaigns) and for the partner's own home (campaigns ready to use, posts
awaiting approval, what still needs the partner's words).

- `partner_overview(principal, partner_id) -> dict`: the partner page's facts (vendor users).
- `partner_home(principal) -> dict`: what is new for the signed-in partner user.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Asset, Campaign, Partner, Render, ScheduledPost, SocialAccount
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import get_scoped, require_vendor

RECENT_RENDERS = 200  # the partner's latest renders whose warnings the partner page lists
NEW_DAYS = 30


def _campaigns_of(partner_id: int, since: datetime | None = None) -> list[dict[str, Any]]:
    """The partner's campaigns, newest first, with its asset counts by status."""
    stmt = (select(Campaign.id, Campaign.name, Campaign.status, Asset.status, func.count(),
                   func.max(Asset.updated_at))
            .join(Asset, Asset.campaign_id == Campaign.id).where(Asset.partner_id == partner_id)
            .group_by(Campaign.id, Campaign.name, Campaign.status, Asset.status))
    found: dict[int, dict[str, Any]] = {}
    for cid, name, status, asset_status, count, latest in db.session.execute(stmt):
        row = found.setdefault(cid, {"id": cid, "name": name, "status": status, "counts": {}, "latest": None})
        row["counts"][asset_status] = int(count)
        latest = latest if latest is None or latest.tzinfo else latest.replace(tzinfo=UTC)
        if asset_status == "done" and latest is not None:
            row["latest"] = latest
    rows = sorted(found.values(), key=lambda r: (r["latest"] is None, -(r["latest"] or datetime.min.replace(
        tzinfo=UTC)).timestamp(), -r["id"]))
    if since is not None:
        rows = [r for r in rows if r["latest"] is not None and r["latest"] >= since]
    return rows


def _render_warnings(partner_id: int) -> list[str]:
    """The distinct warnings of the partner's latest renders (a logo too small for print...)."""
    stmt = (select(Render.warnings).join(Asset, Asset.render_id == Render.id)
            .where(Asset.partner_id == partner_id).order_by(Asset.id.desc()).limit(RECENT_RENDERS))
    seen: dict[str, None] = {}
    for warnings in db.session.scalars(stmt):
        for warning in warnings or []:
            seen.setdefault(str(warning))
    return list(seen)


def partner_overview(principal: Principal, partner_id: int) -> dict[str, Any]:
    """The partner, its brand kit and render warnings, its social accounts and its campaigns."""
    require_vendor(principal)
    partner = get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
    accounts = list(db.session.scalars(select(SocialAccount).where(SocialAccount.partner_id == partner.id)
                                       .order_by(SocialAccount.network, SocialAccount.handle)))
    return {"partner": partner, "brand_kit": partner.brand_kit, "warnings": _render_warnings(partner.id),
            "accounts": accounts, "campaigns": _campaigns_of(partner.id)}


def partner_home(principal: Principal) -> dict[str, Any]:
    """Campaigns with assets ready in the last 30 days, posts to approve, assets waiting for words."""
    partner = get_scoped(Partner, principal.partner_id or 0, principal, partner_attr="id", what="partner")
    since = datetime.now(UTC) - timedelta(days=NEW_DAYS)
    awaiting = list(db.session.scalars(
        select(ScheduledPost).where(ScheduledPost.partner_id == partner.id,
                                    ScheduledPost.status == "awaiting_approval")
        .order_by(ScheduledPost.id).limit(5)))
    awaiting_total = db.session.scalar(select(func.count()).select_from(ScheduledPost).where(
        ScheduledPost.partner_id == partner.id, ScheduledPost.status == "awaiting_approval")) or 0
    waiting = db.session.scalar(select(func.count()).select_from(Asset).where(
        Asset.partner_id == partner.id, Asset.status == "waiting")) or 0
    accounts = db.session.scalar(select(func.count()).select_from(SocialAccount).where(
        SocialAccount.partner_id == partner.id, SocialAccount.is_active.is_(True))) or 0
    return {"partner": partner, "campaigns": _campaigns_of(partner.id, since), "posts": awaiting,
            "posts_total": int(awaiting_total), "waiting": int(waiting), "accounts": int(accounts),
            "new_days": NEW_DAYS}
