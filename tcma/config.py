"""Settings: defaults, then TCMA_* environment variables, then a mapping; checked strictly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

DEV_SECRET = "dev-insecure-secret-change-me"
ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SECRET_KEY": DEV_SECRET,
    "DATABASE_URL": None,
    "REDIS_URL": None,
    "STORAGE": "local",
    "STORAGE_PATH": None,
    "S3_BUCKET": None,
    "S3_ENDPOINT_URL": None,
    "S3_REGION": "us-east-1",
    "S3_PREFIX": "",
    "S3_ACCESS_KEY_ID": None,
    "S3_SECRET_ACCESS_KEY": None,
    "PUBLIC_URL": "http://127.0.0.1:5000",
    "SIGNED_URL_TTL": 3600,
    "QUEUE_PREFIX": "tcma",
    "JOB_TIMEOUT": 600,
    "RENDER_LEASE_SECONDS": 120,
    "RENDER_CHUNK": 100,
    "TEMPLATES_DIR": str(ROOT / "templates"),
    "CLICK_SPOOL_DIR": None,
    "PROXY_HOPS": 0,
    "CLICK_SHIP_INTERVAL": 0.2,
    "MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
    "TESTING": False,
}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the TCMA_* variable."""


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
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ConfigError(f"TCMA_{name} must be a whole number, got {value!r}") from None
    if isinstance(number, bool) or number < minimum:
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


def _check_url(name: str, value: str | None, schemes: tuple[str, ...]) -> None:
    if value is None:
        return
    parts = urlsplit(str(value))
    if parts.scheme.split("+")[0] not in schemes:
        allowed = ", ".join(schemes)
        raise ConfigError(f"TCMA_{name} must be a URL with scheme {allowed}, got {value!r}")


def database_uri(url: str | None, instance_path: str) -> str:
    """Turn TCMA_DATABASE_URL into a SQLAlchemy URI (psycopg 3 for PostgreSQL)."""
    if not url:
        return f"sqlite:///{Path(instance_path) / 'tcma.sqlite3'}"
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _read_env() -> dict[str, Any]:
    prefix = "TCMA_"
    # TCMA_TEST_* belongs to the test suite, not the application.
    return {
        k[len(prefix):]: v
        for k, v in os.environ.items()
        if k.startswith(prefix) and not k.startswith("TCMA_TEST_")
    }


def configure(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Load defaults, environment and overrides into app.config, then validate."""
    values = dict(DEFAULTS)
    values.update(_read_env())
    values.update(overrides or {})
    unknown = sorted(k for k in _read_env() if k not in DEFAULTS)
    if unknown:
        names = ", ".join(f"TCMA_{k}" for k in unknown)
        raise ConfigError(f"unknown setting(s): {names}")
    validate(values)
    app.config.update(values)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(values["DATABASE_URL"], app.instance_path)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    app.config["MAX_CONTENT_LENGTH"] = values["MAX_UPLOAD_BYTES"] + 64 * 1024
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = values["PUBLIC_URL"].startswith("https://")
    if not values["STORAGE_PATH"]:
        app.config["STORAGE_PATH"] = str(Path(app.instance_path) / "files")


def validate(values: dict[str, Any]) -> None:
    """Check every setting, casting in place; raise ConfigError naming the first bad one."""
    if values["ENV"] not in {"development", "production", "testing"}:
        raise ConfigError(
            f"TCMA_ENV must be development, production or testing, got {values['ENV']!r}"
        )
    values["TESTING"] = parse_boolean("TESTING", values["TESTING"])
    for name in ("SIGNED_URL_TTL", "JOB_TIMEOUT", "MAX_UPLOAD_BYTES", "RENDER_LEASE_SECONDS",
                 "RENDER_CHUNK"):
        values[name] = parse_positive_int(name, values[name])
    values["PROXY_HOPS"] = parse_positive_int("PROXY_HOPS", values["PROXY_HOPS"], minimum=0)
    # 0 turns the background shipper off: spooled clicks go out on `tcma events flush`.
    values["CLICK_SHIP_INTERVAL"] = parse_seconds("CLICK_SHIP_INTERVAL", values["CLICK_SHIP_INTERVAL"])
    _check_url("DATABASE_URL", values["DATABASE_URL"], ("postgres", "postgresql", "sqlite"))
    _check_url("REDIS_URL", values["REDIS_URL"], ("redis", "rediss", "unix"))
    _check_url("PUBLIC_URL", values["PUBLIC_URL"], ("http", "https"))
    _check_url("S3_ENDPOINT_URL", values["S3_ENDPOINT_URL"], ("http", "https"))
    if values["STORAGE"] not in {"local", "s3"}:
        raise ConfigError(f"TCMA_STORAGE must be 'local' or 's3', got {values['STORAGE']!r}")
    if values["STORAGE"] == "s3" and not values["S3_BUCKET"]:
        raise ConfigError("TCMA_S3_BUCKET is required when TCMA_STORAGE=s3")
    values["PUBLIC_URL"] = str(values["PUBLIC_URL"]).rstrip("/")
    _check_secret(values)


def _check_secret(values: dict[str, Any]) -> None:
    secret = values["SECRET_KEY"]
    if not isinstance(secret, str) or not secret:
        raise ConfigError("TCMA_SECRET_KEY must be a non-empty string")
    if values["ENV"] == "production" and (secret == DEV_SECRET or len(secret) < 32):
        raise ConfigError(
            "TCMA_SECRET_KEY must be set to a random value of at least 32 characters in production"
        )
