"""The social accounts page: partners connect each network, see its state, reconnect, pause,
toggle auto-publish, test and disconnect; vendor users see every partner's accounts.

Two ways in: credentials pasted into a form (Mastodon access token, Bluesky app password,
webhook URL and secret), checked by the network before anything is stored, or the network's
consent page (LinkedIn, X, Facebook, Mastodon), whose callback (the API's) flashes the outcome
and sends the browser back here. Vendor users may pause, resume and disconnect an account; the
rest is the partner's to decide. Nothing secret is ever rendered, not even a refused one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import abort, flash, redirect, request, session, url_for

from campaigns.vocabulary import NETWORK_LABELS as NETWORK_NAMES
from tcma.errors import DomainError
from tcma.services.accounts.auth import Principal
from tcma.services.partners.partners import get_partner, list_partners
from tcma.services.syndication import accounts as social
from tcma.services.syndication.oauth import offered_networks, start_connection
from tcma.services.transaction import rollback
from tcma.web.portal import PARTNER, VENDOR, page, page_required, portal_blueprint

bp = portal_blueprint("portal_social", __name__, url_prefix="/portal/social-accounts")
EVERYONE = (*PARTNER, *VENDOR)
PARTNER_CHOICES = 500  # the vendor's partner filter lists this many partners, by id
# What each pasted-credentials form sends: the secret (never shown again) and the other fields.
PASTED = {"mastodon": ("access_token", ("instance_url",)),
          "bluesky": ("app_password", ("handle", "pds_url")),
          "webhook": ("secret", ("url",))}
CONSENT = ("linkedin", "x", "facebook", "mastodon")


def network_name(network: str) -> str:
    """A network's name as people write it."""
    return NETWORK_NAMES.get(network, network)


def account_name(account: Any) -> str:
    """How an account is named in buttons and messages: "Mastodon @acme@mastodon.social"."""
    return f"{network_name(account.network)} {account.handle}"


def say(text: str) -> str:
    """A service message as a sentence, the network it starts with written as people write it
    ("mastodon answered: mastodon answered 401: ..." says it once)."""
    text = re.sub(r"^(\w+) answered: \1 answered\b", r"\1 answered", text)
    first, _, rest = text.partition(" ")
    if first in NETWORK_NAMES:
        return f"{NETWORK_NAMES[first]} {rest}".rstrip()
    return text[:1].upper() + text[1:]


def _form_key(kind: str, network: str) -> str:
    """Which form on the page was sent: its kind, network and account ("new" for a new one)."""
    target = request.form.get("account", "")
    return f"{kind}-{network}-{target if target.isdigit() else 'new'}"


def _failed(key: str, exc: DomainError, fields: tuple[str, ...], values: dict[str, str]) -> dict[str, Any]:
    """A refused form: messages beside the fields they name, the others above it, the values kept
    (never a secret: those fields are not in `values`)."""
    by_field: dict[str, str] = {}
    other: list[str] = []
    for name, messages in exc.errors.items():
        text = "; ".join(messages) if isinstance(messages, list) else str(messages)
        if name in fields:
            by_field[name] = say(text)
        else:
            other.append(say(text))
    if not exc.errors:
        other.append(say(exc.message))
    return {"key": key, "errors": by_field, "messages": other, "kept": values}


def _back(account_id: int | None = None) -> str:
    """This page again, with the vendor's partner filter the form came from, at the account."""
    partner = request.form.get("partner", "")
    return url_for("portal_social.accounts", partner=int(partner) if partner.isdigit() else None,
                   _anchor=f"account-{account_id}" if account_id else None)


def _page(principal: Principal, status: int = 200, failed: dict[str, Any] | None = None):
    """The page: the caller's accounts (a vendor's grouped by partner), the connect forms, the
    accounts that need reconnecting soon; `failed` is a refused form shown with its errors."""
    now = datetime.now(UTC)
    soon = now + timedelta(days=social.EXPIRY_REPORT_DAYS)
    expiring = social.expiring_accounts(principal)
    context: dict[str, Any] = {"failed": failed, "now": now, "soon": soon,
                               "days": social.EXPIRY_REPORT_DAYS, "network_name": network_name,
                               "account_name": account_name}
    if principal.is_partner:
        rows = social.list_accounts(principal)
        return page("portal/social_accounts.html", status, rows=rows, expiring=expiring,
                    partner=get_partner(principal, principal.partner_id), offered=offered_networks(),
                    **context)
    partners = list_partners(principal, {}, 1, PARTNER_CHOICES)[0]
    chosen = request.args.get("partner", type=int)
    if chosen is not None and chosen not in {p.id for p in partners}:
        chosen = None  # an unknown filter shows everyone rather than a misleading empty page
    rows = social.list_accounts(principal, chosen)
    if chosen is not None:
        expiring = [row for row in expiring if row.partner_id == chosen]
    groups: dict[int, tuple[Any, list[Any]]] = {}
    for row in rows:
        groups.setdefault(row.partner_id, (row.partner, []))[1].append(row)
    ordered = sorted(groups.values(), key=lambda group: (group[0].name.lower(), group[0].id))
    return page("portal/social_accounts.html", status, rows=rows, groups=ordered, expiring=expiring,
                partners=partners, chosen=chosen, **context)


