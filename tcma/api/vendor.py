"""Vendor setup: tiers, verticals, regions."""

from __future__ import annotations

from flask import abort
from flask_smorest import Blueprint

from tcma.api.security import ANY_ROLE, VENDOR, auth_required
from tcma.schemas.vendor import TaxonomySchema, TaxonomyUpdateSchema
from tcma.services.partners import taxonomy as vendor

blp = Blueprint("vendor", __name__, url_prefix="vendor", description="Tiers, verticals, regions")


def _kind(kind: str) -> str:
    if kind not in vendor.KINDS:
        abort(404)
    return kind


@blp.get("/<kind>")
@auth_required(*ANY_ROLE)
@blp.response(200, TaxonomySchema(many=True))
def list_taxonomy(principal, kind):
    """Every tier, vertical or region."""
    return vendor.list_taxonomy(_kind(kind))


@blp.post("/<kind>")
@auth_required(*VENDOR)
@blp.arguments(TaxonomySchema)
@blp.response(201, TaxonomySchema)
def create_taxonomy(principal, args, kind):
    """Add a tier, vertical or region."""
    return vendor.create_taxonomy(principal, _kind(kind), args)


@blp.patch("/<kind>/<int:row_id>")
@auth_required(*VENDOR)
@blp.arguments(TaxonomyUpdateSchema)
@blp.response(200, TaxonomySchema)
def update_taxonomy(principal, args, kind, row_id):
    """Rename or re-rank a tier, vertical or region."""
    return vendor.update_taxonomy(principal, _kind(kind), row_id, args)
