"""Engagement events: clicks, opens, downloads, sends and posts, recorded through the click buffer.

Interfaces other parts call:
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

import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from campaigns.vocabulary import CHANNELS, EMAIL, EVENT_KINDS, MAX_DATABASE_ID
from tcma.clickbuffer import buffer_events
from tcma.config import get_settings
from tcma.errors import InvalidInput
from tcma.services.tracking import bots
from tcma.services.tracking.links import LinkTarget, load_link
from tcma.state import app_state

# Activity of the vendor's own signed-in users (downloads, previews, test clicks): flagged like a
# bot, so it is recorded apart and never counted as a partner's engagement.
VENDOR_SIDE = "vendor"


@dataclass(frozen=True, slots=True)
class Visit:
    """What a tracking request tells us about the visitor; built by the web layer."""

    method: str
    user_agent: str
    ip: str | None
    send_id: str | None = None
    at: float = 0.0
    vendor: bool = False  # a signed-in vendor user: recorded apart, never a partner's engagement

    @classmethod
    def of(cls, method: str, user_agent: str | None, ip: str | None,
           send_id: str | None = None, vendor: bool = False) -> Visit:
        """A visit happening now."""
        return cls(method, user_agent or "", ip, (send_id or None) and send_id[:64], time.time(), vendor)

    def flag(self) -> str | None:
        """Why this visit is not counted as engagement (a bot's kind, or vendor-side), or None."""
        return bots.classify_request(self.method, self.user_agent) or (VENDOR_SIDE if self.vendor else None)


def follow_link(code: str, visit: Visit) -> str | None:
    """Buffer a click on `code` and return where to send the visitor (None: unknown code)."""
    state = app_state().tracking
    target = state.links.get(code, load_link)
    if target is None:
        return None
    state.buffer_lines(click_line(target, visit, state.secret))
    return target.location


def click_line(target: LinkTarget, visit: Visit, secret: str) -> bytes:
    """The click as one JSON line, built from the link's pre-encoded part (this is the hot path)."""
    day = datetime.fromtimestamp(visit.at, UTC).date()
    visitor = bots.visitor_key(visit.ip, visit.user_agent, secret, day)
    bot = visit.flag()
    send_id = json.dumps(visit.send_id) if visit.send_id else "null"
    return (f'{target.click_prefix},"uid":"{os.urandom(16).hex()}","at":{visit.at!r},'
            f'"visitor":"{visitor}","bot":{json.dumps(bot)},"send_id":{send_id}}}\n').encode()


def pixel_url(partner_id: int, campaign_id: int | None, asset_id: int | None, variant: str | None,
              send_id: str) -> str:
    """The URL of the 1x1 image that records an open of one send of one variant."""
    return pixel_urls(partner_id, campaign_id, asset_id, variant)(send_id)


def pixel_urls(partner_id: int, campaign_id: int | None, asset_id: int | None,
               variant: str | None) -> Callable[[str], str]:
    """pixel_url for many sends of one variant: the signer is built once (campaign email's hot path)."""
    signer, base = _pixel_signer(), f"{get_settings().public_url}/o/"
    return lambda send_id: base + signer.dumps([partner_id, campaign_id, asset_id, variant,
                                                 str(send_id)[:64]]) + ".gif"


def open_pixel(token: str, visit: Visit) -> bool:
    """Buffer an open for a pixel token; False (and nothing recorded) if the token is not ours."""
    try:
        partner_id, campaign_id, asset_id, variant, send_id = _pixel_signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return False
    opened = Visit(visit.method, visit.user_agent, visit.ip, send_id, visit.at)
    event = _event("open", partner_id, campaign_id, asset_id, EMAIL, variant, opened)
    buffer_events(app_state().tracking, [event])
    return True


def _pixel_signer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="tcma-open-pixel")


