"""Insights API: scoring and flagging parameters, and the score, flags, hints and KPIs answered."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from campaigns.vocabulary import ANY_CHURN_FLAG as ANY_FLAG
from campaigns.vocabulary import CHURN_FLAGS
from tcma.schemas.common import PageArgs, QueryArgs, page_of

SORTS = ("score", "-score", "name", "-name", "last_active", "-last_active")
COMPUTED_AT = ("when the scores were computed (UTC): answers are read from a snapshot up to "
               "TCMA_INSIGHT_MAX_AGE_SECONDS old, recomputed by the maintenance pass")
DAYS = validate.Range(min=1, max=3650, error="a number of days from 1 to 3650")


class KpiArgs(QueryArgs):
    """?as_of=&activation_days=&inactive_days=&baseline_days="""

    as_of = fields.Date(metadata={"description": "the day (UTC) the numbers are taken on; default today"})
    activation_days = fields.Integer(validate=DAYS)
    inactive_days = fields.Integer(validate=DAYS)
    baseline_days = fields.Integer(validate=DAYS)


class ScoreArgs(QueryArgs):
    """?as_of=&window_days= and the churn thresholds."""

    as_of = fields.Date(metadata={"description": "the day (UTC) scored; default today"})
    window_days = fields.Integer(validate=DAYS,
                                 metadata={"description": "days of activity the score counts"})
    inactive_days = fields.Integer(validate=DAYS,
                                   metadata={"description": "flag 'inactive' after this many idle days"})
    recent_days = fields.Integer(validate=DAYS)
    baseline_days = fields.Integer(validate=DAYS)
    drop_percent = fields.Integer(validate=validate.Range(
        min=1, max=100, error="a percentage from 1 to 100"),
        metadata={"description": "flag 'dropping' when activity fell by at least this much"})
    min_baseline_actions = fields.Integer(validate=validate.Range(
        min=1, max=1_000_000, error="at least 1"),
        metadata={"description": "actions in the baseline below which no drop is flagged"})


class PartnerInsightArgs(ScoreArgs, PageArgs):
    """The list: scoring parameters, a flag to filter by, an order, CSV or JSON."""

    flag = fields.String(validate=validate.OneOf((*CHURN_FLAGS, ANY_FLAG)),
                         metadata={"description": f"only partners with this flag ({ANY_FLAG}: any flag)"})
    sort = fields.String(load_default="score", validate=validate.OneOf(SORTS),
                         metadata={"description": "lowest score first by default; '-' reverses"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")),
                           metadata={"description": "csv (or Accept: text/csv): every row, no pages"})


class ComponentSchema(Schema):
    """One part of the score."""

    name = fields.String()
    count = fields.Integer(allow_none=True, metadata={"description": "recency: days since the last action"})
    target = fields.Integer(metadata={"description": "count earning all the weight (recency: idle days "
                                                     "at which it reaches 0)"})
    weight = fields.Integer()
    points = fields.Float()


class FlagSchema(Schema):
    """A churn flag and why it was raised."""

    flag = fields.String()
    reason = fields.String()


class HintSchema(Schema):
    """What would raise the score, and by how much at most."""

    component = fields.String()
    points_available = fields.Float()
    hint = fields.String()


class PartnerInsightSchema(Schema):
    """One partner's engagement score on as_of."""

    partner_id = fields.Integer()
    name = fields.String()
    joined = fields.Date()
    as_of = fields.Date()
    score = fields.Float(metadata={"description": "0-100, the sum of the components' points"})
    components = fields.List(fields.Nested(ComponentSchema))
    last_active = fields.Date(allow_none=True)
    flags = fields.List(fields.Nested(FlagSchema), allow_none=True,
                        metadata={"description": "churn flags; null for partner users"})
    hints = fields.List(fields.Nested(HintSchema))
    computed_at = fields.DateTime(metadata={"description": COMPUTED_AT})


class PartnerInsightPageSchema(page_of(PartnerInsightSchema, "PartnerInsightPageBase")):  # type: ignore[misc]
    """A page of partners' scores, and when they were computed."""

    computed_at = fields.DateTime(allow_none=True, metadata={
        "description": COMPUTED_AT + "; null when no partner is listed"})


class ActivationSchema(Schema):
    """Activation rate and time to first use."""

    days = fields.Integer()
    cohort = fields.Integer(metadata={"description": "partners who joined at least `days` days before as_of"})
    activated = fields.Integer()
    rate = fields.Float(allow_none=True)
    used = fields.Integer(metadata={"description": "partners with any use up to as_of"})
    median_days_to_first_use = fields.Float(allow_none=True)


class AdoptionSchema(Schema):
    """Adoption of one template by the partners whose tier may use it."""

    template_id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    eligible = fields.Integer()
    downloaded = fields.Integer()
    customized = fields.Integer()
    sent = fields.Integer()
    posted = fields.Integer()
    adopted = fields.Integer()
    rate = fields.Float(allow_none=True)


class ChurnSchema(Schema):
    """Partners active in the baseline period who did nothing in the last `inactive_days`."""

    inactive_days = fields.Integer()
    baseline_days = fields.Integer()
    were_active = fields.Integer()
    churned = fields.Integer()
    rate = fields.Float(allow_none=True)


class KpiSchema(Schema):
    """The programme's KPIs on as_of."""

    as_of = fields.Date()
    partners = fields.Integer(metadata={"description": "active partners that had joined by as_of"})
    activation = fields.Nested(ActivationSchema)
    adoption = fields.List(fields.Nested(AdoptionSchema))
    churn = fields.Nested(ChurnSchema)
    computed_at = fields.DateTime(metadata={"description": COMPUTED_AT.replace("scores", "KPIs")})
