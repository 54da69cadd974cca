"""A fake Mastodon instance: Idempotency-Key replay, media processed after some polls, ISO rate headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

import regex
from werkzeug.wrappers import Request, Response

from renderers import post_length
from tests.tcma.connectors.fakes import FakeNetwork


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

    def __init__(self, max_characters: int = 500, processing_polls: int = 0) -> None:
        super().__init__()
        self.max_characters = max_characters
        self.processing_polls = processing_polls
        self.statuses: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.remaining = 300

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
        if request.headers.get("Authorization") != f"Bearer {self.TOKEN}":
            return self.json({"error": "The access token is invalid"}, 401)
        self.remaining -= 1
        route = {("GET", "/api/v1/accounts/verify_credentials"): self.verify_credentials,
                 ("POST", "/api/v2/media"): self.upload_media,
                 ("POST", "/api/v1/statuses"): self.post_status,
                 ("GET", f"/api/v1/accounts/{self.ACCOUNT_ID}/statuses"): self.list_statuses}
        handler = route.get((request.method, path))
        if handler is None and request.method == "GET" and path.startswith("/api/v1/media/"):
            handler = self.poll_media
        if handler is None:
            return self.json({"error": "Record not found"}, 404)
        response = handler(request)
        response.headers.update(self.rate_headers())
        return response

    def verify_credentials(self, request: Request) -> Response:
        return self.json({"id": self.ACCOUNT_ID, "username": "acme", "acct": "acme"})

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
            return self.json(self.idempotency[key])
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
        return self.json(status)

    def list_statuses(self, request: Request) -> Response:
        limit = int(request.args.get("limit", 20))
        return self.json(list(reversed(self.statuses))[:limit])
