"""Tracking endpoints: the /l/<code> redirect and the /o/<token>.gif email-open pixel."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request

from tcma.services.tracking import Visit, follow_link, open_pixel

bp = Blueprint("tracking", __name__, template_folder="templates")

# The smallest transparent GIF (1x1, 43 bytes).
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
NO_STORE = {"Cache-Control": "no-store, max-age=0", "Referrer-Policy": "no-referrer"}


def _visit() -> Visit:
    return Visit.of(request.method, request.headers.get("User-Agent"), request.remote_addr,
                    request.args.get("s"))


@bp.route("/l/<code>", methods=["GET", "HEAD"])
def follow(code: str):
    """Send the visitor on to the link's registered destination, recording the click."""
    location = follow_link(code, _visit())
    if location is None:
        return render_template("tracking/not_found.html", code=code[:24]), 404, NO_STORE
    response = redirect(location, 302)
    response.headers.update(NO_STORE)
    return response


@bp.route("/o/<token>.gif", methods=["GET", "HEAD"])
def pixel(token: str):
    """Answer the open pixel (always an image, so mail clients show nothing broken)."""
    open_pixel(token, _visit())
    return Response(PIXEL, mimetype="image/gif", headers=NO_STORE)
