"""Rendering partners' assets: resolve, render once per distinct input, store, record."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, text, update

import campaigns
import renderers
from tcma.config import get_settings
from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.models import Asset, BrandKit, Campaign, Partner, Region, Render, TemplateVersion, Tier, Vertical
from tcma.models.base import insert_for, utcnow
from tcma.services.catalogue.templates import template_for_version
from tcma.services.tracking.unsubscribes import unsubscribe_url
from tcma.services.transaction import commit
from tcma.state import app_state
from tcma.storage import NotFound, StoredFile, get_storage

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


@dataclass(frozen=True)
class PartnerInputs:
    """What every render of one partner shares: its profile (logos decoded) and logo URLs."""

    partner_id: int
    profile: campaigns.PartnerProfile
    logo_url: str
    logo_dark_url: str


def _partner_inputs(row: Any, kit: Any) -> PartnerInputs:
    """Build a partner's inputs from its columns (`row`: id, name, slug, locale, tier, vertical,
    region) and its brand kit's (`kit`, None without one): the one rule for every caller."""
    base = get_settings().public_url
    brand = renderers.BrandKit(
        name=row.name,
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
    profile = campaigns.PartnerProfile(
        name=row.name, slug=row.slug, tier=row.tier, vertical=row.vertical, region=row.region,
        locale=row.locale, brand=brand,
    )
    return PartnerInputs(
        row.id, profile,
        logo_url=f"{base}/media/{kit.logo_key}" if kit and kit.logo_key else "",
        logo_dark_url=f"{base}/media/{kit.logo_dark_key}" if kit and kit.logo_dark_key else "",
    )


@dataclass(frozen=True)
class _PartnerColumns:
    id: int
    name: str
    slug: str
    locale: str
    tier: str
    vertical: str
    region: str


def partner_inputs(partner: Partner) -> PartnerInputs:
    """A loaded partner's render inputs."""
    row = _PartnerColumns(partner.id, partner.name, partner.slug, partner.locale, partner.tier.slug,
                          partner.vertical.slug, partner.region.slug)
    return _partner_inputs(row, partner.brand_kit)


_KIT_COLUMNS = ("logo_key", "logo_dark_key", "primary_color", "secondary_color", "contact_name",
                "contact_email", "contact_phone", "website", "address")


def load_partner_rows(partner_ids: Iterable[int]) -> dict[int, Any]:
    """Many partners' columns and brand kits from one query (no ORM objects), by partner id."""
    kit_columns = [getattr(BrandKit, name) for name in _KIT_COLUMNS]
    rows = db.session.execute(
        select(Partner.id, Partner.name, Partner.slug, Partner.locale, Tier.slug.label("tier"),
               Vertical.slug.label("vertical"), Region.slug.label("region"),
               BrandKit.id.label("kit_id"), *kit_columns)
        .join(Tier, Tier.id == Partner.tier_id).join(Vertical, Vertical.id == Partner.vertical_id)
        .join(Region, Region.id == Partner.region_id)
        .outerjoin(BrandKit, BrandKit.partner_id == Partner.id)
        .where(Partner.id.in_(set(partner_ids))))
    return {row.id: row for row in rows}


def partner_inputs_of(row: Any) -> PartnerInputs:
    """A partner's render inputs from its `load_partner_rows` row (decodes its logos: may raise
    renderers.LogoError)."""
    return _partner_inputs(row, row if row.kit_id is not None else None)


def partner_profile(partner: Partner) -> campaigns.PartnerProfile:
    """What the renderers need to know about a partner, logo decoded (and cached by key)."""
    return partner_inputs(partner).profile


def resolve_inputs(inputs: PartnerInputs, tpl: campaigns.Template, output: str, variant: str | None,
                   fields: dict[str, Any], campaign_id: int | None, asset_id: int | None,
                   link_for: Any, unsubscribe: str | None = None) -> campaigns.RenderRequest:
    """Resolve one render of a partner with tracked links (`link_for`), pixel and unsubscribe URLs.

    Only an email carries the pixel and the unsubscribe link (other outputs never read them);
    `unsubscribe` is the partner's and campaign's URL when the caller has made it already.
    """
    from tcma.services.tracking.events import pixel_url

    pixel = unsubscribe_link = ""
    if output == "email":
        unsubscribe_link = unsubscribe or unsubscribe_url(inputs.partner_id, campaign_id)
        pixel = pixel_url(inputs.partner_id, campaign_id, asset_id, variant,
                          f"asset-{asset_id or 'preview'}")
    return campaigns.resolve_request(
        tpl, inputs.profile, output, variant=variant, fields=fields, link_for=link_for,
        unsubscribe_url=unsubscribe_link, pixel_url=pixel, logo_url=inputs.logo_url,
        logo_dark_url=inputs.logo_dark_url,
    )


def resolve_for(partner: Partner, version: TemplateVersion, output: str, variant: str | None,
                fields: dict[str, Any], campaign_id: int | None, asset_id: int | None,
                links: Any = None) -> campaigns.RenderRequest:
    """Resolve one partner's render with tracked links, pixel and unsubscribe URLs.

    With `links` (a tracking.LinkBatch) the caller saves the links, for many renders at once.
    """
    from tcma.services.tracking.links import LinkBatch

    own_links = links is None
    links = links or LinkBatch(partner.id, campaign_id, asset_id, variant)
    inputs, tpl = partner_inputs(partner), template_for_version(version)

    def resolve() -> campaigns.RenderRequest:
        return resolve_inputs(inputs, tpl, output, variant, fields, campaign_id, asset_id,
                              links.link_for)

    request = resolve()
    if not own_links:
        return request
    # One statement stores the render's links; in the rare case one already existed under
    # another code, resolving again embeds the stored code.
    return request if links.save() else resolve()


def render_files(request: campaigns.RenderRequest) -> tuple[dict[str, Any], list[StoredFile]]:
    """Render a request: the Render row's values and the files to store (not written yet)."""
    result = app_state().renderer.render(request.spec)
    storage_key = f"renders/{request.key[:2]}/{request.key}.{result.extension}"
    files = [(storage_key, result.data, result.media_type)]
    if result.text is not None:
        files.append((storage_key + ".txt", result.text.encode(), "text/plain; charset=utf-8"))
    if "eml" in result.extra:  # an email as one complete message: subject, text, HTML, images
        files.append((storage_key + ".eml", result.extra["eml"], "message/rfc822"))
    row = {"key": request.key, "storage_key": storage_key, "media_type": result.media_type,
           "size": len(result.data), "warnings": list(result.warnings), "created_at": utcnow()}
    return row, files


def store_render(request: campaigns.RenderRequest) -> dict[str, Any]:
    """Render a request and store its bytes; the Render row's values, for the caller to insert."""
    row, files = render_files(request)
    failed = get_storage().put_many(files)
    if failed:
        raise next(iter(failed.values()))
    return row


def insert_renders(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert Render rows (a racer's identical row wins); the ids of every key given."""
    if not rows:
        return {}
    table = Render.__table__
    insert = insert_for(db.session.get_bind().dialect.name, table)
    # One statement (rows batched into one INSERT), answering the ids of the rows it inserted;
    # only the keys another job stored first are looked up.
    ids = dict(db.session.execute(insert.on_conflict_do_nothing(index_elements=["key"])
                                  .returning(table.c.key, table.c.id), rows).all())
    missing = [row["key"] for row in rows if row["key"] not in ids]
    ids.update(render_ids(missing))
    return ids


def render_ids(keys: list[str]) -> dict[str, int]:
    """The ids of the Renders stored under these keys."""
    if not keys:
        return {}
    table = Render.__table__
    return dict(db.session.execute(select(table.c.key, table.c.id).where(table.c.key.in_(keys))).all())


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
    """Render every output of every template once for a stand-in partner, discarding the bytes,
    and resolve each output in every other language the template speaks.

    A worker calls this before forking its work horses: fonts, resampled backgrounds, compiled
    email templates, translated templates and compiled texts are then inherited by every job
    instead of rebuilt by each one. Other languages are only resolved (not drawn), so a
    restarted worker is soon at work: its maintenance pass starts after this.
    """
    from tcma.services.catalogue.templates import list_templates

    renderer = app_state().renderer
    # A stand-in with an address: a commercial email refuses to render without one.
    brand = renderers.BrandKit("Warm-up", contact=renderers.Contact("Warm-up", "warm-up@example.com"),
                               address="1 Warm-up Street")
    warmed = 0
    for _, version in list_templates():
        tpl = template_for_version(version)
        for locale in ("en", *sorted(tpl.translations)):
            profile = campaigns.PartnerProfile("Warm-up", "warm-up", (tpl.tiers or ("any",))[0], "any",
                                               "any", locale, brand)
            for output in tpl.outputs:
                try:
                    request = campaigns.resolve_request(tpl, profile, output, fields=tpl.stand_in_fields())
                    if locale == "en":
                        renderer.render(request.spec)
                    warmed += 1
                except (campaigns.RequestError, campaigns.FieldError, renderers.RenderError):
                    log.warning("warm-up of %s %s (%s) failed", tpl.slug, output, locale, exc_info=True)
    return warmed


def freeze_warm_objects() -> int:
    """Leave the warm objects (parsed templates, fonts, compiled texts, the app) out of every
    later garbage collection; how many were frozen. A worker calls this once warm, before forking.

    A work horse inherits them by fork: each full collection in the horse walked all of them,
    writing to every page they sit on, so the kernel copied those pages (a few ms of CPU per
    asset, about a tenth of the drawing). Garbage is collected first so none is frozen; a frozen
    object is still freed when its last reference goes, only cycles among them stay.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
