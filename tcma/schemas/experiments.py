"""Experiments: what a marketer sets up, the results per arm, and decisions."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

VARIANT_NAME = validate.Length(min=1, max=40)


class ArmSchema(Schema):
    """One arm: a variant the campaign's templates name, and its share of the traffic."""

    name = fields.String(required=True, validate=VARIANT_NAME)
    weight = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000))


class RolloutSchema(Schema):
    """Test on a share, then send the winner to the rest: only `test_share` of the units (recipients of
    email sends, or partners for posts) get arms; the rest wait for the decision, at the latest
    `deadline_hours` after the start (then the rule decides, and with no clear winner the control goes)."""

    test_share = fields.Float(required=True, metadata={
        "description": "more than 0 and less than 1: 0.2 tests on 20% of the units"})
    deadline_hours = fields.Integer(load_default=None, validate=validate.Range(min=1, max=24 * 365),
                                    metadata={"description": "when the rest goes at the latest "
                                                             "(default: max_runtime_days)"})
    unit = fields.String(dump_only=True)
    item_name = fields.String(dump_only=True, metadata={"description": "what is held: messages or posts"})
    deadline = fields.DateTime(dump_only=True)
    tested_units = fields.Integer(dump_only=True)
    held_units = fields.Integer(dump_only=True)
    held_items = fields.Integer(dump_only=True)
    rest_goes = fields.String(dump_only=True, metadata={"description": "when the rest goes, or when it went"})
    released_at = fields.DateTime(dump_only=True, allow_none=True)
    released = fields.Dict(dump_only=True, allow_none=True, metadata={
        "description": "what went to the rest: variant, reason, and how many recipients/sends or posts"})


class CampaignRolloutSchema(RolloutSchema):
    """The test-share plan of a campaign's experiment, as send and post-plan views show it."""

    experiment_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)


class ExperimentSchema(Schema):
    """An experiment as created and shown (the first variant is the control)."""

    id = fields.Integer(dump_only=True)
    campaign_id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    metric = fields.String(load_default="click",
                           validate=validate.OneOf(("click", "open", "download", "reaction")))
    unit = fields.String(load_default="partner", validate=validate.OneOf(("partner", "recipient")))
    method = fields.String(load_default="sequential", validate=validate.OneOf(("sequential", "bayesian")))
    variants = fields.List(fields.Nested(ArmSchema), required=True, validate=validate.Length(min=2, max=10))
    strata = fields.List(fields.String(validate=validate.OneOf(("tier", "region", "vertical"))),
                         load_default=list)
    confidence = fields.Float(load_default=0.95, validate=validate.Range(min=0.5, max=0.9999))
    min_sample = fields.Integer(load_default=100, validate=validate.Range(min=2, max=1_000_000))
    min_runtime_days = fields.Integer(load_default=7, validate=validate.Range(min=0, max=365))
    max_runtime_days = fields.Integer(load_default=28, validate=validate.Range(min=1, max=365))
    max_machine_share_gap = fields.Float(load_default=0.1, validate=validate.Range(min=0, max=1))
    auto_decide = fields.Boolean(load_default=True)
    rollout = fields.Nested(RolloutSchema, load_default=None, allow_none=True)
    status = fields.String(dump_only=True)
    winner = fields.String(dump_only=True, allow_none=True)
    started_at = fields.DateTime(dump_only=True)
    decided_at = fields.DateTime(dump_only=True, allow_none=True)
    stopped_at = fields.DateTime(dump_only=True, allow_none=True)
    assigned = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True)
    decision = fields.Dict(dump_only=True, allow_none=True)


class ArmResultSchema(Schema):
    """One arm's numbers (rates per `per` items)."""

    name = fields.String()
    units = fields.Integer()
    planned_share = fields.Float()
    conversions = fields.Float()
    exposures = fields.Float()
    rate = fields.Float()
    ci = fields.List(fields.Float())
    machine_share = fields.Float()


class ComparisonSchema(Schema):
    """A treatment against the control: absolute effect per `per` items, always-valid interval."""

    arm = fields.String()
    effect = fields.Float(allow_none=True)
    ci = fields.List(fields.Float(allow_none=True), allow_none=True)
    stddev = fields.Float(allow_none=True)
    p_value = fields.Float(allow_none=True)
    adjusted_p_value = fields.Float(allow_none=True)
    chance_to_win = fields.Float(allow_none=True)
    note = fields.String()


class SrmSchema(Schema):
    """The sample-ratio check against the planned weights."""

    chi2 = fields.Float(allow_none=True)
    p_value = fields.Float(allow_none=True)
    flagged = fields.Boolean()
    skipped = fields.String(allow_none=True)


class VerdictSchema(Schema):
    """What the decision rule says now."""

    outcome = fields.String()
    winner = fields.String(allow_none=True)
    reason = fields.String()


class StratumSchema(Schema):
    """A stratum of partners (tier, region, vertical as the experiment balances them)."""

    stratum = fields.String()
    label = fields.String()
    units = fields.Integer()


class ResultsArgs(Schema):
    """Read all partners pooled, or one stratum's."""

    stratum = fields.String(load_default=None, validate=validate.Length(min=1, max=120))


class ResultsSchema(Schema):
    """An experiment's results."""

    experiment_id = fields.Integer()
    status = fields.String()
    winner = fields.String(allow_none=True)
    metric = fields.String()
    unit = fields.String()
    method = fields.String()
    per = fields.Integer()
    per_label = fields.String()
    arms = fields.List(fields.Nested(ArmResultSchema))
    comparisons = fields.List(fields.Nested(ComparisonSchema))
    srm = fields.Nested(SrmSchema)
    machine_share_gap = fields.Float()
    runtime_days = fields.Float()
    as_of = fields.DateTime()
    sentence = fields.String()
    verdict = fields.Nested(VerdictSchema)
    stratum = fields.String(allow_none=True)
    strata = fields.List(fields.Nested(StratumSchema))


class DecideSchema(Schema):
    """A marketer's decision: the winning variant, or null to keep the control."""

    winner = fields.String(required=True, allow_none=True, validate=VARIANT_NAME)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
