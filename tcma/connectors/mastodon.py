"""Mastodon: statuses with an Idempotency-Key, media through /api/v2/media, limits read from the instance."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from . import (
    Account,
    AuthExpired,
    Clock,
    ConnectorSettings,
    Post,
    PostMetrics,
    Published,
    RateLimited,
    RateLimitState,
    RecentPost,
    Rejected,
    Temporary,
    check_image,
    check_text,
    find_published,
    utc_now,
)
from .transport import (
    body_json,
    body_list,
    clip,
    iso_time,
    make_client,
    path_id,
    rate_limit_state,
    rate_limited_until,
    send,
    short_body,
)

DEFAULT_MAX_CHARACTERS = 500
DEFAULT_IMAGE_SIZE_LIMIT = 16 * 1024 * 1024
INSTANCE_TTL = 3600.0  # seconds an instance's limits are trusted before being read again
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class InstanceRules:
    """What an instance allows: status length and image size."""

    max_characters: int
    image_size_limit: int


def status_text(content: str) -> str:
    """Plain text of a status's HTML content (line breaks kept, link ellipses undone)."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", content))).strip()


def _positive(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


class MastodonConnector:
    """Publishes statuses to the account's instance with a bearer token (credentials: access_token)."""

    network = "mastodon"

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.client = make_client(settings)
        self._instances: dict[str, tuple[float, InstanceRules]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def publish(self, account: Account, post: Post) -> Published:
        """Upload the image (if any), then post the status; a resend with the same key is not a duplicate."""
        rules = self.instance_rules(account)
        check_text(self.network, post.text, rules.max_characters)
        check_image(self.network, post, rules.image_size_limit)
        media_ids = [self._upload(account, post)] if post.image is not None else []
        response, state = self._call(
            account, "POST", "/api/v1/statuses", write=True,
            headers={"Idempotency-Key": post.idempotency_key},
            data={"status": post.text, "visibility": "public", "media_ids[]": media_ids})
        status = body_json(response)
        if "id" not in status:
            raise Temporary(f"mastodon answered {response.status_code} without a status", rate_limit=state)
        return Published(str(status["id"]), status.get("url"), state)

    def verify(self, account: Account) -> tuple[str, str]:
        """The token's account as (@user@instance, account id)."""
        profile = self.profile(account)
        return profile["handle"], profile["id"]

    def profile(self, account: Account) -> dict[str, str]:
        """The token's account: id, handle (@user@instance) and display_name."""
        response, _ = self._call(account, "GET", "/api/v1/accounts/verify_credentials")
        data = body_json(response)
        if "id" not in data:
            raise Temporary("mastodon answered verify_credentials without an account id")
        host = httpx.URL(self._base(account)).host
        return {"id": str(data["id"]), "handle": f"@{data.get('username') or data.get('acct')}@{host}",
                "display_name": str(data.get("display_name") or "")}

    def recent_posts(self, account: Account, limit: int = 20) -> list[RecentPost]:
        """The account's latest statuses, newest first, their HTML turned back into text."""
        account_id = account.external_id or self.verify(account)[1]
        response, _ = self._call(account, "GET", f"/api/v1/accounts/{account_id}/statuses",
                                 params={"limit": limit, "exclude_replies": "true",
                                         "exclude_reblogs": "true"})
        found = body_list(response)
        return [RecentPost(str(s["id"]), s.get("url"), status_text(s.get("content") or ""),
                           iso_time(s.get("created_at"))) for s in found if isinstance(s, dict) and "id" in s]

    def reconcile(self, account: Account, post: Post, since: datetime | None = None) -> Published | None:
        """The status if the account shows it; None otherwise (the Idempotency-Key also guards a resend)."""
        return find_published(self.recent_posts(account), post, since)

    def metrics(self, account: Account, external_id: str) -> PostMetrics:
        """The status's favourites, boosts and replies (GET /api/v1/statuses/:id); Mastodon counts no views.

        A deleted status answers 404: Rejected naming it.
        """
        response, state = self._call(account, "GET", f"/api/v1/statuses/{path_id(account, external_id)}",
                                     accept=(200, 404, 410))
        status = body_json(response)
        if response.status_code != 200:
            error = str(status.get("error") or short_body(response, account))
            raise Rejected(clip(f"mastodon no longer has status {external_id} "
                                f"(answered {response.status_code}: {error})", account), rate_limit=state)
        numbers = PostMetrics.of(status.get("favourites_count"), status.get("reblogs_count"),
                                 status.get("replies_count"), rate_limit=state)
        if not numbers.numbers():
            raise Temporary(f"mastodon answered status {external_id} without its counts", rate_limit=state)
        return numbers

    def instance_rules(self, account: Account) -> InstanceRules:
        """The instance's status length and image size, read from /api/v2/instance once an hour."""
        base = self._base(account)
        with self._lock:
            cached = self._instances.get(base)
        if cached and time.monotonic() - cached[0] < INSTANCE_TTL:
            return cached[1]
        response = send(self.client, account, "GET", f"{base}/api/v2/instance")
        if response.status_code == 404:  # before Mastodon 4.0: the documented defaults
            rules = InstanceRules(DEFAULT_MAX_CHARACTERS, DEFAULT_IMAGE_SIZE_LIMIT)
        else:
            self._raise_for(account, response, None)
            config = body_json(response).get("configuration") or {}
            statuses, media = config.get("statuses") or {}, config.get("media_attachments") or {}
            rules = InstanceRules(_positive(statuses.get("max_characters"), DEFAULT_MAX_CHARACTERS),
                                  _positive(media.get("image_size_limit"), DEFAULT_IMAGE_SIZE_LIMIT))
        with self._lock:
            self._instances[base] = (time.monotonic(), rules)
        return rules

    def _upload(self, account: Account, post: Post) -> str:
        """Upload the image and wait until the instance has processed it; return its media id."""
        assert post.image is not None and post.image_type is not None
        name = f"image.{EXTENSIONS.get(post.image_type, 'bin')}"
        response, state = self._call(account, "POST", "/api/v2/media", accept=(200, 202),
                                     files={"file": (name, post.image, post.image_type)},
                                     data={"description": post.alt_text} if post.alt_text else {})
        media_id = str(body_json(response).get("id") or "")
        if not media_id:
            raise Temporary("mastodon answered the media upload without an id", rate_limit=state)
        deadline = time.monotonic() + self.settings.media_wait
        while response.status_code != 200:
            if time.monotonic() >= deadline:
                raise Temporary(f"mastodon was still processing media {media_id} after "
                                f"{self.settings.media_wait:g}s", rate_limit=state)
            self.sleep(self.settings.media_poll_interval)
            response, state = self._call(account, "GET", f"/api/v1/media/{media_id}", accept=(200, 206))
        return media_id

    def _base(self, account: Account) -> str:
        return account.base_url.rstrip("/")

    def _call(self, account: Account, method: str, path: str, *, write: bool = False,
              accept: tuple[int, ...] = (200,), headers: dict[str, str] | None = None,
              **kwargs: Any) -> tuple[httpx.Response, RateLimitState | None]:
        """One authenticated call; raises the classified failure unless the status is in `accept`."""
        token = account.credentials.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthExpired("mastodon account has no access_token")
        response = send(self.client, account, method, f"{self._base(account)}{path}", write=write,
                        headers={**(headers or {}), "Authorization": f"Bearer {token}"}, **kwargs)
        state = rate_limit_state(response.headers, "x-ratelimit-", "iso")
        if response.status_code not in accept:
            self._raise_for(account, response, state)
        return response, state

    def _raise_for(self, account: Account, response: httpx.Response, state: RateLimitState | None) -> None:
        """Raise what a non-success answer means; return for a success."""
        code = response.status_code
        if code < 300:
            return
        error = str(body_json(response).get("error") or short_body(response, account))
        reason = f"mastodon answered {code}: {clip(error, account)}"
        if code == 429:
            raise RateLimited(rate_limited_until(state, response.headers, self.clock()), reason,
                              rate_limit=state)
        if code == 401 or (code == 403 and "login is currently disabled" in error):
            raise AuthExpired(reason, rate_limit=state)
        if code in (408, 425) or code >= 500 or "not finished processing" in error:
            raise Temporary(reason, rate_limit=state)
        raise Rejected(reason, rate_limit=state)

