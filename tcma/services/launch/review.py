"""The pre-launch review: who looked at a campaign's contact sheet (or skipped it), and when.

A launch always records one review. The portal launches from the contact sheet (the review it
showed) or from the campaign page with a one-click skip; an API client names the review it got
from the sheet, or its launch is recorded as skipped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tcma.errors import ConflictError, InvalidInput
from tcma.extensions import db
from tcma.models import Campaign, LaunchReview, User
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal


def record_sheet_view(principal: Principal, campaign: Campaign, review_id: int | None, page: int,
                      items: int, warnings: int, via: str = "portal") -> LaunchReview:
    """Note one page of the contact sheet as shown: a new review, or the one being paged through.

    A review id from another campaign, another user or an earlier launch starts a new review
    rather than failing the page: the sheet is always shown.
    """
    review = db.session.get(LaunchReview, review_id) if review_id else None
    if (review is None or review.campaign_id != campaign.id or review.user_id != principal.user_id
            or review.decision != "seen" or review.launched_at is not None):
        review = LaunchReview(campaign_id=campaign.id, user_id=principal.user_id, decision="seen",
                              via=via, pages_seen=[], items_seen=0, warnings_seen=0)
        db.session.add(review)
    if page not in review.pages_seen:
        review.pages_seen = sorted([*review.pages_seen, page])
        review.items_seen += items
        review.warnings_seen += warnings
    review.seen_at = utcnow()
    return review


def claim_review(principal: Principal, campaign: Campaign, review_id: int | None,
                 via: str) -> LaunchReview:
    """The review this launch goes out under (not committed): the named one, or a skip.

    Raises InvalidInput for a review of another campaign or none at all, ConflictError for one
    that already let a launch through; nothing is changed then.
    """
    if review_id is None:
        review = LaunchReview(campaign_id=campaign.id, user_id=principal.user_id, decision="skipped",
                              via=via, pages_seen=[], items_seen=0, warnings_seen=0)
        db.session.add(review)
    else:
        review = db.session.get(LaunchReview, review_id)
        if review is None or review.campaign_id != campaign.id:
            message = f"no contact-sheet review {review_id} for campaign {campaign.id}"
            raise InvalidInput(message, {"review_id": [message]})
        if review.launched_at is not None:
            raise ConflictError(f"contact-sheet review {review_id} already let a launch through at "
                                f"{review.launched_at:%Y-%m-%d %H:%M} UTC; open the contact sheet "
                                "again (new partners may have joined the segment) or skip the review")
    review.launched_at = utcnow()
    review.launched_by_id = principal.user_id
    return review


def last_launch_review(campaign_id: int) -> dict[str, Any] | None:
    """How the campaign's latest launch was let through: seen or skipped, by whom, when."""
    row = db.session.execute(
        select(LaunchReview, User.email).outerjoin(User, User.id == LaunchReview.user_id)
        .where(LaunchReview.campaign_id == campaign_id, LaunchReview.launched_at.is_not(None))
        .order_by(LaunchReview.launched_at.desc(), LaunchReview.id.desc()).limit(1)).first()
    if row is None:
        return None
    review, email = row
    return {"id": review.id, "decision": review.decision, "via": review.via, "by": email,
            "seen_at": review.seen_at if review.decision == "seen" else None,
            "skipped_at": review.created_at if review.decision == "skipped" else None,
            "pages_seen": list(review.pages_seen), "items_seen": review.items_seen,
            "warnings_seen": review.warnings_seen, "launched_at": review.launched_at}
