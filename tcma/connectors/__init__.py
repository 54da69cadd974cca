"""Social connectors: one interface for publishing a post to a partner's account, one class per network.

Public API:

- ``Account``, ``Post``: what to publish where (frozen; credentials and image bytes never in reprs).
- ``Connector``: ``publish(account, post) -> Published``, ``verify(account) -> (handle, external_id)``,
  ``recent_posts(account) -> list[RecentPost]``, ``reconcile(account, post, since) -> Published | None``,
  ``metrics(account, external_id) -> PostMetrics``, ``close()``.
- ``Published(external_id, url, rate_limit, app_rate_limit)``, ``RecentPost``,
  ``RateLimitState(limit, remaining, reset)``.
- ``PostMetrics(likes, reposts, replies, impressions)``: a published post's numbers (None where the network
  does not say); ``METRIC_FIELDS`` names the numbers each network gives.
- Failures, all ``ConnectorError`` (each carries the ``rate_limit`` and ``app_rate_limit`` the network
  reported; ``RateLimited.app_wide`` says the whole app, not only the account, must wait):
  ``RateLimited(until)``, ``AuthExpired``, ``Rejected(reason)`` (never retry), ``Temporary(reason)``
  (retry with backoff), ``UnknownOutcome(reason)`` (the request was sent and no answer came: reconcile
  before retrying), ``Unsupported``.
- ``ConnectorSettings`` and ``build_connector(network, settings)``: the live connector for a network,
  or the dry-run one when ``settings.backend == "dryrun"``.
- ``check_text(network, text, limit=None)``, ``check_image(network, post, max_bytes, types)``,
  ``idempotency_key(post_ref, account_ref)``.

Connecting an account by OAuth (LinkedIn, X, Facebook, Mastodon) is ``tcma.connectors.oauth``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

from renderers import NETWORKS, POST_LIMITS, post_length

BACKENDS = ("live", "dryrun")
LIVE_NETWORKS = ("linkedin", "x", "facebook", "mastodon", "bluesky", "webhook")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")

Clock = Callable[[], datetime]
LINKEDIN_VERSION = re.compile(r"20\d{4}(\.\d{2})?")


def utc_now() -> datetime:
    """The current time, timezone-aware (the default clock of every connector)."""
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class Account:
    """A partner's account on one network; `base_url` is the instance, PDS or webhook URL."""

    network: str
    base_url: str
    handle: str
    external_id: str | None = None
    credentials: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def secrets(self) -> list[str]:
        """Every credential string, so messages can be scrubbed of them."""
        return [value for value in self.credentials.values() if isinstance(value, str) and value]


@dataclass(frozen=True, kw_only=True)
class Post:
    """One post for one account; `idempotency_key` is stable per (post, account) across retries."""

    text: str
    idempotency_key: str
    image: bytes | None = field(default=None, repr=False)
    image_type: str | None = None
    alt_text: str = ""
    image_size: tuple[int, int] | None = None  # (width, height), when known: Bluesky shows the ratio

    def __post_init__(self) -> None:
        if not self.idempotency_key:
            raise ValueError("a post needs an idempotency_key (see idempotency_key())")
        if (self.image is None) != (self.image_type is None):
            raise ValueError("image and image_type go together")


def idempotency_key(post_ref: object, account_ref: object) -> str:
    """A stable key for publishing one post to one account: the same on every retry."""
    digest = hashlib.sha256(f"tcma-post:{post_ref}:{account_ref}".encode()).hexdigest()
    return f"tcma-{digest[:32]}"


@dataclass(frozen=True)
class RateLimitState:
    """What a network said about its rate limit on the last answer (None: it did not say)."""

    limit: int | None = None
    remaining: int | None = None
    reset: datetime | None = None

    @property
    def exhausted(self) -> bool:
        """True when the network said no call is left before `reset`."""
        return self.remaining is not None and self.remaining <= 0


@dataclass(frozen=True)
class Published:
    """A post the network accepted: its id there, its public URL when there is one."""

    external_id: str
    url: str | None
    rate_limit: RateLimitState | None = None  # the account's (or the endpoint's for this account)
    app_rate_limit: RateLimitState | None = None  # the whole app's, where the network says (X, Facebook)


@dataclass(frozen=True)
class RecentPost:
    """A post read back from the account, for reconciling an unknown outcome."""

    external_id: str
    url: str | None
    text: str
    created_at: datetime | None


