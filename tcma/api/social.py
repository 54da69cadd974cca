"""Partners' social accounts: connect (verified with the network, or through its consent page), list,
pause, auto-publish, check, disconnect, and the accounts that need the partner soon."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import flash, jsonify, redirect, request, session
from flask_smorest import Blueprint

from campaigns.vocabulary import NETWORK_LABELS
from tcma.api.pagination import keyset_envelope, window_of
from tcma.api.security import ANY_ROLE, auth_required
from tcma.errors import InvalidInput
from tcma.schemas.social import (
    CallbackArgs,
    ConnectStartArgs,
    ConnectStartSchema,
    ExpiringArgs,
    SocialAccountConnectSchema,
    SocialAccountFilterArgs,
    SocialAccountPageSchema,
    SocialAccountSchema,
    SocialAccountUpdateSchema,
)
from tcma.services.syndication import accounts, oauth

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
@blp.response(200, SocialAccountPageSchema)
def list_accounts(principal, args):
    """The accounts the caller may see (a partner user: their partner's), optionally of one partner,
    by id: a page by number, or the page after the `next` cursor of the previous one (after=)."""
    window = window_of(args)
    return keyset_envelope(accounts.account_page(principal, args.get("partner_id"), window), window)


@blp.get("/expiring")
@auth_required(*ANY_ROLE)
@blp.arguments(ExpiringArgs, location="query")
@blp.response(200, SocialAccountSchema(many=True))
def expiring_accounts(principal, args):
    """Accounts that need reconnecting, or whose consent ends within `days` (14 by default) and cannot
    be renewed by tcma: the partner must connect them again. Soonest first."""
    return accounts.expiring_accounts(principal, args["days"])


@blp.get("/connect/<network>")
@auth_required(*ANY_ROLE)
@blp.arguments(ConnectStartArgs, location="query")
@blp.response(302, ConnectStartSchema)
def start_connection(principal, args, network):
    """Start connecting a LinkedIn, X, Facebook or Mastodon account: answers 302 to the network's
    consent page (the URL is in the body too). The network sends the browser back to
    `/api/v1/social-accounts/callback/<network>`, which stores the accounts the partner granted."""
    partner_id = args.get("partner_id") or principal.partner_id
    if partner_id is None:
        raise InvalidInput("partner_id is required", {"partner_id": ["the partner the account is for"]})
    # A browser session (not an API token) must come back in the same browser.
    session_key = None if _bearer() else getattr(session, "key", None)
    url = oauth.start_connection(principal, partner_id, network, return_to=args.get("return_to"),
                                 instance_url=args.get("instance_url"), session_key=session_key)
    response = jsonify({"authorization_url": url, "expires_in": oauth.CONSENT_MINUTES * 60})
    response.status_code = 302
    response.headers["Location"] = url
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/callback/<network>")
@blp.arguments(CallbackArgs, location="query")
@blp.response(201, SocialAccountSchema(many=True))
def finish_connection(args, network):
    """Where the network sends the partner back after the consent: the accounts granted are stored.

    No sign-in is needed: the one-time `state` names who started it (and a consent started in a
    portal session must come back in the same browser). A consent started with a `return_to` path
    goes back there with a message; otherwise the accounts are answered (201) or the refusal (422).
    """
    session_key = getattr(session, "key", None)
    try:
        connected = oauth.finish_connection(network, state=args.get("state"), code=args.get("code"),
                                            error=args.get("error"),
                                            error_description=args.get("error_description"),
                                            session_key=session_key)
    except oauth.ConsentFailed as exc:
        if exc.return_to:
            flash(f"The account was not connected: {exc.message}", "error")
            return redirect(_with_query(exc.return_to, {"connect": "failed"}), 303)
        raise
    if connected.return_to:
        names = ", ".join(f"{a.display_name or a.handle}" for a in connected.accounts)
        flash(f"Connected {NETWORK_LABELS.get(network, network)}: {names}.")
        return redirect(_with_query(connected.return_to, {"connect": "done"}), 303)
    return connected.accounts


@blp.post("/<int:account_id>/check")
@auth_required(*ANY_ROLE)
@blp.response(200, SocialAccountSchema)
def check_account(principal, account_id):
    """Ask the network now whether the stored credentials still work; refused ones turn the account
    `needs_reconnect` (its scheduled posts are held until it is connected again)."""
    return accounts.check_connection(principal, account_id)


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


def _bearer() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def _with_query(path: str, values: dict[str, str]) -> str:
    return f"{path}{'&' if '?' in path else '?'}{urlencode(values)}"
