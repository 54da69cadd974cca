"""Partners' connected social accounts: no credential is ever in a response."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from campaigns.vocabulary import NETWORKS
from tcma.schemas.common import DB_ID, UpdateSchema

URL = validate.Length(max=500)
SECRET = validate.Length(min=1, max=2000)


class SocialAccountSchema(Schema):
    """A connected account as shown: who it is, where, and whether tcma publishes to it."""

    id = fields.Integer(dump_only=True)
    partner_id = fields.Integer(dump_only=True)
    network = fields.String(dump_only=True)
    handle = fields.String(dump_only=True)
    external_id = fields.String(dump_only=True, allow_none=True)
    base_url = fields.String(dump_only=True, allow_none=True)
    auto_publish = fields.Boolean(dump_only=True)
    paused = fields.Function(lambda a: not a.is_active, dump_only=True)
    token_expires_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class SocialAccountConnectSchema(Schema):
    """Connect an account: the network's own fields (Mastodon: instance_url, access_token; Bluesky:
    handle, app_password, pds_url; webhook: url, secret). Secrets are read, never shown."""

    partner_id = fields.Integer(required=True, validate=DB_ID)
    network = fields.String(required=True, validate=validate.OneOf(NETWORKS))
    instance_url = fields.String(load_only=True, validate=URL)
    access_token = fields.String(load_only=True, validate=SECRET)
    handle = fields.String(load_only=True, validate=validate.Length(min=1, max=200))
    app_password = fields.String(load_only=True, validate=SECRET)
    pds_url = fields.String(load_only=True, validate=URL)
    url = fields.String(load_only=True, validate=URL)
    secret = fields.String(load_only=True, validate=SECRET)


class SocialAccountUpdateSchema(UpdateSchema):
    """Pause or resume an account; publish to it automatically or not."""

    auto_publish = fields.Boolean()
    paused = fields.Boolean()


class SocialAccountFilterArgs(Schema):
    """Narrow the list to one partner."""

    partner_id = fields.Integer(validate=DB_ID)
