"""Partners and their brand kits, including validated logo uploads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

import renderers
from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.models import BrandKit, Partner
from tcma.services.accounts.auth import Principal
from tcma.services.accounts.team import suspend_partner_access
from tcma.services.partners.media import logo_files, logo_key
from tcma.services.partners.taxonomy import (
    KINDS,
    PARTNER_FIELDS,
    flush_new_slug,
    partner_column,
    taxonomy_by_slug,
    with_slugs,
)
from tcma.services.scoping import get_scoped, require_vendor, scope_select
from tcma.services.tracking.summaries import move_partner_in_dashboard_summaries
from tcma.services.transaction import commit
from tcma.storage import NotFound, get_storage


def _apply_taxonomy(partner: Partner, values: dict[str, Any]) -> None:
    for kind, field in PARTNER_FIELDS.items():
        if field in values:
            setattr(partner, field, taxonomy_by_slug(kind, values.pop(field), field))


def create_partner(principal: Principal, values: dict[str, Any]) -> Partner:
    """Add a partner with an empty brand kit; tier, vertical and region are given by slug."""
    require_vendor(principal)
    values = dict(values)
    brand = values.pop("brand_kit", None) or {}
    partner = Partner(brand_kit=BrandKit(**brand))
    _apply_taxonomy(partner, values)
    for name, value in values.items():
        setattr(partner, name, value)
    db.session.add(partner)
    flush_new_slug(partner.slug)
    commit()
    return partner


def update_partner(principal: Principal, partner_id: int, values: dict[str, Any]) -> Partner:
    """Change a partner's profile (vendor only)."""
    require_vendor(principal)
    partner = get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
    values = dict(values)
    place = (partner.tier.id, partner.region.id)
    _apply_taxonomy(partner, values)
    move_partner_in_dashboard_summaries(partner.id, place, (partner.tier.id, partner.region.id))
    was_active = partner.status == "active"
    for name, value in values.items():
        setattr(partner, name, value)
    if was_active and partner.status != "active":
        suspend_partner_access(partner.id)  # its users' sessions end, their tokens stop
    commit()
    return partner


def get_partner(principal: Principal, partner_id: int) -> Partner:
    """One partner; a partner user sees only their own."""
    return get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")


def get_partners(principal: Principal, partner_ids: set[int]) -> dict[int, Partner]:
    """Many partners by id in one query (a partner user: only its own); missing ids are left out."""
    if not partner_ids:
        return {}
    stmt = scope_select(select(Partner).where(Partner.id.in_(sorted(partner_ids))), Partner.id, principal)
    return {partner.id: partner for partner in db.session.scalars(stmt)}


def list_partners(principal: Principal, filters: dict[str, Any], page: int, per_page: int
                  ) -> tuple[list[Partner], int]:
    """Partners filtered by tier, vertical, region, status or a name search; one page of them."""
    stmt = scope_select(select(Partner), Partner.id, principal)
    for kind, field in PARTNER_FIELDS.items():
        if filters.get(field):
            slugs = list(filters[field])
            known = set(db.session.scalars(select(KINDS[kind].slug).where(KINDS[kind].slug.in_(slugs))))
            if set(slugs) - known:
                unknown = ", ".join(sorted(set(slugs) - known))
                raise InvalidInput(f"unknown {field} {unknown}", {field: [f"no {field} with slug {unknown}"]})
            stmt = stmt.where(with_slugs(KINDS[kind], partner_column(kind), slugs))
    if filters.get("status"):
        stmt = stmt.where(Partner.status == filters["status"])
    if filters.get("q"):
        stmt = stmt.where(Partner.name.ilike(f"%{filters['q']}%"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Partner.id).limit(per_page).offset((page - 1) * per_page)
                              .options(selectinload(Partner.brand_kit)))  # one query, not one per partner
    return list(rows), total


def update_brand_kit(principal: Principal, partner_id: int, values: dict[str, Any]) -> BrandKit:
    """Change colours and contact details; a partner user may edit their own brand kit."""
    partner = get_partner(principal, partner_id)
    kit = partner.brand_kit or BrandKit(partner=partner)
    for name, value in values.items():
        setattr(kit, name, value)
    commit()
    return kit


def upload_logo(principal: Principal, partner_id: int, data: bytes, slot: str = "auto") -> BrandKit:
    """Validate an uploaded logo, store it re-encoded, then point the brand kit at it.

    The file is checked before anything is written: a bad upload leaves no row and no file.
    What is stored is the decoded, trimmed logo written again as a plain PNG: no metadata (EXIF
    GPS), no trailing bytes (HTML or ZIP appended to an image) survive; SVG and PDF logos are
    drawn in a sandbox first. slot "auto" stores the logo for light and the one for dark
    backgrounds (deriving the one not given); "light"/"dark" replaces that one only. Replaced
    files are deleted once the brand kit points at the new ones.
    """
    partner = get_partner(principal, partner_id)
    try:
        files = logo_files(data, slot)
    except renderers.LogoError as exc:
        raise InvalidInput(f"logo refused: {exc}", {"logo": [str(exc)]}) from None
    storage = get_storage()
    kit = partner.brand_kit or BrandKit(partner=partner)
    written, replaced = [], []
    for column, png in files.items():
        key = logo_key(partner.slug, png)
        if not storage.exists(key):
            written.append(key)
        storage.put(key, png, "image/png")
        replaced.append(getattr(kit, column))
        setattr(kit, column, key)
    try:
        commit()
    except Exception:
        db.session.rollback()
        for key in written:
            storage.delete(key)
        raise
    in_use = {kit.logo_key, kit.logo_dark_key}
    for old in set(replaced) - in_use - {None}:
        try:
            storage.delete(old)
        except NotFound:
            pass
    return kit
