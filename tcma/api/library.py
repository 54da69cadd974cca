"""Partner self-service: the library, customizations and on-demand renders."""

from __future__ import annotations

from flask_smorest import Blueprint

from tcma.api.security import PARTNER, auth_required
from tcma.api.templates import template_view
from tcma.schemas.assets import AssetSchema
from tcma.schemas.templates import CustomizationSchema, RenderArgsSchema, TemplateSchema
from tcma.services.catalogue import library

blp = Blueprint("library", __name__, url_prefix="library", description="Partner self-service")


def customization_view(slug, custom) -> dict:
    """A customization named by its template."""
    return {"template": slug, "version": custom.template_version_id, "fields_": custom.fields,
            "dropped_fields": custom.dropped_fields}


@blp.get("")
@auth_required(*PARTNER)
@blp.response(200, TemplateSchema(many=True))
def list_library(principal):
    """The templates the partner's tier may use."""
    return [template_view(t, v) for t, v in library.partner_library(principal)]


@blp.get("/<slug>/customization")
@auth_required(*PARTNER)
@blp.response(200, CustomizationSchema)
def get_customization(principal, slug):
    """The partner's values for the template's editable fields."""
    return customization_view(slug, library.get_customization(principal, slug))


@blp.put("/<slug>/customization")
@auth_required(*PARTNER)
@blp.arguments(CustomizationSchema)
@blp.response(200, CustomizationSchema)
def save_customization(principal, args, slug):
    """Save the partner's field values (validated against the template's limits)."""
    return customization_view(slug, library.save_customization(principal, slug, args["fields_"]))


@blp.post("/<slug>/render")
@auth_required(*PARTNER)
@blp.arguments(RenderArgsSchema)
@blp.response(202, AssetSchema)
def render(principal, args, slug):
    """Render an output with the partner's edits; poll the asset until it is done."""
    return library.render_for_partner(principal, slug, args["output"], args.get("variant"),
                                      args["fields_"])
