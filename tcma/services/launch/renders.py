"""Rendering partners' assets: resolve, render once per distinct input, store, record."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, text, update

import campaigns
import renderers
from tcma.config import get_settings
from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.models import Asset, Campaign, Partner, Render, TemplateVersion
from tcma.models.base import insert_for, utcnow
from tcma.services.catalogue.templates import template_for_version
from tcma.services.tracking.unsubscribes import unsubscribe_url
from tcma.services.transaction import commit
from tcma.state import app_state
from tcma.storage import NotFound, get_storage

log = logging.getLogger(__name__)


def _logo(key: str | None) -> renderers.Logo | None:
    if not key:
        return None
    def load() -> renderers.Logo:
        try:
            return renderers.load_logo(get_storage().get(key))
        except NotFound:
            raise renderers.LogoError(f"the logo file {key} is missing from storage") from None

    return app_state().logos.get_or_make(key, load)


def partner_profile(partner: Partner) -> campaigns.PartnerProfile:
    """What the renderers need to know about a partner, logo decoded (and cached by key)."""
    kit = partner.brand_kit
    brand = renderers.BrandKit(
        name=partner.name,
        primary=kit.primary_color if kit else "#1f4e79",
        secondary=kit.secondary_color if kit else "#f2a900",
        logo=_logo(kit.logo_key if kit else None),
        logo_dark=_logo(kit.logo_dark_key if kit else None),
        contact=renderers.Contact(
            name=kit.contact_name or "", email=kit.contact_email or "",
            phone=kit.contact_phone or "", website=kit.website or "",
        ) if kit else renderers.Contact(),
        address=(kit.address or "") if kit else "",
    )
    return campaigns.PartnerProfile(
        name=partner.name, slug=partner.slug, tier=partner.tier.slug,
        vertical=partner.vertical.slug, region=partner.region.slug, locale=partner.locale,
        brand=brand,
    )


def resolve_for(partner: Partner, version: TemplateVersion, output: str, variant: str | None,
                fields: dict[str, Any], campaign_id: int | None, asset_id: int | None,
                links: Any = None) -> campaigns.RenderRequest:
    """Resolve one partner's render with tracked links, pixel and unsubscribe URLs.

    With `links` (a tracking.LinkBatch) the caller saves the links, for many renders at once.
    """
    from tcma.services.tracking.events import pixel_url
    from tcma.services.tracking.links import LinkBatch

    base = get_settings().public_url
    kit = partner.brand_kit
    own_links = links is None
    links = links or LinkBatch(partner.id, campaign_id, asset_id, variant)

    def resolve() -> campaigns.RenderRequest:
        return campaigns.resolve_request(
            template_for_version(version), partner_profile(partner), output, variant=variant,
            fields=fields, link_for=links.link_for,
            unsubscribe_url=unsubscribe_url(partner.id, campaign_id),
            pixel_url=pixel_url(partner.id, campaign_id, asset_id, variant,
                                         f"asset-{asset_id or 'preview'}"),
            logo_url=f"{base}/media/{kit.logo_key}" if kit and kit.logo_key else "",
            logo_dark_url=f"{base}/media/{kit.logo_dark_key}" if kit and kit.logo_dark_key else "",
        )

    request = resolve()
    if not own_links:
        return request
    # One statement stores the render's links; in the rare case one already existed under
    # another code, resolving again embeds the stored code.
    return request if links.save() else resolve()


def store_render(request: campaigns.RenderRequest) -> dict[str, Any]:
    """Render a request and store its bytes; the Render row's values, for the caller to insert."""
    result = app_state().renderer.render(request.spec)
    storage_key = f"renders/{request.key[:2]}/{request.key}.{result.extension}"
    storage = get_storage()
    storage.put(storage_key, result.data, result.media_type)
    if result.text is not None:
        storage.put(storage_key + ".txt", result.text.encode(), "text/plain; charset=utf-8")
    if "eml" in result.extra:  # an email as one complete message: subject, text, HTML, images
        storage.put(storage_key + ".eml", result.extra["eml"], "message/rfc822")
    return {"key": request.key, "storage_key": storage_key, "media_type": result.media_type,
            "size": len(result.data), "warnings": list(result.warnings), "created_at": utcnow()}


