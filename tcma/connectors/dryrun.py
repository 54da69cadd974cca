"""Dry run: records what would have been published, in memory and optionally as files; sends nothing."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tcma.fileio import write_atomically

from . import (
    IMAGE_TYPES,
    METRIC_FIELDS,
    Account,
    Clock,
    Post,
    PostMetrics,
    Published,
    RecentPost,
    Rejected,
    Unsupported,
    check_text,
    find_published,
    utc_now,
)

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


@dataclass(frozen=True)
class DryRunRecord:
    """One post that would have been sent (never its account's credentials)."""

    external_id: str
    network: str
    handle: str
    text: str
    idempotency_key: str
    image_type: str | None
    image_bytes: int
    alt_text: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        """The record as written to the folder."""
        return {**self.__dict__, "at": self.at.isoformat()}


class DryRunConnector:
    """Checks posts like the network would, keeps them in `sent`, and writes them under `folder`."""

    def __init__(self, network: str, *, folder: str | Path | None = None, clock: Clock = utc_now) -> None:
        self.network = network
        self.folder = Path(folder) / network if folder else None
        self.clock = clock
        self.sent: list[DryRunRecord] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        """Nothing to release."""

    def publish(self, account: Account, post: Post) -> Published:
        """Record the post once per idempotency key; the same key gives back the same id."""
        check_text(self.network, post.text)
        if post.image is not None and post.image_type not in IMAGE_TYPES:
            raise Rejected(f"{self.network} takes images of type {', '.join(IMAGE_TYPES)}")
        external_id = "dryrun-" + hashlib.sha256(
            f"{account.handle}:{post.idempotency_key}".encode()).hexdigest()[:20]
        with self._lock:
            if not any(r.external_id == external_id for r in self.sent):
                record = DryRunRecord(external_id, self.network, account.handle, post.text,
                                      post.idempotency_key, post.image_type, len(post.image or b""),
                                      post.alt_text, self.clock())
                self.sent.append(record)
                self._write(record, post)
        return Published(external_id, self._url(external_id))

    def verify(self, account: Account) -> tuple[str, str]:
        """Accept any account: (handle, external id or a made-up one)."""
        return account.handle, account.external_id or f"dryrun:{account.handle}"

    def recent_posts(self, account: Account, limit: int = 20) -> list[RecentPost]:
        """What was recorded for the account, newest first."""
        with self._lock:
            mine = [r for r in self.sent if r.handle == account.handle]
        newest = list(reversed(mine))[:limit]
        return [RecentPost(r.external_id, self._url(r.external_id), r.text, r.at) for r in newest]

    def reconcile(self, account: Account, post: Post, since: datetime | None = None) -> Published | None:
        """The recorded post with this text, if any."""
        return find_published(self.recent_posts(account), post, since)

    def metrics(self, account: Account, external_id: str) -> PostMetrics:
        """Nobody saw a dry-run post: 0 for each number the network gives (what it recorded), none for
        the numbers it does not give (a webhook gives none: Unsupported, as the live one)."""
        fields = METRIC_FIELDS.get(self.network, ())
        if not fields:
            raise Unsupported(f"{self.network} gives no numbers of a post (dry run)")
        with self._lock:
            known = any(r.external_id == external_id for r in self.sent)
        # Another process's dry run recorded it when the id is one of ours (each connector starts empty).
        if not known and not str(external_id).startswith("dryrun-"):
            raise Rejected(f"{self.network} dry run has no post {external_id}")
        return PostMetrics.of(**dict.fromkeys(fields, 0))

    def _url(self, external_id: str) -> str | None:
        return (self.folder / f"{external_id}.json").resolve().as_uri() if self.folder else None

    def _write(self, record: DryRunRecord, post: Post) -> None:
        if not self.folder:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        if post.image is not None:
            extension = EXTENSIONS.get(post.image_type or "", "bin")
            write_atomically(self.folder / f"{record.external_id}.{extension}", post.image)
        document = json.dumps(record.as_json(), ensure_ascii=False, indent=2).encode("utf-8")
        write_atomically(self.folder / f"{record.external_id}.json", document)
