"""Tracking endpoints: the /l/<code> redirect and the /o/<token>.gif email-open pixel."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, session

from tcma.http_errors import printable
from tcma.services.accounts.auth import principal_for_user
from tcma.services.tracking.events import Visit, follow_link, open_pixel

bp = Blueprint("tracking", __name__, template_folder="templates")

# The smallest transparent GIF (1x1, 43 bytes).
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
NO_STORE = {"Cache-Control": "no-store, max-age=0", "Referrer-Policy": "no-referrer"}


def _visit() -> Visit:
    # Parsing the query string costs more than the rest of the request; most clicks have none.
    send_id = request.args.get("s") if request.query_string else None
    return Visit.of(request.method, request.environ.get("HTTP_USER_AGENT"), request.remote_addr, send_id,
                    vendor=_signed_in_vendor())


def _signed_in_vendor() -> bool:
    """Whether the visitor carries a portal session of the vendor's (a marketer testing a link).

    Only a request with tcma's session cookie pays for the look-up: people clicking a partner's
    link from an email or a post do not have one.
    """
    if "HTTP_COOKIE" not in request.environ:
        return False
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return False
    principal = principal_for_user(getattr(session, "user_id", None))
    return principal is not None and principal.is_vendor


@bp.route("/l/<code>", methods=["GET", "HEAD"])
def follow(code: str):
    """Send the visitor on to the link's registered destination, recording the click."""
    location = follow_link(code, _visit())
    if location is None:
        return _unknown_code(code)
    # No HTML body: browsers follow Location, and the location is already a URI.
    return Response(status=302, headers={"Location": location, **NO_STORE})


@bp.route("/o/<token>.gif", methods=["GET", "HEAD"])
def pixel(token: str):
    """Answer the open pixel (always an image, so mail clients show nothing broken)."""
    open_pixel(token, _visit())
    return Response(PIXEL, mimetype="image/gif", headers=NO_STORE)


def _unknown_code(code: str):
    return render_template("tracking/not_found.html", code=printable(code[:24])), 404, NO_STORE


@bp.errorhandler(404)
def not_found(exc):
    """A code or token no link can have (the input gate answered 404): the same answers as unknown ones."""
    if request.endpoint == "tracking.pixel":
        return Response(PIXEL, mimetype="image/gif", headers=NO_STORE)
    return _unknown_code((request.view_args or {}).get("code", ""))
