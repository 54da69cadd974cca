"""Assets: list, read, download through a signed URL, retry."""

from __future__ import annotations

from flask import redirect, request
from flask_smorest import Blueprint

from tcma.api.pagination import keyset_envelope, window_of
from tcma.api.security import ANY_ROLE, auth_required
from tcma.schemas.assets import AssetListArgs, AssetPageSchema, AssetSchema
from tcma.services.launch import assets
from tcma.services.tracking.events import Visit

blp = Blueprint("assets", __name__, url_prefix="assets", description="Co-branded assets")


@blp.get("")
@auth_required(*ANY_ROLE)
@blp.arguments(AssetListArgs, location="query")
@blp.response(200, AssetPageSchema)
def list_assets(principal, args):
    """Assets the caller may see (a partner user: their own), filtered, by id; a page by number, or
    (however deep) the page after the `next` cursor of the previous one (after=)."""
    window = window_of(args)
    return keyset_envelope(assets.asset_page(principal, args, window), window)


@blp.get("/<int:asset_id>")
@auth_required(*ANY_ROLE)
@blp.response(200, AssetSchema)
def get_asset(principal, asset_id):
    """One asset."""
    return assets.get_asset(principal, asset_id)


@blp.get("/<int:asset_id>/download")
@auth_required(*ANY_ROLE)
@blp.response(302)
def download(principal, asset_id):
    """Redirect to a signed, expiring URL of the file; the download is recorded."""
    visit = Visit.of(request.method, request.user_agent.string, request.remote_addr)
    return redirect(assets.download_asset(principal, asset_id, visit), code=302)


@blp.post("/<int:asset_id>/retry")
@auth_required(*ANY_ROLE)
@blp.response(202, AssetSchema)
def retry(principal, asset_id):
    """Render a failed asset again."""
    return assets.retry_asset(principal, asset_id)
