"""Partners' assets: listing, signed downloads (each one an engagement event), retries."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from campaigns.vocabulary import DOWNLOAD
from tcma.config import get_settings
from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Asset, Campaign, Partner, Render, Template, TemplateVersion
from tcma.models.base import utcnow
from tcma.queue import JobCall
from tcma.services.accounts.auth import Principal
from tcma.services.paging import Page, Window, count_of, count_rows, read_window
from tcma.services.scoping import get_scoped, scope_select
from tcma.services.transaction import commit, enqueue_after_commit
from tcma.storage import NotFound, get_storage

RENDER_JOB = "tcma.jobs.render.render_assets"
THUMB_WIDTH = 240


@dataclass(frozen=True)
class AssetView:
    """An asset with what a reader needs: its template, campaign, media type and size."""

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
    template_name: str = ""
    campaign_name: str | None = None
    created_at: datetime | None = None

    @property
    def label(self) -> str:
        """What tells this asset from its siblings: campaign or own render, variant, edits."""
        parts = [self.campaign_name or "Your own render"]
        if self.variant:
            parts.append(f"variant {self.variant}")
        edited = [f"{name.replace('_', ' ')}: {_short(value)}" for name, value in sorted(self.fields.items())
                  if str(value).strip()]
        return " · ".join(parts + edited[:2])


def _short(value: Any, limit: int = 32) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def _view(asset: Asset, render: Render | None, slug: str, version: int, template_name: str = "",
          campaign_name: str | None = None) -> AssetView:
    url = f"/api/v1/assets/{asset.id}/download" if render is not None else None
    return AssetView(
        asset.id, asset.partner_id, asset.campaign_id, slug, version, asset.output, asset.variant,
        asset.fields, asset.status, asset.error, asset.attempts,
        render.media_type if render else None, render.size if render else None,
        list(render.warnings) if render else [], asset.updated_at, url, template_name,
        campaign_name, asset.created_at,
    )


def _select_views():
    return (select(Asset, Render, Template.slug, TemplateVersion.version, Template.name, Campaign.name)
            .join(TemplateVersion, TemplateVersion.id == Asset.template_version_id)
            .join(Template, Template.id == TemplateVersion.template_id)
            .outerjoin(Campaign, Campaign.id == Asset.campaign_id)
            .outerjoin(Render, Render.id == Asset.render_id))


FILTERS = ("campaign_id", "partner_id", "status", "output")


def list_assets(principal: Principal, filters: dict[str, Any], page: int, per_page: int,
                newest_first: bool = False) -> tuple[list[AssetView], int]:
    """Assets the caller may see (a partner user: only their own), filtered, one page, and their total."""
    found = asset_page(principal, filters, Window(page, per_page), newest_first)
    return found.items, found.total


def asset_page(principal: Principal, filters: dict[str, Any], window: Window,
               newest_first: bool = False) -> Page[AssetView]:
    """Assets the caller may see, filtered, one page (by number or after an id), by id.

    Filters: campaign_id, partner_id, status, output, template (a slug) and own (self-served only).
    """
    # Counted over the asset rows alone: every asset has its version and template, and joining
    # them for 5 M assets took seconds.
    counted = _filtered(scope_select(count_of(Asset), Asset.partner_id, principal), filters)
    filtered = principal.is_partner or any(filters.get(name) for name in (*FILTERS, "template", "own"))
    total = count_rows(counted, Asset.__tablename__, filtered)
    stmt = _filtered(scope_select(_select_views(), Asset.partner_id, principal), filters)
    rows, more = read_window(stmt, [Asset.id], window, descending=newest_first)
    return Page([_view(*row) for row in rows], total[0], (rows[-1][0].id,) if more else None, total[1])


def _filtered(stmt: Any, filters: dict[str, Any]) -> Any:
    for name in FILTERS:
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Asset, name) == filters[name])
    if filters.get("template"):
        template_ids = select(TemplateVersion.id).join(Template).where(Template.slug == filters["template"])
        stmt = stmt.where(Asset.template_version_id.in_(template_ids))
    if filters.get("own"):
        stmt = stmt.where(Asset.campaign_id.is_(None))
    return stmt


def asset_filter_choices(principal: Principal) -> dict[str, list[tuple[str, str]]]:
    """The campaigns and templates the caller's assets come from: (value, label) for filters."""
    base = scope_select(select(Asset.id), Asset.partner_id, principal).subquery()
    campaigns = db.session.execute(
        select(Campaign.id, Campaign.name).join(Asset, Asset.campaign_id == Campaign.id)
        .where(Asset.id.in_(select(base.c.id))).distinct().order_by(Campaign.name)).all()
    templates = db.session.execute(
        select(Template.slug, Template.name)
        .join(TemplateVersion, TemplateVersion.template_id == Template.id)
        .join(Asset, Asset.template_version_id == TemplateVersion.id)
        .where(Asset.id.in_(select(base.c.id))).distinct().order_by(Template.name)).all()
    return {"campaigns": [(str(i), n) for i, n in campaigns], "templates": [tuple(t) for t in templates]}


