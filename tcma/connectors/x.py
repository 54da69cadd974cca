"""X (API v2): posts with a user-context OAuth 2 token, images through the v2 media upload.

Every answer carries the 15-minute window (`x-rate-limit-*`); posting answers may also carry the
account's and the whole app's 24-hour caps (`x-user-limit-24hour-*`, `x-app-limit-24hour-*`). Access
tokens last two hours: an expired one answers 401 (AuthExpired) and the caller refreshes it with
`tcma.connectors.oauth` (the refresh token rotates; the connector never stores tokens).
"""

from __future__ import annotations

import html
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
    UnknownOutcome,
    check_image,
    check_text,
    find_published,
    utc_now,
)
from .transport import (
    body_json,
    clip,
    iso_time,
    make_client,
    path_id,
    rate_limit_state,
    rate_limited_until,
    send,
    short_body,
    tighter,
)

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # X's limit for images (GIFs may be larger elsewhere; not here)
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


@dataclass(frozen=True)
class Limits:
    """The rate limits one answer reported: the account's (tighter of window and 24 h) and the app's."""

    window: RateLimitState | None
    user_day: RateLimitState | None
    app_day: RateLimitState | None

    @property
    def account(self) -> RateLimitState | None:
        return tighter(self.window, self.user_day)

    @classmethod
    def of(cls, headers: httpx.Headers) -> Limits:
        return cls(rate_limit_state(headers, "x-rate-limit-", "epoch"),
                   rate_limit_state(headers, "x-user-limit-24hour-", "epoch"),
                   rate_limit_state(headers, "x-app-limit-24hour-", "epoch"))


def tweet_text(tweet: dict[str, Any]) -> str:
    """A post's text as it was written: X escapes &, < and > and shortens every link to t.co."""
    text = str((tweet.get("note_tweet") or {}).get("text") or tweet.get("text") or "")
    for link in (tweet.get("entities") or {}).get("urls") or []:
        if isinstance(link, dict) and link.get("url") and link.get("expanded_url"):
            text = text.replace(str(link["url"]), str(link["expanded_url"]))
    return html.unescape(text)


