"""Local fake servers answering as the networks do: Mastodon, Bluesky, a webhook receiver; `serve`.

Each fake is a small WSGI app served on a loopback port (`serve`). Every fake checks the headers the
real API requires, records what it accepted, and can be told to fail the next calls of a path
(`fail_next`) or to answer them only after a delay (`slow_next`), after having done the work.
Used by the connector tests and by the API tests that connect accounts.

A published post's numbers: every fake that publishes answers its network's read of a post with the
counts `set_metrics(post_id, likes=, reposts=, replies=, impressions=)` set (0 until set; `post_id` is
the id the fake gave: a status id, an at:// URI, a tweet id, a Page post id, a LinkedIn URN), and
`delete_post(post_id)` makes it answer as the network does for a deleted post.

`OAuthServer` is the authorization-server half of a fake (consent page, codes, tokens, refresh, revoke),
used by FakeMastodon here and by the LinkedIn, X and Facebook fakes in `fake_oauth_networks`;
`follow_consent(url)` plays the partner approving on a fake's consent page.

FakeMastodon also connects by OAuth: `POST /api/v1/apps` registers an app (kept in `apps`),
`GET /oauth/authorize` is the consent page (PKCE S256 checked when sent; `deny = True` refuses),
`POST /oauth/token` gives a token that works like `TOKEN`, `POST /oauth/revoke` revokes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import regex
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from renderers import post_length

METRICS = ("likes", "reposts", "replies", "impressions")


class QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Scripted:
    """An answer the fake gives instead of the real one, `times` times."""

    status: int
    body: Any
    headers: dict[str, str]
    times: int


class FakeNetwork:
    """What every fake shares: scripted failures, slow answers, a request log."""

    def __init__(self) -> None:
        self.base_url = ""
        self.calls: list[tuple[str, str]] = []
        self.failures: dict[str, list[Scripted]] = {}
        self.delays: dict[str, list[float]] = {}
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.numbers: dict[str, dict[str, int]] = {}  # post id -> its likes, reposts, replies, impressions

    def set_metrics(self, post_id: str, **numbers: int) -> None:
        """The counts the fake answers for its post `post_id` from now on (those not given are kept)."""
        unknown = sorted(set(numbers) - set(METRICS))
        if unknown:
            raise TypeError(f"set_metrics takes {', '.join(METRICS)}, not {', '.join(unknown)}")
        self.numbers.setdefault(str(post_id), dict.fromkeys(METRICS, 0)).update(numbers)

    def metrics_of(self, post_id: str) -> dict[str, int]:
        """The counts of the post `post_id` (0 each until set)."""
        return dict(self.numbers.get(str(post_id)) or dict.fromkeys(METRICS, 0))

    def fail_next(self, path: str, status: int, body: Any, headers: dict[str, str] | None = None,
                  times: int = 1) -> None:
        """Answer the next `times` calls of `path` with `status` and `body` instead of doing the work."""
        self.failures.setdefault(path, []).append(Scripted(status, body, headers or {}, times))

    def slow_next(self, path: str, seconds: float) -> None:
        """Do the next call of `path`, then wait `seconds` before answering."""
        self.delays.setdefault(path, []).append(seconds)

    def count(self, path: str) -> int:
        """How many calls of `path` arrived."""
        return sum(1 for _, p in self.calls if p == path)

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.calls.append((request.method, request.path))
            scripted = self._scripted(request.path)
            delay = self.delays[request.path].pop(0) if self.delays.get(request.path) else 0.0
        try:
            if scripted:
                response = self.json(scripted.body, scripted.status, scripted.headers)
            else:
                response = self.answer(request)
        finally:
            request.close()  # uploaded files are spooled to temporary files
        if delay:
            self.stopping.wait(delay)
        return response(environ, start_response)

    def _scripted(self, path: str) -> Scripted | None:
        queue = self.failures.get(path)
        if not queue:
            return None
        scripted = queue[0]
        scripted.times -= 1
        if scripted.times <= 0:
            queue.pop(0)
        return scripted

    def answer(self, request: Request) -> Response:
        raise NotImplementedError

    def json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status=status, headers=headers or {}, mimetype="application/json")


@contextmanager
def serve(fake: FakeNetwork) -> Iterator[FakeNetwork]:
    """Serve `fake` on a free loopback port until the block ends; fake.base_url says where."""
    server = make_server("127.0.0.1", 0, fake, threaded=True, request_handler=QuietHandler)
    fake.base_url = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- OAuth ----------------------------------------------------------------------------------------

def follow_consent(url: str) -> dict[str, str]:
    """Open a fake's consent page as the partner would and return the query the network redirects back
    with: {"code", "state"} when approved, {"error", "error_description", "state"} when denied."""
    answer = httpx.get(url, follow_redirects=False, timeout=5)
    if answer.status_code != 302:
        raise AssertionError(f"the consent page answered {answer.status_code}: {answer.text[:300]}")
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query))


def with_query(url: str, params: dict[str, str], fragment: str = "") -> str:
    """`url` with `params` added to its query (and `fragment` as its fragment)."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit(parts._replace(query=query, fragment=fragment))


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of a verifier."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