def get_asset(principal: Principal, asset_id: int) -> AssetView:
    """One asset; another partner's answers 404."""
    get_scoped(Asset, asset_id, principal, what="asset")
    return _view(*db.session.execute(_select_views().where(Asset.id == asset_id)).one())


DOWNLOAD_FORMS = ("", "eml", "print")


def download_asset(principal: Principal, asset_id: int, visit: Any = None, form: str = "") -> str:
    """A signed, expiring URL to the asset's file; the download is recorded as an event.

    `visit` (tracking.Visit) lets bots be flagged and repeat downloads count once as unique.
    `form`: "" the file itself, "eml" an email as a complete message, "print" a PDF's print-ready
    variant (CMYK, output intent, bleed and crop marks; rendered on first download).
    """
    from tcma.services.tracking.events import Visit, record_event

    asset = get_scoped(Asset, asset_id, principal, what="asset")
    if asset.status != "done" or asset.render is None:
        raise ConflictError(f"asset {asset_id} is {asset.status}, not ready for download")
    storage_key = _form_key(asset, form)
    if principal.is_vendor:  # the vendor's own look: recorded apart, never the partner's engagement
        visit = dataclasses.replace(visit or Visit.of("GET", "", None), vendor=True)
    record_event("download", asset.partner_id, campaign_id=asset.campaign_id, asset_id=asset.id,
                 channel=DOWNLOAD, variant=asset.variant, visit=visit)
    name = download_name(asset, storage_key.rsplit(".", 1)[-1], print_ready=form == "print")
    return get_storage().signed_url(storage_key, get_settings().signed_url_ttl, filename=name)


def _form_key(asset: Asset, form: str) -> str:
    """The storage key of the asked form of a done asset (the print PDF is made on demand)."""
    key = asset.render.storage_key
    if form not in DOWNLOAD_FORMS:
        choices = ", ".join(DOWNLOAD_FORMS[1:])
        raise InvalidInput(f"no download form {form!r}", {"form": [f"one of {choices}"]})
    if form == "eml":
        if asset.output != "email":
            raise InvalidInput("only an email downloads as .eml", {"form": ["eml is for emails"]})
        if not get_storage().exists(key + ".eml"):
            raise ConflictError(f"asset {asset.id} was rendered before emails were kept as .eml; "
                                "render it again")
        return key + ".eml"
    if form == "print":
        if asset.output != "pdf":
            raise InvalidInput("only a PDF has a print-ready variant", {"form": ["print is for PDFs"]})
        return _print_pdf(asset)
    return key


def _print_pdf(asset: Asset) -> str:
    """Render and keep the print-ready variant of a PDF asset (once; the same inputs, same file)."""
    from tcma.state import app_state

    key = asset.render.storage_key.removesuffix(".pdf") + ".print.pdf"
    storage = get_storage()
    if not storage.exists(key):
        request = _request_for(asset)
        spec = dataclasses.replace(request.spec, print_ready=True)
        storage.put(key, app_state().renderer.render(spec).data, "application/pdf")
    return key


def download_name(asset: Asset, extension: str, print_ready: bool = False) -> str:
    """A file name a person can file: partner, template and campaign, e.g.
    northwind-solution-brief-zero-trust-launch.pdf (own renders end with the asset's id)."""
    partner, version = db.session.get(Partner, asset.partner_id), _version(asset)
    campaign = db.session.get(Campaign, asset.campaign_id) if asset.campaign_id else None
    parts = [partner.slug, version.template.slug, campaign.slug if campaign else ""]
    if asset.output.startswith("post:"):
        parts.append(asset.output.partition(":")[2])
    if asset.variant:
        parts.append(f"variant-{asset.variant}")
    if print_ready:
        parts.append("print")
    if campaign is None:
        parts.append(str(asset.id))  # own renders of one template are told apart by their id
    name = "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") for p in parts if p)
    return f"{name}.{extension}"


def _version(asset: Asset) -> TemplateVersion:
    return db.session.get(TemplateVersion, asset.template_version_id)


def _request_for(asset: Asset):
    """The asset's render request again (same inputs, same tracked links)."""
    from tcma.services.launch.renders import resolve_for

    return resolve_for(db.session.get(Partner, asset.partner_id), _version(asset), asset.output,
                       asset.variant, asset.fields, asset.campaign_id, asset.id)


def asset_thumbnail(principal: Principal, asset_id: int, width: int = THUMB_WIDTH) -> bytes:
    """A small PNG of a done asset (a PDF's first page, an image, an email's top), kept once made."""
    from tcma.state import app_state

    asset = get_scoped(Asset, asset_id, principal, what="asset")
    if asset.status != "done" or asset.render is None or asset.output.startswith("post:"):
        raise NotFoundError(f"asset {asset_id} has no picture to show")
    storage = get_storage()
    key = f"thumbs/{asset.render.key[:2]}/{asset.render.key}-{width}.png"
    try:
        return storage.get(key)
    except NotFound:
        pass
    data = app_state().renderer.preview(_request_for(asset).spec, width).data
    storage.put(key, data, "image/png")
    commit()  # links resolve_for recorded (the same codes as the asset's own)
    return data


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
