"""Building test apps: their settings, and an app whose tables are emptied when it is done."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from tcma import create_app

SECRET_KEY = "test-secret-" + "x" * 32


def base_config(tmp_path: Path, **extra) -> dict:
    """Settings for a test app; `extra` overrides."""
    config = {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "STORAGE": "local",
        "STORAGE_PATH": str(tmp_path / "files"),
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),  # never the shared instance/outbox
        "PUBLIC_URL": "http://tcma.test",
        "REDIS_URL": None,
        # No test app reaches a real network; tests of live connectors point them at the loopback fakes.
        "CONNECTORS_BACKEND": "dryrun",
        "CONNECTORS_DRYRUN_DIR": str(tmp_path / "social-dryrun"),  # never the shared instance/
    }
    config.update(extra)
    return config


def app_on(config: dict, tables: list[str]) -> Iterator[Flask]:
    """Yield an app built from `config` inside its context; then empty `tables` and close the pool."""
    application = create_app(config)
    with application.app_context():
        yield application
        from tcma.extensions import db

        db.session.remove()
        with db.engine.begin() as conn:
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.engine.dispose()
