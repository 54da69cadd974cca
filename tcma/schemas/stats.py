"""Stats API: the query (filters, grouping, period, bots) and the answer (rows and per-kind totals)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from campaigns.vocabulary import CHANNELS, EVENT_KINDS
from campaigns.vocabulary import STATS_DIMENSIONS as DIMENSIONS
from tcma.schemas.common import DB_ID, QueryArgs


class StatsArgs(QueryArgs):
    """?group_by=partner_id,day&start=&end=&include_bots= plus optional filters."""

    partner_id = fields.Integer(validate=DB_ID)
    asset_id = fields.Integer(validate=DB_ID)
    variant = fields.String(validate=validate.Length(1, 40))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    kind = fields.String(validate=validate.OneOf(EVENT_KINDS))
    start = fields.Date(metadata={"description": "first day (UTC), inclusive"})
    end = fields.Date(metadata={"description": "last day (UTC), inclusive"})
    group_by = DelimitedList(fields.String(validate=validate.OneOf(DIMENSIONS)), load_default=["kind"],
                             metadata={"description": f"comma-separated: {', '.join(DIMENSIONS)}"})
    include_bots = fields.Boolean(load_default=False)

    @validates_schema
    def check_period(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("must not be after end", "start")


class AllStatsArgs(StatsArgs):
    """The same, across campaigns."""

    campaign_id = fields.Integer(validate=DB_ID)


class StatsRowSchema(Schema):
    """One group: its dimensions (those asked for) and its numbers."""

    kind = fields.String()
    campaign_id = fields.Integer(allow_none=True)
    campaign_name = fields.String(allow_none=True, metadata={"description": "with group_by campaign_id"})
    partner_id = fields.Integer(allow_none=True)
    partner_name = fields.String(allow_none=True, metadata={"description": "with group_by partner_id"})
    asset_id = fields.Integer(allow_none=True)
    variant = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    day = fields.Date()
    count = fields.Integer(metadata={"description": "events by people (plus bots with include_bots)"})
    uniques = fields.Integer(metadata={"description": "one per visitor within the unique window"})
    bots = fields.Integer(metadata={"description": "events flagged as bots or link scanners"})
    bot_share = fields.Float(metadata={"description": "bots / all events"})


class KindTotalSchema(Schema):
    """Totals of one kind of event."""

    count = fields.Integer()
    uniques = fields.Integer()
    bots = fields.Integer()
    bot_share = fields.Float()


class StatsSchema(Schema):
    """Rows grouped as asked, and totals per kind of event."""

    group_by = fields.List(fields.String())
    include_bots = fields.Boolean()
    rows = fields.List(fields.Nested(StatsRowSchema))
    totals = fields.Dict(keys=fields.String(), values=fields.Nested(KindTotalSchema))
