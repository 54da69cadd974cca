"""Facebook Pages (Graph API): feed posts and photo posts with a Page access token.

Tokens go in the Authorization header, never in a URL (httpx logs URLs). Graph reports usage in
percent: `X-App-Usage` for the whole app, `X-Business-Use-Case-Usage` (and `X-Page-Usage`) for the
Page; errors come in an envelope whose `code` says what happened: 4 and 17 the app is throttled
(every account waits), 32, 613 and 80000-80014 the Page is, 190 the token is dead.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
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
from .transport import body_json, clip, iso_time, make_client, path_id, send, short_body, tighter

MAX_IMAGE_BYTES = 4 * 1024 * 1024  # Graph's limit for photos
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
APP_THROTTLE_CODES = frozenset({4, 17})  # application / user request limit: the whole app waits
PAGE_THROTTLE_CODES = frozenset({32, 613, *range(80000, 80015)})  # Page and business-use-case limits
TOKEN_CODES = frozenset({102, 190})  # session key invalid, access token invalid or expired
TRANSIENT_CODES = frozenset({1, 2})  # unknown error, service temporarily unavailable
THROTTLE_BACKOFF = timedelta(hours=1)  # Graph's windows roll over an hour; it rarely says when
USAGE_FIELDS = ("call_count", "total_time", "total_cputime")
PAGE_FIELDS = "id,name,username"
# A post's numbers: reactions of every kind, shares, comments; summaries only (limit(0): no lists).
# Impressions need the Page insights (read_insights), which tcma does not ask for.
METRICS_QUERY = "reactions.summary(total_count).limit(0),shares,comments.summary(total_count).limit(0)"


def post_url(post_id: str) -> str:
    """The public address of a Page post (`{page-id}_{post-id}`)."""
    return f"https://www.facebook.com/{post_id}"


def _percent(entry: Any) -> float | None:
    if not isinstance(entry, dict):
        return None
    values = [v for v in (entry.get(f) for f in USAGE_FIELDS) if isinstance(v, int | float)
              and not isinstance(v, bool)]
    return max(values) if values else None


def _usage(percent: float, reset: datetime | None = None) -> RateLimitState:
    return RateLimitState(limit=100, remaining=max(0, 100 - int(percent)), reset=reset)


def _header_json(headers: httpx.Headers, name: str) -> Any:
    try:
        return json.loads(headers.get(name) or "null")
    except ValueError:
        return None


def app_usage(headers: httpx.Headers) -> RateLimitState | None:
    """The app's usage from X-App-Usage, as calls left out of 100 (percent)."""
    percent = _percent(_header_json(headers, "x-app-usage"))
    return None if percent is None else _usage(percent)


def page_usage(headers: httpx.Headers, page_id: str | None, now: datetime) -> RateLimitState | None:
    """The Page's usage from X-Business-Use-Case-Usage and X-Page-Usage (percent); reset when Graph
    says how many minutes are left before access comes back."""
    state = None
    percent = _percent(_header_json(headers, "x-page-usage"))
    if percent is not None:
        state = _usage(percent)
    business = _header_json(headers, "x-business-use-case-usage")
    if isinstance(business, dict):
        entries = business.get(page_id) if page_id in business else \
            [e for value in business.values() if isinstance(value, list) for e in value]
        for entry in entries if isinstance(entries, list) else []:
            percent = _percent(entry)
            if percent is None:
                continue
            minutes = entry.get("estimated_time_to_regain_access")
            wait = minutes if isinstance(minutes, int | float) and not isinstance(minutes, bool) else 0
            state = tighter(state, _usage(percent, now + timedelta(minutes=wait) if wait > 0 else None))
    return state