def record_event(kind: str, partner_id: int, campaign_id: int | None = None, asset_id: int | None = None,
                 channel: str | None = None, variant: str | None = None,
                 data: dict[str, Any] | None = None, uid: str | None = None,
                 visit: Visit | None = None, send_id: str | None = None) -> str:
    """Record one engagement event through the click pipeline; returns its uid."""
    event = server_event(kind, partner_id, campaign_id, asset_id, channel, variant, data=data, uid=uid,
                         visit=visit, send_id=send_id)
    record_events([event])
    return event["uid"]


def record_events(events: list[dict[str, Any]]) -> None:
    """Record events made by `server_event` through the click pipeline, in one write."""
    if events:
        buffer_events(app_state().tracking, events)


def server_event(kind: str, partner_id: int, campaign_id: int | None = None, asset_id: int | None = None,
                 channel: str | None = None, variant: str | None = None,
                 data: dict[str, Any] | None = None, uid: str | None = None,
                 visit: Visit | None = None, send_id: str | None = None) -> dict[str, Any]:
    """One engagement event, checked (InvalidInput names what the event table cannot hold), to record."""
    if kind not in EVENT_KINDS:
        raise InvalidInput(f"unknown event kind {kind!r}", {"kind": [f"one of {', '.join(EVENT_KINDS)}"]})
    if uid is not None and not 0 < len(uid) <= 40:
        raise InvalidInput("an event uid has 1-40 characters", {"uid": ["invalid"]})
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}", {"channel": [f"one of {', '.join(CHANNELS)}"]})
    _check_dimensions(partner_id=partner_id, campaign_id=campaign_id, asset_id=asset_id,
                      channel=channel, variant=variant)
    event = _event(kind, partner_id, campaign_id, asset_id, channel, variant,
                   visit or Visit("POST", "", None, send_id, time.time()), data=data, uid=uid)
    if visit is None:  # a server-side event (a send, a post): no visitor, never a bot
        event["visitor"], event["bot"] = None, None
    return event


def record_sends(partner_id: int, campaign_id: int | None, variant: str | None, send_ids: list[str]) -> None:
    """One "send" event per delivered message (its send id), buffered at once; uid send-<send id>."""
    _check_dimensions(partner_id=partner_id, campaign_id=campaign_id, variant=variant)
    now = time.time()
    events = []
    for send_id in send_ids:
        visit = Visit("POST", "", None, send_id, now)
        event = _event("send", partner_id, campaign_id, None, EMAIL, variant, visit, uid=f"send-{send_id}")
        event["visitor"], event["bot"] = None, None
        events.append(event)
    if events:
        buffer_events(app_state().tracking, events)


TEXT_LIMITS = {"channel": 20, "variant": 40}  # the event table's columns


def _check_dimensions(**values: Any) -> None:
    """Refuse an event the event table cannot hold, before it is buffered.

    A buffered event that fails at insert would block the flusher's batch; so it fails here,
    in the caller's request, naming the field.
    """
    for name, value in values.items():
        limit = TEXT_LIMITS.get(name)
        is_id = isinstance(value, int) and 0 < value <= MAX_DATABASE_ID
        if limit is None and value is not None and not is_id:
            raise InvalidInput(f"invalid {name}", {name: ["must be an id the database can hold"]})
        if limit is not None and value is not None and len(str(value)) > limit:
            raise InvalidInput(f"{name} is too long", {name: [f"at most {limit} characters"]})


def _event(kind: str, partner_id: int, campaign_id: int | None, asset_id: int | None,
           channel: str | None, variant: str | None, visit: Visit, link_id: int | None = None,
           data: dict[str, Any] | None = None, uid: str | None = None) -> dict[str, Any]:
    day = datetime.fromtimestamp(visit.at, UTC).date()
    secret = get_settings().secret_key
    return {
        "uid": uid or uuid.uuid4().hex, "kind": kind, "at": visit.at, "partner_id": partner_id,
        "campaign_id": campaign_id, "asset_id": asset_id, "link_id": link_id,
        "channel": channel, "variant": variant, "send_id": visit.send_id,
        "visitor": bots.visitor_key(visit.ip, visit.user_agent, secret, day),
        "bot": visit.flag(), "data": data or {},
    }