@dataclass
class IssuedCode:
    """An authorization code the consent page gave."""

    client_id: str
    redirect_uri: str
    scopes: list[str]
    challenge: str | None
    subject: str
    used: bool = False


@dataclass
class IssuedToken:
    """An access or refresh token; `state` is "ok", "expired" or "revoked"."""

    client_id: str
    subject: str
    scopes: list[str]
    state: str = "ok"
    refresh: str | None = None  # an access token's refresh token


@dataclass
class OAuthServer:
    """The authorization-server half of a fake network: consent page, codes, tokens, refresh, revoke.

    `clients` maps client id to secret; `client_auth` is how the token endpoint takes them ("post": in
    the form, "basic": HTTP Basic, "any"); `required_scopes` must all be asked for; `pkce` requires an
    S256 challenge. `deny = True` makes the consent page refuse (error=access_denied).
    """

    clients: dict[str, str]
    prefix: str
    client_auth: str = "any"
    required_scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    pkce: bool = False
    access_ttl: int | None = None  # expires_in given with each access token
    refresh_tokens: bool = True
    rotate: bool = False  # each refresh gives a new refresh token and retires the old one
    redirect_uris: list[str] | None = None  # None: any http(s) redirect URI is registered
    deny: bool = False
    subject: str = "user"
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    refreshes: dict[str, IssuedToken] = field(default_factory=dict)
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def consent(self, request: Request, error_page: Callable[[int, str], Response],
                fragment: str = "") -> Response:
        """GET authorize: check the request, then redirect back with a code (or access_denied)."""
        args = request.args
        client_id, redirect_uri = args.get("client_id", ""), args.get("redirect_uri", "")
        state = args.get("state")
        if client_id not in self.clients:
            return error_page(400, f"fake: unknown client_id {client_id!r}")
        allowed = self.redirect_uris
        if urlsplit(redirect_uri).scheme not in ("http", "https") or (allowed is not None
                                                                     and redirect_uri not in allowed):
            return error_page(400, f"fake: redirect_uri {redirect_uri!r} is not registered for this app")
        if args.get("response_type") != "code":
            return error_page(400, "fake: response_type must be code")
        if not state:
            return error_page(400, "fake: state is required")
        scopes = [s for s in args.get("scope", "").split(self.scope_separator) if s]
        missing = [s for s in self.required_scopes if s not in scopes]
        challenge, method = args.get("code_challenge"), args.get("code_challenge_method")
        if missing:
            refused = {"error": "invalid_scope", "error_description": f"missing scope {' '.join(missing)}"}
            return self.redirect(redirect_uri, {**refused, "state": state}, fragment)
        if (self.pkce and not challenge) or (challenge and method != "S256"):
            return error_page(400, "fake: an S256 code_challenge is required")
        if self.deny:
            return self.redirect(redirect_uri, {"error": "access_denied", "error_description":
                                                "The user denied the request", "state": state}, fragment)
        code = f"{self.prefix}-code-{next(self.counter)}-{secrets.token_hex(6)}"
        self.codes[code] = IssuedCode(client_id, redirect_uri, scopes, challenge, self.subject)
        return self.redirect(redirect_uri, {"code": code, "state": state}, fragment)

    def redirect(self, redirect_uri: str, params: dict[str, str], fragment: str = "") -> Response:
        return Response("", status=302, headers={"Location": with_query(redirect_uri, params, fragment)})

    def client(self, request: Request) -> str | None:
        """The client id the request authenticated as, or None."""
        if request.authorization and request.authorization.type == "basic" and self.client_auth != "post":
            found = request.authorization.username, request.authorization.password
        elif "client_secret" in request.values and self.client_auth != "basic":
            found = request.values.get("client_id"), request.values.get("client_secret")
        else:
            return None
        if request.values.get("client_id") not in (None, found[0]):
            return None
        return found[0] if found[0] in self.clients and self.clients[found[0]] == found[1] else None

    def exchange(self, request: Request) -> tuple[str, IssuedCode | IssuedToken | None]:
        """Check a token request: ("", what it is for) or (error, error_description) in the first slot.

        Codes are spent once; a rotated refresh token is spent once too.
        """
        client = self.client(request)
        if client is None:
            return "invalid_client", None
        values = request.values
        grant = values.get("grant_type")
        if grant == "authorization_code":
            issued = self.codes.get(values.get("code", ""))
            if issued is None or issued.used or issued.client_id != client:
                return "invalid_grant", None
            issued.used = True
            if values.get("redirect_uri") != issued.redirect_uri:
                return "invalid_grant", None
            verifier = values.get("code_verifier")
            if issued.challenge and (not verifier or s256(verifier) != issued.challenge):
                return "invalid_grant", None
            return "", issued
        if grant == "refresh_token":
            old = self.refreshes.get(values.get("refresh_token", ""))
            if old is None or old.state != "ok" or old.client_id != client:
                return "invalid_grant", None
            return "", old
        return "unsupported_grant_type", None

    def issue(self, client_id: str, subject: str, scopes: list[str],
              refresh: str | None = None) -> dict[str, Any]:
        """A token answer; `refresh` is the refresh token being used (kept unless tokens rotate)."""
        access = f"{self.prefix}-access-{next(self.counter)}-{secrets.token_hex(8)}"
        answer: dict[str, Any] = {"access_token": access, "token_type": "bearer"}
        if self.access_ttl:
            answer["expires_in"] = self.access_ttl
        if self.refresh_tokens:
            if refresh is None or self.rotate:
                if refresh is not None:
                    self.refreshes.pop(refresh, None)
                refresh = f"{self.prefix}-refresh-{next(self.counter)}-{secrets.token_hex(8)}"
                self.refreshes[refresh] = IssuedToken(client_id, subject, scopes)
            answer["refresh_token"] = refresh
        self.tokens[access] = IssuedToken(client_id, subject, scopes, refresh=refresh)
        return answer

    def bearer(self, request: Request) -> tuple[str, IssuedToken | None]:
        """The request's bearer token as ("ok" | "expired" | "revoked" | "unknown", token)."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        token = self.tokens.get(value) if scheme.lower() in ("bearer", "oauth") else None
        return (token.state if token else "unknown"), token

    def revoke(self, token: str) -> None:
        """Revoke an access or refresh token (a refresh token takes its access tokens along)."""
        if token in self.tokens:
            self.tokens[token].state = "revoked"
        if token in self.refreshes:
            self.refreshes.pop(token).state = "revoked"
            for access in self.tokens.values():
                if access.refresh == token:
                    access.state = "revoked"

    def expire_access_tokens(self) -> None:
        """Every access token given so far now answers as expired."""
        for token in self.tokens.values():
            if token.state == "ok":
                token.state = "expired"

    def revoke_all(self) -> None:
        """Every token given so far, access and refresh, is revoked."""
        for token in self.tokens.values():
            token.state = "revoked"
        self.refreshes.clear()


# --- Webhook ------------------------------------------------------------------------------------

@dataclass
class Delivery:
    """One verified event the receiver accepted."""

    message_id: str
    timestamp: int
    event: dict[str, Any]


class FakeWebhookReceiver(FakeNetwork):
    """A receiver that verifies Standard Webhooks signatures and drops a webhook-id it has already seen."""

    SECRET = "whsec_" + base64.b64encode(b"fake-receiver-secret-0123456789ab").decode()

    def __init__(self) -> None:
        super().__init__()
        self.deliveries: list[Delivery] = []

    def answer(self, request: Request) -> Response:
        message_id = request.headers.get("webhook-id")
        timestamp = request.headers.get("webhook-timestamp", "")
        signature = request.headers.get("webhook-signature", "")
        if not message_id or not timestamp.isdigit() or not signature:
            return self.json({"error": "missing webhook headers"}, 400)
        if abs(time.time() - int(timestamp)) > 300:
            return self.json({"error": "timestamp too old"}, 400)
        key = base64.b64decode(self.SECRET.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, f"{message_id}.{timestamp}.".encode() + request.get_data(),
                                             hashlib.sha256).digest()).decode()
        offered = [part.split(",", 1)[1] for part in signature.split() if part.startswith("v1,")]
        if not any(hmac.compare_digest(expected, sig) for sig in offered):
            return self.json({"error": "bad signature"}, 401)
        if request.mimetype != "application/json":
            return self.json({"error": "not json"}, 415)
        known = [d for d in self.deliveries if d.message_id == message_id]
        if not known:
            self.deliveries.append(Delivery(message_id, int(timestamp), request.get_json()))
        return self.json({"id": f"hook-{message_id}", "url": f"{self.base_url}/posts/{message_id}"})


def _mastodon_html(text: str) -> str:
    """Roughly what Mastodon stores: escaped paragraphs, links with the invisible/ellipsis spans."""
    def link(match: regex.Match) -> str:
        url = match.group()
        scheme, rest = url.split("://", 1)
        return (f'<a href="{url}" rel="nofollow noopener" target="_blank">'
                f'<span class="invisible">{scheme}://</span><span class="ellipsis">{rest[:30]}</span>'
                f'<span class="invisible">{rest[30:]}</span></a>')

    paragraphs = [escape(p).replace("\n", "<br />") for p in text.split("\n\n")]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return regex.sub(r"https?://[^\s<>\"']*[^\s<>\"'.,:;!?)\]]", link, body)


class FakeMastodon(FakeNetwork):
    """A Mastodon instance with one account: Idempotency-Key replay, media processed after some polls."""

    TOKEN = "mastodon-token-Zq81xvS0"
    ACCOUNT_ID = "109348"
    DISPLAY_NAME = "Acme Outdoor"

    def __init__(self, max_characters: int = 500, processing_polls: int = 0) -> None:
        super().__init__()
        self.max_characters = max_characters
        self.processing_polls = processing_polls
        self.statuses: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.remaining = 300
        self.apps: dict[str, dict[str, Any]] = {}  # client_id -> the registered app
        self.oauth = OAuthServer(clients={}, prefix="mastodon", refresh_tokens=False, subject=self.ACCOUNT_ID)

    @property
    def deny(self) -> bool:
        """True: the consent page answers access_denied, as if the partner said no."""
        return self.oauth.deny

    @deny.setter
    def deny(self, value: bool) -> None:
        self.oauth.deny = value

    def rate_headers(self, remaining: int | None = None) -> dict[str, str]:
        reset = (datetime.now(UTC) + timedelta(minutes=5)).replace(second=0)
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(remaining if remaining is not None
                                                                          else self.remaining),
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}

    def answer(self, request: Request) -> Response:
        path = request.path
        if path == "/api/v2/instance":
            return self.json({"domain": "fake.social", "configuration": {
                "statuses": {"max_characters": self.max_characters, "max_media_attachments": 4},
                "media_attachments": {"image_size_limit": 16777216}}})
        oauth = {("POST", "/api/v1/apps"): self.register_app, ("GET", "/oauth/authorize"): self.authorize,
                 ("POST", "/oauth/token"): self.token, ("POST", "/oauth/revoke"): self.revoke}
        if (request.method, path) in oauth:
            return oauth[(request.method, path)](request)
        pasted = request.headers.get("Authorization") == f"Bearer {self.TOKEN}"
        if not pasted and self.oauth.bearer(request)[0] != "ok":
            return self.json({"error": "The access token is invalid"}, 401)
        self.remaining -= 1
        route = {("GET", "/api/v1/accounts/verify_credentials"): self.verify_credentials,
                 ("POST", "/api/v2/media"): self.upload_media,
                 ("POST", "/api/v1/statuses"): self.post_status,
                 ("GET", f"/api/v1/accounts/{self.ACCOUNT_ID}/statuses"): self.list_statuses}
        handler = route.get((request.method, path))
        if handler is None and request.method == "GET" and path.startswith("/api/v1/media/"):
            handler = self.poll_media
        if handler is None and request.method == "GET" and path.startswith("/api/v1/statuses/"):
            handler = self.get_status
        if handler is None:
            return self.json({"error": "Record not found"}, 404)
        response = handler(request)
        response.headers.update(self.rate_headers())
        return response

    def verify_credentials(self, request: Request) -> Response:
        return self.json({"id": self.ACCOUNT_ID, "username": "acme", "acct": "acme",
                          "display_name": self.DISPLAY_NAME})

    def register_app(self, request: Request) -> Response:
        """POST /api/v1/apps: a new client id and secret for the redirect URIs and scopes asked."""
        uris = request.form.get("redirect_uris", "").split()
        if not uris or any(urlsplit(u).scheme not in ("http", "https") for u in uris):
            return self.json({"error": "Validation failed: Redirect URI must be an absolute URI."}, 422)
        client_id = f"mastodon-client-{next(self.ids)}-{secrets.token_hex(4)}"
        app = {"id": str(next(self.ids)), "name": request.form.get("client_name", ""), "website": None,
               "redirect_uri": "\n".join(uris), "redirect_uris": uris, "client_id": client_id,
               "client_secret": f"mastodon-secret-{secrets.token_hex(12)}",
               "scopes": request.form.get("scopes", "read").split()}
        self.apps[client_id] = app
        self.oauth.clients[client_id] = app["client_secret"]
        return self.json(app)

    def authorize(self, request: Request) -> Response:
        """GET /oauth/authorize: the consent page of a registered app (its redirect URIs and scopes)."""
        app = self.apps.get(request.args.get("client_id", ""))
        if app is None or request.args.get("redirect_uri") not in app["redirect_uris"]:
            return self.json({"error": "invalid_client", "error_description": "fake: unknown app or "
                              "redirect_uri not registered"}, 400)
        asked = request.args.get("scope", "").split()
        if any(scope not in app["scopes"] for scope in asked):
            return self.json({"error": "invalid_scope", "error_description": "fake: scope not registered"},
                             400)
        return self.oauth.consent(request, lambda status, message: self.json({"error": message}, status))

    def token(self, request: Request) -> Response:
        error, issued = self.oauth.exchange(request)
        if error or not isinstance(issued, IssuedCode):
            status = 401 if error == "invalid_client" else 400
            description = ("The provided authorization grant is invalid, expired, revoked, does not match "
                           "the redirection URI used in the authorization request, or was issued to another "
                           "client.")
            return self.json({"error": error or "invalid_grant", "error_description": description}, status)
        answer = self.oauth.issue(issued.client_id, issued.subject, issued.scopes)
        return self.json({**answer, "scope": " ".join(issued.scopes), "created_at": int(time.time())})

    def revoke(self, request: Request) -> Response:
        if self.oauth.client(request) is None:
            return self.json({"error": "unauthorized_client", "error_description": "You are not authorized "
                              "to revoke this token"}, 403)
        self.oauth.revoke(request.form.get("token", ""))
        return self.json({})

    def upload_media(self, request: Request) -> Response:
        upload = request.files.get("file")
        if upload is None or not (upload.mimetype or "").startswith("image/"):
            return self.json({"error": "Validation failed: File content type is invalid"}, 422)
        media_id = str(10_000 + next(self.ids))
        data = upload.read()
        self.media[media_id] = {"id": media_id, "type": "image",
                                "description": request.form.get("description"), "size": len(data),
                                "polls_left": self.processing_polls}
        if self.processing_polls:
            return self.json({"id": media_id, "type": "image", "url": None, "preview_url": "p"}, 202)
        return self.json({"id": media_id, "type": "image", "url": f"{self.base_url}/m/{media_id}"})

    def poll_media(self, request: Request) -> Response:
        media = self.media.get(request.path.rsplit("/", 1)[-1])
        if media is None:
            return self.json({"error": "Record not found"}, 404)
        if media["polls_left"] > 0:
            media["polls_left"] -= 1
            return self.json({"id": media["id"], "url": None}, 206)
        return self.json({"id": media["id"], "url": f"{self.base_url}/m/{media['id']}"})

    def post_status(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        if not key:  # optional for Mastodon; the connector must always send it
            return self.json({"error": "fake: Idempotency-Key header missing"}, 400)
        if key in self.idempotency:
            return self.json(self.counted(self.idempotency[key]))
        text, media_ids = request.form.get("status", ""), request.form.getlist("media_ids[]")
        if not text and not media_ids:
            return self.json({"error": "Validation failed: Text can't be blank"}, 422)
        if post_length("mastodon", text) > self.max_characters:
            return self.json({"error": f"Validation failed: Text character limit of "
                                       f"{self.max_characters} exceeded"}, 422)
        for media_id in media_ids:
            if media_id not in self.media:
                return self.json({"error": "Record not found"}, 404)
            if self.media[media_id]["polls_left"] > 0:
                return self.json({"error": "Cannot attach files that have not finished processing. "
                                           "Try again in a moment!"}, 422)
        status_id = str(110_000_000 + next(self.ids))
        status = {"id": status_id, "url": f"{self.base_url}/@acme/{status_id}",
                  "content": _mastodon_html(text),
                  "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                  "visibility": request.form.get("visibility"),
                  "media_attachments": [{"id": m, "description": self.media[m]["description"]}
                                        for m in media_ids]}
        self.statuses.append(status)
        self.idempotency[key] = status
        return self.json(self.counted(status))

    def list_statuses(self, request: Request) -> Response:
        limit = int(request.args.get("limit", 20))
        return self.json([self.counted(s) for s in reversed(self.statuses)][:limit])

    def counted(self, status: dict[str, Any]) -> dict[str, Any]:
        """The status with its counts as they are now."""
        numbers = self.metrics_of(status["id"])
        return {**status, "favourites_count": numbers["likes"], "reblogs_count": numbers["reposts"],
                "replies_count": numbers["replies"]}

    def get_status(self, request: Request) -> Response:
        """GET /api/v1/statuses/:id: the status with its favourites, boosts and replies; 404 once deleted."""
        wanted = request.path.rsplit("/", 1)[-1]
        found = next((s for s in self.statuses if s["id"] == wanted), None)
        if found is None:
            return self.json({"error": "Record not found"}, 404)
        return self.json(self.counted(found))

    def delete_post(self, status_id: str) -> None:
        """The status is deleted: reading it answers 404 Record not found."""
        self.statuses = [s for s in self.statuses if s["id"] != status_id]


class FakeBluesky(FakeNetwork):
    """A PDS with one account: sessions with rotating refresh tokens, blobs, strictly checked post records."""

    HANDLE = "acme.bsky.social"
    APP_PASSWORD = "abcd-efgh-ijkl-mnop"
    DID = "did:plc:acme7kq3zvx"

    def __init__(self) -> None:
        super().__init__()
        self.access: dict[str, bool] = {}  # token -> expired
        self.refresh: set[str] = set()
        self.blobs: dict[str, dict[str, Any]] = {}
        self.records: list[dict[str, Any]] = []
        self.sessions_created = 0
        self.refreshes = 0

    def expire_access_tokens(self) -> None:
        """Every access token given so far now answers ExpiredToken."""
        self.access = dict.fromkeys(self.access, True)

    def expire_refresh_tokens(self) -> None:
        """Every refresh token given so far now answers ExpiredToken."""
        self.refresh.clear()

    def rate_headers(self, remaining: int = 2999) -> dict[str, str]:
        reset = int(time.time()) + 300
        return {"ratelimit-limit": "3000", "ratelimit-remaining": str(remaining),
                "ratelimit-reset": str(reset), "ratelimit-policy": "3000;w=300"}

    def xrpc_error(self, status: int, name: str, message: str) -> Response:
        return self.json({"error": name, "message": message}, status, self.rate_headers())

    def answer(self, request: Request) -> Response:
        nsid = request.path.removeprefix("/xrpc/")
        if nsid == "com.atproto.server.createSession":
            return self.create_session(request)
        if nsid == "com.atproto.server.refreshSession":
            return self.refresh_session(request)
        if nsid == "com.atproto.repo.listRecords":  # public, like the real PDS
            return self.list_records(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access:
            return self.xrpc_error(400, "InvalidToken", "Token could not be verified")
        if self.access[token]:
            return self.xrpc_error(400, "ExpiredToken", "Token has expired")
        if nsid == "com.atproto.repo.uploadBlob" and request.method == "POST":
            return self.upload_blob(request)
        if nsid == "com.atproto.repo.createRecord" and request.method == "POST":
            return self.create_record(request)
        if nsid == "app.bsky.feed.getPosts" and request.method == "GET":
            return self.get_posts(request)
        return self.xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")

    def _new_session(self) -> Response:
        access, refresh = f"access-{next(self.ids)}-jwt", f"refresh-{next(self.ids)}-jwt"
        self.access[access] = False
        self.refresh.add(refresh)
        return self.json({"did": self.DID, "handle": self.HANDLE, "accessJwt": access, "refreshJwt": refresh,
                          "active": True}, 200, self.rate_headers())

    def create_session(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        if body.get("identifier") != self.HANDLE or body.get("password") != self.APP_PASSWORD:
            return self.xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.sessions_created += 1
        return self._new_session()

    def refresh_session(self, request: Request) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.refresh:
            return self.xrpc_error(400, "ExpiredToken", "Token has expired")
        self.refresh.discard(token)  # refresh tokens rotate
        self.refreshes += 1
        return self._new_session()

    def upload_blob(self, request: Request) -> Response:
        mime = request.headers.get("Content-Type", "")
        if not mime.startswith("image/"):
            return self.xrpc_error(400, "InvalidRequest", "unsupported blob type")
        data = request.get_data()
        link = "bafkrei" + hashlib.sha256(data).hexdigest()[:40]
        blob = {"$type": "blob", "ref": {"$link": link}, "mimeType": mime, "size": len(data)}
        self.blobs[link] = blob
        return self.json({"blob": blob}, 200, self.rate_headers())

    def create_record(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        record = body.get("record") or {}
        problem = self.check_record(body, record)
        if problem:
            return self.xrpc_error(400, "InvalidRequest", problem)
        rkey = f"3l{next(self.ids):011d}"
        uri = f"at://{self.DID}/app.bsky.feed.post/{rkey}"
        self.records.append({"uri": uri, "cid": "bafyrei" + rkey, "value": record})
        return self.json({"uri": uri, "cid": "bafyrei" + rkey, "validationStatus": "valid"}, 200,
                         self.rate_headers())

    def check_record(self, body: dict[str, Any], record: dict[str, Any]) -> str | None:
        """What the PDS would refuse in a createRecord, or None."""
        if body.get("repo") not in (self.DID, self.HANDLE) or body.get("collection") != "app.bsky.feed.post":
            return "Invalid repo or collection"
        if record.get("$type") != "app.bsky.feed.post" or not isinstance(record.get("text"), str):
            return "Invalid app.bsky.feed.post record: must have text"
        try:
            created = datetime.fromisoformat(record.get("createdAt", ""))
        except (TypeError, ValueError):
            return "Invalid app.bsky.feed.post record: createdAt must be a datetime"
        if created.tzinfo is None:
            return "Invalid app.bsky.feed.post record: createdAt must have a timezone"
        if len(regex.findall(r"\X", record["text"])) > 300:
            return "Invalid app.bsky.feed.post record: text must not be longer than 300 graphemes"
        return self.check_facets(record) or self.check_embed(record)

    def check_facets(self, record: dict[str, Any]) -> str | None:
        data = record["text"].encode("utf-8")
        for facet in record.get("facets", []):
            start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
            if not 0 <= start < end <= len(data):
                return "Invalid facet: byte range outside the text"
            try:
                covered = data[start:end].decode("utf-8")
            except UnicodeDecodeError:
                return "Invalid facet: byte range splits a character"
            for feature in facet["features"]:
                if feature.get("$type") == "app.bsky.richtext.facet#link" and feature.get("uri") != covered:
                    return f"Invalid facet: bytes {start}-{end} are {covered!r}, not the link"
        return None

    def check_embed(self, record: dict[str, Any]) -> str | None:
        embed = record.get("embed")
        if embed is None:
            return None
        if embed.get("$type") != "app.bsky.embed.images" or not 1 <= len(embed.get("images", [])) <= 4:
            return "Invalid embed"
        for image in embed["images"]:
            if "alt" not in image or image.get("image", {}).get("ref", {}).get("$link") not in self.blobs:
                return "Invalid image: needs alt and an uploaded blob"
        return None

    def get_posts(self, request: Request) -> Response:
        """app.bsky.feed.getPosts (the app view, through the PDS): a post view with its counts for each
        known URI asked for; unknown or deleted posts are left out, as the app view does."""
        uris = request.args.getlist("uris")
        if not 1 <= len(uris) <= 25:
            return self.xrpc_error(400, "InvalidRequest", "uris must have 1 to 25 items")
        records = {r["uri"]: r for r in self.records}
        posts = []
        for uri in uris:
            record = records.get(uri)
            if record is None:
                continue
            numbers = self.metrics_of(uri)
            author = {"did": self.DID, "handle": self.HANDLE}
            posts.append({"uri": uri, "cid": record["cid"], "author": author,
                          "record": record["value"], "replyCount": numbers["replies"],
                          "repostCount": numbers["reposts"], "likeCount": numbers["likes"], "quoteCount": 0,
                          "indexedAt": record["value"].get("createdAt")})
        return self.json({"posts": posts}, 200, self.rate_headers())

    def delete_post(self, uri: str) -> None:
        """The record is deleted: getPosts leaves it out, listRecords no longer shows it."""
        self.records = [r for r in self.records if r["uri"] != uri]

    def list_records(self, request: Request) -> Response:
        if request.args.get("repo") != self.DID or request.args.get("collection") != "app.bsky.feed.post":
            return self.xrpc_error(400, "InvalidRequest", "Could not find repo")
        limit = int(request.args.get("limit", 50))
        return self.json({"records": list(reversed(self.records))[:limit]}, 200, self.rate_headers())
