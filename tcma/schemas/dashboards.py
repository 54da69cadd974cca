"""Dashboards API: whose numbers and which days; the tables answered, each row named."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validates_schema

from tcma.schemas.common import DB_ID, QueryArgs


class DashboardArgs(QueryArgs):
    """?campaign_id=&partner_id=&start=&end= (the programme's last 30 days by default)."""

    campaign_id = fields.Integer(validate=DB_ID, metadata={"description": "one campaign's numbers"})
    partner_id = fields.Integer(validate=DB_ID, metadata={"description": "one partner's numbers"})
    start = fields.Date(metadata={"description": "first day (UTC), inclusive; default 29 days before end "
                                                 "(a campaign: its launch day)"})
    end = fields.Date(metadata={"description": "last day (UTC), inclusive; default today"})

    @validates_schema
    def check_period(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("must not be after end", "start")


class FiguresSchema(Schema):
    """People's events per measure (rollup kinds), unique clicks, and machines left out."""

    downloaded = fields.Integer()
    sent = fields.Integer()
    opened = fields.Integer()
    clicked = fields.Integer()
    posted = fields.Integer()
    reactions = fields.Integer(metadata={"description": "likes, reposts and replies"})
    unique_clicks = fields.Integer()
    machines = fields.Integer(metadata={"description": "bots, link scanners, the vendor's own: not counted"})


class RowSchema(FiguresSchema):
    """One row of a table: its key (day, id, slug or value; null for none) and its name."""

    key = fields.Raw(allow_none=True)
    label = fields.String()


class StepSchema(Schema):
    """One step of the funnel."""

    key = fields.String()
    label = fields.String()
    people = fields.Integer()
    machines = fields.Integer(allow_none=True, metadata={"description": "null where nothing is tracked"})


class ScopeSchema(Schema):
    """Whose numbers these are."""

    kind = fields.String(metadata={"description": "programme, campaign or partner"})
    campaign_id = fields.Integer(allow_none=True)
    campaign_name = fields.String(allow_none=True)
    partner_id = fields.Integer(allow_none=True)
    partner_name = fields.String(allow_none=True)


class DashboardSchema(Schema):
    """Every table the dashboard pages show, with the same numbers."""

    scope = fields.Nested(ScopeSchema)
    start = fields.Date()
    end = fields.Date()
    totals = fields.Nested(FiguresSchema)
    funnel = fields.List(fields.Nested(StepSchema))
    over_time = fields.List(fields.Nested(RowSchema))
    by_channel = fields.List(fields.Nested(RowSchema))
    by_tier = fields.List(fields.Nested(RowSchema))
    by_region = fields.List(fields.Nested(RowSchema))
    by_variant = fields.List(fields.Nested(RowSchema))
    top_partners = fields.List(fields.Nested(RowSchema))
    top_campaigns = fields.List(fields.Nested(RowSchema))
    top_assets = fields.List(fields.Nested(RowSchema))
