"""Tracked links: registered destinations and the short codes partners' URLs carry.

Interfaces other parts call:
- `register_destination(name, url) -> Destination`: idempotent upsert by name (a new URL
  replaces the old one); http(s) only. Flushes, does not commit: the use case commits.
- `tracked_url(partner_id, campaign_id, asset_id, channel, variant, destination_id) -> str`:
  `{PUBLIC_URL}/l/<code>`, get-or-create on the link's unique key, so a relaunch gets the same
  URL. Flushes inside a savepoint; the use case commits (once per render batch, not per link).
- `link_factory(partner_id, campaign_id, asset_id, variant)` -> `link_for(destination_name,
  url, channel) -> str`, the `link_for` a render passes to campaigns.resolve_request.
- `load_link(code) -> LinkTarget | None`: what the redirect needs, in one query.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.urls import iri_to_uri

from campaigns.vocabulary import CHANNELS
from tcma.config import get_settings
from tcma.errors import InvalidInput, ServiceUnavailable
from tcma.extensions import db
from tcma.models import Asset, Campaign, Destination, Partner, Template, TemplateVersion, TrackedLink
from tcma.models.base import insert_for
from tcma.state import app_state

CODE_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
_CODE_MESSAGE = json.JSONEncoder(sort_keys=True)  # json.dumps(key, sort_keys=True), built once


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """A tracked link as the redirect needs it: dimensions and the final location with UTM."""

    link_id: int
    partner_id: int
    campaign_id: int | None
    asset_id: int | None
    channel: str
    variant: str | None
    location: str
    click_prefix: str  # the click's JSON without its per-request fields (see click_line)


def register_destination(name: str, url: str) -> Destination:
    """Create or update the destination called `name`; only http(s) URLs with a host."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput("a destination needs a name of 1-120 characters", {"name": ["invalid"]})
    parts = urlsplit((url or "").strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username:
        raise InvalidInput(f"destination {name!r} must be an http(s) URL", {"url": ["not an http(s) URL"]})
    destination = db.session.scalar(select(Destination).where(Destination.name == name))
    if destination is None:
        destination = Destination(name=name, url=parts.geturl())
        db.session.add(destination)
    else:
        destination.url = parts.geturl()
    db.session.flush()
    return destination


def tracked_url(partner_id: int, campaign_id: int | None, asset_id: int | None, channel: str,
                variant: str | None, destination_id: int) -> str:
    """The public URL of the link for these dimensions (created on first use; caller commits)."""
    return public_link_url(get_or_create_link(partner_id, campaign_id, asset_id, channel, variant,
                                              destination_id).code)


def public_link_url(code: str) -> str:
    """`{PUBLIC_URL}/l/<code>`."""
    return f"{get_settings().public_url}/l/{code}"


def get_or_create_link(partner_id: int, campaign_id: int | None, asset_id: int | None, channel: str,
                       variant: str | None, destination_id: int) -> TrackedLink:
    """The TrackedLink for these dimensions, inserted inside a savepoint if it is new."""
    channel = _check_channel(channel)
    key = {"partner_id": partner_id, "campaign_id": campaign_id, "asset_id": asset_id,
           "channel": channel, "variant": variant or None, "destination_id": destination_id}
    existing = _find_link(key)
    if existing is not None:
        return existing
    for attempt in range(3):
        try:
            with db.session.begin_nested():
                link = TrackedLink(code=_stable_code(key) if attempt == 0 else _new_code(), **key)
                db.session.add(link)
            return link
        except IntegrityError:  # a concurrent render made it first, or the code collided
            existing = _find_link(key)
            if existing is not None:
                return existing
    raise ServiceUnavailable("could not create a tracked link; try again")


def _find_link(key: dict[str, Any]) -> TrackedLink | None:
    stmt = select(TrackedLink)
    for column, value in key.items():
        attr = getattr(TrackedLink, column)
        stmt = stmt.where(attr.is_(None) if value is None else attr == value)
    return db.session.scalar(stmt)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _registered_id(name: str, url: str) -> int | None:
    return db.session.scalar(select(Destination.id).where(Destination.name == name,
                                                          Destination.url == url))


def _stable_code(key: dict[str, Any]) -> str:
    """A code derived from the link's dimensions (keyed by the secret, so not guessable).

    A render redone after a crash rolled its links back gets the same codes again, so the
    same URLs, the same resolved inputs and the same content-addressed output.
    """
    message = _CODE_MESSAGE.encode(key).encode()
    number = int.from_bytes(hmac.new(get_settings().secret_key.encode(), message,
                                     hashlib.sha256).digest(), "big")
    code = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        code.append(CODE_ALPHABET[index])
    return "".join(code)


def _check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}", {"channel": [f"one of {', '.join(CHANNELS)}"]})
    return channel


