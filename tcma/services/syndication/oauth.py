"""Connecting accounts through the networks' consent pages (LinkedIn, X, Facebook, Mastodon).

`start_connection` records a consent under way (only a hash of its `state`; the PKCE verifier or
the Mastodon app it registered sealed like credentials) and answers the network's consent URL.
The network sends the partner's browser back to `callback_url(network)`; `finish_connection`
checks the state (unknown, used, expired, or from another browser: refused), exchanges the code
and stores one account per grant (Facebook: one per Page; LinkedIn: the member and the
organization pages they administer). Connecting an account again refreshes its credentials and
releases the posts held while it needed reconnecting.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select

from tcma.config import get_settings
from tcma.connectors import ConnectorError, Rejected, Unsupported
from tcma.connectors.oauth import OAUTH_NETWORKS, Grant, build_oauth_flow
from tcma.errors import InvalidInput, ServiceUnavailable
from tcma.extensions import db
from tcma.models import OAuthConnection, Partner, SocialAccount
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import get_scoped
from tcma.services.syndication.accounts import public_address, release_held_posts
from tcma.services.transaction import commit, rollback
from tcma.state import app_state

CONSENT_MINUTES = 10
STATE_UNKNOWN = ("this connection link is unknown, already used or expired: start connecting "
                 "the account again")
OTHER_BROWSER = "this connection was started in another browser: start connecting the account again there"
log = logging.getLogger(__name__)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def callback_url(network: str) -> str:
    """Where the network sends the partner back; register it with the vendor's app on the network."""
    return f"{get_settings().public_url}/api/v1/social-accounts/callback/{network}"


def offered_networks() -> dict[str, bool]:
    """Each network connected through a consent page, and whether the vendor has set up its app.

    Mastodon needs no vendor app: tcma registers itself on each partner's instance.
    """
    settings = app_state().connectors
    offered = {}
    for network in OAUTH_NETWORKS:
        flow = build_oauth_flow(network, settings)
        try:
            offered[network] = flow.configured()
        finally:
            flow.close()
    return offered


