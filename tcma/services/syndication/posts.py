"""Scheduled posts as people handle them: list and read (scoped), approve, reject, edit, reschedule,
cancel, retry, and every publishing attempt; plans with their posts counted by state.

Who may do what: a partner's users approve, reject, edit and reschedule their own partner's posts
(the post goes out from the partner's account: it is their say); vendor users (admin, marketer) and
the partner may cancel and retry a post; only vendor users plan, cancel plans and retry a plan's
failures. Another partner's post answers 404, exactly like a missing one.

Every state change locks the post's row (the scheduler and the publish jobs lock it too) and is
refused from a wrong state with a ConflictError naming the state the post is in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import joinedload

from campaigns.timing import resolve_local
from campaigns.vocabulary import POST_STATUSES
from tcma.config import get_settings
from tcma.connectors import ConnectorError, check_text
from tcma.errors import ConflictError, InvalidInput, PermissionDenied
from tcma.extensions import db
from tcma.models import Asset, PostAttempt, PostPlan, ScheduledPost, SocialAccount
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.paging import Page, Window, count_of, count_rows, read_window
from tcma.services.scoping import get_scoped, scope_select
from tcma.services.syndication.plans import cap_reason, get_plan
from tcma.services.syndication.post_fields import FieldView, apply_fields, post_fields
from tcma.services.syndication.scheduler import post_text
from tcma.services.transaction import commit
from tcma.storage import get_storage

EDITABLE = ("awaiting_approval", "scheduled", "approved")
RESCHEDULABLE = (*EDITABLE, "expired")
# Not sent yet: a claimed post's job finds it cancelled and leaves it alone; a publishing one may be out.
CANCELLABLE = ("awaiting_approval", "scheduled", "approved", "claimed", "held", "failed")
RETRYABLE = ("failed", "held")
# What each action needs, and how the refusal says it.
_NEEDS = {
    "approve": (("awaiting_approval",), "only a post awaiting approval can be approved"),
    "reject": (("awaiting_approval",), "only a post awaiting approval can be rejected"),
    "edit": (EDITABLE, "only a post awaiting approval, scheduled or approved can be edited"),
    "reschedule": (RESCHEDULABLE,
                   "only a post awaiting approval, scheduled, approved or expired can be rescheduled"),
    "cancel": (CANCELLABLE, "only a post not sent yet (awaiting approval, scheduled, approved, claimed, "
                            "held or failed) can be cancelled"),
    "retry": (RETRYABLE, "only a failed or held post can be retried"),
}
PARTNERS_ONLY = "only the partner's own users approve, reject, edit or reschedule its posts"
LATE = "this post's time has passed: reschedule it first"


@dataclass(frozen=True)
class PostView:
    """A post as shown: where it goes, its state, the exact text (and image) that will go out, when."""

    id: int
    partner_id: int
    campaign_id: int | None
    plan_id: int | None
    account_id: int
    network: str
    handle: str
    status: str
    text: str | None
    image_url: str | None
    local_at: str | None
    time_zone: str | None
    scheduled_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    error: str | None
    external_id: str | None
    external_url: str | None
    published_at: datetime | None
    approved_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PlanView:
    """A plan with its posts counted by state (every state, zeros included)."""

    id: int
    campaign_id: int
    name: str
    networks: list[str]
    image_output: str | None
    timing: dict[str, Any]
    requires_approval: bool
    allow_late: bool
    status: str
    created_at: datetime
    counts: dict[str, int]
    total: int
    skipped: list[dict[str, Any]]


# --- reading ---------------------------------------------------------------------------------------

def view(post: ScheduledPost) -> PostView:
    """The post as shown; an unedited post's text is its render (what will go out)."""
    account: SocialAccount = post.account
    return PostView(
        id=post.id, partner_id=post.partner_id, campaign_id=post.campaign_id, plan_id=post.plan_id,
        account_id=post.social_account_id, network=account.network, handle=account.handle,
        status=post.status, text=post_text(post), image_url=_image_url(post.image_asset_id),
        local_at=post.local_at, time_zone=post.time_zone, scheduled_at=post.scheduled_at,
        attempts=post.attempts, next_attempt_at=post.next_attempt_at, error=post.error,
        external_id=post.external_id, external_url=post.external_url, published_at=post.published_at,
        approved_at=post.approved_at, created_at=post.created_at, updated_at=post.updated_at)


