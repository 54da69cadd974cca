"""Partners' social accounts: connect (verified with the network), list, pause, auto-publish, disconnect."""

from __future__ import annotations

from flask_smorest import Blueprint

from tcma.api.security import ANY_ROLE, auth_required
from tcma.schemas.social import (
    SocialAccountConnectSchema,
    SocialAccountFilterArgs,
    SocialAccountSchema,
    SocialAccountUpdateSchema,
)
from tcma.services.syndication import accounts

blp = Blueprint("social", __name__, url_prefix="social-accounts", description="Connected social accounts")


@blp.post("")
@auth_required(*ANY_ROLE)
@blp.arguments(SocialAccountConnectSchema)
@blp.response(201, SocialAccountSchema)
def connect_account(principal, args):
    """Connect a Mastodon, Bluesky or webhook account; the network checks the credentials first."""
    partner_id, network = args.pop("partner_id"), args.pop("network")
    return accounts.connect_account(principal, partner_id, network, args)


@blp.get("")
@auth_required(*ANY_ROLE)
@blp.arguments(SocialAccountFilterArgs, location="query")
@blp.response(200, SocialAccountSchema(many=True))
def list_accounts(principal, args):
    """The accounts the caller may see (a partner user: their partner's), optionally of one partner."""
    return accounts.list_accounts(principal, args.get("partner_id"))


@blp.get("/<int:account_id>")
@auth_required(*ANY_ROLE)
@blp.response(200, SocialAccountSchema)
def get_account(principal, account_id):
    """One connected account."""
    return accounts.get_account(principal, account_id)


@blp.patch("/<int:account_id>")
@auth_required(*ANY_ROLE)
@blp.arguments(SocialAccountUpdateSchema)
@blp.response(200, SocialAccountSchema)
def update_account(principal, args, account_id):
    """Pause or resume the account, and turn auto-publishing on or off."""
    return accounts.update_account(principal, account_id, paused=args.get("paused"),
                                   auto_publish=args.get("auto_publish"))


@blp.delete("/<int:account_id>")
@auth_required(*ANY_ROLE)
@blp.response(204)
def disconnect_account(principal, account_id):
    """Disconnect the account: its stored credentials are deleted."""
    accounts.disconnect(principal, account_id)