def _return_path(value: str | None) -> str | None:
    """A path on this site to send the browser back to (never another site: no open redirect)."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        raise InvalidInput("return_to must be a path on this site",
                           {"return_to": ["a path starting with / on this site"]})
    if len(value) > 500:
        raise InvalidInput("return_to is too long", {"return_to": ["at most 500 characters"]})
    return value


def start_connection(principal: Principal, partner_id: int, network: str, *, return_to: str | None = None,
                     instance_url: str | None = None, session_key: str | None = None) -> str:
    """Record a consent under way for `partner_id` and answer the network's consent page URL.

    `session_key`: the portal session starting it, when a browser session (not an API token) asks;
    the callback must then come back with the same session.
    """
    get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
    if network not in OAUTH_NETWORKS:
        raise InvalidInput(f"{network} accounts are not connected through a consent page",
                           {"network": [f"one of {', '.join(OAUTH_NETWORKS)}"]})
    return_to = _return_path(return_to)
    if network == "mastodon":
        if not instance_url:
            raise InvalidInput("instance_url is required to connect a Mastodon account",
                               {"instance_url": ["the partner's Mastodon server, e.g. https://mastodon.social"]})
        instance_url = public_address("instance_url", instance_url.strip())
    elif instance_url:
        raise InvalidInput(f"instance_url is for Mastodon, not {network}",
                           {"instance_url": [f"not a {network} field"]})
    state = secrets.token_urlsafe(32)
    flow = build_oauth_flow(network, app_state().connectors)
    try:
        authorization = flow.authorization_url(callback_url(network), state, instance_url=instance_url)
    except Unsupported as exc:
        raise InvalidInput(f"{network} cannot be connected yet: {exc.reason}",
                           {"network": [exc.reason]}) from None
    except Rejected as exc:
        raise InvalidInput(f"{network} refused to register tcma: {exc.reason}",
                           {"instance_url": [exc.reason]}) from None
    except ConnectorError as exc:
        raise InvalidInput(f"{network} could not be reached: {exc.reason}",
                           {"instance_url" if network == "mastodon" else "network": [exc.reason]}) from None
    finally:
        flow.close()
    now = utcnow()
    db.session.execute(delete(OAuthConnection).where(OAuthConnection.expires_at < now))
    db.session.add(OAuthConnection(
        state_hash=_hash(state), network=network, partner_id=partner_id, user_id=principal.user_id,
        session_hash=_hash(session_key) if session_key else None,
        keep=app_state().credentials.seal(dict(authorization.keep)), return_to=return_to,
        created_at=now, expires_at=now + timedelta(minutes=CONSENT_MINUTES)))
    commit()
    return authorization.url


class ConsentFailed(InvalidInput):
    """The consent did not connect anything; `return_to` says where the browser was headed."""

    def __init__(self, message: str, errors: Mapping[str, list[str]], return_to: str | None = None) -> None:
        super().__init__(message, dict(errors))
        self.return_to = return_to


@dataclass
class Connected:
    """What a finished consent connected, and where to send the browser."""

    partner_id: int
    accounts: list[SocialAccount] = field(default_factory=list)
    return_to: str | None = None


def _claim(network: str, state: str | None, session_key: str | None) -> OAuthConnection:
    """The consent under way this state names, deleted so it is used once; or ConsentFailed."""
    if not state:
        raise ConsentFailed("the network sent no state back", {"state": [STATE_UNKNOWN]})
    row = db.session.scalars(select(OAuthConnection).where(
        OAuthConnection.state_hash == _hash(state)).with_for_update()).first()
    if row is None or row.network != network or row.expires_at <= utcnow():
        raise ConsentFailed("this connection link is unknown, already used or expired",
                            {"state": [STATE_UNKNOWN]})
    if row.session_hash is not None and (not session_key or _hash(session_key) != row.session_hash):
        raise ConsentFailed("this connection was started in another browser", {"state": [OTHER_BROWSER]},
                            row.return_to)
    db.session.delete(row)
    return row


def finish_connection(network: str, *, state: str | None, code: str | None = None, error: str | None = None,
                      error_description: str | None = None, session_key: str | None = None) -> Connected:
    """Exchange the network's code for the accounts the partner granted, and store them."""
    pending = _claim(network, state, session_key)
    return_to = pending.return_to
    if error or not code:
        commit()  # the consent is spent either way
        said = error_description or error or "no code"
        raise ConsentFailed(f"{network} did not connect the account: {said[:200]}",
                            {"code": [f"{network} answered: {said[:200]}"]}, return_to)
    keep = app_state().credentials.open(pending.keep) if pending.keep else {}
    flow = build_oauth_flow(network, app_state().connectors)
    try:
        grants = flow.complete(code, callback_url(network), keep)
    except Rejected as exc:
        commit()
        raise ConsentFailed(f"{network} refused the connection: {exc.reason}",
                            {"code": [f"{network} answered: {exc.reason}"]}, return_to) from None
    except ConnectorError as exc:
        rollback()  # keep the consent: the partner may come back once the network answers
        raise ServiceUnavailable(
            f"{network} could not be reached to finish connecting: {exc.reason}") from None
    finally:
        flow.close()
    if not grants:
        commit()
        raise ConsentFailed(f"{network} granted no account to publish to",
                            {"code": [f"choose at least one account or page on {network}"]}, return_to)
    connected = Connected(partner_id=pending.partner_id, return_to=return_to)
    for grant in grants:
        connected.accounts.append(store_grant(pending.partner_id, network, grant, pending.user_id))
    commit()
    log.info("connected %d %s account(s) for partner %s", len(grants), network, pending.partner_id)
    return connected


def store_grant(partner_id: int, network: str, grant: Grant, user_id: int | None) -> SocialAccount:
    """Insert or refresh the partner's account the grant names (same network and external id)."""
    external = str(grant.external_id)[:200]
    row = db.session.scalars(select(SocialAccount).where(
        SocialAccount.partner_id == partner_id, SocialAccount.network == network,
        SocialAccount.external_id == external)).first()
    if row is None:
        row = SocialAccount(partner_id=partner_id, network=network, external_id=external)
        db.session.add(row)
    row.handle = (grant.handle or external)[:200]
    row.display_name = (grant.display_name or None) and grant.display_name[:200]
    row.base_url = grant.base_url
    row.connected_by_id = user_id
    apply_grant(row, grant)
    return row


def apply_grant(row: SocialAccount, grant: Grant) -> None:
    """New credentials on an account: sealed, expiry noted, a needed reconnect cleared, posts released."""
    row.credentials = app_state().credentials.seal(dict(grant.credentials))
    row.token_expires_at = grant.expires_at
    row.reconnect_by = reconnect_by(grant)
    if row.needs_reconnect_since is not None:
        row.needs_reconnect_since = None
        row.reconnect_reason = None
        if row.id is not None:
            release_held_posts(row.id)


def reconnect_by(grant: Grant) -> datetime | None:
    """When the partner must consent again: the access token's end when it cannot be refreshed; None
    when a refresh token keeps it alive (no network here gives its end) or it never ends."""
    return None if grant.credentials.get("refresh_token") else grant.expires_at
