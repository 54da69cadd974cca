"""Settings: one typed object built from defaults, TCMA_* environment variables and a mapping.

Every value is cast strictly and checked once, in `load_settings`; a bad or unknown name stops
the app at start with a message naming the `TCMA_*` variable, whether it came from the
environment or from the mapping a test or a WSGI file passes.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

DEV_SECRET = "dev-insecure-secret-change-me"
ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the TCMA_* variable."""


@dataclass(frozen=True)
class Settings:
    """Every setting of a tcma process, typed; read with `get_settings()`."""

    env: str = "development"
    secret_key: str = DEV_SECRET
    testing: bool = False
    database_url: str | None = None
    redis_url: str | None = None
    # Production refuses SQLite and in-process jobs unless this says they are meant.
    allow_embedded: bool = False
    storage: str = "local"
    storage_path: str | None = None
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_prefix: str = ""
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    public_url: str = "http://127.0.0.1:5000"
    signed_url_ttl: int = 3600
    # An unfiltered list of a PostgreSQL table with at least this many rows gives the planner's
    # estimate as its total (flagged total_is_estimate) instead of counting them all.
    estimated_total_from: int = 100_000
    queue_prefix: str = "tcma"
    job_timeout: int = 600
    render_lease_seconds: int = 120
    render_chunk: int = 100
    # A launch to more partners than this answers at once and creates its assets in a job, in
    # chunks of launch_chunk_partners partners; a smaller one creates them in the request.
    launch_inline_partners: int = 2000
    launch_chunk_partners: int = 1000
    # Seconds between maintenance passes run by workers (0: none; run `tcma maintenance` instead).
    maintenance_interval: float = 60.0
    # Partners' scores and the KPIs are answered from a stored snapshot younger than this (the
    # maintenance pass recomputes today's default one before it grows older); 0: always computed.
    insight_max_age_seconds: int = 3600
    templates_dir: str = str(ROOT / "templates")
    click_spool_dir: str | None = None
    proxy_hops: int = 0
    click_ship_interval: float = 0.2
    max_upload_bytes: int = 10 * 1024 * 1024
    # Mail (tcma.mail): outbox (a folder of .eml files), smtp or ses.
    mail_backend: str = "outbox"
    mail_from: str = "tcma <no-reply@tcma.localhost>"
    mail_reply_to: str | None = None
    mail_outbox_dir: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = dataclasses.field(default=None, repr=False)
    smtp_timeout: float = 30.0
    smtp_ca_file: str | None = None
    ses_region: str | None = None
    ses_endpoint_url: str | None = None
    ses_access_key_id: str | None = None
    ses_secret_access_key: str | None = dataclasses.field(default=None, repr=False)
    ses_configuration_set: str | None = None
    # People and access.
    session_idle_minutes: int = 120
    session_max_hours: int = 168
    token_default_days: int = 90
    token_max_days: int = 365
    invitation_valid_hours: int = 72
    password_reset_valid_minutes: int = 60
    # Social accounts: comma-separated Fernet keys sealing stored credentials, newest first (the
    # first seals, all open). Production refuses to start without them unless TCMA_ALLOW_EMBEDDED;
    # in development and testing (or embedded production) a key derived from TCMA_SECRET_KEY is
    # used when unset, so changing the secret key makes stored credentials unreadable there.
    credentials_keys: str | None = dataclasses.field(default=None, repr=False)
    # Connectors (tcma.connectors.ConnectorSettings reads these): live networks or the dry-run folder.
    # dryrun (the default outside production, like the mail outbox) records posts as files; live sends.
    connectors_backend: str = "dryrun"
    connectors_timeout: float = 10.0
    connectors_connect_timeout: float = 5.0
    connectors_media_poll_interval: float = 1.0
    connectors_media_wait: float = 120.0
    connectors_dryrun_dir: str | None = None
    connectors_user_agent: str = "tcma/0.1 (+through-channel marketing)"
    # The OAuth networks: the vendor's app on each, and where each network answers.
    connectors_linkedin_client_id: str | None = None
    connectors_linkedin_client_secret: str | None = dataclasses.field(default=None, repr=False)
    connectors_linkedin_auth_url: str = "https://www.linkedin.com/oauth/v2"
    connectors_linkedin_api_url: str = "https://api.linkedin.com"
    connectors_linkedin_version: str = "202610"
    connectors_x_client_id: str | None = None
    connectors_x_client_secret: str | None = dataclasses.field(default=None, repr=False)
    connectors_x_auth_url: str = "https://x.com/i/oauth2/authorize"
    connectors_x_api_url: str = "https://api.x.com"
    connectors_facebook_app_id: str | None = None
    connectors_facebook_app_secret: str | None = dataclasses.field(default=None, repr=False)
    connectors_facebook_auth_url: str = "https://www.facebook.com/v24.0/dialog/oauth"
    connectors_facebook_graph_url: str = "https://graph.facebook.com/v24.0"
    # Syndicated posts: how long a scheduler's claim, and a worker's publish in flight, hold a post
    # before a pass takes it back (a claim is released; a publish is reconciled, never resent).
    # Keep it above the longest publish (connector timeouts, media processing) and the publish
    # job's timeout, or a slow publish is reconciled while it is still under way.
    social_lease_seconds: float = 300.0
    # Frequency caps: no account publishes more tcma posts than these per day and per ISO week
    # (Monday to Sunday), counted on the partner's wall clock. A plan that would break them moves a
    # window's post to another day of the window or skips the account, and says which.
    social_posts_per_day: int = 3
    social_posts_per_week: int = 10
    # Campaign email to partners' contacts (issue 13). From: "<partner name>" <EMAIL_FROM_LOCAL@
    # EMAIL_SENDING_DOMAIN> (aligned with the vendor's SPF/DKIM), envelope bounces+<id>@ that domain.
    email_sending_domain: str = "mail.tcma.localhost"
    email_from_local: str = "news"
    # A contact gets at most this many tcma campaign emails in 7 days, across partners and campaigns.
    email_weekly_cap: int = 3
    # A partner sends at most this many campaign emails a (UTC) day; the rest go out the next day.
    email_daily_cap: int = 5000
    email_send_chunk: int = 500  # recipients per send job
    email_send_batch: int = 50  # recipients claimed (and committed) at once, over one SMTP connection
    # At most this many batches in flight to one recipient domain (gmail.com...) across all workers.
    # A 4xx from a domain pauses that domain for MAIL_DOMAIN_DEFER seconds (doubling while it keeps
    # deferring, up to 30 minutes) and then lets one batch at a time through for a while.
    mail_domain_concurrency: int = 5
    mail_domain_defer: float = 60.0
    # Salt of the address hashes kept for suppression; derived from TCMA_SECRET_KEY when unset.
    email_hash_salt: str | None = dataclasses.field(default=None, repr=False)
    # DNS servers (host or host:port, comma-separated) that partner domains are checked against;
    # unset: the system's resolver.
    email_dns_servers: str | None = None
    # Amazon SES notifications through SNS: the hosts (a regular expression, matched in full) whose
    # https URLs tcma fetches signing certificates and subscription confirmations from, and an optional
    # CA bundle for them.
    email_sns_hosts: str = r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?"
    email_sns_ca_file: str | None = None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def as_flask_config(self, instance_path: str) -> dict[str, Any]:
        """The upper-case mapping Flask and its extensions read."""
        values = {f.name.upper(): getattr(self, f.name) for f in fields(self)}
        values["STORAGE_PATH"] = self.storage_path or str(Path(instance_path) / "files")
        values["SQLALCHEMY_DATABASE_URI"] = database_uri(self.database_url, instance_path)
        values["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
        values["MAX_CONTENT_LENGTH"] = self.max_upload_bytes + 64 * 1024
        values["SESSION_COOKIE_SAMESITE"] = "Lax"
        values["SESSION_COOKIE_SECURE"] = self.public_url.startswith("https://")
        return values


def parse_boolean(name: str, value: Any) -> bool:
    """Strictly cast a setting to bool: true/false/1/0/yes/no/on/off only."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"TCMA_{name} must be a boolean (true/false), got {value!r}")


def parse_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """Strictly cast a setting to a whole number of at least `minimum`."""
    if isinstance(value, bool):
        raise ConfigError(f"TCMA_{name} must be a whole number, got {value!r}")
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise ConfigError(f"TCMA_{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"TCMA_{name} must be a whole number of at least {minimum}, got {value!r}")
    return number


def parse_seconds(name: str, value: Any) -> float:
    """Strictly cast a setting to a number of seconds, zero or more."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"TCMA_{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not number >= 0:
        raise ConfigError(f"TCMA_{name} must be a number of seconds (0 or more), got {value!r}")
    return number


def parse_positive_seconds(name: str, value: Any) -> float:
    """Strictly cast a setting to a number of seconds above 0."""
    number = parse_seconds(name, value)
    if not number > 0:
        raise ConfigError(f"TCMA_{name} must be a number of seconds above 0, got {value!r}")
    return number


def _text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"TCMA_{name} must be text, got {value!r}")
    return value


def _url(*schemes: str) -> Callable[[str, Any], str | None]:
    def parse(name: str, value: Any) -> str | None:
        value = _text(name, value)
        if value is None:
            return None
        if urlsplit(value).scheme.split("+")[0] not in schemes:
            raise ConfigError(f"TCMA_{name} must be a URL with scheme {', '.join(schemes)}, got {value!r}")
        return value
    return parse


def _mail_domain(name: str, value: Any) -> str:
    """A domain name mail is sent from (lower case, no trailing dot)."""
    text = str(value or "").strip().lower().rstrip(".")
    if not re.fullmatch(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]", text):
        raise ConfigError(f"TCMA_{name} must be a domain name like mail.vendor.example, got {value!r}")
    return text


def _email_local_part(name: str, value: Any) -> str:
    text = str(value or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._+-]{0,63}", text):
        raise ConfigError(f"TCMA_{name} must be the part of an address before the @, like news, "
                          f"got {value!r}")
    return text


def _choice(*allowed: str) -> Callable[[str, Any], str]:
    def parse(name: str, value: Any) -> str:
        if value not in allowed:
            raise ConfigError(f"TCMA_{name} must be one of {', '.join(allowed)}, got {value!r}")
        return value
    return parse


PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "ENV": _choice(*ENVIRONMENTS),
    "TESTING": parse_boolean,
    "ALLOW_EMBEDDED": parse_boolean,
    "DATABASE_URL": _url("postgres", "postgresql", "sqlite"),
    "REDIS_URL": _url("redis", "rediss", "unix"),
    "PUBLIC_URL": lambda n, v: _url("http", "https")(n, v).rstrip("/"),
    "S3_ENDPOINT_URL": _url("http", "https"),
    "STORAGE": _choice("local", "s3"),
    "SIGNED_URL_TTL": parse_positive_int,
    "ESTIMATED_TOTAL_FROM": lambda n, v: parse_positive_int(n, v, minimum=0),
    "JOB_TIMEOUT": parse_positive_int,
    "MAX_UPLOAD_BYTES": parse_positive_int,
    "RENDER_LEASE_SECONDS": parse_positive_int,
    "RENDER_CHUNK": parse_positive_int,
    "LAUNCH_INLINE_PARTNERS": lambda n, v: parse_positive_int(n, v, minimum=0),
    "LAUNCH_CHUNK_PARTNERS": parse_positive_int,
    "PROXY_HOPS": lambda n, v: parse_positive_int(n, v, minimum=0),
    # 0 turns the background shipper off: spooled clicks go out on `tcma events flush`.
    "CLICK_SHIP_INTERVAL": parse_seconds,
    "MAINTENANCE_INTERVAL": parse_seconds,
    "INSIGHT_MAX_AGE_SECONDS": lambda n, v: parse_positive_int(n, v, minimum=0),
    "MAIL_BACKEND": _choice("outbox", "smtp", "ses"),
    "SMTP_PORT": parse_positive_int,
    "SMTP_SECURITY": _choice("none", "starttls", "tls"),
    "SMTP_TIMEOUT": parse_seconds,
    "SES_ENDPOINT_URL": _url("http", "https"),
    "SESSION_IDLE_MINUTES": parse_positive_int,
    "SESSION_MAX_HOURS": parse_positive_int,
    "TOKEN_DEFAULT_DAYS": parse_positive_int,
    "TOKEN_MAX_DAYS": parse_positive_int,
    "INVITATION_VALID_HOURS": parse_positive_int,
    "PASSWORD_RESET_VALID_MINUTES": parse_positive_int,
    "CONNECTORS_BACKEND": _choice("live", "dryrun"),
    "CONNECTORS_TIMEOUT": parse_positive_seconds,
    "CONNECTORS_CONNECT_TIMEOUT": parse_positive_seconds,
    "CONNECTORS_MEDIA_POLL_INTERVAL": parse_positive_seconds,
    "CONNECTORS_MEDIA_WAIT": parse_positive_seconds,
    "SOCIAL_LEASE_SECONDS": parse_positive_seconds,
    "SOCIAL_POSTS_PER_DAY": parse_positive_int,
    "SOCIAL_POSTS_PER_WEEK": parse_positive_int,
    "EMAIL_SENDING_DOMAIN": _mail_domain,
    "EMAIL_FROM_LOCAL": _email_local_part,
    "EMAIL_WEEKLY_CAP": parse_positive_int,
    "EMAIL_DAILY_CAP": parse_positive_int,
    "EMAIL_SEND_CHUNK": parse_positive_int,
    "EMAIL_SEND_BATCH": parse_positive_int,
    "MAIL_DOMAIN_CONCURRENCY": parse_positive_int,
    "MAIL_DOMAIN_DEFER": parse_positive_seconds,
    "CONNECTORS_LINKEDIN_AUTH_URL": _url("http", "https"),
    "CONNECTORS_LINKEDIN_API_URL": _url("http", "https"),
    "CONNECTORS_X_AUTH_URL": _url("http", "https"),
    "CONNECTORS_X_API_URL": _url("http", "https"),
    "CONNECTORS_FACEBOOK_AUTH_URL": _url("http", "https"),
    "CONNECTORS_FACEBOOK_GRAPH_URL": _url("http", "https"),
}
NAMES = tuple(f.name.upper() for f in fields(Settings))


