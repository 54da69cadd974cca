"""Webhook: a JSON POST to the partner's URL, signed as Standard Webhooks says."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
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
    RecentPost,
    Rejected,
    Temporary,
    UnknownOutcome,
    Unsupported,
    check_image,
    check_text,
    utc_now,
)
from .transport import body_json, make_client, rate_limited_until, send, short_body

SECRET_PREFIX = "whsec_"
MAX_IMAGE_BYTES = 5 * 1024 * 1024
POST_EVENT = "post.published"
PING_EVENT = "webhook.ping"


def secret_bytes(secret: object) -> bytes:
    """The key bytes of a `whsec_<base64>` secret; AuthExpired (never showing it) when malformed."""
    if not isinstance(secret, str) or not secret:
        raise AuthExpired("webhook account has no secret")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise AuthExpired("webhook secret is not a whsec_ prefixed base64 secret") from None
    if len(key) < 16:
        raise AuthExpired("webhook secret is shorter than 16 bytes")
    return key


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature value: `v1,` and base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def generate_secret() -> str:
    """A new random `whsec_` secret for a partner's webhook."""
    import secrets

    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class WebhookConnector:
    """POSTs each post as a signed event to the account's URL (credentials: secret).

    The webhook-id is the post's idempotency key, the same on every resend, so receivers drop duplicates.
    """

    network = "webhook"

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.client = make_client(settings)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def publish(self, account: Account, post: Post) -> Published:
        """Deliver a post.published event; 2xx published, 4xx rejected, 5xx temporary, no answer unknown."""
        check_text(self.network, post.text)
        check_image(self.network, post, MAX_IMAGE_BYTES)
        data: dict[str, Any] = {"account": {"handle": account.handle, "external_id": account.external_id},
                                "text": post.text, "idempotency_key": post.idempotency_key, "image": None}
        if post.image is not None:
            data["image"] = {"media_type": post.image_type, "alt_text": post.alt_text,
                             "data": base64.b64encode(post.image).decode("ascii")}
        response = self._deliver(account, post.idempotency_key, POST_EVENT, data, write=True)
        answer = body_json(response)
        external_id = answer.get("id") if isinstance(answer.get("id"), str | int) else None
        url = answer.get("url") if isinstance(answer.get("url"), str) else None
        return Published(str(external_id or post.idempotency_key), url)

    def verify(self, account: Account) -> tuple[str, str]:
        """Deliver a signed webhook.ping; return (handle, external id or URL)."""
        key = f"ping-{int(self.clock().timestamp() * 1000)}"
        self._deliver(account, key, PING_EVENT, {"account": {"handle": account.handle}}, write=False)
        return account.handle, account.external_id or account.base_url

    def recent_posts(self, account: Account, limit: int = 20) -> list[RecentPost]:
        """A webhook cannot be read back."""
        raise Unsupported("a webhook cannot list what it received")

    def reconcile(self, account: Account, post: Post, since: datetime | None = None) -> Published | None:
        """None: resending carries the same webhook-id, which receivers use to drop duplicates."""
        return None

    def metrics(self, account: Account, external_id: str) -> PostMetrics:
        """A webhook cannot say how a post did."""
        raise Unsupported("a webhook cannot report a post's likes, reposts, replies or impressions")

    def _deliver(self, account: Account, message_id: str, event: str, data: dict[str, Any], *,
                 write: bool) -> httpx.Response:
        key = secret_bytes(account.credentials.get("secret"))
        now = self.clock()
        timestamp = int(now.timestamp())
        body = json.dumps({"type": event, "timestamp": now.isoformat(), "data": data},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", "webhook-id": message_id,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(key, message_id, timestamp, body)}
        response = send(self.client, account, "POST", account.base_url, write=write, content=body,
                        headers=headers)
        self._raise_for(account, response, write=write)
        return response

    def _raise_for(self, account: Account, response: httpx.Response, *, write: bool) -> None:
        code = response.status_code
        if 200 <= code < 300:
            return
        reason = f"webhook answered {code}: {short_body(response, account)}"
        if write and code == 504:  # a gateway stopped waiting; the receiver may have taken the event
            raise UnknownOutcome(reason)
        if code == 429:
            raise RateLimited(rate_limited_until(None, response.headers, self.clock()), reason)
        if code in (401, 403):  # the receiver refuses our signature: the secret must be set again
            raise AuthExpired(reason)
        if code in (408, 425) or code >= 500:
            raise Temporary(reason)
        if 300 <= code < 400:
            raise Rejected(f"webhook answered a redirect ({code}); give the final URL")
        raise Rejected(reason)
