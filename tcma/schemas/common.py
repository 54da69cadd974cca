"""Schemas shared by every resource: pagination and the error body."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from campaigns.vocabulary import MAX_DATABASE_ID

SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$", error="lowercase letters, digits and dashes")
DB_ID = validate.Range(min=1, max=MAX_DATABASE_ID, error="not an id")
COLOR = validate.Regexp(r"^#[0-9A-Fa-f]{6}$", error="a colour like #1F4E79")


class PageArgs(Schema):
    """?page=&per_page= on list endpoints."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


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
