"""One JSON error shape {code, status, message, errors} for domain, validation and HTTP errors.

Also the one gate for text nothing downstream can store: NUL characters (PostgreSQL refuses them
in text) and unpaired surrogates (they cannot be encoded), in the path, query, form or JSON body.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from flask import Flask, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from tcma.config import get_settings
from tcma.errors import DomainError, InvalidInput

log = logging.getLogger(__name__)

NUL_MESSAGE = "contains a NUL character, which cannot be stored"
SURROGATE_MESSAGE = "contains an unpaired surrogate (not valid Unicode), which cannot be stored"
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
UPLOAD_FIELDS = "tcma_upload_fields"  # attribute of a view naming its file fields (see uploads())


def error_body(status: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape every JSON error uses."""
    return {
        "code": status,
        "status": HTTPStatus(status).phrase,
        "message": message,
        "errors": errors or {},
    }


def _flaw(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    match = UNSTORABLE.search(text)
    if match is None:
        return None
    return NUL_MESSAGE if match.group() == "\x00" else SURROGATE_MESSAGE


def printable(name: str) -> str:
    """`name` with NUL and lone surrogates written as escapes, fit to show or log."""
    return UNSTORABLE.sub(lambda match: match.group().encode("unicode_escape").decode(), name)


def _json_flaw(value: Any, path: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """(dotted path, why) of the first unstorable string in a parsed JSON value, keys included."""
    if isinstance(value, str):
        flaw = _flaw(value)
        return (".".join(path), flaw) if flaw else None
    if isinstance(value, dict):
        items = value.items()
        for key in value:
            if flaw := _flaw(key):
                return ".".join(path), f"a key {flaw}"
    elif isinstance(value, list):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return None
    for key, item in items:
        if found := _json_flaw(item, (*path, key)):
            return found
    return None


def _refuse(location: str, label: str, name: str, flaw: str) -> None:
    what = f"{label} {name}" if name else label
    raise InvalidInput(f"{what} {flaw}", {location: {name or "_schema": [flaw]}})


BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_unstorable_input() -> None:
    """Before each request: refuse NUL and lone surrogates once, for every endpoint.

    A name in the path answers 404 (no row can be named so); query, form and JSON values answer
    422 naming the field.
    """
    if any(isinstance(value, str) and _flaw(value) for value in (request.view_args or {}).values()):
        abort(404)
    # Query and form values are UTF-8 decoded with replacement, so only NUL can get through;
    # checking the raw bytes first keeps the tracking redirect's fast path free of parsing.
    if b"%00" in request.query_string or b"\x00" in request.query_string:
        _refuse_in_pairs("query", "query parameter", request.args)
    if request.method in BODILESS:
        return  # no body to read (and no header parsing on the redirect's hot path)
    if request.mimetype in FORM_TYPES:
        _refuse_in_pairs("form", "form field", request.form)
    if request.is_json:
        found = _json_flaw(request.get_json(silent=True))
        if found:
            _refuse("json", "field" if found[0] else "the JSON body", found[0], found[1])


def _refuse_in_pairs(location: str, label: str, pairs: Any) -> None:
    for name, value in pairs.items(multi=True):
        flaw = _flaw(name) or _flaw(value)
        if flaw:
            _refuse(location, label, printable(name), flaw)


def uploads(*fields: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a view as taking these file fields, so an upload over the limit is refused naming them."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, UPLOAD_FIELDS, fields)
        return view

    return mark


def _too_large() -> tuple[str, dict[str, Any]]:
    """The message and errors of a 413: the limit, and the view's file fields if it names any."""
    limit = f"larger than the limit of {get_settings().max_upload_bytes:,} bytes"
    view = current_app.view_functions.get(request.endpoint or "")
    return f"the upload is {limit}", {name: [limit] for name in getattr(view, UPLOAD_FIELDS, ())}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def http_error_response(exc: HTTPException):
    """An HTTP error as the one JSON shape (pages keep Werkzeug's HTML)."""
    if not _wants_json():
        return exc
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages") or {}
    message = "invalid input: see errors" if errors else (exc.description or "")
    if exc.code == 413:
        message, errors = _too_large()
    # Werkzeug's own headers (Allow on a 405, WWW-Authenticate, ...), without its content type.
    headers = {key: value for key, value in exc.get_headers() if key.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    return jsonify(error_body(exc.code or 500, message, errors)), exc.code, headers


def init_app(app: Flask) -> None:
    """Register the error handlers and the unstorable-input gate on `app`."""
    app.before_request(refuse_unstorable_input)

    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        from tcma.extensions import db

        db.session.rollback()
        headers = {}
        if getattr(exc, "retry_after", None):  # 503: when the work can be accepted again
            headers["Retry-After"] = str(int(exc.retry_after))
        return jsonify(error_body(exc.status, exc.message, exc.errors)), exc.status, headers

    app.register_error_handler(HTTPException, http_error_response)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        from tcma.extensions import db

        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return jsonify(error_body(500, "internal error")), 500
        return "Internal Server Error", 500
