"""Public brand media for emails (partner logos) and the email unsubscribe page."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, Response, abort, render_template_string, request

from tcma.services.partners.media import public_logo
from tcma.services.tracking.unsubscribes import record_unsubscribe, unsubscribe_partner
from tcma.storage import NotFound

bp = Blueprint("media", __name__)

UNSUBSCRIBE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Unsubscribe</title></head><body style="font-family: sans-serif; max-width: 36rem; margin: 3rem auto">
{% if done %}<h1>Request recorded</h1>
<p>Your request to stop these emails has been recorded and passed on to {{ partner }}.</p>
{% else %}<h1>Unsubscribe from {{ partner }}</h1>
<form method="post"><button type="submit">Unsubscribe</button></form>{% endif %}
</body></html>"""


@bp.get("/media/<path:key>")
def logo(key: str):
    """A partner logo for email clients (keys are content-addressed, so cache them for good)."""
    try:
        data = public_logo(key)
    except (NotFound, ValueError):
        abort(404)
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return Response(data, mimetype=media_type,
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """Confirm, then record, an email reader's request to stop a partner's emails."""
    done = request.method == "POST"
    name = record_unsubscribe(token) if done else unsubscribe_partner(token)
    if name is None:
        abort(404)
    return render_template_string(UNSUBSCRIBE_PAGE, partner=name, done=done)
