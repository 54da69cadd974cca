"""Fake LinkedIn, X and Facebook on loopback: each serves its OAuth endpoints and its API on one port.

Start one with `serve` (from `tests.support.fake_networks`) and point tcma at it: `fake.settings()` gives
the `ConnectorSettings` fields (`ConnectorSettings(**fake.settings())`), `fake.config()` the same as
app config keys (`CONNECTORS_X_CLIENT_ID`, ... for `create_app`/`base_config`).

Driving a connection end to end (what the API tests do):

    with serve(FakeX()) as fake:
        app = create_app(base_config(tmp_path, CONNECTORS_BACKEND="live", **fake.config()))
        consent_url = ...  # tcma's answer: a 302 to the fake's consent page (or the URL it returns)
        back = follow_consent(consent_url)  # {"code": ..., "state": ...}, as if the partner approved
        client.get(f"/api/v1/social-accounts/callback/x?code={back['code']}&state={back['state']}")

`follow_consent` (from `tests.support.fake_networks`) GETs the consent page without following the
redirect and returns the query the fake sends back. Set `fake.deny = True` first to have the partner
refuse: the answer is then {"error": "access_denied", "error_description": ..., "state": ...}.
The consent page checks client_id, redirect_uri (any http(s) URI unless `fake.oauth.redirect_uris`
lists the registered ones), response_type, state, the scopes the connector needs (missing ones answer
error=invalid_scope) and, for X, an S256 PKCE challenge; the token endpoint checks the app's
credentials, the code (spent once), redirect_uri and the PKCE verifier.

What the tests can read (class constants):

- FakeLinkedIn: CLIENT_ID "li-client-78kq2n", CLIENT_SECRET "li-secret-Wq4pZt8rX1vB", MEMBER_ID
  "8rJt2KqWxY", MEMBER_URN "urn:li:person:8rJt2KqWxY", MEMBER_NAME "Ada Partner", ORGANIZATION_ID
  "2414183", ORGANIZATION_URN "urn:li:organization:2414183", ORGANIZATION_NAME "Acme Outdoor",
  ORGANIZATION_VANITY "acme-outdoor" (the member administers it; they are only an analyst of
  OTHER_ORGANIZATION_URN "urn:li:organization:5515715", which is no grant). A consent connects two
  accounts: the member (handle MEMBER_NAME, external_id MEMBER_URN) and the organization (handle
  ORGANIZATION_VANITY, external_id ORGANIZATION_URN). ACTIVE_VERSIONS are the Linkedin-Version values
  it serves (426 NONEXISTENT_VERSION for others). `refresh_tokens = False` stops issuing refresh tokens.
- FakeX: CLIENT_ID "x-client-Rg9n6402A3db", CLIENT_SECRET "x-secret-Vt8qLm2zKp5wRj7n", USER_ID
  "1587216400137162752", USERNAME "acme_outdoor", NAME "Acme Outdoor" (handle "@acme_outdoor");
  tokens last ACCESS_TTL 7200 s, refresh tokens rotate (a used one answers invalid_request).
- FakeFacebook: APP_ID "1234567890123456", APP_SECRET "fb-secret-3c9d2e7f1a8b4c6d", USER_ID
  "10160123456789012", USER_NAME "Ada Partner", PAGE_ID "104815924761239", PAGE_NAME "Acme Outdoor",
  PAGE_USERNAME "acmeoutdoor", SECOND_PAGE_ID "104815924761240", SECOND_PAGE_NAME "Acme Outlet" (no
  username), ANALYST_PAGE_ID "104815924761241" (the person may only analyse it: no grant). A consent
  connects two Pages: (handle PAGE_USERNAME, external_id PAGE_ID) and (SECOND_PAGE_NAME,
  SECOND_PAGE_ID). `declined` lists permissions the person unticks on the consent page.

Every fake: `deny`, `oauth` (the `OAuthServer`: its `expire_access_tokens()` and `revoke_all()` make the
API answer as the network does for a dead token: LinkedIn 401 EXPIRED_ACCESS_TOKEN or
REVOKED_ACCESS_TOKEN, X 401, Facebook 190 with subcode 463 or 458), `issue_token()` for a working token
without the consent step, `fail_next`/`slow_next` for scripted answers and answers past the timeout.

A published post's numbers (`set_metrics(post_id, likes=, reposts=, replies=, impressions=)`, 0 until set;
`delete_post(post_id)` deletes it):
- FakeLinkedIn: GET /rest/socialMetadata/{URN, encoded} -> reactionSummaries {"LIKE": likes} and
  commentSummary {"count": replies}; a page's post needs r_organization_social, a member's post
  r_member_social (`member_posts_readable`), else 403 ACCESS_DENIED; a deleted post 404 NOT_FOUND.
- FakeX: GET /2/tweets/:id?tweet.fields=public_metrics -> like, retweet, reply and impression counts;
  a deleted post answers 200 with only `errors` (Not Found Error), as X does.
- FakeFacebook: GET /{post-id}?fields=reactions.summary(total_count),shares,comments.summary(total_count)
  -> the summaries (`shares` left out while 0); a deleted post 400 code 100 subcode 33.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from renderers import post_length
from tests.support.fake_networks import (
    FakeNetwork,
    IssuedCode,
    IssuedToken,
    OAuthServer,
    follow_consent,
    serve,
)

__all__ = ["FakeFacebook", "FakeLinkedIn", "FakeX", "follow_consent", "serve"]

URL = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,:;!?)\]]")


class FakeLinkedIn(FakeNetwork):
    """LinkedIn's OAuth (www.linkedin.com/oauth/v2) and its versioned REST API (api.linkedin.com)."""

    CLIENT_ID = "li-client-78kq2n"
    CLIENT_SECRET = "li-secret-Wq4pZt8rX1vB"
    MEMBER_ID = "8rJt2KqWxY"
    MEMBER_URN = "urn:li:person:8rJt2KqWxY"
    MEMBER_NAME = "Ada Partner"
    ORGANIZATION_ID = "2414183"
    ORGANIZATION_URN = "urn:li:organization:2414183"
    ORGANIZATION_NAME = "Acme Outdoor"
    ORGANIZATION_VANITY = "acme-outdoor"
    OTHER_ORGANIZATION_URN = "urn:li:organization:5515715"
    ACTIVE_VERSIONS = ("202601", "202604", "202607", "202610")
    ACCESS_TTL = 5_184_000  # 60 days
    RESERVED = frozenset("\\|{}@[]()<>#*_~")

    def __init__(self) -> None:
        super().__init__()
        self.oauth = OAuthServer(clients={self.CLIENT_ID: self.CLIENT_SECRET}, prefix="linkedin",
                                 client_auth="post", required_scopes=("openid", "profile", "w_member_social"),
                                 access_ttl=self.ACCESS_TTL, subject=self.MEMBER_ID)
        self.posts: list[dict[str, Any]] = []
        self.images: dict[str, dict[str, Any]] = {}
        self.member_posts_readable = False  # r_member_social: LinkedIn grants it to few apps

    @property
    def deny(self) -> bool:
        return self.oauth.deny

    @deny.setter
    def deny(self, value: bool) -> None:
        self.oauth.deny = value

    @property
    def refresh_tokens(self) -> bool:
        """Programmatic refresh tokens (only for apps LinkedIn approved): on by default here."""
        return self.oauth.refresh_tokens

    @refresh_tokens.setter
    def refresh_tokens(self, value: bool) -> None:
        self.oauth.refresh_tokens = value

    def settings(self) -> dict[str, str]:
        return {"linkedin_client_id": self.CLIENT_ID, "linkedin_client_secret": self.CLIENT_SECRET,
                "linkedin_auth_url": f"{self.base_url}/oauth/v2", "linkedin_api_url": self.base_url}

    def config(self) -> dict[str, str]:
        return {f"CONNECTORS_{key.upper()}": value for key, value in self.settings().items()}

    def issue_token(self, scopes: tuple[str, ...] = ("openid", "profile", "w_member_social",
                                                     "w_organization_social", "r_organization_social",
                                                     "r_organization_admin")) -> str:
        """A working access token for the member, as a finished consent would give."""
        return str(self.oauth.issue(self.CLIENT_ID, self.MEMBER_ID, list(scopes))["access_token"])

    def error(self, status: int, code: str | None, message: str, service_code: int | None = None) -> Response:
        body: dict[str, Any] = {"status": status, "message": message}
        if code:
            body["code"] = code
        if service_code:
            body["serviceErrorCode"] = service_code
        return self.json(body, status)

    def answer(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/oauth/v2/authorization" and method == "GET":
            return self.oauth.consent(request, lambda status, message: self.json({"error": message}, status))
        if path == "/oauth/v2/accessToken" and method == "POST":
            return self.token(request)
        if path == "/oauth/v2/revoke" and method == "POST":
            if self.oauth.client(request) is None:
                return self.client_refused()
            self.oauth.revoke(request.form.get("token", ""))
            return Response("", 200)
        state, token = self.oauth.bearer(request)
        if state == "expired":
            return self.error(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65601)
        if state == "revoked":
            return self.error(401, "REVOKED_ACCESS_TOKEN",
                              "The token used in the request has been revoked by the user", 65601)
        if token is None:
            return self.error(401, None, "Invalid access token", 65600)
        if path == "/v2/userinfo" and method == "GET":
            return self.json({"sub": self.MEMBER_ID, "name": self.MEMBER_NAME, "given_name": "Ada",
                              "family_name": "Partner", "locale": {"country": "US", "language": "en"}})
        if path.startswith("/dms-uploads/") and method == "PUT":
            return self.upload(request, path.removeprefix("/dms-uploads/"))
        if not path.startswith("/rest/"):
            return self.error(404, "NOT_FOUND", f"fake: no resource {path}")
        version = request.headers.get("Linkedin-Version")
        if not version:
            return self.error(400, "VERSION_MISSING", "A version must be present. Please specify a "
                              "version by adding the LinkedIn-Version header.")
        if version not in self.ACTIVE_VERSIONS:
            return self.error(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active")
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return self.error(400, None, "fake: X-Restli-Protocol-Version: 2.0.0 is required")
        if path == "/rest/organizationAcls" and method == "GET":
            return self.organization_acls(request, token)
        if path.startswith("/rest/organizations/") and method == "GET":
            return self.organization(path.removeprefix("/rest/organizations/"))
        if path == "/rest/images" and method == "POST" and request.args.get("action") == "initializeUpload":
            return self.initialize_upload(request)
        if path == "/rest/posts" and method == "POST":
            return self.create_post(request)
        if path == "/rest/posts" and method == "GET":
            return self.find_posts(request)
        if path.startswith("/rest/socialMetadata/") and method == "GET":
            return self.social_metadata(request, token)
        return self.error(404, "NOT_FOUND", f"fake: no resource {method} {path}")

    def token(self, request: Request) -> Response:
        error, issued = self.oauth.exchange(request)
        if error == "invalid_client":
            return self.client_refused()
        if error:
            return self.json({"error": error, "error_description": (
                "Unable to retrieve access token: appid/redirect uri/code verifier does not match "
                "authorization code. Or authorization code expired. Or external member binding exists")}, 400)
        assert issued is not None
        answer = self.oauth.issue(issued.client_id, issued.subject, issued.scopes,
                                  refresh=request.form.get("refresh_token"))
        if "refresh_token" in answer:
            answer["refresh_token_expires_in"] = 31_536_000
        answer["scope"] = ",".join(issued.scopes)
        if isinstance(issued, IssuedCode) and "openid" in issued.scopes:
            answer["id_token"] = "eyJfake.id.token"
        return self.json(answer)

    def client_refused(self) -> Response:
        return self.json({"error": "invalid_client", "error_description": "Client authentication failed"},
                         401)

    def admin_of(self, token: IssuedToken) -> list[str]:
        """The organizations the token may post for (needs w_organization_social)."""
        return [self.ORGANIZATION_URN] if "w_organization_social" in token.scopes else []

    def organization_acls(self, request: Request, token: IssuedToken) -> Response:
        if "r_organization_admin" not in token.scopes:
            return self.error(403, "ACCESS_DENIED", "Not enough permissions to access: "
                              "organizationAcls.FINDER-roleAssignee.20260101", 100)
        if request.args.get("q") != "roleAssignee":
            return self.error(400, None, "fake: q=roleAssignee expected")
        elements = [{"roleAssignee": self.MEMBER_URN, "state": "APPROVED", "role": "ADMINISTRATOR",
                     "organization": self.ORGANIZATION_URN},
                    {"roleAssignee": self.MEMBER_URN, "state": "APPROVED", "role": "ANALYST",
                     "organization": self.OTHER_ORGANIZATION_URN}]
        return self.json({"elements": elements, "paging": {"count": 10, "start": 0, "links": []}})

    def organization(self, organization_id: str) -> Response:
        if organization_id != self.ORGANIZATION_ID:
            return self.error(404, "NOT_FOUND", f"Organization {organization_id} not found")
        return self.json({"id": int(organization_id), "localizedName": self.ORGANIZATION_NAME,
                          "vanityName": self.ORGANIZATION_VANITY})

    def authors(self, request: Request) -> list[str]:
        _, token = self.oauth.bearer(request)
        assert token is not None
        return [self.MEMBER_URN, *self.admin_of(token)]

    def initialize_upload(self, request: Request) -> Response:
        owner = ((request.get_json(silent=True) or {}).get("initializeUploadRequest") or {}).get("owner")
        if owner not in self.authors(request):
            return self.error(403, "ACCESS_DENIED", f"fake: the token may not upload for {owner!r}", 100)
        image_id = f"D4E10AQ{next(self.ids):08d}"
        self.images[image_id] = {"owner": owner, "status": "WAITING_UPLOAD", "size": 0}
        upload_url = f"{self.base_url}/dms-uploads/{image_id}?ca=vector_feedshare"
        return self.json({"value": {"uploadUrlExpiresAt": int(time.time() * 1000) + 3_600_000,
                                    "uploadUrl": upload_url, "image": f"urn:li:image:{image_id}"}})

    def upload(self, request: Request, image_id: str) -> Response:
        image = self.images.get(image_id)
        if image is None:
            return self.error(404, "NOT_FOUND", "fake: no such upload")
        data = request.get_data()
        if not data:
            return self.error(400, None, "fake: empty upload")
        image.update(status="AVAILABLE", size=len(data), type=request.headers.get("Content-Type"))
        return Response("", 201)

    def rendered(self, commentary: str) -> str:
        """What LinkedIn shows for a little-text commentary: escapes undone, cut at an unescaped reserved
        character (as LinkedIn drops the rest of the text)."""
        shown, escaped = [], False
        for char in commentary:
            if escaped:
                shown.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char in self.RESERVED:
                break
            else:
                shown.append(char)
        return "".join(shown)

    def create_post(self, request: Request) -> Response:
        if request.mimetype != "application/json":
            return self.error(415, None, "fake: Content-Type application/json required")
        body = request.get_json(silent=True) or {}
        author = body.get("author")
        if author not in self.authors(request):
            return self.error(403, "ACCESS_DENIED", "Not enough permissions to access: "
                              "partnerApiPostsExternal.CREATE.20260101", 100)
        distribution = body.get("distribution") or {}
        expected = (body.get("visibility"), distribution.get("feedDistribution"), body.get("lifecycleState"))
        if not isinstance(body.get("commentary"), str) or expected != ("PUBLIC", "MAIN_FEED", "PUBLISHED"):
            return self.error(422, "UNPROCESSABLE_ENTITY", "fake: commentary, visibility PUBLIC, "
                              "distribution MAIN_FEED and lifecycleState PUBLISHED are required")
        media = ((body.get("content") or {}).get("media") or {})
        if media:
            image = self.images.get(str(media.get("id", "")).removeprefix("urn:li:image:"))
            if image is None or image["status"] != "AVAILABLE" or image["owner"] != author:
                return self.error(400, "INVALID_CONTENT", f"Image {media.get('id')} is not AVAILABLE")
        text = self.rendered(body["commentary"])
        for post in self.posts:
            if post["author"] == author and post["text"] == text:
                return self.error(422, "DUPLICATE_POST", f"Content is a duplicate of {post['id']}")
        urn = f"urn:li:share:{7_100_000_000_000_000_000 + next(self.ids)}"
        self.posts.append({"id": urn, "author": author, "commentary": body["commentary"], "text": text,
                           "media": media or None, "createdAt": int(time.time() * 1000)})
        return Response("", 201, headers={"x-restli-id": urn, "x-linkedin-id": urn.rsplit(":", 1)[-1]})

    def find_posts(self, request: Request) -> Response:
        raw = request.query_string.decode("ascii")
        if request.args.get("q") != "author" or "author=urn%3Ali%3A" not in raw:
            return self.error(400, None, "Syntax exception in query parameter author: encode the URN")
        author = unquote(re.search(r"author=([^&]*)", raw).group(1))  # type: ignore[union-attr]
        if author == self.MEMBER_URN and not self.member_posts_readable:
            return self.error(403, "ACCESS_DENIED", "Not enough permissions to access: "
                              "partnerApiPostsExternal.FINDER-author.20260101", 100)
        if author not in self.authors(request):
            return self.error(403, "ACCESS_DENIED", "Not enough permissions to access these posts", 100)
        count = int(request.args.get("count", 10))
        mine = [p for p in reversed(self.posts) if p["author"] == author][:count]
        elements = [{"id": p["id"], "author": author, "commentary": p["commentary"], "visibility": "PUBLIC",
                     "lifecycleState": "PUBLISHED", "createdAt": p["createdAt"],
                     "publishedAt": p["createdAt"]} for p in mine]
        return self.json({"elements": elements, "paging": {"start": 0, "count": count, "links": []}})


    def social_metadata(self, request: Request, token: IssuedToken) -> Response:
        """GET /rest/socialMetadata/{URN}: the post's reactions by type and its comments."""
        raw = str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or "")
        if "/rest/socialMetadata/urn%3Ali%3A" not in raw:
            return self.error(400, None, "Syntax exception in path variables: encode the URN")
        urn = request.path.removeprefix("/rest/socialMetadata/")
        post = next((p for p in self.posts if p["id"] == urn), None)
        if post is None:
            return self.error(404, "NOT_FOUND", f"Not found: {urn}")
        member_post = post["author"] == self.MEMBER_URN
        if (member_post and not self.member_posts_readable) or (
                not member_post and "r_organization_social" not in token.scopes):
            return self.error(403, "ACCESS_DENIED", "Not enough permissions to access: "
                              "socialMetadata.GET.20260101", 100)
        numbers = self.metrics_of(urn)
        reactions = {"LIKE": {"reactionType": "LIKE", "count": numbers["likes"]}} if numbers["likes"] else {}
        comments = {"count": numbers["replies"], "topLevelCount": numbers["replies"]}
        return self.json({"entity": urn, "reactionSummaries": reactions, "commentsState": "OPEN",
                          "commentSummary": comments})

    def delete_post(self, urn: str) -> None:
        """The post is deleted: socialMetadata answers 404."""
        self.posts = [p for p in self.posts if p["id"] != urn]


def _tco(url: str) -> str:
    return "https://t.co/" + base64.urlsafe_b64encode(hashlib.sha256(url.encode()).digest())[:10].decode()


class FakeX(FakeNetwork):
    """X's OAuth 2 (x.com/i/oauth2/authorize, api.x.com/2/oauth2/*) and API v2 for one user."""

    CLIENT_ID = "x-client-Rg9n6402A3db"
    CLIENT_SECRET = "x-secret-Vt8qLm2zKp5wRj7n"
    USER_ID = "1587216400137162752"
    USERNAME = "acme_outdoor"
    NAME = "Acme Outdoor"
    ACCESS_TTL = 7200
    SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")

    def __init__(self, processing_polls: int = 0) -> None:
        super().__init__()
        self.oauth = OAuthServer(clients={self.CLIENT_ID: self.CLIENT_SECRET}, prefix="x",
                                 client_auth="basic", pkce=True,
                                 required_scopes=("tweet.read", "tweet.write", "users.read"),
                                 access_ttl=self.ACCESS_TTL, rotate=True, subject=self.USER_ID)
        self.processing_polls = processing_polls
        self.fail_processing = False
        self.tweets: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.windows: dict[str, int] = {}  # endpoint -> calls left in the 15-minute window
        self.user_day_remaining = 100
        self.app_day_remaining = 10_000
        self.tweet_ids = itertools.count(1_880_000_000_000_000_000)

    @property
    def deny(self) -> bool:
        return self.oauth.deny

    @deny.setter
    def deny(self, value: bool) -> None:
        self.oauth.deny = value

    def settings(self) -> dict[str, str]:
        return {"x_client_id": self.CLIENT_ID, "x_client_secret": self.CLIENT_SECRET,
                "x_auth_url": f"{self.base_url}/i/oauth2/authorize", "x_api_url": self.base_url}

    def config(self) -> dict[str, str]:
        return {f"CONNECTORS_{key.upper()}": value for key, value in self.settings().items()}

    def issue_token(self) -> dict[str, Any]:
        """A working token answer (access_token, refresh_token, expires_in) without the consent step."""
        return self.oauth.issue(self.CLIENT_ID, self.USER_ID, list(self.SCOPES))

    def problem(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None,
                kind: str = "about:blank") -> Response:
        return self.json({"title": title, "detail": detail, "type": kind, "status": status}, status, headers)

    def window_headers(self, endpoint: str, limit: int) -> dict[str, str]:
        left = self.windows[endpoint] = self.windows.get(endpoint, limit) - 1
        return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(max(left, 0)),
                "x-rate-limit-reset": str(int(time.time()) + 900)}

    def answer(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/i/oauth2/authorize" and method == "GET":
            return self.oauth.consent(request, lambda status, message: Response(message, status))
        if path == "/2/oauth2/token" and method == "POST":
            return self.token(request)
        if path == "/2/oauth2/revoke" and method == "POST":
            if self.oauth.client(request) is None:
                return self.json({"error": "unauthorized_client",
                                  "error_description": "Missing valid authorization header"}, 401)
            self.oauth.revoke(request.form.get("token", ""))
            return self.json({"revoked": True})
        state, token = self.oauth.bearer(request)
        if state != "ok" or token is None:
            return self.problem(401, "Unauthorized", "Unauthorized")
        routes = {("GET", "/2/users/me"): (self.users_me, 75),
                  ("POST", "/2/tweets"): (self.create_tweet, 200),
                  ("POST", "/2/media/upload"): (self.upload_media, 500),
                  ("GET", "/2/media/upload"): (self.media_status, 1000),
                  ("POST", "/2/media/metadata"): (self.media_metadata, 500),
                  ("GET", f"/2/users/{self.USER_ID}/tweets"): (self.user_tweets, 900)}
        handler, limit = routes.get((method, path), (None, 0))
        window = path
        if handler is None and method == "GET" and path.startswith("/2/tweets/"):
            handler, limit, window = self.lookup_tweet, 900, "/2/tweets/:id"
        if handler is None:
            return self.problem(404, "Not Found Error", f"fake: no route {method} {path}")
        response = handler(request, token)
        response.headers.update(self.window_headers(window, limit))
        return response

    def token(self, request: Request) -> Response:
        error, issued = self.oauth.exchange(request)
        if error == "invalid_client":
            return self.json({"error": "unauthorized_client",
                              "error_description": "Missing valid authorization header"}, 401)
        if error:
            what = "token" if request.form.get("grant_type") == "refresh_token" else "authorization code"
            return self.json({"error": "invalid_request",
                              "error_description": f"Value passed for the {what} was invalid."}, 400)
        assert issued is not None
        answer = self.oauth.issue(issued.client_id, issued.subject, issued.scopes,
                                  refresh=request.form.get("refresh_token"))
        if "offline.access" not in issued.scopes:
            answer.pop("refresh_token", None)
        return self.json({**answer, "scope": " ".join(issued.scopes)})

    def users_me(self, request: Request, token: IssuedToken) -> Response:
        return self.json({"data": {"id": self.USER_ID, "name": self.NAME, "username": self.USERNAME}})

    def stored_text(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """The text as X keeps it (&, <, > escaped, links shortened to t.co) and its url entities."""
        urls = [{"url": _tco(m.group()), "expanded_url": m.group(), "display_url": m.group().split("://")[1][:26]}
                for m in URL.finditer(text)]
        stored = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for link in urls:
            stored = stored.replace(link["expanded_url"].replace("&", "&amp;"), link["url"], 1)
        return stored, urls

    def create_tweet(self, request: Request, token: IssuedToken) -> Response:
        if "tweet.write" not in token.scopes:
            return self.problem(403, "Forbidden", "You are not permitted to perform this action.")
        self.user_day_remaining -= 1
        self.app_day_remaining -= 1
        reset = str(int(time.time()) + 86_400)
        day = {"x-user-limit-24hour-limit": "100", "x-user-limit-24hour-reset": reset,
               "x-user-limit-24hour-remaining": str(self.user_day_remaining),
               "x-app-limit-24hour-limit": "10000", "x-app-limit-24hour-reset": reset,
               "x-app-limit-24hour-remaining": str(self.app_day_remaining)}
        body = request.get_json(silent=True) or {}
        text = body.get("text")
        if not isinstance(text, str) or post_length("x", text) > 280:
            return self.json({"errors": [{"parameters": {"text": [str(text)[:40]]},
                                          "message": "Your Tweet text is too long."}],
                              "title": "Invalid Request",
                              "detail": "One or more parameters to your request was invalid.",
                              "type": "https://api.twitter.com/2/problems/invalid-request"}, 400, day)
        media_ids = (body.get("media") or {}).get("media_ids") or []
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None or media["state"] != "succeeded":
                return self.problem(400, "Invalid Request", "Your media IDs are invalid.", day)
        stored, urls = self.stored_text(text)
        if any(t["text"] == stored for t in self.tweets):
            return self.problem(403, "Forbidden",
                                "You are not allowed to create a Tweet with duplicate content.", day)
        tweet_id = str(next(self.tweet_ids))
        self.tweets.append({"id": tweet_id, "text": stored, "entities": {"urls": urls} if urls else None,
                            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                            "media_ids": media_ids, "edit_history_tweet_ids": [tweet_id]})
        data = {"id": tweet_id, "text": stored, "edit_history_tweet_ids": [tweet_id]}
        return self.json({"data": data}, 201, {**day, "location": f"{self.base_url}/2/tweets/{tweet_id}"})

    def upload_media(self, request: Request, token: IssuedToken) -> Response:
        if "media.write" not in token.scopes:
            return self.problem(403, "Forbidden", "You are not permitted to perform this action.")
        upload = request.files.get("media")
        if upload is None or request.form.get("media_category") != "tweet_image":
            return self.problem(400, "Invalid Request", "fake: multipart media, media_category=tweet_image")
        data = upload.read()
        media_id = str(1_880_028_106_020_515_840 + next(self.ids))
        state = "pending" if self.processing_polls else "succeeded"
        self.media[media_id] = {"size": len(data), "type": upload.mimetype, "state": state,
                                "polls_left": self.processing_polls, "alt_text": None}
        answer: dict[str, Any] = {"id": media_id, "media_key": f"3_{media_id}", "size": len(data),
                                  "expires_after_secs": 86_400}
        if self.processing_polls:
            answer["processing_info"] = {"state": "pending", "check_after_secs": 1}
        return self.json({"data": answer})

    def media_status(self, request: Request, token: IssuedToken) -> Response:
        media = self.media.get(request.args.get("media_id", ""))
        if request.args.get("command") != "STATUS" or media is None:
            return self.problem(400, "Invalid Request", "fake: command=STATUS and a known media_id")
        media["polls_left"] -= 1
        if media["polls_left"] > 0:
            media["state"] = "in_progress"
        else:
            media["state"] = "failed" if self.fail_processing else "succeeded"
        info: dict[str, Any] = {"state": media["state"], "check_after_secs": 1}
        if media["state"] == "failed":
            info["error"] = {"code": 1, "name": "InvalidMedia", "message": "Unsupported image format"}
        return self.json({"data": {"id": request.args["media_id"], "processing_info": info}})

    def media_metadata(self, request: Request, token: IssuedToken) -> Response:
        body = request.get_json(silent=True) or {}
        media = self.media.get(str(body.get("id")))
        text = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if media is None or not isinstance(text, str):
            return self.problem(400, "Invalid Request", "fake: a known id and metadata.alt_text.text")
        media["alt_text"] = text
        return self.json({"data": {"id": body["id"], "associated_metadata": body["metadata"]}})

    def user_tweets(self, request: Request, token: IssuedToken) -> Response:
        count = int(request.args.get("max_results", 10))
        if not 5 <= count <= 100:
            return self.problem(400, "Invalid Request",
                                "The `max_results` query parameter value is not between 5 and 100")
        fields = request.args.get("tweet.fields", "").split(",")
        data = []
        for tweet in list(reversed(self.tweets))[:count]:
            shown = {"id": tweet["id"], "text": tweet["text"], "edit_history_tweet_ids": [tweet["id"]]}
            if "created_at" in fields:
                shown["created_at"] = tweet["created_at"]
            if "entities" in fields and tweet["entities"]:
                shown["entities"] = tweet["entities"]
            data.append(shown)
        return self.json({"data": data, "meta": {"result_count": len(data)}} if data else
                         {"meta": {"result_count": 0}})


    def lookup_tweet(self, request: Request, token: IssuedToken) -> Response:
        """GET /2/tweets/:id: the post (with public_metrics when asked); a deleted one answers 200 with only
        `errors`, as X does."""
        if "tweet.read" not in token.scopes:
            return self.problem(403, "Forbidden", "You are not permitted to perform this action.")
        tweet_id = request.path.rsplit("/", 1)[-1]
        tweet = next((t for t in self.tweets if t["id"] == tweet_id), None)
        if tweet is None:
            return self.json({"errors": [{
                "value": tweet_id, "detail": f"Could not find tweet with id: [{tweet_id}].",
                "title": "Not Found Error", "resource_type": "tweet", "parameter": "id",
                "resource_id": tweet_id, "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        shown: dict[str, Any] = {"id": tweet["id"], "text": tweet["text"],
                                 "edit_history_tweet_ids": [tweet["id"]]}
        if "public_metrics" in request.args.get("tweet.fields", "").split(","):
            numbers = self.metrics_of(tweet_id)
            shown["public_metrics"] = {"retweet_count": numbers["reposts"], "reply_count": numbers["replies"],
                                       "like_count": numbers["likes"], "quote_count": 0, "bookmark_count": 0,
                                       "impression_count": numbers["impressions"]}
        return self.json({"data": shown})

    def delete_post(self, tweet_id: str) -> None:
        """The post is deleted: looking it up answers 200 with a Not Found Error."""
        self.tweets = [t for t in self.tweets if t["id"] != tweet_id]


class FakeFacebook(FakeNetwork):
    """Facebook Login (www.facebook.com/vXX/dialog/oauth) and the Graph API (graph.facebook.com/vXX)."""

    APP_ID = "1234567890123456"
    APP_SECRET = "fb-secret-3c9d2e7f1a8b4c6d"
    USER_ID = "10160123456789012"
    USER_NAME = "Ada Partner"
    PAGE_ID = "104815924761239"
    PAGE_NAME = "Acme Outdoor"
    PAGE_USERNAME = "acmeoutdoor"
    SECOND_PAGE_ID = "104815924761240"
    SECOND_PAGE_NAME = "Acme Outlet"
    ANALYST_PAGE_ID = "104815924761241"
    VERSION = "v24.0"
    LONG_LIVED_TTL = 5_183_944

    def __init__(self) -> None:
        super().__init__()
        self.oauth = OAuthServer(clients={self.APP_ID: self.APP_SECRET}, prefix="fb-user",
                                 client_auth="post", scope_separator=",",
                                 required_scopes=("pages_show_list", "pages_manage_posts"),
                                 access_ttl=3600, refresh_tokens=False, subject=self.USER_ID)
        self.declined: set[str] = set()  # permissions the person unticks on the consent page
        self.page_tokens: dict[str, tuple[str, str]] = {}  # token -> (page id, "ok" | "revoked")
        self.pages = {
            self.PAGE_ID: {"name": self.PAGE_NAME, "username": self.PAGE_USERNAME,
                           "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"]},
            self.SECOND_PAGE_ID: {"name": self.SECOND_PAGE_NAME, "tasks": ["CREATE_CONTENT", "MODERATE"]},
            self.ANALYST_PAGE_ID: {"name": "Acme Archive", "tasks": ["ANALYZE"]},
        }
        self.posts: dict[str, list[dict[str, Any]]] = {page: [] for page in self.pages}
        self.accounts_page_size = 25
        self.invalid_subcode = 0  # set by expire/revoke: the 190 subcode dead tokens answer with
        self.app_usage: dict[str, int] = {"call_count": 3, "total_time": 2, "total_cputime": 1}
        self.page_usage: dict[str, int] = {"call_count": 1, "total_time": 1, "total_cputime": 1,
                                           "estimated_time_to_regain_access": 0}

    @property
    def deny(self) -> bool:
        return self.oauth.deny

    @deny.setter
    def deny(self, value: bool) -> None:
        self.oauth.deny = value

    def settings(self) -> dict[str, str]:
        return {"facebook_app_id": self.APP_ID, "facebook_app_secret": self.APP_SECRET,
                "facebook_auth_url": f"{self.base_url}/{self.VERSION}/dialog/oauth",
                "facebook_graph_url": f"{self.base_url}/{self.VERSION}"}

    def config(self) -> dict[str, str]:
        return {f"CONNECTORS_{key.upper()}": value for key, value in self.settings().items()}

    def issue_page_token(self, page_id: str | None = None) -> str:
        """A working Page access token (as /me/accounts gives one) without the consent step."""
        page_id = page_id or self.PAGE_ID
        token = f"fb-page-{page_id}-{next(self.ids)}-{secrets.token_hex(8)}"
        self.page_tokens[token] = (page_id, "ok")
        return token

    def expire_tokens(self) -> None:
        """Every user and Page token now answers 190/463 (the session has expired)."""
        self.oauth.expire_access_tokens()
        self.page_tokens = {t: (page, "revoked") for t, (page, _) in self.page_tokens.items()}
        self.invalid_subcode = 463

    def error(self, status: int, code: int, message: str, subcode: int | None = None,
              headers: dict[str, str] | None = None) -> Response:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code,
                                 "fbtrace_id": "AbCdEfGh123"}
        if subcode:
            error["error_subcode"] = subcode
        return self.json({"error": error}, status, headers)

    def usage_headers(self, page_id: str | None) -> dict[str, str]:
        headers = {"X-App-Usage": json.dumps(self.app_usage)}
        if page_id:
            usage = {page_id: [{"type": "pages", **self.page_usage}]}
            headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
        return headers

    def answer(self, request: Request) -> Response:
        path, method = request.path.removeprefix(f"/{self.VERSION}"), request.method
        if not request.path.startswith(f"/{self.VERSION}/"):
            return self.error(400, 2635, f"fake: this fake answers API version {self.VERSION}")
        if path == "/dialog/oauth" and method == "GET":
            # Facebook adds "#_=_" to the redirect back.
            return self.oauth.consent(request, lambda status, message: Response(message, status), "_=_")
        if path == "/oauth/access_token":
            return self.token(request)
        header = request.headers.get("Authorization", "")
        if "access_token" in request.args:
            return self.error(400, 100, "fake: the access token goes in the Authorization header")
        token = header.partition(" ")[2]
        if token == f"{self.APP_ID}|{self.APP_SECRET}":
            return self.app_call(request, path, method)
        if token in self.page_tokens:
            page_id, state = self.page_tokens[token]
            if state != "ok":
                return self.dead_token()
            response = self.page_call(request, path, method, page_id)
            response.headers.update(self.usage_headers(page_id))
            return response
        state, user = self.oauth.bearer(request)
        if state in ("expired", "revoked"):
            return self.dead_token()
        if user is None:
            return self.error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        response = self.user_call(request, path, method, user)
        response.headers.update(self.usage_headers(None))
        return response

    def dead_token(self) -> Response:
        if self.invalid_subcode == 458:
            return self.error(400, 190, "Error validating access token: The user has not authorized "
                              f"application {self.APP_ID}.", 458)
        return self.error(400, 190, "Error validating access token: Session has expired on Tuesday, "
                          "01-Apr-25 12:00:00 PDT. The current time is Tuesday, 01-Apr-25 13:00:00 PDT.",
                          self.invalid_subcode or 463)

    def token(self, request: Request) -> Response:
        values = request.values
        if values.get("grant_type") == "fb_exchange_token":
            if self.oauth.client(request) is None:
                return self.error(400, 1, "Error validating client secret.")
            short = self.oauth.tokens.get(values.get("fb_exchange_token", ""))
            if short is None or short.state != "ok":
                return self.error(400, 190, "Invalid OAuth access token - Cannot parse access token")
            answer = self.oauth.issue(short.client_id, short.subject, short.scopes)
            return self.json({**answer, "expires_in": self.LONG_LIVED_TTL})
        if values.get("grant_type", "authorization_code") != "authorization_code":
            return self.error(400, 100, "fake: unsupported grant_type")
        code = self.oauth.codes.get(values.get("code", ""))
        used = code is not None and code.used
        error, issued = self.oauth.exchange(request)
        if error == "invalid_client":
            return self.error(400, 1, "Error validating client secret.")
        if used:
            return self.error(400, 100, "This authorization code has been used.", 36009)
        if code is None:
            return self.error(400, 100, "Invalid verification code format.", 36007)
        if error:
            return self.error(400, 100, "Error validating verification code. Please make sure your "
                              "redirect_uri is identical to the one you used in the OAuth dialog "
                              "request", 36008)
        assert isinstance(issued, IssuedCode)
        answer = self.oauth.issue(issued.client_id, issued.subject, issued.scopes)
        return self.json(answer)

    def app_call(self, request: Request, path: str, method: str) -> Response:
        if method == "DELETE" and path == f"/{self.USER_ID}/permissions":
            self.oauth.revoke_all()
            self.page_tokens = {t: (page, "revoked") for t, (page, _) in self.page_tokens.items()}
            self.invalid_subcode = 458
            return self.json({"success": True})
        return self.error(400, 100, f"fake: the app token cannot {method} {path}")

    def user_call(self, request: Request, path: str, method: str, user: IssuedToken) -> Response:
        if method == "GET" and path == "/me":
            return self.json({"id": self.USER_ID, "name": self.USER_NAME})
        if method == "GET" and path == "/me/permissions":
            return self.json({"data": [{"permission": p,
                                        "status": "declined" if p in self.declined else "granted"}
                                       for p in user.scopes]})
        if method == "GET" and path == "/me/accounts":
            return self.accounts(request, user)
        return self.error(403, 200, "(#200) If posting to a page, requires both pages_read_engagement and "
                          "pages_manage_posts as an admin with sufficient administrative permission")

    def accounts(self, request: Request, user: IssuedToken) -> Response:
        if "pages_show_list" in self.declined:
            return self.json({"data": []})
        start = int(base64.b64decode(request.args["after"]).decode()) if request.args.get("after") else 0
        size = min(int(request.args.get("limit", 25)), self.accounts_page_size)
        ids = list(self.pages)
        data = []
        for page_id in ids[start:start + size]:
            page = self.pages[page_id]
            entry = {"id": page_id, "name": page["name"], "category": "Outdoor & Sporting Goods Company",
                     "access_token": self.issue_page_token(page_id), "tasks": page["tasks"]}
            if fields := request.args.get("fields"):
                entry = {k: v for k, v in entry.items() if k in fields.split(",") or k == "id"}
                if "username" in fields.split(",") and page.get("username"):
                    entry["username"] = page["username"]
            data.append(entry)
        answer: dict[str, Any] = {"data": data}
        if data:
            after = base64.b64encode(str(start + len(data)).encode()).decode()
            answer["paging"] = {"cursors": {"before": base64.b64encode(str(start).encode()).decode(),
                                            "after": after}}
            if start + len(data) < len(ids):
                bearer = request.headers.get("Authorization", "").partition(" ")[2]
                # Graph's "next" carries the token in its query: a client must not follow it as it is.
                answer["paging"]["next"] = (f"{self.base_url}/{self.VERSION}/me/accounts?"
                                            f"access_token={bearer}&limit={size}&after={after}")
        return self.json(answer)

    def page_call(self, request: Request, path: str, method: str, page_id: str) -> Response:
        target = path.strip("/").split("/")
        if method == "GET" and len(target) == 1 and "_" in target[0]:
            return self.read_post(request, page_id, target[0])
        if target[0] != page_id:
            return self.error(403, 200, "(#200) The page token may only act on its own Page")
        if method == "GET" and len(target) == 1:
            page = self.pages[page_id]
            return self.json({"id": page_id, "name": page["name"],
                              **({"username": page["username"]} if page.get("username") else {})})
        if method == "POST" and target[1:] == ["feed"]:
            return self.create_post(page_id, request.form.get("message"), None)
        if method == "POST" and target[1:] == ["photos"]:
            upload = request.files.get("source")
            if upload is None:
                return self.error(400, 324, "(#324) Requires upload file")
            return self.create_post(page_id, request.form.get("message"),
                                    {"size": len(upload.read()), "type": upload.mimetype,
                                     "alt_text": request.form.get("alt_text_custom")})
        if method == "GET" and target[1:] == ["posts"]:
            limit = int(request.args.get("limit", 25))
            fields = request.args.get("fields", "id").split(",")
            data = [{k: v for k, v in post.items() if k in fields} for post in reversed(self.posts[page_id])]
            return self.json({"data": data[:limit]})
        return self.error(400, 100, f"fake: unsupported {method} {path}")

    def read_post(self, request: Request, page_id: str, post_id: str) -> Response:
        """GET /{post-id}?fields=...: the post's reaction, share and comment numbers as Graph gives them."""
        post = next((p for p in self.posts[page_id] if p["id"] == post_id), None)
        if post is None:  # deleted, or another Page's: Graph cannot tell the two apart for the caller
            body = {"error": {"message": f"Unsupported get request. Object with ID '{post_id}' does not "
                              "exist, cannot be loaded due to missing permissions, or does not support this "
                              "operation. Please read the Graph API documentation at "
                              "https://developers.facebook.com/docs/graph-api",
                              "type": "GraphMethodException", "code": 100, "error_subcode": 33,
                              "fbtrace_id": "AbCdEfGh124"}}
            return self.json(body, 400)
        numbers = self.metrics_of(post_id)
        asked = {f.split(".", 1)[0]: f for f in request.args.get("fields", "id").split(",")}
        answer: dict[str, Any] = {"id": post_id}
        for name, counted in (("reactions", "likes"), ("comments", "replies")):
            if name in asked:
                answer[name] = {"data": []}
                if "summary(total_count)" in asked[name]:
                    answer[name]["summary"] = {"total_count": numbers[counted]}
        if "shares" in asked and numbers["reposts"]:
            answer["shares"] = {"count": numbers["reposts"]}
        return self.json(answer)

    def delete_post(self, post_id: str) -> None:
        """The post is deleted: reading it answers 400 code 100 subcode 33."""
        self.posts = {page: [p for p in posts if p["id"] != post_id] for page, posts in self.posts.items()}

    def create_post(self, page_id: str, message: str | None, photo: dict[str, Any] | None) -> Response:
        if not message and photo is None:
            return self.error(400, 100, "(#100) Missing message or attachment")
        posts = self.posts[page_id]
        if message and posts and posts[-1]["message"] == message:
            return self.error(400, 506, "(#506) Duplicate status message")
        post_id = f"{page_id}_{1_116_689_038_356_556 + next(self.ids)}"
        posts.append({"id": post_id, "message": message or "", "photo": photo,
                      "created_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                      "permalink_url": f"https://www.facebook.com/{post_id.replace('_', '/posts/')}"})
        if photo is not None:
            return self.json({"id": str(900_000_000_000_000 + next(self.ids)), "post_id": post_id})
        return self.json({"id": post_id})
