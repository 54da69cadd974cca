"""Templates, versions, previews and partner customizations."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from tcma.schemas.common import DB_ID


class TemplateSchema(Schema):
    """A catalogue entry with its latest version."""

    slug = fields.String()
    name = fields.String()
    description = fields.String()
    version = fields.Integer()
    outputs = fields.List(fields.String())
    available_tiers = fields.List(fields.String())
    fields_ = fields.List(fields.Dict(), data_key="fields")
    variants = fields.List(fields.String())


class VersionSchema(Schema):
    """One published version."""

    id = fields.Integer()
    version = fields.Integer()
    outputs = fields.List(fields.String())
    available_tiers = fields.List(fields.String())
    published_at = fields.DateTime()


class VersionWithSpecSchema(VersionSchema):
    """A version including its full spec."""

    spec = fields.Dict()


class PublishSchema(Schema):
    """A new version's spec (the shape `GET .../versions/<n>` returns)."""

    spec = fields.Dict(required=True)


class RenderArgsSchema(Schema):
    """Which output to render, with which variant and field values."""

    output = fields.String(required=True, validate=validate.Length(min=1, max=40))
    variant = fields.String(allow_none=True, validate=validate.Length(max=40))
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields",
                          load_default=dict)


class PreviewArgsSchema(RenderArgsSchema):
    """A marketer's preview: for which partner."""

    partner_id = fields.Integer(required=True, validate=DB_ID)


class CustomizationSchema(Schema):
    """A partner's values for a template's editable fields."""

    template = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields",
                          required=True)
    dropped_fields = fields.List(fields.String(), dump_only=True)
