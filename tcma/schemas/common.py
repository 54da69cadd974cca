"""Schemas shared by every resource: pagination and the error body."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from campaigns.vocabulary import MAX_DATABASE_ID

SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$", error="lowercase letters, digits and dashes")
DB_ID = validate.Range(min=1, max=MAX_DATABASE_ID, error="not an id")
COLOR = validate.Regexp(r"^#[0-9A-Fa-f]{6}$", error="a colour like #1F4E79")


MAX_PAGE = 100_000
MAX_PER_PAGE = 500
UNKNOWN_FIELD = "Unknown field."
NOTHING_TO_CHANGE = "nothing to change: send at least one field"


class QueryArgs(Schema):
    """Query arguments: a parameter the endpoint does not know is refused, not silently ignored.

    webargs drops unknown query parameters before the schema sees them, so they are found in the
    original mapping; a misspelt filter would otherwise answer everything, unfiltered.
    """

    @validates_schema(pass_original=True)
    def refuse_unknown(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        known = {field.data_key or name for name, field in self.load_fields.items()}
        unknown = sorted(set(original) - known)
        if unknown:
            raise ValidationError({name: [UNKNOWN_FIELD] for name in unknown})


class PageArgs(QueryArgs):
    """?page=&per_page= on list endpoints (bounded: the offset must fit the database's integers)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class UpdateSchema(Schema):
    """A partial update (PATCH): an empty body is refused rather than answered as a change."""

    @validates_schema
    def refuse_nothing(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError(NOTHING_TO_CHANGE)


class PageSchema(Schema):
    """The envelope of a list: its items and where this page sits."""

    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """A page envelope schema whose `items` are `item_schema`."""
    return type(name, (PageSchema,), {"items": fields.List(fields.Nested(item_schema), required=True)})


class ErrorSchema(Schema):
    """The one error body: {code, status, message, errors}."""

    code = fields.Integer()
    status = fields.String()
    message = fields.String()
    errors = fields.Dict()
