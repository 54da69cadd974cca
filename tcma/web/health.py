"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from tcma.services.health import check_readiness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up and answering."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Database, Redis and storage, each named with its state; 503 when one is down."""
    parts = check_readiness()
    ready = all(part["ok"] for part in parts.values())
    return jsonify(status="ready" if ready else "unavailable", parts=parts), 200 if ready else 503