def read_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The TCMA_* variables, without the prefix (TCMA_TEST_* belongs to the test suite)."""
    environ = os.environ if environ is None else environ
    return {k[5:]: v for k, v in environ.items() if k.startswith("TCMA_") and not k.startswith("TCMA_TEST_")}


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults < environment < overrides, each name checked, each value cast; or ConfigError."""
    given = {**read_environment(environ), **(overrides or {})}
    unknown = sorted(k for k in given if k not in NAMES)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join('TCMA_' + k for k in unknown)}")
    values = {}
    for name, raw in given.items():
        parse = PARSERS.get(name, _text)
        values[name.lower()] = parse(name, raw)
    settings = Settings(**values)
    if settings.storage == "s3" and not settings.s3_bucket:
        raise ConfigError("TCMA_S3_BUCKET is required when TCMA_STORAGE=s3")
    if not settings.secret_key:
        raise ConfigError("TCMA_SECRET_KEY must be a non-empty string")
    if settings.token_default_days > settings.token_max_days:
        raise ConfigError("TCMA_TOKEN_DEFAULT_DAYS must not exceed TCMA_TOKEN_MAX_DAYS "
                          f"({settings.token_default_days} > {settings.token_max_days})")
    if settings.is_production:
        _check_production(settings)
    return settings


