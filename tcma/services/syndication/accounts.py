"""Partners' social accounts on the networks connected without an OAuth dance.

Mastodon (a pasted access token), Bluesky (an app password) and webhooks (a URL and a signing
secret). Connecting verifies the credentials against the network before anything is stored; the
credentials are sealed with `AppState.credentials` and never leave this module.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from tcma.config import get_settings
from tcma.connectors import (
    LIVE_NETWORKS,
    Account,
    AuthExpired,
    ConnectorError,
    RateLimited,
    Rejected,
    Unsupported,
    build_connector,
)
from tcma.errors import InvalidInput, ServiceUnavailable
from tcma.extensions import db
from tcma.models import Partner, SocialAccount
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import get_scoped, scope_select
from tcma.services.transaction import commit
from tcma.state import app_state

BLUESKY_PDS = "https://bsky.social"


class _Form:
    """What one network asks for at connect time: its fields, which are secret, which hold the address."""

    def __init__(self, required: tuple[str, ...], optional: tuple[str, ...], *, secret: str,
                 address: str) -> None:
        self.required, self.optional, self.secret, self.address = required, optional, secret, address

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


FORMS = {
    "mastodon": _Form(("instance_url", "access_token"), (), secret="access_token", address="instance_url"),
    "bluesky": _Form(("handle", "app_password"), ("pds_url",), secret="app_password", address="pds_url"),
    "webhook": _Form(("url", "secret"), (), secret="secret", address="url"),
}


def _text(values: Mapping[str, Any], name: str, limit: int) -> str:
    value = values.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is required", {name: ["Missing data for required field."]})
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{name} is too long", {name: [f"at most {limit} characters"]})
    return value


def _address(name: str, value: str, public_only: bool | None = None) -> str:
    """A partner-given server address; in production https and never an internal address.

    tcma calls this address from inside the vendor's network, so a partner must not be able to
    point it at a loopback, private or link-local host (the metadata service, the database...).
    """
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{name} must be an http(s) URL", {name: ["an http or https URL"]})
    if public_only if public_only is not None else get_settings().is_production:
        if parts.scheme != "https":
            raise InvalidInput(f"{name} must be an https URL", {name: ["an https URL"]})
        if not _public_host(parts.hostname, parts.port or 443):
            raise InvalidInput(f"{name} must be a public address",
                               {name: ["not a loopback, private or link-local address"]})
    return value.rstrip("/")


def _public_host(host: str, port: int) -> bool:
    """Whether every address the host name resolves to is public (unresolvable: not public)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            return False
    return bool(infos)


def _account(network: str, values: Mapping[str, Any]) -> Account:
    """The unverified account the values describe, or InvalidInput naming the field."""
    if network not in FORMS:
        reason = (f"{network} needs an OAuth connection, which tcma does not offer yet" if network
                  in ("linkedin", "x", "facebook") else f"one of {', '.join(LIVE_NETWORKS)}")
        raise InvalidInput(f"cannot connect a {network} account", {"network": [reason]})
    form = FORMS[network]
    stray = sorted(k for k in values if k not in form.fields and values[k] is not None)
    if stray:
        raise InvalidInput(f"not {network} fields: {', '.join(stray)}",
                           {k: [f"not a {network} field"] for k in stray})
    secret = _text(values, form.secret, 2000)
    if network == "mastodon":
        base = _address("instance_url", _text(values, "instance_url", 500))
        return Account(network=network, base_url=base, handle=urlsplit(base).hostname or base,
                       credentials={"access_token": secret})
    if network == "bluesky":
        pds = values.get("pds_url") or BLUESKY_PDS
        base = _address("pds_url", _text({"pds_url": pds}, "pds_url", 500))
        handle = _text(values, "handle", 200).removeprefix("@")
        return Account(network=network, base_url=base, handle=handle, credentials={"app_password": secret})
    url = _address("url", _text(values, "url", 500))
    return Account(network=network, base_url=url, handle=urlsplit(url).hostname or url,
                   credentials={"secret": secret})