class FacebookConnector:
    """Publishes to a Page with its Page access token (credentials: access_token; external_id: Page id).

    A Page token obtained from a long-lived user token does not expire; it dies when the person loses
    the Page role, changes password or removes the app (then code 190: AuthExpired).
    """

    network = "facebook"

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.client = make_client(settings)
        self.graph = settings.facebook_graph_url.rstrip("/")

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def publish(self, account: Account, post: Post) -> Published:
        """A photo post (the text as its message) when there is an image, else a feed post."""
        check_text(self.network, post.text)
        check_image(self.network, post, MAX_IMAGE_BYTES)
        page_id = self._page_id(account)
        if post.image is not None:
            assert post.image_type is not None
            form = {"message": post.text, "published": "true"}
            if post.alt_text:
                form["alt_text_custom"] = post.alt_text
            name = f"image.{EXTENSIONS.get(post.image_type, 'bin')}"
            response, limits = self._call(account, "POST", f"/{page_id}/photos", write=True, data=form,
                                          files={"source": (name, post.image, post.image_type)})
            post_id = body_json(response).get("post_id")
        else:
            response, limits = self._call(account, "POST", f"/{page_id}/feed", write=True,
                                          data={"message": post.text})
            post_id = body_json(response).get("id")
        if not post_id:
            raise UnknownOutcome(f"facebook answered {response.status_code} without the post's id: "
                                 "the post may exist", rate_limit=limits[0], app_rate_limit=limits[1])
        return Published(str(post_id), post_url(str(post_id)), *limits)

    def verify(self, account: Account) -> tuple[str, str]:
        """The Page as (username, else name; Page id)."""
        page = self.page(account)
        return page["username"] or page["name"], page["id"]

    def page(self, account: Account) -> dict[str, str]:
        """The account's Page: id, name, username ("" when it has none)."""
        response, _ = self._call(account, "GET", f"/{self._page_id(account)}", params={"fields": PAGE_FIELDS})
        data = body_json(response)
        return {"id": str(data.get("id") or self._page_id(account)), "name": str(data.get("name") or ""),
                "username": str(data.get("username") or "")}

    def recent_posts(self, account: Account, limit: int = 20) -> list[RecentPost]:
        """The Page's latest posts (photo posts included), newest first."""
        response, _ = self._call(account, "GET", f"/{self._page_id(account)}/posts",
                                 params={"fields": "id,message,created_time,permalink_url",
                                         "limit": min(limit, 100)})
        return [RecentPost(str(p["id"]), p.get("permalink_url") or post_url(str(p["id"])),
                           str(p.get("message") or ""), iso_time(p.get("created_time")))
                for p in body_json(response).get("data") or [] if isinstance(p, dict) and p.get("id")]

    def reconcile(self, account: Account, post: Post, since: datetime | None = None) -> Published | None:
        """The post if the Page's feed shows it (Graph has no idempotency key)."""
        return find_published(self.recent_posts(account), post, since)

    def metrics(self, account: Account, external_id: str) -> PostMetrics:
        """The post's reactions (every kind), shares and comments; Graph gives no impressions without
        insights. A deleted post answers code 100 (subcode 33): Rejected naming it."""
        try:
            response, limits = self._call(account, "GET", f"/{path_id(account, external_id)}",
                                          params={"fields": METRICS_QUERY})
        except Rejected as exc:
            reason = clip(f"facebook no longer shows post {external_id} to the Page ({exc.reason})", account,
                          500)
            raise Rejected(reason, rate_limit=exc.rate_limit, app_rate_limit=exc.app_rate_limit) from None
        data = body_json(response)

        def total(name: str) -> Any:
            found = data.get(name)
            return (found.get("summary") or {}).get("total_count") if isinstance(found, dict) else None

        shares = data.get("shares")
        # Graph leaves `shares` out of the answer while a post has none.
        reposts = shares.get("count") if isinstance(shares, dict) else 0 if "id" in data else None
        numbers = PostMetrics.of(total("reactions"), reposts, total("comments"), rate_limit=limits[0],
                                 app_rate_limit=limits[1])
        if numbers.likes is None or numbers.replies is None:
            raise Temporary(f"facebook answered post {external_id} without its reaction and comment "
                            "summaries", rate_limit=limits[0], app_rate_limit=limits[1])
        return numbers

    def user_get(self, account: Account, path: str, **params: Any) -> dict[str, Any]:
        """A read with a user access token (connecting: /me, /me/permissions, /me/accounts)."""
        response, _ = self._call(account, "GET", path, params=params)
        return body_json(response)

    def _page_id(self, account: Account) -> str:
        if not account.external_id:
            raise Rejected("facebook account has no Page id (external_id)")
        return account.external_id

    def _call(self, account: Account, method: str, path: str, *, write: bool = False, **kwargs: Any
              ) -> tuple[httpx.Response, tuple[RateLimitState | None, RateLimitState | None]]:
        """A call with the account's token: (response, (Page usage, app usage)), or the classified failure."""
        token = account.credentials.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthExpired("facebook account has no access_token")
        response = send(self.client, account, method, f"{self.graph}{path}", write=write,
                        headers={"Authorization": f"Bearer {token}"}, **kwargs)
        limits = (page_usage(response.headers, account.external_id, self.clock()),
                  app_usage(response.headers))
        if response.status_code != 200:
            self._raise_for(account, response, limits, write=write)
        return response, limits

    def _raise_for(self, account: Account, response: httpx.Response,
                   limits: tuple[RateLimitState | None, RateLimitState | None], *, write: bool) -> None:
        status, error = response.status_code, body_json(response).get("error")
        error = error if isinstance(error, dict) else {}
        code, subcode = error.get("code"), error.get("error_subcode")
        codes = f" (code {code}{f'/{subcode}' if subcode else ''})" if code else ""
        message = str(error.get("message") or short_body(response, account))
        reason = clip(f"facebook answered {status}{codes}: {message}", account)
        states = {"rate_limit": limits[0], "app_rate_limit": limits[1]}
        if write and status == 504:  # a gateway stopped waiting; Graph may have made the post
            raise UnknownOutcome(reason, **states)
        if code in APP_THROTTLE_CODES or code in PAGE_THROTTLE_CODES or status == 429:
            app_wide = code in APP_THROTTLE_CODES
            now, state = self.clock(), limits[1] if app_wide else limits[0]
            until = state.reset if state and state.reset and state.reset > now else now + THROTTLE_BACKOFF
            raise RateLimited(until, reason, app_wide=app_wide, **states)
        if code in TOKEN_CODES or status == 401:
            raise AuthExpired(reason, **states)
        if code in TRANSIENT_CODES or error.get("is_transient") is True or status in (408, 425) \
                or status >= 500:
            raise Temporary(reason, **states)
        raise Rejected(reason, **states)
