"""Tiers, verticals and regions."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from tcma.schemas.common import SLUG, UpdateSchema


class TaxonomySchema(Schema):
    """A tier, vertical or region (rank only matters for tiers)."""

    id = fields.Integer(dump_only=True)
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    rank = fields.Integer(validate=validate.Range(min=0, max=1000))


class TaxonomyUpdateSchema(UpdateSchema):
    """What may change on a tier, vertical or region."""

    name = fields.String(validate=validate.Length(min=1, max=120))
    rank = fields.Integer(validate=validate.Range(min=0, max=1000))