# The numbers of a published post each network's API gives (to an app reading its own account's posts).
# Likes are every kind of reaction where the network has several (Facebook, LinkedIn); reposts leave out
# quotes; impressions only X gives without an insights product.
METRIC_FIELDS: dict[str, tuple[str, ...]] = {
    "mastodon": ("likes", "reposts", "replies"),  # favourites, boosts, replies
    "bluesky": ("likes", "reposts", "replies"),
    "x": ("likes", "reposts", "replies", "impressions"),  # public_metrics
    "facebook": ("likes", "reposts", "replies"),  # reactions, shares, comments
    "linkedin": ("likes", "replies"),  # reactions, comments (socialMetadata)
    "webhook": (),  # a webhook cannot be read back
}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass(frozen=True)
class PostMetrics:
    """A published post's numbers as the network gives them now; None where it does not say.

    `rate_limit` and `app_rate_limit` are what the answer said about the limits (not compared).
    """

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    impressions: int | None = None
    rate_limit: RateLimitState | None = field(default=None, compare=False)
    app_rate_limit: RateLimitState | None = field(default=None, compare=False)

    @classmethod
    def of(cls, likes: Any = None, reposts: Any = None, replies: Any = None, impressions: Any = None, *,
           rate_limit: RateLimitState | None = None,
           app_rate_limit: RateLimitState | None = None) -> PostMetrics:
        """The numbers read from an answer: anything but a count of 0 or more becomes None."""
        return cls(_count(likes), _count(reposts), _count(replies), _count(impressions), rate_limit,
                   app_rate_limit)

    def numbers(self) -> dict[str, int]:
        """The numbers the network gave, by name (those it did not give left out)."""
        found = {"likes": self.likes, "reposts": self.reposts, "replies": self.replies,
                 "impressions": self.impressions}
        return {name: value for name, value in found.items() if value is not None}


