"""Rendering a job's claimed assets in batches: a few statements per batch, not per asset."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

import campaigns
import renderers
from tcma.extensions import db
from tcma.models import Asset, Partner, TemplateVersion
from tcma.models.base import utcnow
from tcma.services.launch.renders import (
    insert_renders,
    render_ids,
    resolve_for,
    store_render,
)
from tcma.services.tracking.links import LinkBatch, save_links
from tcma.services.transaction import commit

BATCH = 10  # assets committed together: progress moves in steps of ten, a crash redoes at most ten
EXPECTED = (campaigns.RequestError, campaigns.FieldError, campaigns.TemplateError,
            renderers.RenderError, renderers.LogoError)
FAILED_REASON_LIMIT = 2000
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    """The partners and template versions a job's assets need, loaded once."""

    partners: dict[int, Partner]
    versions: dict[int, TemplateVersion]


def render_claimed(asset_ids: list[int]) -> Counter:
    """Render assets this job has claimed; each ends done, or failed with a readable reason."""
    db.session().expire_on_commit = False  # keep the loaded rows across batch commits
    assets = list(db.session.scalars(select(Asset).where(Asset.id.in_(asset_ids)).order_by(Asset.id)))
    # Held here for the whole job: the session's identity map only keeps weak references.
    chunk = Chunk(
        partners={p.id: p for p in db.session.scalars(
            select(Partner).options(selectinload(Partner.brand_kit))
            .where(Partner.id.in_({a.partner_id for a in assets})))},
        versions={v.id: v for v in db.session.scalars(
            select(TemplateVersion).where(TemplateVersion.id.in_({a.template_version_id for a in assets})))},
    )
    counts: Counter = Counter()
    for start in range(0, len(assets), BATCH):
        counts.update(_render_batch(chunk, assets[start:start + BATCH]))
    return counts


def _reason(asset: Asset, exc: Exception) -> str:
    if not isinstance(exc, EXPECTED):  # recorded on the asset so the rest still renders
        log.exception("asset %s failed unexpectedly", asset.id)
        return f"unexpected {type(exc).__name__}: {exc}"[:FAILED_REASON_LIMIT]
    return f"{type(exc).__name__}: {exc}"[:FAILED_REASON_LIMIT]


def _resolve(chunk: Chunk, asset: Asset, links: LinkBatch) -> campaigns.RenderRequest:
    return resolve_for(chunk.partners[asset.partner_id], chunk.versions[asset.template_version_id],
                       asset.output, asset.variant, asset.fields, asset.campaign_id, asset.id,
                       links=links)


def _resolve_all(chunk: Chunk, assets: list[Asset], failures: dict[int, str]
                 ) -> dict[int, campaigns.RenderRequest]:
    batches = {a.id: LinkBatch(a.partner_id, a.campaign_id, a.id, a.variant) for a in assets}
    requests = {}
    for asset in assets:
        try:
            requests[asset.id] = _resolve(chunk, asset, batches[asset.id])
        except Exception as exc:
            failures[asset.id] = _reason(asset, exc)
    stale = save_links([batches[asset_id] for asset_id in requests])
    for asset in (a for a in assets if batches[a.id] in stale):  # rare: see save_links
        requests[asset.id] = _resolve(chunk, asset, batches[asset.id])
    return requests


def _render_batch(chunk: Chunk, assets: list[Asset]) -> Counter:
    failures: dict[int, str] = {}
    requests = _resolve_all(chunk, assets, failures)
    stored = render_ids([request.key for request in requests.values()])
    rows: dict[str, dict[str, Any]] = {}
    by_id = {asset.id: asset for asset in assets}
    for asset_id, request in requests.items():
        if request.key in stored or request.key in rows:
            continue  # content-addressed: rendered before, or earlier in this batch
        try:
            rows[request.key] = store_render(request)
        except Exception as exc:
            failures[asset_id] = _reason(by_id[asset_id], exc)
    stored.update(insert_renders(list(rows.values())))
    _record(assets, requests, stored, failures)
    commit()
    return Counter("failed" if a.id in failures else "done" for a in assets)


def _record(assets: list[Asset], requests: dict[int, campaigns.RenderRequest],
            stored: dict[str, int], failures: dict[int, str]) -> None:
    now = utcnow()
    values = []
    for asset in assets:
        request = requests.get(asset.id)
        failed = asset.id in failures
        values.append({"id": asset.id, "status": "failed" if failed else "done",
                       "render_id": None if failed else stored[request.key],
                       "inputs_hash": request.key if request else None,
                       "error": failures.get(asset.id), "updated_at": now})
    db.session.execute(update(Asset), values)
