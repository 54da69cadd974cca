"""Sign-in and API tokens."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class TokenRequestSchema(Schema):
    """Exchange a password for an API token."""

    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    expires_in_days = fields.Integer(load_default=None, allow_none=True,
                                     validate=validate.Range(min=1, max=3650))


class TokenSchema(Schema):
    """A token as listed (never its value)."""

    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    """A token just issued: the only time its value is shown."""

    token = fields.String()


class MeSchema(Schema):
    """Who the caller is."""

    user_id = fields.Integer()
    role = fields.String()
    partner_id = fields.Integer(allow_none=True)
