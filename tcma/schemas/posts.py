"""Post plans and scheduled posts: what a marketer plans, what a partner approves, what went out."""

from __future__ import annotations

from datetime import datetime

from marshmallow import Schema, fields, validate

from campaigns.vocabulary import NETWORKS, PLAN_STATUSES, PLAN_TIMINGS, POST_OUTCOMES, POST_STATUSES
from tcma.schemas.common import DB_ID, Cursor, KeysetPageArgs, UpdateSchema, page_of
from tcma.schemas.experiments import CampaignRolloutSchema

# Wall-clock times a plan or a partner may name (the zone is the partner's): bounded, so that every
# zone's offset keeps them within the calendar.
WALL_CLOCK = validate.Range(min=datetime(2000, 1, 1), max=datetime(2200, 1, 1),
                            error="a date from 2000 to 2199")
IMAGE_OUTPUTS = ("png", "jpg")


def _wall_clock(description: str) -> fields.NaiveDateTime:
    return fields.NaiveDateTime(validate=WALL_CLOCK, metadata={"description": description})


class TimingSchema(Schema):
    """When each partner's post is due, as wall-clock times in the partner's own zone."""

    kind = fields.String(required=True, validate=validate.OneOf(PLAN_TIMINGS), metadata={
        "description": "local_time: at `local`; window: spread from `start_local` to `end_local`; "
                       "on_approval: as soon as the partner approves (or at once when it needs none)"})
    local = _wall_clock("local_time: the wall-clock time at each partner, e.g. 2027-03-09T10:00")
    start_local = _wall_clock("window: its start, at each partner")
    end_local = _wall_clock("window: its end, at each partner")


class PostPlanCreateSchema(Schema):
    """Plan a campaign's post for every opted-in partner account on `networks`."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    networks = fields.List(fields.String(validate=validate.OneOf(NETWORKS)), required=True,
                           validate=validate.Length(min=1, max=len(NETWORKS)))
    timing = fields.Nested(TimingSchema, required=True)
    image_output = fields.String(allow_none=True, validate=validate.OneOf(IMAGE_OUTPUTS), metadata={
        "description": "the campaign's rendered image each partner's post carries (none: text only)"})
    requires_approval = fields.Boolean(load_default=False, metadata={
        "description": "every partner approves first, whatever their accounts say"})
    allow_late = fields.Boolean(load_default=False, metadata={
        "description": "a post approved after its time goes out at once instead of expiring"})


class SkippedAccountSchema(Schema):
    """An account the plan made no post for, because it would break the account's frequency caps."""

    account_id = fields.Integer()
    partner_id = fields.Integer()
    network = fields.String()
    handle = fields.String()
    reason = fields.String(metadata={
        "description": "which cap, e.g. 3 posts already on 2027-03-09 (the limit is 3 a day)"})


class PostPlanSchema(Schema):
    """A plan and its posts counted by state."""

    id = fields.Integer()
    campaign_id = fields.Integer()
    name = fields.String()
    networks = fields.List(fields.String())
    image_output = fields.String(allow_none=True)
    timing = fields.Dict()
    requires_approval = fields.Boolean()
    allow_late = fields.Boolean()
    status = fields.String(metadata={"enum": list(PLAN_STATUSES)})
    created_at = fields.DateTime()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "the plan's posts by state (every state, zeros included)"})
    total = fields.Integer()
    experiment_plan = fields.Nested(CampaignRolloutSchema, allow_none=True, metadata={
        "description": "the campaign's experiment testing on a share of partners: its other partners' "
                       "posts are held_for_winner until the decision"})
    skipped = fields.List(fields.Nested(SkippedAccountSchema), metadata={
        "description": "accounts that got no post: one more would break their posts-per-day or "
                       "per-week cap (TCMA_SOCIAL_POSTS_PER_DAY, TCMA_SOCIAL_POSTS_PER_WEEK)"})


class PostSchema(Schema):
    """A scheduled post: where, when, in what state, and the exact text and image that go out."""

    id = fields.Integer()
    partner_id = fields.Integer()
    campaign_id = fields.Integer(allow_none=True)
    plan_id = fields.Integer(allow_none=True)
    account_id = fields.Integer()
    network = fields.String()
    handle = fields.String(metadata={"description": "the account it goes out from"})
    status = fields.String(metadata={"enum": list(POST_STATUSES)})
    text = fields.String(allow_none=True, metadata={
        "description": "the exact text that goes out (null while the partner's render is not done)"})
    image_url = fields.String(allow_none=True, metadata={
        "description": "a signed, expiring URL of the image that goes out with it"})
    local_at = fields.String(allow_none=True, metadata={
        "description": "when, on the partner's wall clock (null: as soon as approved)"})
    time_zone = fields.String(allow_none=True)
    scheduled_at = fields.DateTime(metadata={"description": "when it is due (UTC)"})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True, metadata={
        "description": "not tried again before this (a rate limit's reset, a back-off)"})
    error = fields.String(allow_none=True)
    external_id = fields.String(allow_none=True)
    external_url = fields.String(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


PostPageSchema = page_of(PostSchema, "PostPageSchema", keyset=True)


class PostListArgs(KeysetPageArgs):
    """Filters for listing posts."""

    after = Cursor(kinds=(datetime, int), metadata={
        "description": "the `next` of the previous page: the page after it (by scheduled time, then id), "
                       "read from an index however deep (page= is an offset)"})

    status = fields.String(validate=validate.OneOf(POST_STATUSES))
    partner_id = fields.Integer(validate=DB_ID)
    network = fields.String(validate=validate.OneOf(NETWORKS))
    campaign_id = fields.Integer(validate=DB_ID)
    plan_id = fields.Integer(validate=DB_ID)


class PostUpdateSchema(UpdateSchema):
    """The partner edits the text and/or moves the post; approval stays as it was."""

    text = fields.String(validate=validate.Length(min=1, max=20_000), metadata={
        "description": "the text that goes out, within the network's limit"})
    local_at = _wall_clock("the new time on the partner's wall clock, e.g. 2027-03-10T09:30")
    fields_ = fields.Dict(keys=fields.String(validate=validate.Length(max=100)),
                          values=fields.String(validate=validate.Length(max=5000)),
                          data_key="fields", metadata={
        "description": "new values for the post's editable fields (see /posts/{id}/fields): their limits "
                       "are checked, then the text (and an image that uses them) is rendered again"})


class PostFieldSchema(Schema):
    """One editable field of a post: its limits and the value the post renders with now."""

    name = fields.String()
    label = fields.String()
    type = fields.String(metadata={"enum": ["text", "multiline", "choice", "email", "phone"]})
    max_length = fields.Integer()
    choices = fields.List(fields.String())
    required = fields.Boolean()
    value = fields.String()


class RejectSchema(Schema):
    """Why the partner does not want the post."""

    reason = fields.String(validate=validate.Length(max=500))


class PostAttemptSchema(Schema):
    """One try at publishing: when, by which worker, what the network answered."""

    id = fields.Integer()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    worker = fields.String(allow_none=True)
    outcome = fields.String(metadata={"enum": list(POST_OUTCOMES)})
    detail = fields.String(allow_none=True)
    rate_limit = fields.Dict(allow_none=True, metadata={
        "description": "the network's limit on that answer: limit, remaining, reset"})


class RetriedPostsSchema(Schema):
    """How many failed posts wait again."""

    retried = fields.Integer()
