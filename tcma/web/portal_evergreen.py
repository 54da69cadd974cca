"""The post library (issue 12, evergreen posts): a partner browses the library's post texts, sees each
network's text exactly as it goes out for them, changes the editable fields, and schedules it on one
or more of their accounts at a time on their own wall clock, or as soon as possible.

One form does both: "Update preview" renders the texts with the values typed (their limits checked),
"Schedule" makes the posts and returns to the posts page, where they are listed as upcoming. Refused
input shows the page again (422) with each message beside its field, and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, redirect, request, url_for

from renderers import POST_LIMITS
from tcma.errors import ConflictError, InvalidInput
from tcma.services.accounts.auth import Principal
from tcma.services.syndication import evergreen
from tcma.services.transaction import rollback
from tcma.web.portal import PARTNER, page, page_required, portal_blueprint
from tcma.web.portal_posts import CHOOSE_TIME, account_line, limit_hint, message, when
from tcma.web.portal_social import network_name

bp = portal_blueprint("portal_evergreen", __name__, url_prefix="/portal/posts/library")
FIELD_PREFIX = "field-"


def _helpers() -> dict[str, Any]:
    return {"network_name": network_name, "limit_hint": limit_hint, "limits": POST_LIMITS}


@bp.get("")
@page_required(*PARTNER)
def library(principal: Principal):
    """The library's posts the partner may schedule on their own accounts."""
    return page("portal/evergreen.html", entries=evergreen.list_evergreen(principal), **_helpers())


def _typed_fields() -> dict[str, str]:
    return {name.removeprefix(FIELD_PREFIX): value.replace("\r\n", "\n")
            for name, value in request.form.items() if name.startswith(FIELD_PREFIX)}


def _kept() -> dict[str, Any]:
    """What the partner chose in the form, shown again when the page comes back."""
    return {"accounts": {value for value in request.form.getlist("account") if value.isdigit()},
            "when": "at" if request.form.get("when") == "at" else "asap",
            "date": request.form.get("date", "").strip(), "time": request.form.get("time", "").strip(),
            "image": request.form.get("image") == "yes"}


def _pick_page(principal: Principal, slug: str, fields: dict[str, str] | None, status: int = 200,
               errors: dict[str, list[str]] | None = None, kept: dict[str, Any] | None = None):
    """The pick page: the texts rendered with `fields` (the saved values when they are refused)."""
    try:
        preview = evergreen.preview_evergreen(principal, slug, fields)
    except InvalidInput:
        rollback()
        preview = evergreen.preview_evergreen(principal, slug)
    typed = dict(fields or {})
    return page("portal/evergreen_pick.html", status, preview=preview, entry=preview.post,
                typed=typed, errors=errors or {},
                kept=kept or {"accounts": set(), "when": "asap", "image": True},
                **_helpers())


def _errors(exc: InvalidInput | ConflictError) -> dict[str, list[str]]:
    """The refusal's messages by form part: a field's name, accounts, time, or the texts."""
    found: dict[str, list[str]] = {}
    for key, texts in (exc.errors or {}).items():
        part = key.removeprefix("fields.") if key.startswith("fields.") else key
        found.setdefault(part, []).extend(message(text) for text in (texts if isinstance(texts, list)
                                                                      else [str(texts)]))
    return found or {"fields": [message(exc.message)]}


@bp.get("/<slug>")
@page_required(*PARTNER)
def pick(principal: Principal, slug: str):
    """One library post rendered for the partner, and the form that schedules it."""
    return _pick_page(principal, slug, None)


@bp.post("/<slug>")
@page_required(*PARTNER)
def schedule(principal: Principal, slug: str):
    """Preview the texts with the typed values, or schedule the post on the chosen accounts."""
    fields, kept = _typed_fields(), _kept()
    if request.form.get("action") == "preview":
        try:
            evergreen.preview_evergreen(principal, slug, fields)
        except InvalidInput as exc:
            rollback()
            return _pick_page(principal, slug, fields, 422, _errors(exc), kept)
        return _pick_page(principal, slug, fields, 200, None, kept)
    try:
        local_at = None
        if kept["when"] == "at":
            try:
                local_at = datetime.fromisoformat(f"{kept['date']}T{kept['time']}").replace(second=0)
            except ValueError:
                raise InvalidInput(CHOOSE_TIME, {"local_at": [CHOOSE_TIME]}) from None
        made = evergreen.schedule_evergreen(principal, slug, [int(i) for i in sorted(kept["accounts"])],
                                            local_at, fields, with_image=kept["image"])
    except (InvalidInput, ConflictError) as exc:
        rollback()
        return _pick_page(principal, slug, fields, 422, _errors(exc), kept)
    where = ", ".join(account_line(post) for post in made)
    at = f"on {when(made[0])}" if made[0].local_at else "in a moment"
    flash(f"Scheduled: the post goes out to {where} {at}.")
    return redirect(url_for("portal_posts.posts", _anchor=f"post-{made[0].id}"))
