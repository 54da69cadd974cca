"""Templates: catalogue, versions, publishing and previews."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from tcma.api.security import ANY_ROLE, VENDOR, auth_required
from tcma.schemas.templates import (
    PreviewArgsSchema,
    PublishSchema,
    TemplateSchema,
    VersionSchema,
    VersionWithSpecSchema,
)
from tcma.services.catalogue import templates
from tcma.services.catalogue.library import partner_library
from tcma.services.launch import renders

blp = Blueprint("templates", __name__, url_prefix="templates", description="Campaign templates")


def template_view(template, version) -> dict:
    """A template with the facts of its latest version."""
    tpl = templates.template_for_version(version)
    return {"slug": template.slug, "name": template.name, "description": template.description,
            "version": version.version, "outputs": version.outputs,
            "available_tiers": version.available_tiers, "variants": list(tpl.variants),
            "fields_": [{"name": f.name, "type": f.type, "max_length": f.max_length,
                         "choices": list(f.choices or ()), "default": f.default} for f in tpl.fields]}


@blp.get("")
@auth_required(*ANY_ROLE)
@blp.response(200, TemplateSchema(many=True))
def list_templates(principal):
    """Templates with their latest version (a partner user: those their tier may use)."""
    pairs = partner_library(principal) if principal.is_partner else templates.list_templates()
    return [template_view(t, v) for t, v in pairs]


@blp.get("/<slug>/versions")
@auth_required(*VENDOR)
@blp.response(200, VersionSchema(many=True))
def list_versions(principal, slug):
    """Every published version of a template."""
    return templates.get_template(slug).versions


@blp.get("/<slug>/versions/<int:version>")
@auth_required(*VENDOR)
@blp.response(200, VersionWithSpecSchema)
def get_version(principal, slug, version):
    """One version with its full spec."""
    return templates.get_version(slug, version)


@blp.post("/<slug>/versions")
@auth_required(*VENDOR)
@blp.arguments(PublishSchema)
@blp.response(201, VersionSchema)
def publish_version(principal, args, slug):
    """Publish a new version; partners' edits carry over where the fields still exist."""
    return templates.publish_version(principal, slug, args["spec"])


@blp.post("/<slug>/preview")
@auth_required(*VENDOR)
@blp.arguments(PreviewArgsSchema)
@blp.response(200, content_type="application/octet-stream")
def preview(principal, args, slug):
    """Render the latest version for one partner, now (nothing is stored)."""
    result = renders.preview_render(principal, slug, args["partner_id"], args["output"],
                                    args.get("variant"), args["fields_"])
    return Response(result.data, mimetype=result.media_type)