class XConnector:
    """Publishes posts with an OAuth 2 user token (credentials: access_token, refresh_token)."""

    network = "x"

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.client = make_client(settings)
        self.api = settings.x_api_url.rstrip("/")

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def publish(self, account: Account, post: Post) -> Published:
        """Upload the image (if any), then create the post; duplicate text is refused by X (Rejected)."""
        check_text(self.network, post.text)
        check_image(self.network, post, MAX_IMAGE_BYTES)
        body: dict[str, Any] = {"text": post.text}
        if post.image is not None:
            body["media"] = {"media_ids": [self._upload(account, post)]}
        response, limits = self._call(account, "POST", "/2/tweets", write=True, accept=(201,), json=body)
        tweet_id = (body_json(response).get("data") or {}).get("id")
        if not tweet_id:
            raise UnknownOutcome("x answered 201 without the post's id: the post may exist",
                                 rate_limit=limits.account, app_rate_limit=limits.app_day)
        return Published(str(tweet_id), self._url(account, str(tweet_id)), limits.account, limits.app_day)

    def verify(self, account: Account) -> tuple[str, str]:
        """The token's user as (@username, user id)."""
        user = self.me(account)
        return f"@{user['username']}", user["id"]

    def me(self, account: Account) -> dict[str, str]:
        """The token's user: id, username, name (GET /2/users/me)."""
        response, _ = self._call(account, "GET", "/2/users/me")
        data = body_json(response).get("data") or {}
        if not data.get("id") or not data.get("username"):
            raise Temporary("x answered /2/users/me without the user's id and username")
        return {"id": str(data["id"]), "username": str(data["username"]), "name": str(data.get("name") or "")}

    def recent_posts(self, account: Account, limit: int = 20) -> list[RecentPost]:
        """The user's latest posts (no replies or reposts), newest first, links expanded back."""
        user_id = account.external_id or self.me(account)["id"]
        response, _ = self._call(account, "GET", f"/2/users/{user_id}/tweets",
                                 params={"max_results": min(max(limit, 5), 100),
                                         "tweet.fields": "created_at,entities,note_tweet",
                                         "exclude": "replies,retweets"})
        tweets = body_json(response).get("data") or []
        return [RecentPost(str(t["id"]), self._url(account, str(t["id"])), tweet_text(t),
                           iso_time(t.get("created_at")))
                for t in tweets[:limit] if isinstance(t, dict) and t.get("id")]

    def reconcile(self, account: Account, post: Post, since: datetime | None = None) -> Published | None:
        """The post if the user's timeline shows it (X has no idempotency key)."""
        return find_published(self.recent_posts(account), post, since)

    def metrics(self, account: Account, external_id: str) -> PostMetrics:
        """The post's likes, reposts, replies and impressions (GET /2/tweets/:id, public_metrics).

        X answers a deleted (or no longer visible) post with 200 and only `errors`, or with 404:
        Rejected naming it. Quotes and bookmarks are not counted.
        """
        response, limits = self._call(account, "GET", f"/2/tweets/{path_id(account, external_id)}",
                                      accept=(200, 404), params={"tweet.fields": "public_metrics"})
        states = {"rate_limit": limits.account, "app_rate_limit": limits.app_day}
        data = body_json(response)
        tweet = data.get("data")
        if response.status_code == 404 or not isinstance(tweet, dict):
            errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
            if response.status_code == 200 and not errors:
                raise Temporary(f"x answered post {external_id} without the post or an error", **states)
            detail = "; ".join(str(e.get("detail") or e.get("title") or e) for e in errors) or \
                data.get("detail") or short_body(response, account)
            raise Rejected(clip(f"x no longer shows post {external_id} ({detail})", account), **states)
        counts = tweet.get("public_metrics")
        if not isinstance(counts, dict):
            raise Temporary(f"x answered post {external_id} without its public_metrics", **states)
        return PostMetrics.of(counts.get("like_count"), counts.get("retweet_count"),
                              counts.get("reply_count"), counts.get("impression_count"), **states)

    def _url(self, account: Account, tweet_id: str) -> str:
        return f"https://x.com/{account.handle.removeprefix('@') or 'i/web'}/status/{tweet_id}"

    def _upload(self, account: Account, post: Post) -> str:
        """Upload the image in one request, wait while X processes it, set its alt text; return its id."""
        assert post.image is not None and post.image_type is not None
        name = f"image.{EXTENSIONS.get(post.image_type, 'bin')}"
        response, _ = self._call(account, "POST", "/2/media/upload",
                                 files={"media": (name, post.image, post.image_type)},
                                 data={"media_category": "tweet_image", "media_type": post.image_type})
        media = body_json(response).get("data") or {}
        media_id = str(media.get("id") or "")
        if not media_id:
            raise Temporary("x answered the media upload without an id")
        deadline = time.monotonic() + self.settings.media_wait
        while (media.get("processing_info") or {}).get("state") in ("pending", "in_progress"):
            if time.monotonic() >= deadline:
                raise Temporary(f"x was still processing media {media_id} after "
                                f"{self.settings.media_wait:g}s")
            self.sleep(self.settings.media_poll_interval)
            response, _ = self._call(account, "GET", "/2/media/upload",
                                     params={"command": "STATUS", "media_id": media_id})
            media = body_json(response).get("data") or {}
        info = media.get("processing_info") or {}
        if info.get("state") == "failed":
            error = info.get("error") or {}
            raise Rejected(clip(f"x could not process the image: {error.get('message') or error}", account))
        if post.alt_text:
            self._call(account, "POST", "/2/media/metadata",
                       json={"id": media_id, "metadata": {"alt_text": {"text": post.alt_text[:1000]}}})
        return media_id

    def _call(self, account: Account, method: str, path: str, *, write: bool = False,
              accept: tuple[int, ...] = (200,), **kwargs: Any) -> tuple[httpx.Response, Limits]:
        """One authenticated call; raises the classified failure unless the status is in `accept`."""
        token = account.credentials.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthExpired("x account has no access_token")
        response = send(self.client, account, method, f"{self.api}{path}", write=write,
                        headers={"Authorization": f"Bearer {token}"}, **kwargs)
        limits = Limits.of(response.headers)
        if response.status_code not in accept:
            self._raise_for(account, response, limits, write=write)
        return response, limits

    def _raise_for(self, account: Account, response: httpx.Response, limits: Limits, *, write: bool) -> None:
        code, data = response.status_code, body_json(response)
        errors = [str(e.get("message")) for e in data.get("errors") or [] if isinstance(e, dict)
                  and e.get("message")]
        detail = data.get("detail") or "; ".join(errors) or data.get("title") or short_body(response, account)
        reason = clip(f"x answered {code}: {detail}", account)
        states = {"rate_limit": limits.account, "app_rate_limit": limits.app_day}
        if write and code == 504:  # a gateway stopped waiting; X may have made the post
            raise UnknownOutcome(reason, **states)
        if code == 429:
            now = self.clock()
            if limits.app_day and limits.app_day.exhausted:  # the app's 24-hour cap: every account waits
                raise RateLimited(rate_limited_until(limits.app_day, response.headers, now), reason,
                                  app_wide=True, **states)
            state = limits.user_day if limits.user_day and limits.user_day.exhausted else limits.window
            raise RateLimited(rate_limited_until(state, response.headers, now), reason, **states)
        if code == 401:
            raise AuthExpired(reason, **states)
        if code in (408, 425) or code >= 500:
            raise Temporary(reason, **states)
        raise Rejected(reason, **states)  # 403 duplicate content among them: never sent again
