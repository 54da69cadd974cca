"""Partner pages: the template library, customizing and rendering a template, my assets."""

from __future__ import annotations

import base64
from typing import Any

from flask import Response, flash, jsonify, redirect, request, url_for

from campaigns.vocabulary import ASSET_STATUSES, NETWORK_LABELS
from tcma.errors import DomainError
from tcma.schemas.common import MAX_PAGE
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.library import (
    get_customization,
    partner_library,
    preview_for_partner,
    render_for_partner,
    save_customization,
)
from tcma.services.catalogue.templates import get_version, template_for_version
from tcma.services.launch.assets import (
    asset_filter_choices,
    asset_thumbnail,
    download_asset,
    list_assets,
    retry_asset,
)
from tcma.services.tracking.events import Visit
from tcma.web.portal import PARTNER, field_errors, page, page_count, page_required, portal_blueprint

bp = portal_blueprint("portal_partner", __name__, url_prefix="/portal")
PER_PAGE = 25


def _submitted_values(template: Any) -> dict[str, str]:
    """The editable fields' values from the form; a blank one means "use the default"."""
    values = {}
    for field in template.fields:
        value = request.form.get(f"fields.{field.name}", "").replace("\r\n", "\n")
        if value.strip():
            values[field.name] = value
    return values


def _template_page(principal: Principal, slug: str, status: int = 200, values: dict[str, str] | None = None,
                   errors: dict[str, str] | None = None, messages: list[str] | None = None):
    """The customize page: the partner's values (or the ones just submitted) and any errors."""
    custom = get_customization(principal, slug)  # 404 when the tier may not use it
    version = get_version(slug)
    return page("portal/template.html", status, version=version, template=template_for_version(version),
                values=custom.fields if values is None else values, dropped=custom.dropped_fields or [],
                errors=errors or {}, messages=messages or [])


@bp.get("")
@page_required(*PARTNER)
def library(principal: Principal):
    """The templates the partner's tier may use."""
    return page("portal/library.html", items=partner_library(principal))


@bp.get("/templates/<slug>")
@page_required(*PARTNER)
def template(principal: Principal, slug: str):
    """Customize a template: its editable fields, saved values and render buttons."""
    return _template_page(principal, slug)


@bp.post("/templates/<slug>")
@page_required(*PARTNER)
def template_submit(principal: Principal, slug: str):
    """Save the fields; with a render button, also render that output from them."""
    values = _submitted_values(template_for_version(get_version(slug)))
    output = request.form.get("render")
    try:
        save_customization(principal, slug, values)
        if output:
            asset = render_for_partner(principal, slug, output, request.form.get("variant") or None, {})
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        by_field, other = field_errors(exc)
        return _template_page(principal, slug, 422, values, by_field, other)
    if output:
        flash(f"Rendering {output} (asset {asset.id}): it appears below when done.")
        return redirect(url_for("portal_partner.assets"))
    flash("Your changes are saved.")
    return redirect(url_for("portal_partner.template", slug=slug))


OUTPUT_LABELS = {"pdf": "PDF", "png": "PNG image", "jpg": "JPEG image", "email": "Email",
                 **{f"post:{n}": f"{label} post" for n, label in NETWORK_LABELS.items()}}
STATUS_LABELS = {"queued": "Queued", "running": "Rendering", "done": "Ready", "failed": "Failed",
                 "waiting": "Waiting for your input"}


def _asset_filters() -> tuple[dict[str, str], dict[str, Any]]:
    """The filter form's values as given, and as list_assets takes them."""
    given = {name: request.args.get(name, "").strip() for name in ("template", "campaign", "status")}
    query: dict[str, Any] = {"template": given["template"] or None}
    if given["status"] in ASSET_STATUSES:
        query["status"] = given["status"]
    if given["campaign"] == "own":
        query["own"] = True
    elif given["campaign"].isdigit():
        query["campaign_id"] = int(given["campaign"])
    return {k: v for k, v in given.items() if v}, query


@bp.post("/templates/<slug>/preview")
@page_required(*PARTNER)
def preview(principal: Principal, slug: str):
    """The live preview: a small PNG of the fields as typed (not saved) and warnings by field."""
    tpl = template_for_version(get_version(slug))
    try:
        result = preview_for_partner(principal, slug, request.form.get("output", ""),
                                     request.form.get("variant") or None, _submitted_values(tpl))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        by_field, other = field_errors(exc)
        return jsonify({"image": None, "errors": by_field, "warnings": {}, "general": other}), 422
    image = "data:image/png;base64," + base64.b64encode(result["png"]).decode()
    return jsonify({"image": image, "output": result["output"], "errors": {},
                    "warnings": result["warnings"], "general": result["general"]})


@bp.get("/assets")
@page_required(*PARTNER)
def assets(principal: Principal):
    """The partner's own assets, newest first, with thumbnails, names and filters."""
    page_number = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    filters, query = _asset_filters()
    rows, total = list_assets(principal, query, page_number, PER_PAGE, newest_first=True)
    return page("portal/assets.html", assets=rows, total=total, page_number=page_number,
                pages=page_count(total, PER_PAGE), filters=filters,
                choices=asset_filter_choices(principal), statuses=ASSET_STATUSES,
                status_labels=STATUS_LABELS, output_labels=OUTPUT_LABELS)


@bp.get("/assets/<int:asset_id>/thumbnail.png")
@page_required(*PARTNER)
def thumbnail(principal: Principal, asset_id: int):
    """A small picture of a done asset (another partner's answers 404)."""
    response = Response(asset_thumbnail(principal, asset_id), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/assets/<int:asset_id>/download")
@page_required(*PARTNER)
def download(principal: Principal, asset_id: int):
    """Go to the asset's signed download URL (the download is recorded); form=eml or print."""
    visit = Visit.of(request.method, request.user_agent.string, request.remote_addr)
    return redirect(download_asset(principal, asset_id, visit, request.args.get("form", "")))


@bp.post("/assets/<int:asset_id>/retry")
@page_required(*PARTNER)
def retry(principal: Principal, asset_id: int):
    """Queue a failed asset again."""
    retry_asset(principal, asset_id)
    flash(f"Asset {asset_id} is queued again.")
    return redirect(url_for("portal_partner.assets"))
