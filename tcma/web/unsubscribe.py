"""A campaign email's own unsubscribe link (RFC 8058): one-click POST from the mailbox provider,
or the landing page's single button (a GET alone never unsubscribes: scanners fetch links); and the
endpoint Amazon SNS posts SES bounces and complaints to."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template_string, request

from tcma.services.sending.feedback import record_sns_notification
from tcma.services.sending.unsubscribes import unsubscribe_recipient, unsubscribe_target

bp = Blueprint("email_unsubscribe", __name__)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Unsubscribe</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem;
line-height: 1.5">
{% if done %}<h1>You are unsubscribed</h1>
<p>{{ partner }} will not send you these emails again.</p>
{% else %}<h1>Unsubscribe from {{ partner }}</h1>
<p>Stop receiving emails from {{ partner }} sent through this service.</p>
<form method="post">
<button type="submit" style="font-size: 1.1rem; padding: .6rem 1.4rem">Unsubscribe</button></form>
{% endif %}</body></html>"""


@bp.get("/u/<token>")
def landing(token: str):
    """The page behind the email's unsubscribe link: one button, one step."""
    partner = unsubscribe_target(token)
    if partner is None:
        abort(404)
    return render_template_string(PAGE, partner=partner, done=False), 200, NO_STORE


@bp.post("/u/<token>")
def unsubscribe(token: str):
    """Unsubscribe now: the provider's one-click POST (List-Unsubscribe=One-Click) or the page's button."""
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    partner = unsubscribe_recipient(token, "one-click" if one_click else "landing page")
    if partner is None:
        abort(404)
    if one_click:
        return Response("unsubscribed\n", mimetype="text/plain", headers=NO_STORE)
    return render_template_string(PAGE, partner=partner, done=True), 200, NO_STORE


@bp.post("/email/ses-notifications")
def ses_notification():
    """Amazon SES bounce and complaint notifications through SNS (the SNS signature is the caller's proof;
    refused with 403 when it does not verify)."""
    return jsonify(record_sns_notification(request.get_data(cache=False)))
