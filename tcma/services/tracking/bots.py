"""Who is clicking: bot and link-scanner rules, and the anonymous visitor key (no raw IPs kept).

At request time (cheap, cached per user agent):
- `classify_request(method, user_agent)` -> a bot reason or None: "head" (HEAD requests),
  "no-user-agent", "preview" (social networks' link previews) and "crawler" (any agent on
  crawlerdetect's maintained list; crawlerdetect decides, the preview names only label it).
- `visitor_key(ip, user_agent, secret, day)` -> a 32-hex key. The IP is truncated (/24 for
  IPv4, /48 for IPv6) and hashed with a salt derived from the secret and the UTC day, so keys
  rotate daily and the raw address never leaves the request.

At flush time (they need the clicks around them), see `flag_scanners`: a mail security
scanner either clicks within SCANNER_SECONDS of the message's delivery, or clicks at least
SCANNER_MIN_LINKS different links of one message within SCANNER_SECONDS. A burst that spans
two flushes is caught when it completes: the earlier clicks are then revised (flag, rollups).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from crawlerdetect import CrawlerDetect

SCANNER_SECONDS = 10
SCANNER_MIN_LINKS = 3
SCANNER_MIN_LINKS_FLOOR = 2  # one click on a one-link message is a person, not a scan
PREVIEW_AGENTS = ("facebookexternalhit", "facebot", "twitterbot", "linkedinbot", "slackbot",
                  "whatsapp", "telegrambot", "discordbot", "skypeuripreview", "pinterest",
                  "redditbot", "mastodon", "bluesky", "embedly", "iframely", "vkshare")

_detector = CrawlerDetect()


def classify_request(method: str, user_agent: str | None) -> str | None:
    """Why a request is a bot ("head", "no-user-agent", "preview", "crawler"), or None for a person."""
    if method == "HEAD":
        return "head"
    return classify_agent(user_agent or "")


@lru_cache(maxsize=4096)
def classify_agent(user_agent: str) -> str | None:
    """The bot reason for a user agent, or None; cached because real traffic repeats agents."""
    if not user_agent.strip():
        return "no-user-agent"
    if not _detector.isCrawler(user_agent):
        return None
    lowered = user_agent.lower()
    return "preview" if any(name in lowered for name in PREVIEW_AGENTS) else "crawler"


def truncate_ip(ip: str | None) -> str:
    """The network part of an address (/24 or /48); '' when there is none or it is malformed."""
    parts = (ip or "").split(".")
    if len(parts) == 4 and all(p.isdigit() and str(int(p)) == p and int(p) < 256 for p in parts):
        return f"{parts[0]}.{parts[1]}.{parts[2]}.0"  # the common IPv4 case, without ipaddress
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


@lru_cache(maxsize=8)
def _daily_salt(secret: str, day: date) -> bytes:
    return hmac.new(secret.encode(), f"visitor:{day.isoformat()}".encode(), hashlib.sha256).digest()


def visitor_key(ip: str | None, user_agent: str | None, secret: str, day: date) -> str:
    """An anonymous key for one visitor on one day, from the truncated IP and user agent."""
    return _network_visitor_key(truncate_ip(ip), user_agent, secret, day)


# Cached by network (/24, /48), never by the raw address: no full IP stays in memory.
@lru_cache(maxsize=65536)
def _network_visitor_key(network: str, user_agent: str | None, secret: str, day: date) -> str:
    material = f"{network}|{user_agent or ''}".encode()
    return hmac.new(_daily_salt(secret, day), material, hashlib.sha256).hexdigest()[:32]


def scanner_threshold(links_in_message: int | None) -> int:
    """How many different links of one message a scanner's burst touches: all of them, up to 3.

    A message with two links is scanned when both are clicked within seconds.
    """
    if not links_in_message:
        return SCANNER_MIN_LINKS
    return max(SCANNER_MIN_LINKS_FLOOR, min(SCANNER_MIN_LINKS, links_in_message))


def flag_scanners(events: list[dict[str, Any]], earlier: Iterable[Mapping[str, Any]],
                  sends: Mapping[str, float], links_per_asset: Mapping[Any, int] | None = None
                  ) -> set[str]:
    """Mark clicks in `events` that a mail security scanner made (bot reason "scanner").

    `earlier` are recent clicks already stored (same visitors), `sends` maps a send id to its
    delivery time (epoch seconds), `links_per_asset` how many tracked links each message has.
    Returns the uids of stored clicks that turn out to be part of a scanner's burst, for the
    caller to revise.
    """
    for event in events:
        delivered = sends.get(event.get("send_id") or "")
        # The send itself is the delivery, not activity after it.
        soon = delivered is not None and 0 <= event["at"] - delivered <= SCANNER_SECONDS
        if soon and event["kind"] != "send":
            _mark(event, "scanner")
    by_message: dict[tuple[Any, ...], list[Mapping[str, Any]]] = defaultdict(list)
    for click in [*earlier, *events]:
        if click["kind"] == "click" and click.get("visitor"):
            key = (click["visitor"], click["partner_id"], click["campaign_id"], click["asset_id"])
            by_message[key].append(click)
    flagged: set[str] = set()
    links_per_asset = links_per_asset or {}
    for key, clicks in by_message.items():
        threshold = scanner_threshold(links_per_asset.get(key[3]))
        flagged |= _burst_uids(sorted(clicks, key=lambda c: c["at"]), threshold)
    for event in events:
        if event["uid"] in flagged:
            _mark(event, "scanner")
    return flagged - {event["uid"] for event in events}


def _burst_uids(clicks: list[Mapping[str, Any]], threshold: int) -> set[str]:
    """The clicks in any window of SCANNER_SECONDS that touches `threshold` different links."""
    flagged: set[str] = set()
    start = 0
    for end, click in enumerate(clicks):
        while click["at"] - clicks[start]["at"] > SCANNER_SECONDS:
            start += 1
        window = clicks[start:end + 1]
        if len({c["link_id"] for c in window}) >= threshold:
            flagged |= {c["uid"] for c in window}
    return flagged


def _mark(event: dict[str, Any], reason: str) -> None:
    if not event.get("bot"):
        event["bot"] = reason


def unique_window() -> timedelta:
    """Repeat clicks or opens by one visitor within this window count once as unique."""
    return timedelta(minutes=30)
