"""Tracked links, the open pixel and engagement events: what partners' URLs point at and what they record.

Interfaces other parts call:
- `register_destination(name, url) -> Destination`: idempotent upsert by name (a new URL
  replaces the old one); http(s) only. Flushes, does not commit: the caller commits.
- `tracked_url(partner_id, campaign_id, asset_id, channel, variant, destination_id) -> str`:
  `{PUBLIC_URL}/l/<code>`, get-or-create on the link's unique key, so a relaunch gets the same
  URL. Flushes inside a savepoint, does not commit: the caller commits (one commit per render
  job, not per link).
- `link_factory(partner_id, campaign_id, asset_id, variant)` -> `link_for(destination_name,
  url, channel) -> str`, the `link_for` a render passes to campaigns.resolve_request; it
  registers the destination and caches destinations and links for the render. Caller commits.
- `pixel_url(partner_id, campaign_id, asset_id, variant, send_id) -> str`: the email open
  pixel; the token is signed, so opening needs no database read.
- `record_event(kind, partner_id, campaign_id=None, asset_id=None, channel=None, variant=None,
  data=None, uid=None, visit=None, send_id=None) -> uid`: downloads, posts, sends... through the
  same buffer, flusher and rollups as clicks. Pass a stable `uid` to make a retried call count
  once, a `Visit` to have bots flagged and uniques counted, and for kind "send" the `send_id`
  that the message's pixel and links carry (`?s=<send_id>` on links): clicks within seconds
  of delivery are then flagged as mail scanners.
- `follow_link(code, visit) -> location | None` and `open_pixel(token, visit)`: the hot paths
  behind /l/<code> and /o/<token>.gif; they never wait on the database once a link is cached.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.urls import iri_to_uri

from tcma.errors import DomainError
from tcma.extensions import db
from tcma.models import Campaign, Destination, Partner, TrackedLink
from tcma.models.base import insert_for
from tcma.models.tracking import EVENT_KINDS
from tcma.services import bots
from tcma.services.clickbuffer import buffer_events, buffer_lines, runtime

CODE_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
CHANNEL_MAX = 20


@dataclass(frozen=True, slots=True)
class Visit:
    """What a tracking request tells us about the visitor; built by the web layer."""

    method: str
    user_agent: str
    ip: str | None
    send_id: str | None = None
    at: float = 0.0

    @classmethod
    def of(cls, method: str, user_agent: str | None, ip: str | None,
           send_id: str | None = None) -> Visit:
        """A visit happening now."""
        return cls(method, user_agent or "", ip, (send_id or None) and send_id[:64], time.time())


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
        raise DomainError("a destination needs a name of 1-120 characters", {"name": ["invalid"]})
    parts = urlsplit((url or "").strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username:
        raise DomainError(f"destination {name!r} must be an http(s) URL", {"url": ["not an http(s) URL"]})
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
    return f"{current_app.config['PUBLIC_URL']}/l/{code}"


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
    raise DomainError("could not create a tracked link; try again", status=503)


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
    message = json.dumps(key, sort_keys=True).encode()
    number = int.from_bytes(hmac.new(current_app.config["SECRET_KEY"].encode(), message,
                                     hashlib.sha256).digest(), "big")
    code = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        code.append(CODE_ALPHABET[index])
    return "".join(code)


def _check_channel(channel: str) -> str:
    channel = (channel or "").strip().lower()
    if not channel or len(channel) > CHANNEL_MAX:
        raise DomainError("a tracked link needs a channel (pdf, email, post, ...)", {"channel": ["invalid"]})
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
        known = current_app.extensions["tcma"].setdefault("destination_ids", {})
        if (name, url) not in self.destinations:
            found = known.get((name, url)) or _registered_id(name, url)
            if found is not None:
                known[name, url] = found  # committed earlier: safe to remember
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
        select(TrackedLink, Destination.url, Partner.slug, Campaign.slug)
        .join(Destination, TrackedLink.destination_id == Destination.id)
        .join(Partner, TrackedLink.partner_id == Partner.id)
        .outerjoin(Campaign, TrackedLink.campaign_id == Campaign.id)
        .where(TrackedLink.code == code)
    ).first()
    if row is None:
        return None
    link, url, partner_slug, campaign_slug = row
    location = iri_to_uri(merge_utm(url, partner_slug, link.channel, campaign_slug, link.variant))
    prefix = json.dumps({"kind": "click", "partner_id": link.partner_id, "campaign_id": link.campaign_id,
                         "asset_id": link.asset_id, "link_id": link.id, "channel": link.channel,
                         "variant": link.variant, "data": {}}, separators=(",", ":"))[:-1]
    return LinkTarget(link.id, link.partner_id, link.campaign_id, link.asset_id, link.channel,
                      link.variant, location, prefix)


def follow_link(code: str, visit: Visit) -> str | None:
    """Buffer a click on `code` and return where to send the visitor (None: unknown code)."""
    state = runtime()
    target = state.links.get(code, load_link)
    if target is None:
        return None
    buffer_lines(click_line(target, visit, state.secret))
    return target.location


def click_line(target: LinkTarget, visit: Visit, secret: str) -> bytes:
    """The click as one JSON line, built from the link's pre-encoded part (this is the hot path)."""
    day = datetime.fromtimestamp(visit.at, UTC).date()
    visitor = bots.visitor_key(visit.ip, visit.user_agent, secret, day)
    bot = bots.classify_request(visit.method, visit.user_agent)
    send_id = json.dumps(visit.send_id) if visit.send_id else "null"
    return (f'{target.click_prefix},"uid":"{os.urandom(16).hex()}","at":{visit.at!r},'
            f'"visitor":"{visitor}","bot":{json.dumps(bot)},"send_id":{send_id}}}\n').encode()