def _image_url(asset_id: int | None) -> str | None:
    """A signed, expiring URL of the post's rendered image (inline, for previews), if rendered."""
    if asset_id is None:
        return None
    asset = db.session.get(Asset, asset_id)
    if asset is None or asset.status != "done" or asset.render is None:
        return None
    return get_storage().signed_url(asset.render.storage_key, get_settings().signed_url_ttl)


def _preload_assets(posts: Iterable[ScheduledPost]) -> None:
    """Load the page's text and image assets with their renders in one query (views read them).

    The session holds loaded rows only weakly: the last page's rows stay in its `info` (until the
    next page or the session's end), or the views' lookups by id would load each one again.
    """
    ids = {i for p in posts for i in ((None if p.text else p.asset_id), p.image_asset_id) if i is not None}
    if ids:
        rows = db.session.scalars(select(Asset).options(joinedload(Asset.render)).where(Asset.id.in_(ids)))
        db.session.info["preloaded_assets"] = list(rows)


def list_posts(principal: Principal, filters: Mapping[str, Any], page: int, per_page: int
               ) -> tuple[list[ScheduledPost], int]:
    """Posts the caller may see, soonest first, one page, and their total (see `post_page`)."""
    found = post_page(principal, filters, Window(page, per_page))
    return found.items, found.total


def post_page(principal: Principal, filters: Mapping[str, Any], window: Window) -> Page[ScheduledPost]:
    """Posts the caller may see (a partner's user: their partner's), soonest first (scheduled_at,
    then id), one page by number or after a (scheduled_at, id) key, with their accounts and renders
    loaded (`view` shows each).

    Filters: status, partner_id, network, campaign_id, plan_id; `statuses` (any of them) for callers
    in code.
    """
    stmt = _filtered_posts(scope_select(select(ScheduledPost).join(SocialAccount), ScheduledPost.partner_id,
                                        principal), filters)
    # Counted without the accounts unless a network is asked for (every post has its account):
    # joining them for 2 M posts doubled the count's time.
    counted = count_of(ScheduledPost)
    if filters.get("network") is not None:
        counted = counted.join(SocialAccount)
    counted = _filtered_posts(scope_select(counted, ScheduledPost.partner_id, principal), filters)
    asked = (*POST_FILTERS, "statuses")
    filtered = principal.is_partner or any(filters.get(name) is not None for name in asked)
    total = count_rows(counted, ScheduledPost.__tablename__, filtered)
    found, more = read_window(stmt.options(joinedload(ScheduledPost.account)),
                              [ScheduledPost.scheduled_at, ScheduledPost.id], window)
    rows = [row[0] for row in found]
    _preload_assets(rows)
    last = (rows[-1].scheduled_at, rows[-1].id) if more else None
    return Page(rows, total[0], last, total[1])


def list_latest_posts(principal: Principal, statuses: tuple[str, ...], page: int, per_page: int
                      ) -> tuple[list[ScheduledPost], int]:
    """Posts in any of `statuses`, the latest first (by when published, else when due), one page,
    and how many there are: a history in two queries whatever its statuses (its pages go only so
    deep: an offset)."""
    filters = {"statuses": statuses}
    stmt = _filtered_posts(scope_select(select(ScheduledPost).join(SocialAccount), ScheduledPost.partner_id,
                                        principal), filters)
    total = db.session.scalar(_filtered_posts(scope_select(count_of(ScheduledPost), ScheduledPost.partner_id,
                                                           principal), filters)) or 0
    latest = func.coalesce(ScheduledPost.published_at, ScheduledPost.scheduled_at)
    rows = list(db.session.scalars(stmt.options(joinedload(ScheduledPost.account))
                                   .order_by(latest.desc(), ScheduledPost.id.desc())
                                   .limit(per_page).offset((page - 1) * per_page)))
    _preload_assets(rows)
    return rows, int(total)


