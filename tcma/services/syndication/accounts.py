"""Partners' social accounts: connecting with pasted credentials, and each account's life after.

Mastodon (a pasted access token), Bluesky (an app password) and webhooks (a URL and a signing
secret) connect here; the consent-page networks connect in `oauth`. Connecting verifies the
credentials against the network before anything is stored; credentials are sealed with
`AppState.credentials` and opened only into a connector's `Account`. An account whose
credentials stop working for good turns `needs_reconnect`: its scheduled posts are held (not
failed) until the partner connects it again.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Row, case, or_, select, update

from tcma.config import get_settings
from tcma.connectors import (
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
from tcma.models import Partner, ScheduledPost, SocialAccount
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.paging import Page, Window, count_of, count_rows, read_window
from tcma.services.scoping import get_scoped, scope_select
from tcma.services.tracking.summaries import refresh_posted_template_use
from tcma.services.transaction import commit
from tcma.state import app_state

BLUESKY_PDS = "https://bsky.social"
EXPIRY_REPORT_DAYS = 14
log = logging.getLogger(__name__)


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


def public_address(name: str, value: str, public_only: bool | None = None) -> str:
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
        reason = (f"{network} accounts connect through their consent page: "
                  f"GET /api/v1/social-accounts/connect/{network}" if network in ("linkedin", "x", "facebook")
                  else f"one of {', '.join(FORMS)}")
        raise InvalidInput(f"cannot connect a {network} account", {"network": [reason]})
    form = FORMS[network]
    stray = sorted(k for k in values if k not in form.fields and values[k] is not None)
    if stray:
        raise InvalidInput(f"not {network} fields: {', '.join(stray)}",
                           {k: [f"not a {network} field"] for k in stray})
    secret = _text(values, form.secret, 2000)
    if network == "mastodon":
        base = public_address("instance_url", _text(values, "instance_url", 500))
        return Account(network=network, base_url=base, handle=urlsplit(base).hostname or base,
                       credentials={"access_token": secret})
    if network == "bluesky":
        pds = values.get("pds_url") or BLUESKY_PDS
        base = public_address("pds_url", _text({"pds_url": pds}, "pds_url", 500))
        handle = _text(values, "handle", 200).removeprefix("@")
        return Account(network=network, base_url=base, handle=handle, credentials={"app_password": secret})
    url = public_address("url", _text(values, "url", 500))
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
                           {form.secret: [_said(account.network, exc.reason)]}) from None
    except RateLimited as exc:
        raise ServiceUnavailable(
            f"{account.network} asks to wait before connecting again: {exc.reason}") from None
    except ConnectorError as exc:  # Temporary, UnknownOutcome: the address is wrong or down
        reason = f"could not reach {account.network} there: {exc.reason}"
        raise InvalidInput(f"{account.network} could not be reached: {exc.reason}",
                           {form.address: [reason]}) from None
    finally:
        connector.close()


def _said(network: str, reason: str) -> str:
    """The network's answer as a field error, naming the network once."""
    return reason if reason.startswith(f"{network} ") else f"{network} answered: {reason}"


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
    row.reconnect_by = None
    row.is_active = True
    row.connected_by_id = principal.user_id
    if row.needs_reconnect_since is not None:
        row.needs_reconnect_since = row.reconnect_reason = None
        if row.id is not None:
            release_held_posts(row.id)
    commit()
    return row


def opened(row: SocialAccount | Row[Any]) -> Account:
    """The connector's view of a stored account (or a row with its columns), its credentials opened."""
    credentials = app_state().credentials.open(row.credentials) if row.credentials else {}
    return Account(network=row.network, base_url=row.base_url or "", handle=row.handle,
                   external_id=row.external_id, credentials=credentials)


# Why a post is held, as its error says: only these are released by a reconnect or a resume. A post
# held because the network could not say whether it went out waits for a person, whatever happens.
HELD_FOR_RECONNECT = "held until the account is connected again"
HELD_AUTH = "the account needs connecting again"
HELD_PAUSED = "the account is paused"


def release_held_posts(account_id: int) -> int:
    """Posts held for the account's sake (reconnect, pause) go back to the schedule, approved ones
    to approved; posts held for a person (an unknown outcome) stay held."""
    result = db.session.execute(update(ScheduledPost).where(
        ScheduledPost.social_account_id == account_id, ScheduledPost.status == "held",
        or_(ScheduledPost.error.startswith(HELD_FOR_RECONNECT), ScheduledPost.error.startswith(HELD_AUTH),
            ScheduledPost.error == HELD_PAUSED),
    ).values(status=case((ScheduledPost.approved_at.is_not(None), "approved"), else_="scheduled"),
             next_attempt_at=None, error=None))
    return result.rowcount or 0


def mark_needs_reconnect(row: SocialAccount, reason: str) -> int:
    """The credentials stopped working for good: flag the account and hold its scheduled posts.

    Answers how many posts were held; the caller commits. Nothing is failed: the posts go out
    once the partner connects the account again (if their time has not passed by too far).
    """
    if row.needs_reconnect_since is None:
        row.needs_reconnect_since = utcnow()
    row.reconnect_reason = reason[:500]
    result = db.session.execute(update(ScheduledPost).where(
        ScheduledPost.social_account_id == row.id, ScheduledPost.status.in_(("scheduled", "approved")),
    ).values(status="held", error=f"{HELD_FOR_RECONNECT}: {reason[:300]}"))
    log.warning("%s account %s needs reconnecting: %s", row.network, row.id, reason)
    return result.rowcount or 0


