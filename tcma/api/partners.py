"""Partners, brand kits and logo uploads."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from tcma.api.pagination import page_envelope
from tcma.api.security import ANY_ROLE, VENDOR, auth_required
from tcma.config import get_settings
from tcma.errors import DomainError, InvalidInput
from tcma.http_errors import uploads
from tcma.schemas.partners import (
    BrandKitSchema,
    BrandKitUpdateSchema,
    LogoSlotSchema,
    LogoUploadSchema,
    PartnerFilterArgs,
    PartnerPageSchema,
    PartnerSchema,
    PartnerUpdateSchema,
)
from tcma.services.partners import partners

blp = Blueprint("partners", __name__, url_prefix="partners", description="Channel partners")


@blp.get("")
@auth_required(*ANY_ROLE)
@blp.arguments(PartnerFilterArgs, location="query")
@blp.response(200, PartnerPageSchema)
def list_partners(principal, args):
    """Partners, filtered by tier, vertical, region, status or name; paginated."""
    page, per_page = args.pop("page"), args.pop("per_page")
    items, total = partners.list_partners(principal, args, page, per_page)
    return page_envelope(items, total, page, per_page)


@blp.post("")
@auth_required(*VENDOR)
@blp.arguments(PartnerSchema)
@blp.response(201, PartnerSchema)
def create_partner(principal, args):
    """Add a partner."""
    return partners.create_partner(principal, args)


@blp.get("/<int:partner_id>")
@auth_required(*ANY_ROLE)
@blp.response(200, PartnerSchema)
def get_partner(principal, partner_id):
    """One partner (a partner user: only their own)."""
    return partners.get_partner(principal, partner_id)


@blp.patch("/<int:partner_id>")
@auth_required(*VENDOR)
@blp.arguments(PartnerUpdateSchema)
@blp.response(200, PartnerSchema)
def update_partner(principal, args, partner_id):
    """Change a partner's profile."""
    return partners.update_partner(principal, partner_id, args)


@blp.get("/<int:partner_id>/brand-kit")
@auth_required(*ANY_ROLE)
@blp.response(200, BrandKitSchema)
def get_brand_kit(principal, partner_id):
    """A partner's brand kit."""
    return partners.get_partner(principal, partner_id).brand_kit


@blp.patch("/<int:partner_id>/brand-kit")
@auth_required(*ANY_ROLE)
@blp.arguments(BrandKitUpdateSchema)
@blp.response(200, BrandKitSchema)
def update_brand_kit(principal, args, partner_id):
    """Change colours and contact details."""
    return partners.update_brand_kit(principal, partner_id, args)


@blp.put("/<int:partner_id>/logo")
@uploads("logo")
@auth_required(*ANY_ROLE)
@blp.arguments(LogoUploadSchema, location="files")
@blp.arguments(LogoSlotSchema, location="query")
@blp.response(200, BrandKitSchema)
def upload_logo(principal, args, query, partner_id):
    """Upload a logo (SVG, PDF, PNG, JPEG, WebP, GIF); checked for type, size, pixels, scripts.

    ?variant=light or dark uploads the logo for that kind of background only; without it the
    other variant is derived (a one-colour version) so every background has a logo that reads.
    """
    data = request.files["logo"].read()
    if not data:
        raise InvalidInput("the logo file is empty", {"logo": ["empty file"]})
    limit = get_settings().max_upload_bytes
    if len(data) > limit:
        # The request limit leaves room for the form around the file, so a file a little over
        # the upload limit gets here; sizes in bytes, so the two numbers never read the same.
        sizes = f"{len(data):,} bytes; the limit is {limit:,} bytes"
        raise DomainError(f"logo is {sizes}", {"logo": [sizes]}, status=413)
    return partners.upload_logo(principal, partner_id, data, query["variant"])