def insert_renders(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert Render rows (a racer's identical row wins); the ids of every key given."""
    if rows:
        insert = insert_for(db.session.get_bind().dialect.name, Render)
        db.session.execute(insert.on_conflict_do_nothing(index_elements=["key"]), rows)
    return render_ids([row["key"] for row in rows])


def render_ids(keys: list[str]) -> dict[str, int]:
    """The ids of the Renders stored under these keys."""
    if not keys:
        return {}
    return dict(db.session.execute(select(Render.key, Render.id).where(Render.key.in_(keys))).all())


def claim_assets(asset_ids: list[int], lease_seconds: int) -> list[int]:
    """Atomically take the assets still to do: queued, or running past their lease (dead worker).

    A job claims its whole chunk at once, so a worker killed mid-chunk leaves every unfinished
    asset of it "running" until the lease runs out, and recovery finds them all.
    """
    now = utcnow()
    stale = now - timedelta(seconds=lease_seconds)
    claimed = db.session.scalars(
        update(Asset)
        .where(Asset.id.in_(asset_ids), or_(Asset.status == "queued",
                                            and_(Asset.status == "running", Asset.updated_at < stale)))
        .where(Asset.campaign_id.is_(None) | Asset.campaign_id.not_in(
            select(Campaign.id).where(Campaign.status == "paused")))
        .values(status="running", attempts=Asset.attempts + 1, updated_at=now)
        .returning(Asset.id)
    ).all()
    commit()
    return sorted(claimed)


@contextmanager
def relaxed_durability():
    """Commit render bookkeeping without waiting for the WAL flush (PostgreSQL).

    Losing the last commits in a database crash only means those assets render again (renders
    are idempotent and content-addressed), so each asset's commit need not wait for fsync.
    """
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("SET synchronous_commit = off"))
    try:
        yield
    finally:
        if postgres:
            db.session.rollback()
            db.session.execute(text("RESET synchronous_commit"))
            db.session.commit()  # the setting's own statement, not a use case


def preview_render(principal, slug: str, partner_id: int, output: str, variant: str | None,
                   fields: dict[str, str]) -> renderers.RenderResult:
    """Render a template's latest version for one partner, now, without storing an asset."""
    from tcma.services.catalogue.templates import get_version
    from tcma.services.partners.partners import get_partner
    from tcma.services.scoping import require_vendor

    require_vendor(principal)
    partner, version = get_partner(principal, partner_id), get_version(slug)
    try:
        request = resolve_for(partner, version, output, variant, fields, None, None)
        result = app_state().renderer.render(request.spec)
        commit()  # the preview's tracked links, so its QR codes and links work
        return result
    except (campaigns.RequestError, campaigns.FieldError, renderers.RenderError) as exc:
        field = getattr(exc, "field", "output")
        raise InvalidInput(str(exc), {field: [str(exc)]}) from None


def warm_renderer() -> int:
    """Render every output of every template once for a stand-in partner, discarding the bytes.

    A worker calls this before forking its work horses: fonts, resampled backgrounds and compiled
    email templates are then inherited by every job instead of rebuilt by each one.
    """
    from tcma.services.catalogue.templates import list_templates

    renderer = app_state().renderer
    rendered = 0
    for _, version in list_templates():
        tpl = template_for_version(version)
        profile = campaigns.PartnerProfile("Warm-up", "warm-up", (tpl.tiers or ("any",))[0], "any",
                                           "any", "en", renderers.BrandKit("Warm-up"))
        for output in tpl.outputs:
            try:
                renderer.render(campaigns.resolve_request(tpl, profile, output,
                                                           fields=tpl.stand_in_fields()).spec)
                rendered += 1
            except (campaigns.RequestError, campaigns.FieldError, renderers.RenderError):
                log.warning("warm-up of %s %s failed", tpl.slug, output, exc_info=True)
    return rendered
