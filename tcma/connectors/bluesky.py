"""Bluesky (AT Protocol): an app-password session per account, blobs, and app.bsky.feed.post records."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import regex

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
from .transport import body_json, clip, iso_time, make_client, rate_limit_state, rate_limited_until, send

DEFAULT_PDS = "https://bsky.social"
POST_COLLECTION = "app.bsky.feed.post"
MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images
APP_URL = "https://bsky.app"
# The server does not detect links: each needs a facet. A link ends before trailing punctuation.
URL = regex.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,:;!?)\]]", regex.IGNORECASE)
TOKEN_ERRORS = {"ExpiredToken", "InvalidToken"}
GATEWAY_GAVE_UP = (502, 504)


@dataclass
class Session:
    """A createSession answer; tokens stay out of reprs."""

    did: str
    handle: str
    access_jwt: str = field(repr=False)
    refresh_jwt: str = field(repr=False)


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for every http(s) URL in text, indexed in UTF-8 bytes (start inclusive, end exclusive)."""
    facets = []
    for match in URL.finditer(text):
        start = len(text[:match.start()].encode("utf-8"))
        end = start + len(match.group().encode("utf-8"))
        facets.append({"index": {"byteStart": start, "byteEnd": end},
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group()}]})
    return facets


def atproto_time(moment: datetime) -> str:
    """A datetime as the AT Protocol writes it: UTC, milliseconds, trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def post_url(handle: str, uri: str) -> str:
    """The bsky.app address of a post record's at:// URI."""
    return f"{APP_URL}/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}"


