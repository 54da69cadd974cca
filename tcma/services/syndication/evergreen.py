"""Evergreen posts: post texts of the template library that a partner picks and schedules themselves.

Every template of the partner's library (their tier may use it, as everywhere in the library) with
`post:<network>` outputs is an evergreen post. The partner sees each network's exact text rendered
for them (their saved values for the template's fields, and a tracked link for (partner, network):
no campaign, channel = the network, so clicks are theirs), may change the editable fields, picks
one or more of their connected active accounts and a wall-clock time in their own zone, or "as soon
as possible". Each account gets one ScheduledPost with no plan and no campaign, carrying the library
version it came from and the values it renders with; the partner scheduling it is their approval, so
it is `approved` and the scheduler publishes it like any other. The frequency caps apply, and a time
that has passed is refused; nothing is made when anything is refused.

A template that also renders an image (png or jpg) shows it rendered for the partner with the same
values; the posts carry it unless the partner leaves it out. Its links are the partner's, on no
campaign and no asset, like the texts', so the preview and what goes out are the same render.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from campaigns.vocabulary import NETWORK_LABELS, NETWORKS, POST_PREFIX, post_output
from renderers import POST_LIMITS, post_length
from tcma.config import get_settings
from tcma.connectors import idempotency_key
from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Asset, Customization, Partner, Render, ScheduledPost, SocialAccount, TemplateVersion
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.library import library_version, partner_library
from tcma.services.catalogue.templates import template_for_version
from tcma.services.launch.renders import insert_renders, render_ids, resolve_for, store_render
from tcma.services.syndication.accounts import get_account, list_accounts
from tcma.services.syndication.plans import cap_reason
from tcma.services.syndication.post_fields import FieldView, PostSource, field_views, rendered_text, validated
from tcma.services.syndication.posts import resolve_wall
from tcma.services.transaction import commit
from tcma.storage import get_storage

MAX_ACCOUNTS = 20
IMAGE_OUTPUTS = ("png", "jpg")
CHOOSE_ACCOUNTS = "choose one or more of your connected accounts"


@dataclass(frozen=True)
class EvergreenPost:
    """A library post a partner may schedule: which template, the networks it has a text for, and
    its editable fields with the partner's values."""

    slug: str
    name: str
    description: str
    version: int
    networks: list[str]
    fields: list[FieldView]


@dataclass(frozen=True)
class NetworkText:
    """One network's text exactly as it goes out for the partner, or why that network cannot take it."""

    network: str
    text: str | None
    length: int | None
    limit: int
    error: str | None


@dataclass(frozen=True)
class EvergreenPreview:
    """An evergreen post rendered for the partner, and the accounts it may go out from."""

    post: EvergreenPost
    texts: list[NetworkText]
    accounts: list[SocialAccount]
    time_zone: str
    image_url: str | None = None  # the image the posts carry (signed, expiring), if the template has one


def _networks(outputs: tuple[str, ...]) -> list[str]:
    posted = {output.removeprefix(POST_PREFIX) for output in outputs if output.startswith(POST_PREFIX)}
    return [network for network in NETWORKS if network in posted]


def _saved_values(partner: Partner, version: TemplateVersion) -> dict[str, Any]:
    """The partner's saved values for the template (the library's customization), if any."""
    custom = db.session.scalar(select(Customization).where(
        Customization.partner_id == partner.id, Customization.template_version_id == version.id))
    return dict(custom.fields) if custom else {}


def _entry(partner: Partner, slug: str, version: TemplateVersion, values: Mapping[str, Any]) -> EvergreenPost:
    tpl = template_for_version(version)
    return EvergreenPost(slug=slug, name=tpl.name, description=tpl.description, version=version.version,
                         networks=_networks(tpl.outputs),
                         fields=field_views(tpl, partner, None, dict(values)))


def list_evergreen(principal: Principal) -> list[EvergreenPost]:
    """The evergreen posts of the caller's library (partner users), by template."""
    library = partner_library(principal)
    partner = db.session.get(Partner, principal.partner_id)
    return [_entry(partner, template.slug, version, _saved_values(partner, version))
            for template, version in library if _networks(template_for_version(version).outputs)]


def _evergreen_version(principal: Principal, slug: str) -> tuple[Partner, TemplateVersion]:
    """The partner and the latest version of a library template with post texts, else 404."""
    partner, version = library_version(principal, slug)
    if not _networks(template_for_version(version).outputs):
        raise NotFoundError(f"evergreen post {slug!r} not found")  # a template without post texts
    return partner, version


def _values(partner: Partner, version: TemplateVersion, fields: Mapping[str, Any] | None) -> dict[str, str]:
    """The partner's saved values overridden by `fields`, checked against the fields' limits."""
    return validated(template_for_version(version), {**_saved_values(partner, version), **(fields or {})})


def _text_for(partner: Partner, version: TemplateVersion, network: str, values: dict[str, str]) -> str:
    return rendered_text(partner, PostSource(version, post_output(network), None, {}, None, None), values)


def _image_output(version: TemplateVersion) -> str | None:
    outputs = template_for_version(version).outputs
    return next((output for output in IMAGE_OUTPUTS if output in outputs), None)


