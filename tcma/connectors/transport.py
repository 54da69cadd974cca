"""HTTP plumbing for the connectors: one httpx client, transport failures classified, rate headers read."""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from . import Account, ConnectorSettings, RateLimitState, Rejected, Temporary, UnknownOutcome, scrub

DEFAULT_BACKOFF = timedelta(minutes=5)


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs ~20 ms per client."""
    return httpx.create_ssl_context()


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing a network sets."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _CookielessClient(httpx.Client):
    """An httpx client without a cookie jar. One client serves every account of a network, and the
    APIs authenticate each call by its token: a cookie one account's answer set must never go out
    with another account's call (and reading Set-Cookie was 7 % of a publish's CPU)."""

    _jar = _NoCookies()

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("a connector's client keeps no cookies")


def make_client(settings: ConnectorSettings) -> httpx.Client:
    """A client with explicit timeouts that never follows redirects (a redirect may drop our auth
    header) and keeps no cookies."""
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    return _CookielessClient(timeout=timeout, follow_redirects=False, verify=_tls_context(),
                             headers={"User-Agent": settings.user_agent})


def warm() -> None:
    """Load what a worker's first post would (the HTTP transport's modules, the TLS context) before
    any job runs: otherwise the first chunk pays for it, ~1 s on a busy machine."""
    make_client(ConnectorSettings()).close()


def send(client: httpx.Client, account: Account, method: str, url: str, *, write: bool = False,
         **kwargs: Any) -> httpx.Response:
    """Send one request; a failure before sending is Temporary, after sending a write is UnknownOutcome."""
    where = httpx.URL(url).host or url
    try:
        return client.request(method, url, **kwargs)
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        raise Rejected(f"{account.network} account's base URL is not an http(s) URL") from None
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise Temporary(scrub(f"{account.network}: could not reach {where} "
                              f"({type(exc).__name__})", account)) from None
    except httpx.TransportError as exc:
        reason = scrub(f"{account.network}: no answer from {where} after the request was sent "
                       f"({type(exc).__name__})", account)
        # A read-only call or an upload can be sent again; a post may already exist.
        raise (UnknownOutcome if write else Temporary)(reason) from None


def path_id(account: Account, external_id: str) -> str:
    """A post's id as one URL path segment (every reserved character escaped); Rejected when empty."""
    if not isinstance(external_id, str) or not external_id.strip():
        raise Rejected(f"{account.network} post has no id to read")
    return quote(external_id.strip(), safe="")


def body_json(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object, or {} when the body is not one."""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def body_list(response: httpx.Response) -> list[Any]:
    """The response's JSON array, or [] when the body is not one."""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return []
    return data if isinstance(data, list) else []


def clip(text: str, account: Account, limit: int = 300) -> str:
    """`text` on one line, cut to `limit` characters, the account's credentials removed."""
    return clip_secrets(text, account.secrets(), limit)


def clip_secrets(text: str, secrets: Iterable[str | None], limit: int = 300) -> str:
    """`text` on one line, every one of `secrets` replaced by ***, cut to `limit` characters."""
    text = " ".join(text.split())
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:limit] + ("..." if len(text) > limit else "")


def short_body(response: httpx.Response, account: Account, limit: int = 300) -> str:
    """A short, scrubbed excerpt of the body for an error message."""
    return clip(response.text, account, limit)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def epoch_time(value: str | None) -> datetime | None:
    """A reset header in Unix epoch seconds (Bluesky, X)."""
    try:
        return datetime.fromtimestamp(float(value), UTC) if value is not None else None
    except (ValueError, OverflowError, OSError):
        return None


def iso_time(value: str | None) -> datetime | None:
    """A reset header in ISO-8601 (Mastodon); naive times are taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value) if value is not None else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed and parsed.tzinfo is None else parsed


def rate_limit_state(headers: httpx.Headers, prefix: str, reset_kind: str) -> RateLimitState | None:
    """RateLimitState from `<prefix>limit`, `<prefix>remaining`, `<prefix>reset`; None if none is there."""
    limit, remaining = _int(headers.get(f"{prefix}limit")), _int(headers.get(f"{prefix}remaining"))
    raw_reset = headers.get(f"{prefix}reset")
    reset = epoch_time(raw_reset) if reset_kind == "epoch" else iso_time(raw_reset)
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimitState(limit=limit, remaining=remaining, reset=reset)


def retry_after(headers: httpx.Headers, now: datetime) -> datetime | None:
    """The time a Retry-After header (seconds or HTTP date) points to."""
    value = headers.get("retry-after")
    if value is None:
        return None
    if value.strip().isdigit():
        return now + timedelta(seconds=int(value))
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def next_utc_midnight(now: datetime) -> datetime:
    """The next 00:00 UTC after `now`, when daily quotas (LinkedIn's) start again."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def rate_limited_until(state: RateLimitState | None, headers: httpx.Headers, now: datetime) -> datetime:
    """When to try again after a 429: the network's reset, else Retry-After, else a fixed backoff."""
    for when in (state.reset if state else None, retry_after(headers, now)):
        if when is not None and when > now:
            return when
    return now + DEFAULT_BACKOFF


def tighter(first: RateLimitState | None, second: RateLimitState | None) -> RateLimitState | None:
    """The state closer to exhaustion (an exhausted one, else the one with fewer calls left)."""
    if first is None or second is None:
        return first or second
    if first.exhausted != second.exhausted:
        return first if first.exhausted else second
    if second.remaining is not None and (first.remaining is None or second.remaining < first.remaining):
        return second
    return first
