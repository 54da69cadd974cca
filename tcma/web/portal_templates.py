"""Templates in the portal for marketers: upload a bundle as a draft of the next version (every
problem named by file and field, nothing kept on error), preview it for a chosen partner, publish
it, and read each version's changes and the partner edits that carried over or lost fields."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for

from tcma.errors import DomainError, InvalidInput
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue import bundles
from tcma.services.catalogue.templates import get_template, list_templates
from tcma.web.portal import (
    VENDOR,
    current_principal,
    error_page,
    page,
    page_required,
    portal_blueprint,
)

bp = portal_blueprint("portal_templates", __name__, url_prefix="/portal/catalogue")
PARTNER_CHOICES = 200


@bp.get("")
@page_required(*VENDOR)
def catalogue(principal: Principal):
    """Every template with its latest version."""
    return page("portal/catalogue.html", templates=list_templates())


def _template_page(principal: Principal, slug: str, status: int = 200, **context):
    return page("portal/catalogue_template.html", status, template=get_template(slug),
                history=bundles.version_history(principal, slug),
                limit_mib=bundles.max_bundle_bytes() / 2**20,
                **context)


@bp.get("/<slug>")
@page_required(*VENDOR)
def template(principal: Principal, slug: str):
    """A template's upload form and its version history."""
    return _template_page(principal, slug)


@bp.post("/<slug>/upload")
@page_required(*VENDOR)
def upload(principal: Principal, slug: str):
    """Check the uploaded bundle; a good one becomes a draft to preview, a bad one is named."""
    bundle = request.files.get("bundle")
    try:
        if bundle is None or not bundle.filename:
            raise InvalidInput("choose a .zip bundle", {"bundle": ["choose a .zip bundle to upload"]})
        data = bundle.stream.read(bundles.max_bundle_bytes() + 1)
        draft = bundles.upload_bundle(principal, slug, data)
    except DomainError as exc:
        return _template_page(principal, slug, 422, errors=_problems(exc))
    return redirect(url_for("portal_templates.draft", slug=slug, draft=draft))


def _problems(exc: DomainError) -> list[dict[str, str]]:
    """A refused bundle's problems as rows a marketer reads at a glance: file, field, problem.

    The service keys each problem "file: field" (or just the file, or "bundle" for the whole).
    """
    rows = []
    for key, messages in exc.errors.items():
        file, _, field = key.partition(": ")
        for message in messages if isinstance(messages, list) else [messages]:
            rows.append({"file": file, "field": field, "message": str(message)})
    return rows or [{"file": "bundle", "field": "", "message": exc.message}]


@bp.get("/<slug>/drafts/<draft>")
@page_required(*VENDOR)
def draft(principal: Principal, slug: str, draft: str):
    """The draft: what it changes against the latest version, a preview for a partner, publish."""
    tpl = bundles.draft_template(principal, slug, draft)
    partners = bundles.preview_partners(principal, PARTNER_CHOICES)
    outputs = [o for o in tpl.outputs if not o.startswith("post:")]
    output = request.args.get("output")
    first = partners[0].id if partners else None
    chosen = {"partner_id": request.args.get("partner_id", type=int) or first,
              "output": output if output in outputs else (outputs[0] if outputs else None)}
    changes = bundles.spec_changes(bundles.latest_spec(slug), tpl.to_spec())
    return page("portal/catalogue_draft.html", template=get_template(slug), tpl=tpl, draft=draft,
                partners=partners, outputs=outputs, chosen=chosen, changes=changes)


@bp.get("/<slug>/drafts/<draft>/preview.png")
@page_required(*VENDOR)
def draft_preview(principal: Principal, slug: str, draft: str):
    """A picture of one output of the draft for the chosen partner."""
    data = bundles.preview_draft(principal, slug, draft, request.args.get("partner_id", 0, type=int),
                                 request.args.get("output", ""))
    return Response(data, mimetype="image/png")


@bp.post("/<slug>/drafts/<draft>/publish")
@page_required(*VENDOR)
def publish(principal: Principal, slug: str, draft: str):
    """Publish the draft as the next version."""
    version = bundles.publish_draft(principal, slug, draft)
    flash(f"Version {version.version} is published; partners' edits carried over where their fields remain.")
    return redirect(url_for("portal_templates.template", slug=slug))


@bp.errorhandler(413)
def too_large(exc):
    """A bundle over the upload limit: the upload page again, saying so."""
    principal = current_principal()
    slug = (request.view_args or {}).get("slug")
    if principal is None or principal.is_partner or not slug:
        return error_page(413, "the upload is larger than the limit")
    return _template_page(principal, slug, 413, errors=_problems(bundles.bundle_too_large()))