def counts_by_network(principal: Principal, plan_id: int) -> dict[tuple[str, str], int]:
    """How many of the plan's posts each network has in each state: {(network, status): count}."""
    stmt = scope_select(select(SocialAccount.network, ScheduledPost.status, func.count())
                        .select_from(ScheduledPost).join(SocialAccount), ScheduledPost.partner_id, principal)
    stmt = stmt.where(ScheduledPost.plan_id == plan_id).group_by(SocialAccount.network, ScheduledPost.status)
    return {(network, status): count for network, status, count in db.session.execute(stmt)}


POST_FILTERS = ("status", "partner_id", "campaign_id", "plan_id", "network")


def _filtered_posts(stmt: Any, filters: Mapping[str, Any]) -> Any:
    for name in POST_FILTERS[:-1]:
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(ScheduledPost, name) == filters[name])
    if filters.get("statuses") is not None:
        stmt = stmt.where(ScheduledPost.status.in_(filters["statuses"]))
    if filters.get("network") is not None:
        stmt = stmt.where(SocialAccount.network == filters["network"])
    return stmt


def get_post(principal: Principal, post_id: int) -> ScheduledPost:
    """One post; another partner's answers 404."""
    return get_scoped(ScheduledPost, post_id, principal, what="post")


def show_post(principal: Principal, post_id: int) -> PostView:
    """One post as shown."""
    return view(get_post(principal, post_id))


def image(principal: Principal, post_id: int) -> tuple[bytes, str] | None:
    """The rendered image that goes out with the post and its media type; None without one."""
    post = get_post(principal, post_id)
    if post.image_asset_id is None:
        return None
    asset = db.session.get(Asset, post.image_asset_id)
    if asset is None or asset.status != "done" or asset.render is None:
        return None
    return get_storage().get(asset.render.storage_key), asset.render.media_type


def fields_of(principal: Principal, post_id: int) -> list[FieldView]:
    """The post's editable fields with their limits and the values it renders with now."""
    return post_fields(get_post(principal, post_id))


def attempts(principal: Principal, post_id: int) -> list[PostAttempt]:
    """Every try at publishing the post, oldest first."""
    post = get_post(principal, post_id)
    return list(db.session.scalars(select(PostAttempt).where(PostAttempt.post_id == post.id)
                                   .order_by(PostAttempt.started_at, PostAttempt.id)))


# --- changing one post -----------------------------------------------------------------------------

def _locked(principal: Principal, post_id: int, action: str) -> ScheduledPost:
    """The post, row-locked against the scheduler and the jobs, in a state `action` accepts."""
    post = get_post(principal, post_id)
    db.session.refresh(post, with_for_update=True)
    _check_state(post, action)
    return post


def _check_state(post: ScheduledPost, action: str) -> None:
    states, needs = _NEEDS[action]
    if post.status not in states:
        raise ConflictError(f"post {post.id} is {post.status.replace('_', ' ')}: {needs}")


def _require_partner(principal: Principal) -> None:
    if not principal.is_partner:
        raise PermissionDenied(PARTNERS_ONLY)


def approve(principal: Principal, post_id: int) -> ScheduledPost:
    """Approve a post awaiting approval: it goes out at its time (an on-approval post: now).

    A post whose time has passed goes out now if its plan allows late posts; otherwise it must
    be rescheduled first. A post that would break its account's frequency caps (posts a day or a
    week, on the partner's wall clock) is refused, naming the cap.
    """
    _require_partner(principal)
    post = _locked(principal, post_id, "approve")
    now = utcnow()
    due = post.scheduled_at
    if post.local_at is None:
        due = now
    elif post.scheduled_at < now:
        if post.plan is None or not post.plan.allow_late:
            raise ConflictError(LATE, {"local_at": [LATE]})
        due = now
    capped = cap_reason(post.social_account_id, due, post.time_zone or "UTC", exclude_post=post.id)
    if capped is not None:
        account: SocialAccount = post.account
        raise ConflictError(f"the {account.network} account {account.handle} would post too often: {capped}")
    post.scheduled_at = due
    post.status, post.approved_at, post.approved_by_id = "approved", now, principal.user_id
    post.error = None
    commit()
    return post