def check_connection(principal: Principal, account_id: int) -> SocialAccount:
    """Ask the network now whether the stored credentials still work (a "test connection").

    Credentials refused for good turn the account `needs_reconnect`; working ones clear it.
    """
    row = get_account(principal, account_id)
    connector = build_connector(row.network, app_state().connectors)
    try:
        connector.verify(opened(row))
    except (AuthExpired, Rejected) as exc:
        mark_needs_reconnect(row, f"{row.network} refused the credentials: {exc.reason}")
    except ConnectorError as exc:
        raise ServiceUnavailable(f"{row.network} could not be reached to check the account: "
                                 f"{exc.reason}") from None
    else:
        if row.needs_reconnect_since is not None and not _expired(row):
            row.needs_reconnect_since = row.reconnect_reason = None
            release_held_posts(row.id)
    finally:
        connector.close()
    commit()
    return row


def _expired(row: SocialAccount) -> bool:
    return row.token_expires_at is not None and row.token_expires_at <= utcnow()


def expiring_accounts(principal: Principal, days: int = EXPIRY_REPORT_DAYS) -> list[SocialAccount]:
    """Accounts the partner must connect again within `days` (their consent ends and tcma cannot
    renew it), and those that already need reconnecting; soonest first."""
    horizon = utcnow() + timedelta(days=days)
    stmt = scope_select(select(SocialAccount), SocialAccount.partner_id, principal).where(
        (SocialAccount.reconnect_by <= horizon) | SocialAccount.needs_reconnect_since.is_not(None))
    rows = list(db.session.scalars(stmt))
    return sorted(rows, key=lambda r: (r.needs_reconnect_since is None, r.reconnect_by or horizon, r.id))


def list_accounts(principal: Principal, partner_id: int | None = None) -> list[SocialAccount]:
    """The accounts the caller may see, of one partner when `partner_id` is given."""
    return list(db.session.scalars(_accounts_of(principal, partner_id).order_by(SocialAccount.id)))


def account_page(principal: Principal, partner_id: int | None, window: Window) -> Page[SocialAccount]:
    """One page of the accounts the caller may see (of one partner when `partner_id` is given), by id."""
    stmt = _accounts_of(principal, partner_id)
    counted = scope_select(count_of(SocialAccount), SocialAccount.partner_id, principal)
    if partner_id is not None:
        counted = counted.where(SocialAccount.partner_id == partner_id)
    total = count_rows(counted, SocialAccount.__tablename__, principal.is_partner or partner_id is not None)
    rows, more = read_window(stmt, [SocialAccount.id], window)
    accounts = [row[0] for row in rows]
    return Page(accounts, total[0], (accounts[-1].id,) if more else None, total[1])


def _accounts_of(principal: Principal, partner_id: int | None) -> Any:
    stmt = scope_select(select(SocialAccount), SocialAccount.partner_id, principal)
    if partner_id is not None:
        get_scoped(Partner, partner_id, principal, partner_attr="id", what="partner")
        stmt = stmt.where(SocialAccount.partner_id == partner_id)
    return stmt


def get_account(principal: Principal, account_id: int) -> SocialAccount:
    """One account; another partner's answers 404."""
    return get_scoped(SocialAccount, account_id, principal, what="social account")


def get_accounts(principal: Principal, account_ids: set[int]) -> dict[int, SocialAccount]:
    """Many accounts by id in one query (a partner user: only its own); missing ids are left out."""
    if not account_ids:
        return {}
    stmt = scope_select(select(SocialAccount).where(SocialAccount.id.in_(sorted(account_ids))),
                        SocialAccount.partner_id, principal)
    return {account.id: account for account in db.session.scalars(stmt)}


def update_account(principal: Principal, account_id: int, *, paused: bool | None = None,
                   auto_publish: bool | None = None) -> SocialAccount:
    """Change `paused` and/or `auto_publish` in one unit of work."""
    row = get_account(principal, account_id)
    if paused is not None:
        if not paused and not row.is_active:
            release_held_posts(row.id)
        row.is_active = not paused
    if auto_publish is not None:
        row.auto_publish = auto_publish
    commit()
    return row


def disconnect(principal: Principal, account_id: int) -> None:
    """Revoke tcma's access where the network allows, then forget the account and its credentials
    (its scheduled posts go with it). A network that cannot be reached does not stop it.

    One consent may have connected several accounts (a LinkedIn member and their pages share a
    token; Facebook revokes per person, not per Page): the revoke waits for the last of them.
    """
    from tcma.connectors.oauth import OAUTH_NETWORKS, build_oauth_flow

    row = get_account(principal, account_id)
    if row.network in OAUTH_NETWORKS and row.credentials and row.needs_reconnect_since is None:
        account = opened(row)
        if not _consent_shared(row, account):
            flow = build_oauth_flow(row.network, app_state().connectors)
            try:
                flow.revoke(account)
            except Unsupported:
                pass
            except ConnectorError as exc:
                log.warning("%s account %s: revoking at the network failed (%s); disconnected anyway",
                            row.network, row.id, exc.reason)
            finally:
                flow.close()
    partner_id = row.partner_id
    db.session.delete(row)
    db.session.flush()  # its posts are gone: its partner's adoption is counted without them
    refresh_posted_template_use(db.session.connection(), [partner_id])
    commit()


def _consent_shared(row: SocialAccount, account: Account) -> bool:
    """Whether another account of the partner came from the same consent (same person or token)."""
    identity = account.credentials.get("user_id") or account.credentials.get("access_token")
    others = db.session.scalars(select(SocialAccount).where(
        SocialAccount.partner_id == row.partner_id, SocialAccount.network == row.network,
        SocialAccount.id != row.id, SocialAccount.needs_reconnect_since.is_(None)))
    for other in others:
        credentials = opened(other).credentials
        if identity and identity in (credentials.get("user_id"), credentials.get("access_token")):
            return True
    return False
