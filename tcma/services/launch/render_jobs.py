"""Rendering a job's claimed assets: everything but the drawing done once per chunk or partner.

A chunk's assets are read as plain rows, each partner's inputs (profile, decoded logos, logo
URLs, unsubscribe link) are built once, every asset is resolved up front and its tracked links
saved in one statement, and the stored renders are looked up once. Then the assets render in
batches; a batch costs two statements (new Render rows, the assets' results) and a commit.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update

import campaigns
import renderers
from tcma.extensions import db
from tcma.models import Asset, TemplateVersion
from tcma.models.base import utcnow
from tcma.services.catalogue.templates import template_for_version
from tcma.services.launch.renders import (
    PartnerInputs,
    insert_renders,
    load_partner_rows,
    partner_inputs_of,
    render_files,
    render_ids,
    resolve_inputs,
)
from tcma.services.tracking.links import LinkBatch, save_links
from tcma.services.tracking.unsubscribes import unsubscribe_url
from tcma.services.transaction import commit
from tcma.state import app_state
from tcma.storage import StoredFile, get_storage

BATCH = 10  # assets committed together: progress moves in steps of ten, a crash redoes at most ten
EXPECTED = (campaigns.RequestError, campaigns.FieldError, campaigns.TemplateError,
            renderers.RenderError, renderers.LogoError)
FAILED_REASON_LIMIT = 2000
log = logging.getLogger(__name__)
ASSET_RESULT = (update(Asset.__table__).where(Asset.__table__.c.id == bindparam("asset_id"))
                .values(status=bindparam("status"), render_id=bindparam("render_id"),
                        inputs_hash=bindparam("inputs_hash"), error=bindparam("error"),
                        updated_at=bindparam("updated_at")))


@dataclass
class Chunk:
    """A job's assets as rows, and what they share: partners' inputs and parsed templates."""

    assets: list[Any]  # rows: id, partner_id, campaign_id, template_version_id, output, variant, fields
    partners: dict[int, Any]  # partner id -> row of load_partner_rows
    templates: dict[int, campaigns.Template]
    inputs: dict[int, PartnerInputs | Exception] = field(default_factory=dict)
    unsubscribes: dict[tuple[int, int | None], str] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)  # asset id -> readable reason

    def partner(self, partner_id: int) -> PartnerInputs:
        """The partner's inputs, built (logos decoded) once; a partner whose logo cannot be
        read fails each of its assets with that reason, the others render."""
        if partner_id not in self.inputs:
            row = self.partners.get(partner_id)
            try:
                if row is None:  # deleted since the launch: its assets went with it (cascade)
                    raise campaigns.RequestError(f"partner {partner_id} no longer exists")
                self.inputs[partner_id] = partner_inputs_of(row)
            except Exception as exc:
                self.inputs[partner_id] = exc
        found = self.inputs[partner_id]
        if isinstance(found, Exception):
            raise found
        return found

    def unsubscribe(self, partner_id: int, campaign_id: int | None) -> str:
        """The partner's unsubscribe link for the campaign, signed once per chunk."""
        key = (partner_id, campaign_id)
        if key not in self.unsubscribes:
            self.unsubscribes[key] = unsubscribe_url(partner_id, campaign_id)
        return self.unsubscribes[key]


def render_claimed(asset_ids: list[int]) -> Counter:
    """Render assets this job has claimed; each ends done, or failed with a readable reason."""
    chunk = load_chunk(asset_ids)
    requests = _resolve_all(chunk)
    stored = render_ids([request.key for request in requests.values()])
    counts: Counter = Counter()
    for start in range(0, len(chunk.assets), BATCH):
        counts.update(_render_batch(chunk, chunk.assets[start:start + BATCH], requests, stored))
    return counts


def load_chunk(asset_ids: list[int]) -> Chunk:
    """The assets as rows, their partners' inputs and their templates: three queries at most."""
    assets = db.session.execute(
        select(Asset.id, Asset.partner_id, Asset.campaign_id, Asset.template_version_id, Asset.output,
               Asset.variant, Asset.fields)
        .where(Asset.id.in_(asset_ids)).order_by(Asset.id)).all()
    partners = load_partner_rows({a.partner_id for a in assets})
    return Chunk(assets, partners, _templates({a.template_version_id for a in assets}))


