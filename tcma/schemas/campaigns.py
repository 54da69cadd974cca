"""Campaigns, their launch progress and retries."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from campaigns.vocabulary import CAMPAIGN_STATUSES
from tcma.schemas.common import DB_ID, SLUG, PageArgs, page_of


class OutputSchema(Schema):
    """One template output the campaign renders for every partner."""

    template = fields.String(required=True, validate=SLUG)
    output = fields.String(required=True, validate=validate.Length(min=1, max=40))
    version = fields.Integer(validate=validate.Range(min=1))


class SegmentSchema(Schema):
    """Which partners: every listed dimension must match; explicit partners are added."""

    tiers = fields.List(fields.String(validate=SLUG), load_default=list)
    verticals = fields.List(fields.String(validate=SLUG), load_default=list)
    regions = fields.List(fields.String(validate=SLUG), load_default=list)
    partner_ids = fields.List(fields.Integer(validate=DB_ID), load_default=list)


class CampaignSchema(Schema):
    """A campaign as the API shows it."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    slug = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    segment = fields.Nested(SegmentSchema, load_default=dict)
    outputs = fields.List(fields.Nested(OutputSchema), required=True,
                          validate=validate.Length(min=1, max=20))
    launched_at = fields.DateTime(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


CampaignPageSchema = page_of(CampaignSchema, "CampaignPageSchema")


class ProgressSchema(Schema):
    """How far a launch has come."""

    status = fields.String()
    total = fields.Integer()
    queued = fields.Integer()
    running = fields.Integer()
    done = fields.Integer()
    failed = fields.Integer()
    waiting = fields.Integer(metadata={"description": "assets waiting for fields only the partner can give"})


class RetrySchema(Schema):
    """Retry all failed assets, or only these."""

    asset_ids = fields.List(fields.Integer(validate=DB_ID), load_default=None, allow_none=True)


class RetriedSchema(Schema):
    """How many assets were queued again."""

    retried = fields.Integer()


class CampaignListArgs(PageArgs):
    """Filters for listing campaigns."""

    status = fields.String(validate=validate.OneOf(CAMPAIGN_STATUSES))
