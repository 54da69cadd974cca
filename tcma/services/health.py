"""Readiness of the parts the application depends on."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text

from tcma.extensions import db
from tcma.queue import get_queue
from tcma.storage import get_storage

log = logging.getLogger(__name__)


def _probe(check) -> dict[str, Any]:
    try:
        detail = check()
    except Exception as exc:  # any failure means "not ready"; the log says why in full
        log.warning("readiness probe failed", exc_info=True)
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "detail": detail}


def check_readiness() -> dict[str, dict[str, Any]]:
    """Probe the database, Redis (when configured) and storage; name each with its state."""

    def database() -> str:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return db.engine.dialect.name

    def redis() -> str:
        queue = get_queue()
        if not queue.is_async:
            return "not configured: jobs run in-process"
        queue.ping()
        return "ok"

    def storage() -> str:
        backend = get_storage()
        backend.check()
        return backend.name

    return {"database": _probe(database), "redis": _probe(redis), "storage": _probe(storage)}
