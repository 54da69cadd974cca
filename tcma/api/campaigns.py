"""Campaigns: create, launch, pause, resume, progress and retries."""

from __future__ import annotations

from flask import url_for
from flask_smorest import Blueprint

from tcma.api.pagination import page_envelope
from tcma.api.security import VENDOR, auth_required
from tcma.schemas.campaigns import (
    CampaignDetailSchema,
    CampaignListArgs,
    CampaignPageSchema,
    CampaignSchema,
    ContactSheetArgs,
    ContactSheetSchema,
    LaunchSchema,
    ProgressSchema,
    RetriedSchema,
    RetrySchema,
)
from tcma.services.launch import launches as campaigns
from tcma.services.launch.contact_sheet import contact_sheet
from tcma.services.launch.review import last_launch_review

blp = Blueprint("campaigns", __name__, url_prefix="campaigns", description="Syndicated campaigns")


def campaign_view(campaign) -> dict:
    """A campaign with its outputs named by template slug."""
    outputs = [{"template": o.template_version.template.slug, "version": o.template_version.version,
                "output": o.output} for o in campaign.outputs]
    return {"id": campaign.id, "name": campaign.name, "slug": campaign.slug,
            "status": campaign.status, "segment": campaign.segment, "outputs": outputs,
            "launched_at": campaign.launched_at, "created_at": campaign.created_at}


@blp.get("")
@auth_required(*VENDOR)
@blp.arguments(CampaignListArgs, location="query")
@blp.response(200, CampaignPageSchema)
def list_campaigns(principal, args):
    """Campaigns, newest first."""
    items, total = campaigns.list_campaigns(principal, args.get("status"), args["page"], args["per_page"])
    return page_envelope([campaign_view(c) for c in items], total, args["page"], args["per_page"])


@blp.post("")
@auth_required(*VENDOR)
@blp.arguments(CampaignSchema)
@blp.response(201, CampaignSchema)
def create_campaign(principal, args):
    """A draft campaign: template outputs and a segment of partners."""
    return campaign_view(campaigns.create_campaign(principal, args["name"], args["outputs"], args["segment"]))


@blp.get("/<int:campaign_id>")
@auth_required(*VENDOR)
@blp.response(200, CampaignDetailSchema)
def get_campaign(principal, campaign_id):
    """One campaign, with how its latest launch was reviewed."""
    return {**campaign_view(campaigns.get_campaign(principal, campaign_id)),
            "review": last_launch_review(campaign_id)}


@blp.get("/<int:campaign_id>/contact-sheet")
@auth_required(*VENDOR)
@blp.arguments(ContactSheetArgs, location="query")
@blp.response(200, ContactSheetSchema)
def get_contact_sheet(principal, args, campaign_id):
    """A page of the campaign drawn for its segment's partners with every warning, before launch.

    Each page counts towards one review (pass the review_id of the first page to the next ones);
    launching with that review_id records that the caller looked.
    """
    sheet = contact_sheet(principal, campaign_id, args["page"], args["per_page"],
                          args["review_id"], via="api")
    return {"review_id": sheet.review_id, "total_partners": sheet.total_partners,
            "page": args["page"], "per_page": args["per_page"], "counts": sheet.counts,
            "items": sheet.items}


@blp.post("/<int:campaign_id>/launch")
@auth_required(*VENDOR)
@blp.arguments(LaunchSchema, required=False)
@blp.response(202, ProgressSchema)
def launch(principal, args, campaign_id):
    """Create one asset per (partner, output) and enqueue the renders; answers at once.

    With the review_id of a contact sheet the caller looked at, the launch records that review;
    without one it is recorded as launched with the review skipped (by the caller, via the API).
    The answer is the progress as before; GET the campaign for the review it recorded.

    A small segment has its assets when this answers. A large one (more partners than the
    launch_inline_partners setting) answers with status "launching" and "preparing": the number
    of partners whose assets a job is creating; follow it at the progress URL in Location.
    """
    progress = campaigns.launch_campaign(principal, campaign_id, args.get("review_id"), via="api")
    return progress, {"Location": url_for("campaigns.progress", campaign_id=campaign_id)}


@blp.post("/<int:campaign_id>/pause")
@auth_required(*VENDOR)
@blp.response(200, CampaignSchema)
def pause(principal, campaign_id):
    """Stop rendering; queued renders wait."""
    return campaign_view(campaigns.set_paused(principal, campaign_id, True))


@blp.post("/<int:campaign_id>/resume")
@auth_required(*VENDOR)
@blp.response(200, CampaignSchema)
def resume(principal, campaign_id):
    """Go on rendering."""
    return campaign_view(campaigns.set_paused(principal, campaign_id, False))


@blp.get("/<int:campaign_id>/progress")
@auth_required(*VENDOR)
@blp.response(200, ProgressSchema)
def progress(principal, campaign_id):
    """Queued, running, done and failed counts."""
    return campaigns.campaign_progress(principal, campaign_id)


@blp.post("/<int:campaign_id>/retry")
@auth_required(*VENDOR)
@blp.arguments(RetrySchema)
@blp.response(200, RetriedSchema)
def retry(principal, args, campaign_id):
    """Queue failed assets again: all of them, or those listed."""
    return {"retried": campaigns.retry_failed(principal, campaign_id, args.get("asset_ids"))}


