"""Per-app state: every client, cache and background helper of one app, built once in `init_state`.

Nothing is added to it later by a request; background threads (the click shipper) start only
when the serving process asks (`start_background_work`), never on a first click.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, current_app

import renderers
from tcma.cache import LruCache
from tcma.clickbuffer import TrackingRuntime
from tcma.config import ConfigError, Settings
from tcma.connectors import Connector, ConnectorSettings, build_connector
from tcma.connectors.limits import LimitedConnector, SharedLimiter
from tcma.crypto import CredentialBox, CredentialKeyError, parse_keys
from tcma.mail import Mailer, MailSettings, build_mailer
from tcma.mail_throttle import DomainThrottle
from tcma.queue import TaskQueue
from tcma.ratelimit import AttemptCounter
from tcma.storage import Storage, build_storage

SIGN_IN_WINDOW = 900  # seconds a failed sign-in is remembered


@dataclass
class AppState:
    """The app's clients, bounded caches and runtimes (one per app, shared by its threads)."""

    settings: Settings
    storage: Storage
    queue: TaskQueue
    renderer: renderers.Renderer
    templates: LruCache  # parsed template versions, by version id
    logos: LruCache  # decoded partner logos, by storage key
    destination_ids: LruCache  # registered destination ids, by (name, url)
    sign_in_failures: AttemptCounter
    sign_in_clients: AttemptCounter
    password_resets: AttemptCounter
    tracking: TrackingRuntime
    mail_settings: MailSettings
    mailer: Mailer
    credentials: CredentialBox  # seals and opens social accounts' credentials
    connectors: ConnectorSettings
    social_limits: SharedLimiter  # the networks' rate limits, shared by every worker (Redis) or this process
    mail_domains: DomainThrottle  # campaign email in flight per recipient domain, across every worker

    # A worker process's publishing connectors, kept across jobs once `keep_connectors` is called.
    _kept: dict[tuple[int, str], LimitedConnector] | None = field(default=None, repr=False)

    def connector(self, network: str) -> Connector:
        """The connector for `network`, behind the shared rate limiter; close it after use."""
        return LimitedConnector(build_connector(network, self.connectors), self.social_limits)

    def keep_connectors(self) -> None:
        """From now on this process keeps one publishing connector per network (`publisher`): its
        open connections and what it has read of each instance serve chunk after chunk. For
        long-lived worker processes; a forked child builds its own (the keys carry the pid)."""
        if self._kept is None:
            self._kept = {}

    def publisher(self, network: str) -> tuple[LimitedConnector, bool]:
        """A connector for a publishing job and whether the caller must close it (False: kept)."""
        if self._kept is None:
            return LimitedConnector(build_connector(network, self.connectors), self.social_limits), True
        key = (os.getpid(), network)
        kept = self._kept.get(key)
        if kept is None:
            kept = self._kept[key] = LimitedConnector(build_connector(network, self.connectors),
                                                      self.social_limits)
        return kept, False


def init_state(app: Flask, settings: Settings,
               write_events: Callable[[list[dict[str, Any]]], int]) -> AppState:
    """Build the app's state; `write_events` is where tracked events go when Redis cannot take them."""
    queue = TaskQueue(settings.redis_url, settings.queue_prefix)
    try:
        mail_settings = MailSettings.from_config(app.config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        connectors = ConnectorSettings.from_config(app.config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    spool = Path(settings.click_spool_dir or Path(app.instance_path) / "clickspool")
    state = AppState(
        settings=settings,
        storage=build_storage(app.config),
        queue=queue,
        renderer=renderers.Renderer(),
        templates=LruCache(64),
        logos=LruCache(512),
        destination_ids=LruCache(4096),
        sign_in_failures=AttemptCounter("sign-in-failures", SIGN_IN_WINDOW,
                                        queue.redis if queue.is_async else None),
        sign_in_clients=AttemptCounter("sign-in-clients", SIGN_IN_WINDOW,
                                       queue.redis if queue.is_async else None),
        password_resets=AttemptCounter("password-resets", 3600, queue.redis if queue.is_async else None),
        tracking=TrackingRuntime(app, queue, settings, spool, write_events),
        mail_settings=mail_settings,
        mailer=build_mailer(mail_settings),
        credentials=credential_box(settings),
        connectors=connectors,
        social_limits=SharedLimiter(queue.redis if queue.is_async else None,
                                    prefix=f"{settings.queue_prefix}:social-limits"),
        mail_domains=DomainThrottle(queue.redis if queue.is_async else None,
                                    settings.mail_domain_concurrency, settings.mail_domain_defer,
                                    prefix=f"{settings.queue_prefix}:mail-domain"),
    )
    app.extensions["tcma"] = state
    return state


def credential_box(settings: Settings) -> CredentialBox:
    """The box over TCMA_CREDENTIALS_KEYS; unset (never in production without ALLOW_EMBEDDED, see
    tcma.config): one key derived from the secret key."""
    keys = parse_keys(settings.credentials_keys or "")
    if not keys:
        digest = hashlib.sha256(b"tcma-credentials:" + settings.secret_key.encode("utf-8")).digest()
        keys = [base64.urlsafe_b64encode(digest).decode("ascii")]
    try:
        return CredentialBox(keys)
    except CredentialKeyError as exc:
        raise ConfigError(str(exc)) from None


def app_state() -> AppState:
    """The current app's state."""
    return current_app.extensions["tcma"]


def start_background_work(app: Flask) -> None:
    """Start what a serving process runs beside requests (the click shipper thread)."""
    app.extensions["tcma"].tracking.start_shipper()