class LinkBatch:
    """The tracked links of one render: URLs named without asking the database, saved at once.

    Codes derive from the link's dimensions (`_stable_code`), so `link_for` needs no query;
    `save()` inserts the render's links in one statement. It answers False in the rare case a
    link already existed under another code (made before codes were derived, or a collision):
    the caller then resolves the render again, and `link_for` returns the stored codes.
    """

    def __init__(self, partner_id: int, campaign_id: int | None, asset_id: int | None,
                 variant: str | None) -> None:
        self.dimensions = (partner_id, campaign_id, asset_id, variant)
        self.destinations: dict[tuple[str, str], int] = {}
        self.keys: dict[str, dict[str, Any]] = {}  # code -> link key
        self.codes: dict[tuple[Any, ...], str] = {}  # link key -> code

    def link_for(self, destination_name: str, url: str, channel: str) -> str:
        """`link_for(destination_name, url, channel) -> tracked URL` for campaigns.resolve_request."""
        partner_id, campaign_id, asset_id, variant = self.dimensions
        key = {"partner_id": partner_id, "campaign_id": campaign_id, "asset_id": asset_id,
               "channel": _check_channel(channel), "variant": variant or None,
               "destination_id": self._destination(destination_name, url)}
        ident = tuple(key.values())
        if ident not in self.codes:
            self.codes[ident] = _stable_code(key)
        self.keys[self.codes[ident]] = key
        return public_link_url(self.codes[ident])

    def _destination(self, name: str, url: str) -> int:
        # Destinations are registered when a template version is published and never deleted,
        # so a process remembers their ids instead of asking for every render.
        known = app_state().destination_ids
        if (name, url) not in self.destinations:
            found = known.get((name, url)) or _registered_id(name, url)
            if found is not None:
                known.put((name, url), found)  # committed earlier: safe to remember
            else:
                found = register_destination(name, url).id
            self.destinations[name, url] = found
        return self.destinations[name, url]

    def save(self) -> bool:
        """Insert the links (caller commits); False if a stored link has another code."""
        return not save_links([self])


def save_links(batches: list[LinkBatch]) -> list[LinkBatch]:
    """Insert the links of many renders in one statement (caller commits).

    Returns the batches whose renders must be resolved again: a link of theirs was already
    stored under another code, which `link_for` now returns.
    """
    pending = {code: (batch, key) for batch in batches for code, key in batch.keys.items()}
    for batch in batches:
        batch.keys = {}
    if not pending:
        return []
    now = datetime.now(UTC)
    rows = [{**key, "code": code, "created_at": now} for code, (_, key) in pending.items()]
    # executemany of one cached statement (a VALUES list would compile anew for every size)
    statement = (insert_for(db.session.get_bind().dialect.name, TrackedLink)
                 .on_conflict_do_nothing().returning(TrackedLink.code))
    inserted = set(db.session.scalars(statement, rows))
    missing = {code: entry for code, entry in pending.items() if code not in inserted}
    if not missing:
        return []
    stored = {link.code: link for link in db.session.scalars(
        select(TrackedLink).where(TrackedLink.code.in_(missing)))}
    stale: list[LinkBatch] = []
    for code, (batch, key) in missing.items():
        link = stored.get(code)
        if link is None or any(getattr(link, k) != v for k, v in key.items()):
            batch.codes[tuple(key.values())] = get_or_create_link(**key).code
            if batch not in stale:
                stale.append(batch)
    return stale


def link_factory(partner_id: int, campaign_id: int | None, asset_id: int | None,
                 variant: str | None) -> Callable[[str, str, str], str]:
    """A `link_for(destination_name, url, channel) -> tracked URL` that writes each link at once."""
    batch = LinkBatch(partner_id, campaign_id, asset_id, variant)

    def link_for(destination_name: str, url: str, channel: str) -> str:
        tracked = batch.link_for(destination_name, url, channel)
        return tracked if batch.save() else batch.link_for(destination_name, url, channel)

    return link_for


def merge_utm(url: str, source: str, medium: str, campaign: str | None, content: str | None) -> str:
    """Add utm_* parameters the URL does not already have; keep its own parameters and fragment."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _ in query}
    wanted = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign,
              "utm_content": content}
    query += [(name, value) for name, value in wanted.items() if value and name not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


def load_link(code: str) -> LinkTarget | None:
    """Read a link and build its redirect location (one query), or None for an unknown code."""
    if not code or len(code) > 24:
        return None
    row = db.session.execute(
        select(TrackedLink, Destination.url, Destination.name, Partner.slug, Campaign.slug, Template.slug)
        .join(Destination, TrackedLink.destination_id == Destination.id)
        .join(Partner, TrackedLink.partner_id == Partner.id)
        .outerjoin(Campaign, TrackedLink.campaign_id == Campaign.id)
        .outerjoin(Asset, TrackedLink.asset_id == Asset.id)
        .outerjoin(TemplateVersion, Asset.template_version_id == TemplateVersion.id)
        .outerjoin(Template, TemplateVersion.template_id == Template.id)
        .where(TrackedLink.code == code)
    ).first()
    if row is None:
        return None
    link, url, destination, partner_slug, campaign_slug, template_slug = row
    # All four UTM parameters, always: a self-served asset is its template's own campaign, and
    # without a variant the content is the link's destination (which of the asset's links it was).
    campaign = campaign_slug or (f"self-service-{template_slug}" if template_slug else "self-service")
    location = iri_to_uri(merge_utm(url, partner_slug, link.channel, campaign, link.variant or destination))
    prefix = json.dumps({"kind": "click", "partner_id": link.partner_id, "campaign_id": link.campaign_id,
                         "asset_id": link.asset_id, "link_id": link.id, "channel": link.channel,
                         "variant": link.variant, "data": {}}, separators=(",", ":"))[:-1]
    return LinkTarget(link.id, link.partner_id, link.campaign_id, link.asset_id, link.channel,
                      link.variant, location, prefix)