def reject(principal: Principal, post_id: int, reason: str | None = None) -> ScheduledPost:
    """Reject a post awaiting approval: it is cancelled, with the partner's reason."""
    _require_partner(principal)
    post = _locked(principal, post_id, "reject")
    reason = (reason or "").strip()
    post.status, post.error = "cancelled", (f"rejected: {reason}" if reason else "rejected")[:2000]
    commit()
    return post


def _checked_text(post: ScheduledPost, text: str) -> str:
    """The text, or InvalidInput on `text` when the network would refuse it (its limit, named)."""
    try:
        check_text(post.account.network, text)
    except ConnectorError as exc:
        raise InvalidInput(exc.reason, {"text": [exc.reason]}) from None
    return text


def _resolved(post: ScheduledPost, local_at: datetime) -> tuple[datetime, str]:
    return resolve_wall(local_at, post.time_zone or "UTC")


def resolve_wall(local_at: datetime, zone: str) -> tuple[datetime, str]:
    """When `local_at` (the partner's wall clock in `zone`) is in UTC, and the wall time it really
    shows; InvalidInput on `local_at` when it has passed.

    A time that does not exist (spring forward) moves to the end of the gap; the time shown is that.
    """
    wall = local_at.replace(microsecond=0, tzinfo=None)
    try:
        due = resolve_local(wall, zone)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"local_at: {exc}", {"local_at": [str(exc)]}) from None
    if due <= utcnow():
        message = f"{_wall_text(wall)} in {zone} has passed: choose a time to come"
        raise InvalidInput(message, {"local_at": [message]})
    return due, _wall_text(due.astimezone(ZoneInfo(zone)).replace(tzinfo=None))


def _wall_text(wall: datetime) -> str:
    """2027-03-09T10:00 (with seconds only when there are some), as plans write local times."""
    return wall.isoformat(timespec="seconds" if wall.second else "minutes")


def edit_text(principal: Principal, post_id: int, text: str) -> ScheduledPost:
    """Replace the text that will go out (within the network's limit); the approval state stays."""
    return update_post(principal, post_id, text=text)


def reschedule(principal: Principal, post_id: int, local_at: datetime) -> ScheduledPost:
    """Move the post to a wall-clock time in its partner's zone; the approval state stays.

    An expired post (not approved in time) awaits approval again at its new time.
    """
    return update_post(principal, post_id, local_at=local_at)


def edit_fields(principal: Principal, post_id: int, values: Mapping[str, Any]) -> ScheduledPost:
    """Change the post's editable fields (their limits checked); its text, and its image when they
    change it, are rendered again. The approval state stays."""
    return update_post(principal, post_id, fields=values)


def update_post(principal: Principal, post_id: int, *, text: str | None = None,
                local_at: datetime | None = None, fields: Mapping[str, Any] | None = None) -> ScheduledPost:
    """Edit the text or the fields, and/or reschedule, all checked before any is applied."""
    _require_partner(principal)
    if text is None and local_at is None and fields is None:
        raise InvalidInput("nothing to change: send text, fields or local_at",
                           {"text": ["text, fields or local_at is required"]})
    if text is not None and fields is not None:
        both = "send either text or fields: the fields render the text again"
        raise InvalidInput(both, {"fields": [both]})
    post = _locked(principal, post_id, "edit" if local_at is None else "reschedule")
    if text is not None or fields is not None:
        _check_state(post, "edit")
    new_text = _checked_text(post, text) if text is not None else None
    when = _resolved(post, local_at) if local_at is not None else None
    if fields is not None:
        apply_fields(post, dict(fields))
    if new_text is not None:
        post.text = new_text
    if when is not None:
        post.scheduled_at, post.local_at = when
        if post.status == "expired":
            post.status, post.error = "awaiting_approval", None
    commit()
    return post


