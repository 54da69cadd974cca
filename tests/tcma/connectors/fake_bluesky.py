"""A fake Bluesky PDS: sessions with rotating refresh tokens, blobs, strictly checked post records."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from typing import Any

import regex
from werkzeug.wrappers import Request, Response

from tests.tcma.connectors.fakes import FakeNetwork


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

    def list_records(self, request: Request) -> Response:
        if request.args.get("repo") != self.DID or request.args.get("collection") != "app.bsky.feed.post":
            return self.xrpc_error(400, "InvalidRequest", "Could not find repo")
        limit = int(request.args.get("limit", 50))
        return self.json({"records": list(reversed(self.records))[:limit]}, 200, self.rate_headers())
