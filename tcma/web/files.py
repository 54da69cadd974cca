"""Downloads from the local storage backend through signed, expiring URLs."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, Response, abort, request

from tcma.storage import LocalStorage, NotFound, get_storage

bp = Blueprint("files", __name__)


@bp.get("/files/<path:key>")
def download(key: str):
    """Serve a stored file when the URL's signature and expiry check out."""
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        abort(404)
    expires = request.args.get("expires", type=int)
    sig = request.args.get("sig", "")
    filename = request.args.get("filename")
    if expires is None or not storage.verify(key, expires, sig, filename):
        abort(403, description="this download link is invalid or has expired")
    try:
        data = storage.get(key)
    except (NotFound, ValueError):
        abort(404)
    media_type = mimetypes.guess_type(filename or key)[0] or "application/octet-stream"
    response = Response(data, mimetype=media_type)
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