def _check_production(settings: Settings) -> None:
    """What production refuses: a weak secret, and embedded parts nobody asked for."""
    if settings.secret_key == DEV_SECRET or len(settings.secret_key) < 32:
        raise ConfigError(
            "TCMA_SECRET_KEY must be set to a random value of at least 32 characters in production"
        )
    _check_public_url(settings.public_url)
    if settings.allow_embedded:
        return
    if not settings.database_url or settings.database_url.startswith("sqlite"):
        raise ConfigError("TCMA_DATABASE_URL must name a PostgreSQL database in production "
                          "(set TCMA_ALLOW_EMBEDDED=true to run on SQLite on purpose)")
    if not settings.redis_url:
        raise ConfigError("TCMA_REDIS_URL is required in production: without it jobs run inside "
                          "web requests (set TCMA_ALLOW_EMBEDDED=true to run that way on purpose)")
    if settings.mail_backend == "outbox":
        raise ConfigError("TCMA_MAIL_BACKEND must be smtp or ses in production: the outbox folder "
                          "sends nothing (set TCMA_ALLOW_EMBEDDED=true to keep mail in the folder)")
    if settings.connectors_backend != "live":
        raise ConfigError("TCMA_CONNECTORS_BACKEND must be live in production: the dry-run connector "
                          "publishes nothing (set TCMA_ALLOW_EMBEDDED=true to keep posts in the folder)")
    if not (settings.credentials_keys or "").strip():
        raise ConfigError("TCMA_CREDENTIALS_KEYS is required in production: it seals partners' social "
                          "credentials (make a key with `python -c 'from tcma.crypto import generate_key; "
                          "print(generate_key())'`, or set TCMA_ALLOW_EMBEDDED=true to derive one from "
                          "TCMA_SECRET_KEY)")