class BlueskyConnector:
    """Publishes posts with a handle and app password (credentials: app_password), keeping one session each.

    createSession is limited to 30 per 5 minutes per account, so sessions are kept and refreshed.
    """

    network = "bluesky"

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.client = make_client(settings)
        self._sessions: dict[tuple[str, str], Session] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the HTTP connections and forget the sessions."""
        self.client.close()
        with self._lock:
            self._sessions.clear()

    def publish(self, account: Account, post: Post) -> Published:
        """Upload the image (if any) and create the post record with link facets."""
        check_text(self.network, post.text)
        check_image(self.network, post, MAX_IMAGE_BYTES)
        record: dict[str, Any] = {"$type": POST_COLLECTION, "text": post.text,
                                  "createdAt": atproto_time(self.clock())}
        if facets := link_facets(post.text):
            record["facets"] = facets
        if post.image is not None:
            record["embed"] = self._image_embed(account, post)
        session = self._session(account)
        response, state = self._call(account, "POST", "com.atproto.repo.createRecord", write=True,
                                     json={"repo": session.did, "collection": POST_COLLECTION,
                                           "record": record})
        uri = body_json(response).get("uri")
        if not isinstance(uri, str):
            raise Temporary(f"bluesky answered {response.status_code} without a record uri", rate_limit=state)
        return Published(uri, post_url(session.handle, uri), state)

    def verify(self, account: Account) -> tuple[str, str]:
        """Log in with the app password; return (handle, DID)."""
        session = self._login(account)
        return session.handle, session.did

    def recent_posts(self, account: Account, limit: int = 20) -> list[RecentPost]:
        """The repo's latest app.bsky.feed.post records, newest first, as stored."""
        session = self._session(account)
        response, _ = self._call(account, "GET", "com.atproto.repo.listRecords",
                                 params={"repo": session.did, "collection": POST_COLLECTION, "limit": limit})
        records = body_json(response).get("records") or []
        return [RecentPost(r["uri"], post_url(session.handle, r["uri"]), str(r["value"].get("text", "")),
                           iso_time(r["value"].get("createdAt")))
                for r in records if isinstance(r, dict) and "uri" in r and isinstance(r.get("value"), dict)]

    def reconcile(self, account: Account, post: Post, since: datetime | None = None) -> Published | None:
        """The post if the repo holds a record with its text (Bluesky has no idempotency key)."""
        return find_published(self.recent_posts(account), post, since)

    def metrics(self, account: Account, external_id: str) -> PostMetrics:
        """The post's likes, reposts and replies from app.bsky.feed.getPosts (the PDS asks the app view);
        Bluesky counts no views. A deleted post is left out of the answer: Rejected naming it."""
        if not isinstance(external_id, str) or not external_id.startswith("at://"):
            raise Rejected(f"bluesky post ids are at:// URIs, not {external_id!r}")
        response, state = self._call(account, "GET", "app.bsky.feed.getPosts", params={"uris": external_id})
        posts = body_json(response).get("posts")
        if not isinstance(posts, list):
            raise Temporary("bluesky answered getPosts without a list of posts", rate_limit=state)
        found = next((p for p in posts if isinstance(p, dict) and p.get("uri") == external_id), None)
        if found is None:
            raise Rejected(f"bluesky no longer has post {external_id} (getPosts did not return it)",
                           rate_limit=state)
        return PostMetrics.of(found.get("likeCount"), found.get("repostCount"), found.get("replyCount"),
                              rate_limit=state)

    def _image_embed(self, account: Account, post: Post) -> dict[str, Any]:
        response, state = self._call(account, "POST", "com.atproto.repo.uploadBlob", content=post.image,
                                     headers={"Content-Type": str(post.image_type)})
        blob = body_json(response).get("blob")
        if not isinstance(blob, dict):
            raise Temporary("bluesky answered uploadBlob without a blob", rate_limit=state)
        image: dict[str, Any] = {"alt": post.alt_text, "image": blob}
        if post.image_size:
            image["aspectRatio"] = {"width": post.image_size[0], "height": post.image_size[1]}
        return {"$type": "app.bsky.embed.images", "images": [image]}

    def _base(self, account: Account) -> str:
        return (account.base_url or DEFAULT_PDS).rstrip("/")

    def _session(self, account: Account) -> Session:
        with self._lock:
            session = self._sessions.get((self._base(account), account.handle))
        return session or self._login(account)

    def _keep(self, account: Account, session: Session | None) -> None:
        with self._lock:
            if session is None:
                self._sessions.pop((self._base(account), account.handle), None)
            else:
                self._sessions[(self._base(account), account.handle)] = session

    def _login(self, account: Account) -> Session:
        """createSession with the handle and app password."""
        password = account.credentials.get("app_password")
        if not isinstance(password, str) or not password:
            raise AuthExpired("bluesky account has no app_password")
        response = self._xrpc(account, "POST", "com.atproto.server.createSession", None,
                              json={"identifier": account.handle, "password": password})
        return self._accept_session(account, response)

    def _refresh(self, account: Account, session: Session) -> Session:
        """refreshSession with the refresh token; log in again when that one has expired too."""
        response = self._xrpc(account, "POST", "com.atproto.server.refreshSession", session.refresh_jwt)
        if response.status_code in (400, 401) and _error_name(response) in TOKEN_ERRORS:
            return self._login(account)
        return self._accept_session(account, response)

    def _accept_session(self, account: Account, response: httpx.Response) -> Session:
        if response.status_code != 200:
            self._raise_for(account, response, rate_limit_state(response.headers, "ratelimit-", "epoch"))
        data = body_json(response)
        if data.get("active") is False:
            raise AuthExpired(f"bluesky account is {data.get('status') or 'inactive'}")
        try:
            session = Session(data["did"], data.get("handle") or account.handle, data["accessJwt"],
                              data["refreshJwt"])
        except KeyError:
            raise Temporary("bluesky answered a session without its tokens") from None
        self._keep(account, session)
        return session

    def _xrpc(self, account: Account, method: str, nsid: str, token: str | None, *, write: bool = False,
              headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return send(self.client, account, method, f"{self._base(account)}/xrpc/{nsid}", write=write,
                    headers=headers, **kwargs)

    def _call(self, account: Account, method: str, nsid: str, *, write: bool = False,
              **kwargs: Any) -> tuple[httpx.Response, RateLimitState | None]:
        """An authenticated call: refreshed once on ExpiredToken, logged in again once on InvalidToken."""
        session = self._session(account)
        response = self._xrpc(account, method, nsid, session.access_jwt, write=write, **kwargs)
        if response.status_code in (400, 401) and _error_name(response) in TOKEN_ERRORS:
            # The token was refused before the record was written: sending again is safe.
            if _error_name(response) == "ExpiredToken":
                session = self._refresh(account, session)
            else:
                self._keep(account, None)
                session = self._login(account)
            response = self._xrpc(account, method, nsid, session.access_jwt, write=write, **kwargs)
        state = rate_limit_state(response.headers, "ratelimit-", "epoch")
        if response.status_code != 200:
            self._raise_for(account, response, state, write=write)
        return response, state

    def _raise_for(self, account: Account, response: httpx.Response, state: RateLimitState | None, *,
                   write: bool = False) -> None:
        code, data = response.status_code, body_json(response)
        name = str(data.get("error") or "")
        reason = clip(f"bluesky answered {code} {name}: {data.get('message') or response.text}", account)
        if write and code in GATEWAY_GAVE_UP:  # a proxy stopped waiting; the PDS may have written the record
            raise UnknownOutcome(reason, rate_limit=state)
        if code == 429 or name == "RateLimitExceeded":
            raise RateLimited(rate_limited_until(state, response.headers, self.clock()), reason,
                              rate_limit=state)
        if code == 401 or name in TOKEN_ERRORS or name in ("AccountTakedown", "AuthenticationRequired"):
            self._keep(account, None)
            raise AuthExpired(reason, rate_limit=state)
        if code in (408, 425) or code >= 500:
            raise Temporary(reason, rate_limit=state)
        raise Rejected(reason, rate_limit=state)


def _error_name(response: httpx.Response) -> str:
    return str(body_json(response).get("error") or "")