@bp.get("")
@page_required(*EVERYONE)
def accounts(principal: Principal):
    """A partner's accounts and the ways to connect more; a vendor user's view of every partner's."""
    return _page(principal)


@bp.post("/connect/<network>")
@page_required(*PARTNER)
def connect(principal: Principal, network: str):
    """Connect (or reconnect) an account with pasted credentials, checked with the network first."""
    if network not in PASTED:
        abort(404)
    secret, others = PASTED[network]
    values = {name: request.form.get(name, "").strip() for name in others}
    sent = {name: value for name, value in values.items() if value}
    sent[secret] = request.form.get(secret, "")
    key = _form_key("paste", network)
    try:
        account = social.connect_account(principal, principal.partner_id, network, sent)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        rollback()
        return _page(principal, 422 if exc.status < 500 else exc.status,
                     _failed(key, exc, (secret, *others), values))
    flash(f"Connected {account_name(account)}.")
    return redirect(_back(account.id))


@bp.post("/consent/<network>")
@page_required(*PARTNER)
def consent(principal: Principal, network: str):
    """Start connecting through the network's consent page: the browser goes there, and comes
    back here through the API's callback with a message."""
    if network not in CONSENT:
        abort(404)
    instance_url = request.form.get("instance_url", "").strip() if network == "mastodon" else ""
    key = _form_key("consent", network)
    if not offered_networks().get(network):  # the button was disabled; say why without the settings' names
        why = DomainError(f"{network_name(network)} is not available yet: the vendor has not set up "
                          f"tcma's {network_name(network)} app.")
        return _page(principal, 422, _failed(key, why, (), {}))
    try:
        url = start_connection(principal, principal.partner_id, network,
                               return_to=url_for("portal_social.accounts"),
                               instance_url=instance_url or None, session_key=session.key)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        rollback()
        return _page(principal, 422 if exc.status < 500 else exc.status,
                     _failed(key, exc, ("instance_url",), {"instance_url": instance_url}))
    return redirect(url)


@bp.post("/<int:account_id>/pause")
@page_required(*EVERYONE)
def pause(principal: Principal, account_id: int):
    """Pause an account: nothing is published to it until it is resumed."""
    account = social.update_account(principal, account_id, paused=True)
    flash(f"{account_name(account)} is paused: nothing is published to it until it is resumed.")
    return redirect(_back(account.id))


@bp.post("/<int:account_id>/resume")
@page_required(*EVERYONE)
def resume(principal: Principal, account_id: int):
    """Resume a paused account."""
    account = social.update_account(principal, account_id, paused=False)
    flash(f"{account_name(account)} is active again.")
    return redirect(_back(account.id))


@bp.post("/<int:account_id>/auto-publish")
@page_required(*PARTNER)
def auto_publish(principal: Principal, account_id: int):
    """Turn auto-publishing on (approved posts go out without a further step) or off."""
    choice = request.form.get("auto_publish")
    if choice not in ("on", "off"):
        abort(400, description="Choose whether to turn auto-publishing on or off.")
    account = social.update_account(principal, account_id, auto_publish=choice == "on")
    flash(f"Auto-publish is {choice} for {account_name(account)}."
          + (" Approved posts go out without a further step." if choice == "on" else ""))
    return redirect(_back(account.id))


@bp.post("/<int:account_id>/test")
@page_required(*PARTNER)
def check(principal: Principal, account_id: int):
    """Ask the network now whether the stored credentials still work."""
    try:
        account = social.check_connection(principal, account_id)
    except DomainError as exc:
        if exc.status < 500:
            raise
        rollback()
        flash(f"{say(exc.message)}. Nothing was changed; try again later.")
        return redirect(_back(account_id))
    if account.state == "needs_reconnect":
        flash(f"{account_name(account)} needs connecting again: {say(account.reconnect_reason or '')}")
    else:
        flash(f"{account_name(account)} works: {network_name(account.network)} accepted its credentials.")
    return redirect(_back(account.id))


@bp.post("/<int:account_id>/disconnect")
@page_required(*EVERYONE)
def disconnect(principal: Principal, account_id: int):
    """Disconnect an account: its credentials and scheduled posts are deleted."""
    name = account_name(social.get_account(principal, account_id))
    social.disconnect(principal, account_id)
    flash(f"Disconnected {name}: tcma no longer holds its credentials.")
    return redirect(_back())