def _check_public_url(url: str) -> None:
    """Every QR code, email link and pixel points at TCMA_PUBLIC_URL: it must be reachable and safe."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    private = host in {"localhost", ""} or host.endswith(".localhost") or (
        address is not None and (address.is_loopback or address.is_private or address.is_link_local))
    if parts.scheme != "https" or private:
        raise ConfigError("TCMA_PUBLIC_URL must be the https address partners and their audience reach "
                          f"(not a loopback or private address) in production, got {url!r}")


def database_uri(url: str | None, instance_path: str) -> str:
    """Turn TCMA_DATABASE_URL into a SQLAlchemy URI (psycopg 3 for PostgreSQL)."""
    if not url:
        return f"sqlite:///{Path(instance_path) / 'tcma.sqlite3'}"
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def configure(app: Flask, overrides: Mapping[str, Any] | None) -> Settings:
    """Load and check the settings, keep them on the app and mirror them into app.config."""
    settings = load_settings(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    if settings.storage_path is None:
        settings = dataclasses.replace(settings, storage_path=str(Path(app.instance_path) / "files"))
    if settings.mail_outbox_dir is None:
        settings = dataclasses.replace(settings, mail_outbox_dir=str(Path(app.instance_path) / "outbox"))
    if settings.connectors_dryrun_dir is None:
        settings = dataclasses.replace(settings,
                                       connectors_dryrun_dir=str(Path(app.instance_path) / "social-dryrun"))
    app.config.update(settings.as_flask_config(app.instance_path))
    app.extensions["tcma.settings"] = settings
    return settings


def get_settings() -> Settings:
    """The current app's settings."""
    return current_app.extensions["tcma.settings"]
