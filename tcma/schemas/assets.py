"""Assets and their downloads."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from campaigns.vocabulary import ASSET_STATUSES as STATUSES
from campaigns.vocabulary import OUTPUTS
from tcma.schemas.common import DB_ID, KeysetPageArgs, page_of


class AssetSchema(Schema):
    """One partner's co-branded output."""

    id = fields.Integer()
    partner_id = fields.Integer()
    campaign_id = fields.Integer(allow_none=True)
    template = fields.String(attribute="template_slug")
    version = fields.Integer(attribute="template_version")
    output = fields.String()
    variant = fields.String(allow_none=True)
    fields_ = fields.Dict(data_key="fields", attribute="fields")
    status = fields.String()
    error = fields.String(allow_none=True)
    attempts = fields.Integer()
    media_type = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    warnings = fields.List(fields.String())
    download_url = fields.String(allow_none=True)
    updated_at = fields.DateTime()


AssetPageSchema = page_of(AssetSchema, "AssetPageSchema", keyset=True)


class AssetListArgs(KeysetPageArgs):
    """Filters for listing assets."""

    campaign_id = fields.Integer(validate=DB_ID)
    partner_id = fields.Integer(validate=DB_ID)
    status = fields.String(validate=validate.OneOf(STATUSES))
    output = fields.String(validate=validate.OneOf(OUTPUTS))