def pixel_url(partner_id: int, campaign_id: int | None, asset_id: int | None, variant: str | None,
              send_id: str) -> str:
    """The URL of the 1x1 image that records an open of one send of one variant."""
    token = _pixel_signer().dumps([partner_id, campaign_id, asset_id, variant, str(send_id)[:64]])
    return f"{current_app.config['PUBLIC_URL']}/o/{token}.gif"


def open_pixel(token: str, visit: Visit) -> bool:
    """Buffer an open for a pixel token; False (and nothing recorded) if the token is not ours."""
    try:
        partner_id, campaign_id, asset_id, variant, send_id = _pixel_signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return False
    opened = Visit(visit.method, visit.user_agent, visit.ip, send_id, visit.at)
    buffer_events([_event("open", partner_id, campaign_id, asset_id, "email", variant, opened)])
    return True


def _pixel_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="tcma-open-pixel")


def record_event(kind: str, partner_id: int, campaign_id: int | None = None, asset_id: int | None = None,
                 channel: str | None = None, variant: str | None = None,
                 data: dict[str, Any] | None = None, uid: str | None = None,
                 visit: Visit | None = None, send_id: str | None = None) -> str:
    """Record one engagement event through the click pipeline; returns its uid."""
    if kind not in EVENT_KINDS:
        raise DomainError(f"unknown event kind {kind!r}", {"kind": [f"one of {', '.join(EVENT_KINDS)}"]})
    if uid is not None and not 0 < len(uid) <= 40:
        raise DomainError("an event uid has 1-40 characters", {"uid": ["invalid"]})
    _check_dimensions(partner_id=partner_id, campaign_id=campaign_id, asset_id=asset_id,
                      channel=channel, variant=variant)
    event = _event(kind, partner_id, campaign_id, asset_id, channel, variant,
                   visit or Visit("POST", "", None, send_id, time.time()), data=data, uid=uid)
    if visit is None:  # a server-side event (a send, a post): no visitor, never a bot
        event["visitor"], event["bot"] = None, None
    buffer_events([event])
    return event["uid"]


ID_MAX = 2**31 - 1
TEXT_LIMITS = {"channel": 20, "variant": 40}


def _check_dimensions(**values: Any) -> None:
    """Refuse an event the event table cannot hold, before it is buffered.

    A buffered event that fails at insert would block the flusher's batch; so it fails here,
    in the caller's request, naming the field.
    """
    for name, value in values.items():
        limit = TEXT_LIMITS.get(name)
        if limit is None and value is not None and not (isinstance(value, int) and 0 < value <= ID_MAX):
            raise DomainError(f"invalid {name}", {name: ["must be an id the database can hold"]})
        if limit is not None and value is not None and len(str(value)) > limit:
            raise DomainError(f"{name} is too long", {name: [f"at most {limit} characters"]})


def _event(kind: str, partner_id: int, campaign_id: int | None, asset_id: int | None,
           channel: str | None, variant: str | None, visit: Visit, link_id: int | None = None,
           data: dict[str, Any] | None = None, uid: str | None = None) -> dict[str, Any]:
    day = datetime.fromtimestamp(visit.at, UTC).date()
    secret = current_app.config["SECRET_KEY"]
    return {
        "uid": uid or uuid.uuid4().hex, "kind": kind, "at": visit.at, "partner_id": partner_id,
        "campaign_id": campaign_id, "asset_id": asset_id, "link_id": link_id,
        "channel": channel, "variant": variant, "send_id": visit.send_id,
        "visitor": bots.visitor_key(visit.ip, visit.user_agent, secret, day),
        "bot": bots.classify_request(visit.method, visit.user_agent), "data": data or {},
    }
