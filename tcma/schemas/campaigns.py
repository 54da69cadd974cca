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
    preparing = fields.Integer(metadata={"description": "while launching: the partners whose assets are "
                                                    "being created (present only then)"})


class RetrySchema(Schema):
    """Retry all failed assets, or only these."""

    asset_ids = fields.List(fields.Integer(validate=DB_ID), load_default=None, allow_none=True)


class RetriedSchema(Schema):
    """How many assets were queued again."""

    retried = fields.Integer()


class CampaignListArgs(PageArgs):
    """Filters for listing campaigns."""

    status = fields.String(validate=validate.OneOf(CAMPAIGN_STATUSES))


class LaunchSchema(Schema):
    """What a launch went out under: a contact-sheet review, or none (recorded as skipped)."""

    review_id = fields.Integer(validate=DB_ID, load_default=None, allow_none=True, metadata={
        "description": "the review_id a GET of the campaign's contact-sheet answered; without it "
                       "the launch is recorded as 'review skipped' by the caller"})


class ReviewSchema(Schema):
    """How the latest launch was let through: after looking at the contact sheet, or skipped."""

    id = fields.Integer()
    decision = fields.String(metadata={"description": "seen or skipped"})
    via = fields.String(metadata={"description": "portal, api or cli"})
    by = fields.String(allow_none=True, metadata={"description": "the user's email"})
    seen_at = fields.DateTime(allow_none=True)
    skipped_at = fields.DateTime(allow_none=True)
    pages_seen = fields.List(fields.Integer())
    items_seen = fields.Integer()
    warnings_seen = fields.Integer()
    launched_at = fields.DateTime()


class SheetWarningSchema(Schema):
    """One warning and the kind it is filtered by."""

    kind = fields.String(metadata={"description": "required, glyphs, fit, logo-resolution, "
                                                  "logo-contrast, logo-missing, qr, render or other"})
    message = fields.String()


class SheetItemSchema(Schema):
    """One partner's one output as it renders now."""

    partner_id = fields.Integer()
    partner_name = fields.String()
    output = fields.String()
    template_name = fields.String()
    warnings = fields.List(fields.Nested(SheetWarningSchema))


class ContactSheetArgs(PageArgs):
    """A page of the sheet, and the review being paged through."""

    per_page = fields.Integer(load_default=12, validate=validate.Range(min=1, max=50))
    review_id = fields.Integer(validate=DB_ID, load_default=None, metadata={
        "description": "the review_id an earlier page answered: later pages count towards it"})


class ContactSheetSchema(Schema):
    """One page of a campaign's contact sheet and the review to launch under."""

    review_id = fields.Integer()
    total_partners = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "items per kind of warning on this page"})
    items = fields.List(fields.Nested(SheetItemSchema))


class CampaignDetailSchema(CampaignSchema):
    """A campaign with how its latest launch was reviewed."""

    review = fields.Nested(ReviewSchema, allow_none=True, dump_only=True)