def _image_render(partner: Partner, version: TemplateVersion, output: str, values: dict[str, str]) -> Render:
    """The partner's image of the template with `values`, rendered once (content-addressed)."""
    request = resolve_for(partner, version, output, None, values, None, None)
    stored = render_ids([request.key])
    if request.key not in stored:
        stored = insert_renders([store_render(request)])
    render = db.session.get(Render, stored[request.key])
    assert render is not None
    return render


def preview_evergreen(principal: Principal, slug: str, fields: Mapping[str, Any] | None = None
                      ) -> EvergreenPreview:
    """Each network's text rendered for the partner with their values (and `fields`), and the
    accounts it may go out from. Commits the tracked links the texts carry, so they work."""
    partner, version = _evergreen_version(principal, slug)
    values = _values(partner, version, fields)
    entry = _entry(partner, slug, version, values)
    texts = []
    for network in entry.networks:
        try:
            text = _text_for(partner, version, network, values)
            texts.append(NetworkText(network, text, post_length(network, text), POST_LIMITS[network], None))
        except InvalidInput as exc:
            texts.append(NetworkText(network, None, None, POST_LIMITS[network], exc.message))
    accounts = [account for account in list_accounts(principal)
                if account.network in entry.networks and account.state == "active"]
    output = _image_output(version)
    image_url = None
    if output is not None:
        render = _image_render(partner, version, output, values)
        image_url = get_storage().signed_url(render.storage_key, get_settings().signed_url_ttl)
    commit()
    return EvergreenPreview(entry, texts, accounts, partner.time_zone or "UTC", image_url)


def _accounts(principal: Principal, account_ids: list[int], networks: list[str]) -> list[SocialAccount]:
    """The chosen accounts (another partner's: 404), each active and on a network the post has."""
    if not account_ids:
        raise InvalidInput(CHOOSE_ACCOUNTS, {"account_ids": [CHOOSE_ACCOUNTS]})
    if len(set(account_ids)) > MAX_ACCOUNTS:
        message = f"choose at most {MAX_ACCOUNTS} accounts at once"
        raise InvalidInput(message, {"account_ids": [message]})
    accounts = [get_account(principal, account_id) for account_id in dict.fromkeys(account_ids)]
    for account in accounts:
        label = f"{NETWORK_LABELS[account.network]} account {account.handle}"
        if account.network not in networks:
            message = (f"this post has no text for {NETWORK_LABELS[account.network]}: choose an account on "
                       f"{', '.join(NETWORK_LABELS[n] for n in networks)}")
            raise InvalidInput(message, {"account_ids": [message]})
        if account.state == "needs_reconnect":
            message = f"the {label} needs connecting again: reconnect it first"
            raise InvalidInput(message, {"account_ids": [message]})
        if account.state == "paused":
            message = f"the {label} is paused: resume it first"
            raise InvalidInput(message, {"account_ids": [message]})
    return accounts


def schedule_evergreen(principal: Principal, slug: str, account_ids: list[int], local_at: datetime | None,
                       fields: Mapping[str, Any] | None = None, *,
                       with_image: bool = True) -> list[ScheduledPost]:
    """Schedule the evergreen post on the chosen accounts at `local_at` on the partner's wall clock
    (None: as soon as possible): one approved post per account, published by the scheduler; with the
    template's image unless `with_image` is False."""
    partner, version = _evergreen_version(principal, slug)
    networks = _networks(template_for_version(version).outputs)
    accounts = _accounts(principal, account_ids, networks)
    values = _values(partner, version, fields)
    zone = partner.time_zone or "UTC"
    now = utcnow()
    due, wall = resolve_wall(local_at, zone) if local_at is not None else (now, None)
    texts = {network: _text_for(partner, version, network, values)
             for network in dict.fromkeys(account.network for account in accounts)}
    for account in accounts:
        capped = cap_reason(account.id, due, zone)
        if capped is not None:
            message = f"the {account.network} account {account.handle} would post too often: {capped}"
            raise ConflictError(message, {"account_ids": [message]})
    image_id = _image_asset(partner, version, values) if with_image else None
    pick = uuid.uuid4().hex
    posts = [ScheduledPost(
        social_account_id=account.id, partner_id=partner.id, campaign_id=None, plan_id=None,
        template_version_id=version.id, fields=values, text=texts[account.network],
        image_asset_id=image_id,
        local_at=wall, time_zone=zone, scheduled_at=due, status="approved",
        approved_at=now, approved_by_id=principal.user_id,
        idempotency_key=idempotency_key(f"evergreen-{pick}", account.id), attempts=0)
        for account in accounts]
    db.session.add_all(posts)
    commit()
    return posts


def _image_asset(partner: Partner, version: TemplateVersion, values: dict[str, str]) -> int | None:
    """An asset of the partner's image for the posts (no campaign), if the template renders one."""
    output = _image_output(version)
    if output is None:
        return None
    render = _image_render(partner, version, output, values)
    asset = Asset(partner_id=partner.id, campaign_id=None, template_version_id=version.id, output=output,
                  variant=None, fields=values, status="done", render_id=render.id, inputs_hash=render.key,
                  attempts=1)
    db.session.add(asset)
    db.session.flush()
    return asset.id
