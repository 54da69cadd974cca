"""Marketer and admin pages: campaigns, their contact sheet and launch, progress, retries, pause."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from tcma.errors import DomainError
from tcma.schemas.common import MAX_PAGE
from tcma.services.accounts.auth import Principal
from tcma.services.launch.assets import list_assets
from tcma.services.launch.contact_sheet import WARNING_KINDS, contact_sheet
from tcma.services.launch.launches import (
    campaign_progress,
    campaigns_progress,
    get_campaign,
    launch_campaign,
    list_campaigns,
    retry_failed,
    set_paused,
)
from tcma.services.launch.review import last_launch_review
from tcma.services.transaction import rollback
from tcma.web.portal import VENDOR, page, page_count, page_required, portal_blueprint

bp = portal_blueprint("portal_marketer", __name__, url_prefix="/portal/campaigns")
PER_PAGE = 25
FAILED_PER_PAGE = 50


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


@bp.get("")
@page_required(*VENDOR)
def campaigns(principal: Principal):
    """Campaigns, newest first, each with a progress bar."""
    status = request.args.get("status") or None
    rows, total = list_campaigns(principal, status, _page_number(), PER_PAGE)
    progress = campaigns_progress(principal, rows)
    items = [(c, progress[c.id]) for c in rows]
    return page("portal/campaigns.html", items=items, total=total, status=status,
                page_number=_page_number(), pages=page_count(total, PER_PAGE))


@bp.get("/<int:campaign_id>")
@page_required(*VENDOR)
def campaign(principal: Principal, campaign_id: int):
    """One campaign: progress numbers and the failed assets with their reasons."""
    item = get_campaign(principal, campaign_id)
    progress = campaign_progress(principal, campaign_id)
    failed, failed_total = list_assets(principal, {"campaign_id": campaign_id, "status": "failed"},
                                       _page_number(), FAILED_PER_PAGE)
    return page("portal/campaign.html", campaign=item, progress=progress, failed=failed,
                failed_total=failed_total, review=last_launch_review(campaign_id), page_number=_page_number(),
                pages=page_count(failed_total, FAILED_PER_PAGE))


@bp.post("/<int:campaign_id>/retry")
@page_required(*VENDOR)
def retry(principal: Principal, campaign_id: int):
    """Queue the campaign's failed assets again."""
    count = retry_failed(principal, campaign_id)
    flash(f"{count} failed asset(s) queued again." if count else "There were no failed assets to retry.")
    return redirect(url_for("portal_marketer.campaign", campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/pause")
@page_required(*VENDOR)
def pause(principal: Principal, campaign_id: int):
    """Pause a launched campaign: queued renders wait."""
    try:
        set_paused(principal, campaign_id, True)
    except DomainError as exc:  # still preparing its assets (a page shown before the launch)
        rollback()
        flash(f"Not paused: {exc.message}")
        return redirect(url_for("portal_marketer.campaign", campaign_id=campaign_id))
    flash("Campaign paused.")
    return redirect(url_for("portal_marketer.campaign", campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/resume")
@page_required(*VENDOR)
def resume(principal: Principal, campaign_id: int):
    """Resume a paused campaign: its queued renders are enqueued again."""
    set_paused(principal, campaign_id, False)
    flash("Campaign resumed.")
    return redirect(url_for("portal_marketer.campaign", campaign_id=campaign_id))


SHEET_PARTNERS = 12


@bp.get("/<int:campaign_id>/contact-sheet")
@page_required(*VENDOR)
def contact_sheet_page(principal: Principal, campaign_id: int):
    """Every output drawn for every partner of the segment, with warnings, before launch."""
    sheet = contact_sheet(principal, campaign_id, _page_number(), SHEET_PARTNERS,
                          request.args.get("review", type=int))
    chosen = request.args.get("warning")
    return page("portal/contact_sheet.html", campaign=get_campaign(principal, campaign_id),
                sheet=sheet, kinds=WARNING_KINDS, chosen=chosen if chosen in sheet.counts else
                ("any" if chosen == "any" else "all"), page_number=_page_number(),
                pages=page_count(sheet.total_partners, SHEET_PARTNERS),
                review=last_launch_review(campaign_id))


@bp.post("/<int:campaign_id>/launch")
@page_required(*VENDOR)
def launch(principal: Principal, campaign_id: int):
    """Launch from the contact sheet (the review it showed) or skip the review in one click."""
    review_id = request.form.get("review_id", type=int)
    try:
        progress = launch_campaign(principal, campaign_id, review_id, via="portal")
    except DomainError as exc:
        rollback()
        flash(f"Not launched: {exc.message}")
        return redirect(url_for("portal_marketer.contact_sheet_page", campaign_id=campaign_id)
                        if review_id else url_for("portal_marketer.campaign", campaign_id=campaign_id))
    how = "after the contact-sheet review" if review_id else "without a contact-sheet review"
    if "preparing" in progress:
        flash(f"Campaign launched {how}: preparing the assets of {progress['preparing']} partners; "
              "they appear here as they are created.")
    else:
        flash(f"Campaign launched {how}: {progress['total']} asset(s), "
              f"{progress['waiting']} waiting for partners to fill in required fields.")
    return redirect(url_for("portal_marketer.campaign", campaign_id=campaign_id))