def _verify(account: Account) -> tuple[str, str]:
    """(handle, external id) as the network reports them; its refusal as InvalidInput on the field."""
    form = FORMS[account.network]
    try:
        connector = build_connector(account.network, app_state().connectors)
    except Unsupported as exc:
        raise InvalidInput(exc.reason, {"network": [exc.reason]}) from None
    try:
        return connector.verify(account)
    except (AuthExpired, Rejected) as exc:
        raise InvalidInput(f"{account.network} refused the credentials: {exc.reason}",
                           {form.secret: [f"{account.network} answered: {exc.reason}"]}) from None
    except RateLimited as exc:
        raise ServiceUnavailable(
            f"{account.network} asks to wait before connecting again: {exc.reason}") from None
    except ConnectorError as exc:  # Temporary, UnknownOutcome: the address is wrong or down
        reason = f"could not reach {account.network} there: {exc.reason}"
        raise InvalidInput(f"{account.network} could not be reached: {exc.reason}",
                           {form.address: [reason]}) from None
    finally:
        connector.close()


def connect_account(principal: Principal, partner_id: int, network: str,
                    values: Mapping[str, Any]) -> SocialAccount:
    """Verify the credentials with the network, then store the account (reconnecting the same
    account refreshes its credentials); a partner user connects only for their own partner."""
    get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
    account = _account(network, values)
    handle, external_id = _verify(account)
    external = None if network == "webhook" else str(external_id)[:200]
    row = None
    if external is not None:
        row = db.session.scalars(select(SocialAccount).where(
            SocialAccount.partner_id == partner_id, SocialAccount.network == network,
            SocialAccount.external_id == external)).first()
    elif network == "webhook":
        row = db.session.scalars(select(SocialAccount).where(
            SocialAccount.partner_id == partner_id, SocialAccount.network == network,
            SocialAccount.base_url == account.base_url)).first()
    if row is None:
        row = SocialAccount(partner_id=partner_id, network=network)
        db.session.add(row)
    row.handle = (handle or account.handle)[:200]
    row.external_id = external
    row.base_url = account.base_url
    row.credentials = app_state().credentials.seal(account.credentials)
    row.token_expires_at = None
    row.is_active = True
    commit()
    return row


def list_accounts(principal: Principal, partner_id: int | None = None) -> list[SocialAccount]:
    """The accounts the caller may see, of one partner when `partner_id` is given."""
    stmt = scope_select(select(SocialAccount), SocialAccount.partner_id, principal)
    if partner_id is not None:
        get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
        stmt = stmt.where(SocialAccount.partner_id == partner_id)
    return list(db.session.scalars(stmt.order_by(SocialAccount.id)))


def get_account(principal: Principal, account_id: int) -> SocialAccount:
    """One account; another partner's answers 404."""
    return get_scoped(SocialAccount, account_id, principal, what="social account")


def set_paused(principal: Principal, account_id: int, paused: bool) -> SocialAccount:
    """Pause (nothing is published to it) or resume an account."""
    row = get_account(principal, account_id)
    row.is_active = not paused
    commit()
    return row


def set_auto_publish(principal: Principal, account_id: int, auto_publish: bool) -> SocialAccount:
    """Whether approved posts go out to the account without a further step."""
    row = get_account(principal, account_id)
    row.auto_publish = auto_publish
    commit()
    return row


def update_account(principal: Principal, account_id: int, *, paused: bool | None = None,
                   auto_publish: bool | None = None) -> SocialAccount:
    """Change `paused` and/or `auto_publish` in one unit of work."""
    row = get_account(principal, account_id)
    if paused is not None:
        row.is_active = not paused
    if auto_publish is not None:
        row.auto_publish = auto_publish
    commit()
    return row


def disconnect(principal: Principal, account_id: int) -> None:
    """Forget the account and its credentials (its scheduled posts go with it)."""
    row = get_account(principal, account_id)
    db.session.delete(row)
    commit()