class ConnectorError(Exception):
    """A classified failure of a connector call; the message never holds a credential."""

    retryable = False

    def __init__(self, reason: str, *, rate_limit: RateLimitState | None = None,
                 app_rate_limit: RateLimitState | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rate_limit = rate_limit
        self.app_rate_limit = app_rate_limit


class RateLimited(ConnectorError):
    """The network refused for now; try again at `until`."""

    retryable = True

    def __init__(self, until: datetime, reason: str = "rate limited", *,
                 rate_limit: RateLimitState | None = None, app_rate_limit: RateLimitState | None = None,
                 app_wide: bool = False) -> None:
        super().__init__(f"{reason} until {until.isoformat()}", rate_limit=rate_limit,
                         app_rate_limit=app_rate_limit)
        self.until = until
        self.app_wide = app_wide  # True: every account of the app must wait, not only this one


class AuthExpired(ConnectorError):
    """The credentials no longer work: the partner must connect the account again."""


class Rejected(ConnectorError):
    """The network refused this content or request for good: never retried."""


class Temporary(ConnectorError):
    """Nothing was published (or it is safe to send again): retry with backoff."""

    retryable = True


class UnknownOutcome(ConnectorError):
    """The request was sent and no answer came: reconcile before publishing again."""


class Unsupported(ConnectorError):
    """The network or the call is not available through this connector."""


class Connector(Protocol):
    """What every network's connector offers."""

    network: str

    def publish(self, account: Account, post: Post) -> Published:
        """Publish once, or raise a ConnectorError subclass saying what the caller should do."""

    def verify(self, account: Account) -> tuple[str, str]:
        """Check the credentials at connect time; return the account's (handle, external_id)."""

    def recent_posts(self, account: Account, limit: int = 20) -> list[RecentPost]:
        """The account's latest posts, newest first (raises Unsupported where the API has none)."""

    def reconcile(self, account: Account, post: Post, since: datetime | None = None) -> Published | None:
        """After UnknownOutcome: the post if it was published (since `since`); None when publishing
        again makes no duplicate (it was not found, or the network drops a resend of the same key)."""

    def metrics(self, account: Account, external_id: str) -> PostMetrics:
        """The numbers of the account's published post `external_id` (its id as `publish` gave it).

        Rejected naming the post when the network no longer has it (deleted); Unsupported where the
        network (or the app's access to it) gives no numbers; other failures classified as for publish.
        """

    def close(self) -> None:
        """Release the connections the connector holds."""


def check_text(network: str, text: str, limit: int | None = None) -> int:
    """The text's length as the network counts it; Rejected before any request when over the limit."""
    if network not in NETWORKS:
        raise Unsupported(f"unknown network {network!r}; expected one of {', '.join(NETWORKS)}")
    if not text.strip():
        raise Rejected(f"{network} post text is empty")
    length, limit = post_length(network, text), limit or POST_LIMITS[network]
    if length > limit:
        raise Rejected(f"{network} post is {length} characters as {network} counts them; "
                       f"the limit is {limit}")
    return length


def check_image(network: str, post: Post, max_bytes: int, types: tuple[str, ...] = IMAGE_TYPES) -> None:
    """Rejected before any request when the post's image cannot go to the network."""
    if post.image is None:
        return
    if post.image_type not in types:
        raise Rejected(f"{network} takes images of type {', '.join(types)}, not {post.image_type!r}")
    if len(post.image) > max_bytes:
        raise Rejected(f"{network} takes images up to {max_bytes} bytes; this one is {len(post.image)}")


def _comparable(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def find_published(recent: list[RecentPost], post: Post, since: datetime | None = None) -> Published | None:
    """The recent post carrying `post`'s text (created at or after `since`, less a minute of skew)."""
    wanted = _comparable(post.text)
    earliest = since - timedelta(minutes=1) if since else None
    for candidate in recent:
        if earliest and candidate.created_at and candidate.created_at < earliest:
            continue
        if _comparable(candidate.text) == wanted:
            return Published(candidate.external_id, candidate.url)
    return None


def scrub(text: str, account: Account) -> str:
    """`text` with every credential of `account` replaced by ***."""
    for secret in account.secrets():
        text = text.replace(secret, "***")
    return text


@dataclass(frozen=True, kw_only=True)
class ConnectorSettings:
    """How connectors reach the networks; fields are set by TCMA_CONNECTORS_<FIELD> variables."""

    backend: str = "live"
    timeout: float = 20.0
    connect_timeout: float = 5.0
    media_poll_interval: float = 1.0
    media_wait: float = 120.0
    dryrun_dir: str | Path | None = None
    user_agent: str = "tcma/0.1 (+through-channel marketing)"
    # The OAuth networks: the vendor's app on each, and where each network answers. The connectors of
    # these networks call these URLs, never an account's own base_url.
    linkedin_client_id: str | None = None
    linkedin_client_secret: str | None = field(default=None, repr=False)
    linkedin_auth_url: str = "https://www.linkedin.com/oauth/v2"
    linkedin_api_url: str = "https://api.linkedin.com"
    linkedin_version: str = "202610"
    x_client_id: str | None = None
    x_client_secret: str | None = field(default=None, repr=False)
    x_auth_url: str = "https://x.com/i/oauth2/authorize"
    x_api_url: str = "https://api.x.com"
    facebook_app_id: str | None = None
    facebook_app_secret: str | None = field(default=None, repr=False)
    facebook_auth_url: str = "https://www.facebook.com/v24.0/dialog/oauth"
    facebook_graph_url: str = "https://graph.facebook.com/v24.0"

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"TCMA_CONNECTORS_BACKEND must be one of {', '.join(BACKENDS)}, "
                             f"not {self.backend!r}")
        for name in ("timeout", "connect_timeout", "media_poll_interval", "media_wait"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"TCMA_CONNECTORS_{name.upper()} must be a number of seconds above 0, "
                                 f"not {value!r}")
        version = self.linkedin_version
        if not isinstance(version, str) or not LINKEDIN_VERSION.fullmatch(version):
            raise ValueError(f"TCMA_CONNECTORS_LINKEDIN_VERSION must be a LinkedIn API version, YYYYMM "
                             f"(or YYYYMM.RR), not {self.linkedin_version!r}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ConnectorSettings:
        """Settings from a config mapping keyed CONNECTORS_<FIELD> (TCMA_ prefix removed)."""
        keys = {f.name: f"CONNECTORS_{f.name.upper()}" for f in fields(cls)}
        return cls(**{name: config[key] for name, key in keys.items() if key in config})


_LIVE_CONNECTORS = {
    "linkedin": ("linkedin", "LinkedInConnector"), "x": ("x", "XConnector"),
    "facebook": ("facebook", "FacebookConnector"), "mastodon": ("mastodon", "MastodonConnector"),
    "bluesky": ("bluesky", "BlueskyConnector"), "webhook": ("webhook", "WebhookConnector"),
}


def build_connector(network: str, settings: ConnectorSettings, *, clock: Clock = utc_now) -> Connector:
    """The connector for `network` that the settings choose (dry-run for every network in the demo)."""
    if network not in NETWORKS:
        raise Unsupported(f"unknown network {network!r}; expected one of {', '.join(NETWORKS)}")
    if settings.backend == "dryrun":
        from .dryrun import DryRunConnector

        return DryRunConnector(network, folder=settings.dryrun_dir, clock=clock)
    module_name, class_name = _LIVE_CONNECTORS[network]
    kind = getattr(import_module(f".{module_name}", __name__), class_name)
    connector: Connector = kind(settings, clock=clock)
    return connector


__all__ = [
    "BACKENDS", "IMAGE_TYPES", "LIVE_NETWORKS", "METRIC_FIELDS", "Account", "AuthExpired", "Connector",
    "ConnectorError", "ConnectorSettings", "Post", "PostMetrics", "Published", "RateLimitState",
    "RateLimited", "RecentPost", "Rejected", "Temporary", "UnknownOutcome", "Unsupported", "build_connector",
    "check_image", "check_text", "find_published", "idempotency_key", "scrub", "utc_now",
]
