"""Partners' connected social accounts: no credential is ever in a response."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from campaigns.vocabulary import NETWORKS, SOCIAL_ACCOUNT_STATES
from tcma.schemas.common import DB_ID, KeysetPageArgs, QueryArgs, UpdateSchema, page_of

URL = validate.Length(max=500)
SECRET = validate.Length(min=1, max=2000)


class SocialAccountSchema(Schema):
    """A connected account as shown: who it is, where, and whether tcma publishes to it."""

    id = fields.Integer(dump_only=True)
    partner_id = fields.Integer(dump_only=True)
    network = fields.String(dump_only=True)
    handle = fields.String(dump_only=True)
    display_name = fields.String(dump_only=True, allow_none=True)
    external_id = fields.String(dump_only=True, allow_none=True)
    base_url = fields.String(dump_only=True, allow_none=True)
    auto_publish = fields.Boolean(dump_only=True)
    paused = fields.Function(lambda a: not a.is_active, dump_only=True)
    state = fields.String(dump_only=True, metadata={"enum": list(SOCIAL_ACCOUNT_STATES)})
    reconnect_reason = fields.String(dump_only=True, allow_none=True)
    needs_reconnect_since = fields.DateTime(dump_only=True, allow_none=True)
    token_expires_at = fields.DateTime(dump_only=True, allow_none=True)
    reconnect_by = fields.DateTime(dump_only=True, allow_none=True, metadata={
        "description": "when the partner must connect the account again (tcma cannot renew it past this)"})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


SocialAccountPageSchema = page_of(SocialAccountSchema, "SocialAccountPageSchema", keyset=True)


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


class SocialAccountFilterArgs(KeysetPageArgs):
    """Narrow the list to one partner; a page by number or after the previous page's `next`."""

    partner_id = fields.Integer(validate=DB_ID)


class ConnectStartArgs(QueryArgs):
    """Start connecting an account through the network's consent page."""

    partner_id = fields.Integer(validate=DB_ID, metadata={
        "description": "the partner the account is for (a partner's user: their own, the default)"})
    return_to = fields.String(validate=validate.Length(max=500), metadata={
        "description": "a path on this site the browser returns to after the consent"})
    instance_url = fields.String(validate=URL, metadata={
        "description": "Mastodon only: the partner's server"})


class ConnectStartSchema(Schema):
    """Where to send the partner's browser (the answer is also a 302 there)."""

    authorization_url = fields.String()
    expires_in = fields.Integer(metadata={"description": "seconds the consent may take"})


class CallbackArgs(Schema):
    """What the network appends to the callback URL."""

    class Meta:
        unknown = EXCLUDE  # networks add their own parameters (e.g. Facebook's #_=_, LinkedIn's scope)

    state = fields.String(validate=validate.Length(max=200))
    code = fields.String(validate=validate.Length(max=4000))
    error = fields.String(validate=validate.Length(max=200))
    error_description = fields.String(validate=validate.Length(max=1000))


class ExpiringArgs(QueryArgs):
    """How far ahead the report looks."""

    days = fields.Integer(load_default=14, validate=validate.Range(min=1, max=365))
