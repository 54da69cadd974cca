"""One JSON error shape {code, status, message, errors} for domain, validation and HTTP errors."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from tcma.errors import DomainError

log = logging.getLogger(__name__)


def error_body(status: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape every JSON error uses."""
    return {
        "code": status,
        "status": HTTPStatus(status).phrase,
        "message": message,
        "errors": errors or {},
    }


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def http_error_response(exc: HTTPException):
    """An HTTP error as the one JSON shape (pages keep Werkzeug's HTML)."""
    if not _wants_json():
        return exc
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages") or {}
    message = "invalid input: see errors" if errors else (exc.description or "")
    headers = data.get("headers") or getattr(exc, "headers", None) or {}
    return jsonify(error_body(exc.code or 500, message, errors)), exc.code, headers


def init_app(app: Flask) -> None:
    """Register the error handlers on `app`."""

    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        from tcma.extensions import db

        db.session.rollback()
        return jsonify(error_body(exc.status, exc.message, exc.errors)), exc.status

    app.register_error_handler(HTTPException, http_error_response)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        from tcma.extensions import db

        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return jsonify(error_body(500, "internal error")), 500
        return "Internal Server Error", 500