def cancel(principal: Principal, post_id: int) -> ScheduledPost:
    """Cancel a post not sent yet (vendor users: any; a partner's user: their own)."""
    post = _locked(principal, post_id, "cancel")
    who = "the partner" if principal.is_partner else "the vendor"
    post.status, post.error = "cancelled", f"cancelled by {who}"
    post.claimed_by, post.claimed_until = None, None
    commit()
    return post


def retry(principal: Principal, post_id: int) -> ScheduledPost:
    """A failed or held post waits again (approved if it was approved) and goes out at the next pass."""
    post = _locked(principal, post_id, "retry")
    _check_retryable(post)
    post.status = "approved" if post.approved_at is not None else "scheduled"
    post.next_attempt_at, post.error, post.claimed_by, post.claimed_until = None, None, None, None
    commit()
    return post


def _check_retryable(post: ScheduledPost) -> None:
    """A post of a cancelled plan, or of an account that cannot publish, is not retried."""
    if post.plan is not None and post.plan.status == "cancelled":
        raise ConflictError(f"post {post.id} belongs to the cancelled plan {post.plan.id}: it is not retried")
    account: SocialAccount = post.account
    if account.needs_reconnect_since is not None:
        raise ConflictError(f"the {account.network} account {account.handle} needs connecting again: "
                            f"reconnect it, then retry")
    if not account.is_active:
        raise ConflictError(f"the {account.network} account {account.handle} is paused: "
                            f"resume it, then retry")


# --- plans -----------------------------------------------------------------------------------------

def plan_views(plans: list[PostPlan]) -> list[PlanView]:
    """The plans with their posts counted by state (one query)."""
    counts: dict[int, dict[str, int]] = {p.id: dict.fromkeys(POST_STATUSES, 0) for p in plans}
    if plans:
        rows = db.session.execute(select(ScheduledPost.plan_id, ScheduledPost.status, func.count())
                                  .where(ScheduledPost.plan_id.in_(counts))
                                  .group_by(ScheduledPost.plan_id, ScheduledPost.status))
        for plan_id, status, count in rows:
            counts[plan_id][status] = count
    return [PlanView(id=p.id, campaign_id=p.campaign_id, name=p.name, networks=list(p.networks),
                     image_output=p.image_output, timing=dict(p.timing),
                     requires_approval=p.requires_approval, allow_late=p.allow_late, status=p.status,
                     created_at=p.created_at, counts=counts[p.id], total=sum(counts[p.id].values()),
                     skipped=[dict(entry) for entry in p.skipped or []])
            for p in plans]


def plan_view(plan: PostPlan) -> PlanView:
    """One plan with its posts counted by state."""
    return plan_views([plan])[0]


def retry_failed(principal: Principal, plan_id: int) -> int:
    """Every failed post of the plan waits again (vendor users); answers how many."""
    plan = get_plan(principal, plan_id)
    if plan.status == "cancelled":
        raise ConflictError(f"post plan {plan.id} is cancelled: its posts are not retried")
    usable = select(SocialAccount.id).where(SocialAccount.is_active.is_(True),
                                            SocialAccount.needs_reconnect_since.is_(None))
    result = db.session.execute(update(ScheduledPost).where(
        ScheduledPost.plan_id == plan.id, ScheduledPost.status == "failed",
        ScheduledPost.social_account_id.in_(usable),
    ).values(status=case((ScheduledPost.approved_at.is_not(None), "approved"), else_="scheduled"),
             next_attempt_at=None, error=None, claimed_by=None, claimed_until=None, updated_at=utcnow()))
    commit()
    return result.rowcount or 0
