"""Evergreen posts: library post texts a partner previews and schedules on their own accounts."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from tcma.schemas.common import DB_ID
from tcma.schemas.posts import WALL_CLOCK, PostFieldSchema

FIELD_VALUES = fields.Dict(keys=fields.String(validate=validate.Length(max=100)),
                           values=fields.String(validate=validate.Length(max=5000)), data_key="fields",
                           load_default=dict, metadata={
    "description": "values for the template's editable fields, over the partner's saved ones"})


class EvergreenPostSchema(Schema):
    """A library post the partner may schedule: its template, networks and editable fields."""

    slug = fields.String(metadata={"description": "the template it comes from"})
    name = fields.String()
    description = fields.String()
    version = fields.Integer()
    networks = fields.List(fields.String(), metadata={"description": "the networks it has a text for"})
    fields_ = fields.List(fields.Nested(PostFieldSchema), data_key="fields", attribute="fields")


class NetworkTextSchema(Schema):
    """One network's text exactly as it goes out for the partner, or why it cannot."""

    network = fields.String()
    text = fields.String(allow_none=True)
    length = fields.Integer(allow_none=True, metadata={"description": "as the network counts it"})
    limit = fields.Integer()
    error = fields.String(allow_none=True, metadata={"description": "why this network cannot take it"})


class EvergreenAccountSchema(Schema):
    """A connected, active account of the partner the post may go out from."""

    id = fields.Integer()
    network = fields.String()
    handle = fields.String()
    display_name = fields.String(allow_none=True)


class EvergreenPreviewSchema(Schema):
    """The post rendered for the partner, and where and in which zone it may be scheduled."""

    post = fields.Nested(EvergreenPostSchema)
    texts = fields.List(fields.Nested(NetworkTextSchema))
    accounts = fields.List(fields.Nested(EvergreenAccountSchema))
    time_zone = fields.String(metadata={"description": "the partner's zone: local_at is read in it"})
    image_url = fields.String(allow_none=True, metadata={
        "description": "the image the posts carry (a signed, expiring URL); null: the template has none"})


class EvergreenPreviewArgs(Schema):
    """Values to preview the texts with."""

    fields_ = FIELD_VALUES


class EvergreenScheduleSchema(Schema):
    """Where and when the partner's evergreen post goes out."""

    account_ids = fields.List(fields.Integer(validate=DB_ID), required=True,
                              validate=validate.Length(min=1, max=20), metadata={
        "description": "the partner's connected active accounts, on networks the post has a text for"})
    local_at = fields.NaiveDateTime(validate=WALL_CLOCK, metadata={
        "description": "a wall-clock time in the partner's zone, e.g. 2027-03-09T10:00"})
    as_soon_as_possible = fields.Boolean(load_default=False, metadata={
        "description": "publish at the next scheduler pass instead of at local_at"})
    with_image = fields.Boolean(load_default=True, metadata={
        "description": "the posts carry the template's image (when it has one); false: text only"})
    fields_ = FIELD_VALUES

    @validates_schema
    def one_time(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("as_soon_as_possible") and data.get("local_at") is not None:
            raise ValidationError("give local_at or as_soon_as_possible, not both", "local_at")
        if not data.get("as_soon_as_possible") and data.get("local_at") is None:
            raise ValidationError("give a local_at on your wall clock, or as_soon_as_possible: true",
                                  "local_at")