def _templates(version_ids: set[int]) -> dict[int, campaigns.Template]:
    """Parsed templates by version id; versions the worker parsed before forking are not read."""
    cache = app_state().templates
    parsed = {vid: cache.get(vid) for vid in version_ids}
    missing = [vid for vid, tpl in parsed.items() if tpl is None]
    if missing:
        for version in db.session.scalars(select(TemplateVersion).where(TemplateVersion.id.in_(missing))):
            parsed[version.id] = template_for_version(version)
    return parsed


def _reason(asset_id: int, exc: Exception) -> str:
    if not isinstance(exc, EXPECTED):  # recorded on the asset so the rest still renders
        log.exception("asset %s failed unexpectedly", asset_id)
        return f"unexpected {type(exc).__name__}: {exc}"[:FAILED_REASON_LIMIT]
    return f"{type(exc).__name__}: {exc}"[:FAILED_REASON_LIMIT]


def _resolve(chunk: Chunk, asset: Any, links: LinkBatch) -> campaigns.RenderRequest:
    inputs = chunk.partner(asset.partner_id)
    unsubscribe = chunk.unsubscribe(asset.partner_id, asset.campaign_id) if asset.output == "email" else None
    return resolve_inputs(inputs, chunk.templates[asset.template_version_id], asset.output, asset.variant,
                          asset.fields or {}, asset.campaign_id, asset.id, links.link_for, unsubscribe)


def _resolve_all(chunk: Chunk) -> dict[int, campaigns.RenderRequest]:
    """Every asset's request, its tracked links saved in one statement (committed with the first batch)."""
    batches = {a.id: LinkBatch(a.partner_id, a.campaign_id, a.id, a.variant) for a in chunk.assets}
    requests = {}
    for asset in chunk.assets:
        try:
            requests[asset.id] = _resolve(chunk, asset, batches[asset.id])
        except Exception as exc:
            chunk.failures[asset.id] = _reason(asset.id, exc)
    stale = save_links([batches[asset_id] for asset_id in requests])
    for asset in (a for a in chunk.assets if batches[a.id] in stale):  # rare: see save_links
        requests[asset.id] = _resolve(chunk, asset, batches[asset.id])
    return requests


def _render_batch(chunk: Chunk, assets: list[Any], requests: dict[int, campaigns.RenderRequest],
                  stored: dict[str, int]) -> Counter:
    rows: dict[str, dict[str, Any]] = {}
    files: dict[str, list[StoredFile]] = {}
    for asset in assets:
        request = requests.get(asset.id)
        if request is None or request.key in stored or request.key in rows:
            continue  # failed to resolve, or content-addressed: rendered before or earlier in this batch
        try:
            rows[request.key], files[request.key] = render_files(request)
        except Exception as exc:
            chunk.failures[asset.id] = _reason(asset.id, exc)
    lost = _store(rows, files)
    for asset in assets:  # every asset of a render whose files could not be stored fails
        request = requests.get(asset.id)
        if request is not None and request.key in lost and asset.id not in chunk.failures:
            chunk.failures[asset.id] = _reason(asset.id, lost[request.key])
    stored.update(insert_renders(list(rows.values())))
    _record(assets, requests, stored, chunk.failures)
    commit()
    return Counter("failed" if a.id in chunk.failures else "done" for a in assets)


def _store(rows: dict[str, dict[str, Any]], files: dict[str, list[StoredFile]]) -> dict[str, Exception]:
    """Write the batch's files at once; renders whose files failed lose their row (key -> why)."""
    failed = get_storage().put_many([file for render in files.values() for file in render])
    lost = {}
    for key, render in files.items():
        errors = [failed[name] for name, _, _ in render if name in failed]
        if errors:
            lost[key] = errors[0]
            del rows[key]
    return lost


def _record(assets: list[Any], requests: dict[int, campaigns.RenderRequest],
            stored: dict[str, int], failures: dict[int, str]) -> None:
    now = utcnow()
    values = []
    for asset in assets:
        request = requests.get(asset.id)
        failed = asset.id in failures
        values.append({"asset_id": asset.id, "status": "failed" if failed else "done",
                       "render_id": None if failed else stored[request.key],
                       "inputs_hash": request.key if request else None,
                       "error": failures.get(asset.id), "updated_at": now})
    db.session.execute(ASSET_RESULT, values)
