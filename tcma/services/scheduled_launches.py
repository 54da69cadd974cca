"""Launch a campaign later: the marketer picks a local date-time and zone; the maintenance pass
launches each due campaign exactly once through the same launch service as a manual launch, as the
marketer who scheduled it; a launch not yet due can be cancelled."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from tcma.errors import ConflictError, DomainError, InvalidInput
from tcma.extensions import db
from tcma.models import ScheduledLaunch
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal, principal_for_user
from tcma.services.launch.launches import get_campaign, launch_campaign
from tcma.services.scoping import require_vendor
from tcma.services.syndication.posts import resolve_wall
from tcma.services.transaction import commit, rollback

log = logging.getLogger(__name__)
DUE_PER_PASS = 50


def scheduled_launch_of(principal: Principal, campaign_id: int) -> ScheduledLaunch | None:
    """The campaign's scheduled launch, if one was ever set."""
    get_campaign(principal, campaign_id)  # 404 for a campaign the principal may not see
    return db.session.scalar(select(ScheduledLaunch).where(ScheduledLaunch.campaign_id == campaign_id))


def schedule_launch(principal: Principal, campaign_id: int, local_at: datetime, zone: str) -> ScheduledLaunch:
    """Set (or move) the campaign's launch to `local_at` on the wall clock of `zone`."""
    require_vendor(principal)
    campaign = get_campaign(principal, campaign_id)
    if campaign.launched_at is not None:
        raise ConflictError("the campaign is already launched")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown time zone {zone!r}"
        raise InvalidInput(message, {"time_zone": [message]}) from None
    due, wall = resolve_wall(local_at, zone)
    row = db.session.scalar(select(ScheduledLaunch).where(ScheduledLaunch.campaign_id == campaign_id))
    if row is None:
        row = ScheduledLaunch(campaign_id=campaign_id)
        db.session.add(row)
    row.launch_at, row.local_at, row.time_zone = due, wall, zone
    row.status, row.error, row.requested_by_id = "waiting", None, principal.user_id
    commit()
    return row


def cancel_scheduled_launch(principal: Principal, campaign_id: int) -> ScheduledLaunch:
    """Cancel a launch that has not happened yet."""
    require_vendor(principal)
    row = scheduled_launch_of(principal, campaign_id)
    if row is None or row.status != "waiting":
        state = "no scheduled launch" if row is None else f"a launch that is {row.status}"
        raise ConflictError(f"the campaign has {state}; only a waiting launch can be cancelled")
    row.status = "cancelled"
    commit()
    return row


def launch_due_campaigns() -> int:
    """Launch every campaign whose time has come (a maintenance step); returns how many launched.

    Each row is locked (SKIP LOCKED: two passes never take the same one) and marked launched in the
    launch's own transaction, so a launch happens once; a refused launch is marked failed with why.
    """
    launched = 0
    for _ in range(DUE_PER_PASS):
        row = db.session.scalar(
            select(ScheduledLaunch).where(ScheduledLaunch.status == "waiting",
                                          ScheduledLaunch.launch_at <= utcnow())
            .order_by(ScheduledLaunch.launch_at).limit(1).with_for_update(skip_locked=True))
        if row is None:
            return launched
        row_id = row.id
        principal = principal_for_user(row.requested_by_id)
        try:
            if principal is None:
                raise ConflictError("the marketer who scheduled it can no longer sign in")
            row.status, row.launched_at = "launched", utcnow()
            launch_campaign(principal, row.campaign_id, via="schedule")  # commits the row with it
            launched += 1
        except DomainError as exc:
            rollback()
            _mark_failed(row_id, exc.message)
    return launched


def _mark_failed(row_id: int, message: str) -> None:
    row = db.session.get(ScheduledLaunch, row_id)
    row.status, row.error = "failed", message
    log.warning("scheduled launch %s failed: %s", row_id, message)
    commit()
