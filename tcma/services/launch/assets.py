"""Partners' assets: listing, signed downloads (each one an engagement event), retries."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from campaigns.vocabulary import DOWNLOAD
from tcma.config import get_settings
from tcma.errors import ConflictError
from tcma.extensions import db
from tcma.models import Asset, Render, Template, TemplateVersion
from tcma.models.base import utcnow
from tcma.queue import JobCall
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import get_scoped, scope_select
from tcma.services.transaction import commit, enqueue_after_commit
from tcma.storage import get_storage

RENDER_JOB = "tcma.jobs.render.render_assets"


@dataclass(frozen=True)
class AssetView:
    """An asset with what a reader needs: its template, media type and size."""

    id: int
    partner_id: int
    campaign_id: int | None
    template_slug: str
    template_version: int
    output: str
    variant: str | None
    fields: dict[str, Any]
    status: str
    error: str | None
    attempts: int
    media_type: str | None
    size: int | None
    warnings: list[str]
    updated_at: datetime
    download_url: str | None = None


def _view(asset: Asset, render: Render | None, slug: str, version: int) -> AssetView:
    url = f"/api/v1/assets/{asset.id}/download" if render is not None else None
    return AssetView(
        asset.id, asset.partner_id, asset.campaign_id, slug, version, asset.output, asset.variant,
        asset.fields, asset.status, asset.error, asset.attempts,
        render.media_type if render else None, render.size if render else None,
        list(render.warnings) if render else [], asset.updated_at, url,
    )


def _select_views():
    return (select(Asset, Render, Template.slug, TemplateVersion.version)
            .join(TemplateVersion, TemplateVersion.id == Asset.template_version_id)
            .join(Template, Template.id == TemplateVersion.template_id)
            .outerjoin(Render, Render.id == Asset.render_id))


def list_assets(principal: Principal, filters: dict[str, Any], page: int, per_page: int
                ) -> tuple[list[AssetView], int]:
    """Assets the caller may see (a partner user: only their own), filtered, one page."""
    stmt = scope_select(_select_views(), Asset.partner_id, principal)
    for name in ("campaign_id", "partner_id", "status", "output"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Asset, name) == filters[name])
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(Asset.id).limit(per_page).offset((page - 1) * per_page))
    return [_view(*row) for row in rows], total


def get_asset(principal: Principal, asset_id: int) -> AssetView:
    """One asset; another partner's answers 404."""
    get_scoped(Asset, asset_id, principal, what="asset")
    return _view(*db.session.execute(_select_views().where(Asset.id == asset_id)).one())


def download_asset(principal: Principal, asset_id: int, visit: Any = None) -> str:
    """A signed, expiring URL to the asset's file; the download is recorded as an event.

    `visit` (tracking.Visit) lets bots be flagged and repeat downloads count once as unique.
    """
    from tcma.services.tracking.events import Visit, record_event

    asset = get_scoped(Asset, asset_id, principal, what="asset")
    if asset.status != "done" or asset.render is None:
        raise ConflictError(f"asset {asset_id} is {asset.status}, not ready for download")
    if principal.is_vendor:  # the vendor's own look: recorded apart, never the partner's engagement
        visit = dataclasses.replace(visit or Visit.of("GET", "", None), vendor=True)
    record_event("download", asset.partner_id, campaign_id=asset.campaign_id, asset_id=asset.id,
                 channel=DOWNLOAD, variant=asset.variant, visit=visit)
    return _signed_url(asset)


def _signed_url(asset: Asset) -> str:
    name = f"{asset.output.replace(':', '-')}-{asset.id}.{asset.render.storage_key.rsplit('.', 1)[-1]}"
    return get_storage().signed_url(asset.render.storage_key,
                                    get_settings().signed_url_ttl, filename=name)


def retry_asset(principal: Principal, asset_id: int) -> AssetView:
    """Queue one failed asset again and enqueue its render."""
    asset = get_scoped(Asset, asset_id, principal, what="asset")
    if asset.status != "failed":
        raise ConflictError(f"asset {asset_id} is {asset.status}; only failed assets are retried")
    db.session.execute(update(Asset).where(Asset.id == asset_id)
                       .values(status="queued", error=None, updated_at=utcnow()))
    enqueue_after_commit(JobCall(RENDER_JOB, ([asset_id],), job_id=f"retry-{asset_id}-{asset.attempts}"))
    commit()
    db.session.expire_all()
    return get_asset(principal, asset_id)
