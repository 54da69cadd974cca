"""Post plans: a marketer plans a campaign's post once; tcma makes one scheduled post per opted-in
partner account, due at the plan's local time in each partner's own zone.

The post's text is the partner's render of the campaign's `post:<network>` output (its tracked
links already point at the partner, the campaign and the network); the image, if any, is the
partner's render of the plan's image output. Posts are made in bulk at planning time; `fill_plan`
adds the ones for partners and accounts that arrived later (it runs on every scheduler pass),
never one whose time has passed.

Frequency caps (TCMA_SOCIAL_POSTS_PER_DAY, TCMA_SOCIAL_POSTS_PER_WEEK): no account gets more tcma
posts on one day or in one ISO week of its partner's wall clock than the caps allow, counting every
post that is or may still go out (cancelled, expired and failed ones do not count). A post at a
local time that would break a cap is not made; a window's post moves to a slot of the window on
another day with room, else it is not made; a post due on approval is checked when it is approved.
Each account left out is recorded on the plan (`PostPlan.skipped`) with the cap it would break.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update

from campaigns.timing import Timing, caps_exceeded, due_at, spread_slot
from campaigns.vocabulary import FILE_OUTPUTS, NETWORKS, post_output
from tcma.config import get_settings
from tcma.connectors import idempotency_key
from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Asset, Campaign, Partner, PostPlan, ScheduledPost, SocialAccount
from tcma.models.base import insert_for, utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.experiments.assignment import record_post_variants
from tcma.services.experiments.rollout import hold_plan_posts
from tcma.services.launch.launches import get_campaign
from tcma.services.transaction import commit

IMAGE_OUTPUTS = ("png", "jpg")
BATCH = 1000
SLOTS = 1000  # a window's posts are spread over this many slots
# Posts that will not go out do not count against an account's caps.
UNCOUNTED = ("cancelled", "expired", "failed")
_MARGIN = timedelta(days=8)  # a week either side, and a day for the zones
LAST_ZONE = timedelta(hours=13)  # a wall-clock time comes last at UTC-12 (an hour more for summer time)
FEW_PARTNERS = 500


def timing_from(values: Mapping[str, Any]) -> Timing:
    """The plan's Timing from its JSON form, or InvalidInput naming the field."""
    kind = values.get("kind")
    try:
        parsed = {key: datetime.fromisoformat(values[key]) for key in ("local", "start_local", "end_local")
                  if values.get(key) is not None}
        return Timing(kind=kind, allow_late=bool(values.get("allow_late", False)), **parsed)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"timing: {exc}", {"timing": [str(exc)]}) from None


def _timing_json(timing: Timing) -> dict[str, Any]:
    values: dict[str, Any] = {"kind": timing.kind}
    for key in ("local", "start_local", "end_local"):
        value = getattr(timing, key, None)
        if value is not None:
            values[key] = value.isoformat(timespec="minutes")
    return values


def create_plan(principal: Principal, campaign_id: int, *, name: str, networks: list[str],
                timing: Mapping[str, Any], image_output: str | None = None, requires_approval: bool = False,
                allow_late: bool = False) -> PostPlan:
    """Plan a campaign's post for every partner account on `networks`; answers the plan, posts made."""
    campaign = get_campaign(principal, campaign_id)
    if campaign.status in ("archived", "draft"):
        raise ConflictError(f"a {campaign.status} campaign cannot carry posts: launch it first")
    unknown = [n for n in networks if n not in NETWORKS]
    if not networks or unknown:
        raise InvalidInput("networks must name the networks to post to",
                           {"networks": [f"one or more of {', '.join(NETWORKS)}"]})
    outputs = {out.output for out in campaign.outputs}
    missing = [n for n in networks if post_output(n) not in outputs]
    if missing:
        raise InvalidInput(f"the campaign has no post text for {', '.join(missing)}",
                           {"networks": [f"add the {', '.join(post_output(n) for n in missing)} output "
                                         f"to the campaign first"]})
    if image_output is not None and (image_output not in IMAGE_OUTPUTS or image_output not in outputs):
        choices = [o for o in FILE_OUTPUTS if o in IMAGE_OUTPUTS and o in outputs] or ["none"]
        raise InvalidInput("image_output must be an image the campaign renders",
                           {"image_output": [f"one of {', '.join(choices)}"]})
    parsed = timing_from({**timing, "allow_late": allow_late})
    plan = PostPlan(campaign_id=campaign.id, name=name.strip()[:200] or campaign.name,
                    networks=list(networks), image_output=image_output, timing=_timing_json(parsed),
                    requires_approval=requires_approval, allow_late=allow_late,
                    created_by_id=principal.user_id, skipped=[])
    db.session.add(plan)
    db.session.flush()
    fill_plan(plan)
    commit()
    return plan


def fill_plan(plan: PostPlan, now: datetime | None = None) -> int:
    """Make the plan's posts that do not exist yet (bulk; one per active account); the caller commits.

    A post whose due time has already passed is not made: a partner who arrives late gets the
    posts still to come, never yesterday's.
    """
    now = now or utcnow()
    timing = timing_from({**plan.timing, "allow_late": plan.allow_late})
    if _over_everywhere(timing, now):
        return 0  # every scheduler pass asks every active plan: most are long over
    accounts = db.session.execute(
        select(SocialAccount.id, SocialAccount.partner_id, SocialAccount.network, SocialAccount.auto_publish,
               Partner.time_zone, SocialAccount.handle)
        .join(Partner, Partner.id == SocialAccount.partner_id)
        .where(SocialAccount.network.in_(plan.networks), SocialAccount.is_active.is_(True),
               SocialAccount.needs_reconnect_since.is_(None), Partner.status == "active")
        .where(~select(ScheduledPost.id).where(ScheduledPost.plan_id == plan.id,
                                               ScheduledPost.social_account_id == SocialAccount.id).exists())
        .order_by(SocialAccount.id)).all()
    if not accounts:
        return 0
    assets = _plan_assets(plan, {row.partner_id for row in accounts})
    accounts = [row for row in accounts if (row.partner_id, post_output(row.network)) in assets]
    caps = _Caps(timing, now) if timing.kind != "on_approval" and accounts else None
    if caps is not None:
        caps.load(row.id for row in accounts)
    rows = []
    skipped: list[dict[str, Any]] = []
    stamp = utcnow()
    for account_id, partner_id, network, auto_publish, zone, handle in accounts:
        text_asset = assets[(partner_id, post_output(network))]
        zone = zone or "UTC"
        slot = spread_slot(f"{plan.id}:{account_id}", SLOTS) if timing.kind == "window" else 0
        due = due_at(timing, zone, slot=slot, slots=SLOTS if timing.kind == "window" else 1)
        if due is not None and due < now and not plan.allow_late:
            continue
        if caps is not None and due is not None:
            due, reason = caps.place(account_id, zone, due, slot)
            if due is None:
                skipped.append({"account_id": account_id, "partner_id": partner_id, "network": network,
                                "handle": handle, "reason": reason})
                continue
        approval = approval_needed(plan.requires_approval, auto_publish)
        rows.append({
            "social_account_id": account_id, "partner_id": partner_id, "campaign_id": plan.campaign_id,
            "plan_id": plan.id, "asset_id": text_asset,
            "image_asset_id": assets.get((partner_id, plan.image_output)) if plan.image_output else None,
            "text": "", "local_at": _local(timing, due, zone), "time_zone": zone,
            # On approval: due the moment it is approved (the approval sets the time).
            "scheduled_at": due or stamp,
            "status": "awaiting_approval" if approval else "scheduled",
            "idempotency_key": idempotency_key(f"plan-{plan.id}", account_id),
            "attempts": 0, "created_at": stamp, "updated_at": stamp,
        })
    if rows:
        insert = insert_for(db.session.get_bind().dialect.name, ScheduledPost).on_conflict_do_nothing()
        for start in range(0, len(rows), BATCH):
            db.session.execute(insert, rows[start:start + BATCH])
        record_post_variants(plan.id)  # each post carries the variant of the render it posts
        hold_plan_posts(plan.id, plan.campaign_id)  # outside an experiment's test share: wait for the winner
    if caps is not None:
        _record_skips(plan, caps.considered, skipped)
    return len(rows)


def approval_needed(plan_requires_approval: bool, auto_publish: bool) -> bool:
    """Whether a plan's post waits for the partner's approval on this account."""
    return plan_requires_approval or not auto_publish


def _over_everywhere(timing: Timing, now: datetime) -> bool:
    """Whether the plan's last wall-clock time has passed in every zone (the last is UTC-12), late
    posts not allowed: no account arriving now could get a post."""
    last = timing.end_local if timing.kind == "window" else timing.local
    return (timing.kind != "on_approval" and not timing.allow_late and last is not None
            and last.replace(tzinfo=UTC) + LAST_ZONE < now)


def _plan_assets(plan: PostPlan, partner_ids: set[int]) -> dict[tuple[int, str], int]:
    """(partner, output) -> asset id of the campaign's renders the plan posts, for these partners."""
    wanted = [post_output(n) for n in plan.networks] + ([plan.image_output] if plan.image_output else [])
    stmt = select(Asset.partner_id, Asset.output, Asset.id).where(
        Asset.campaign_id == plan.campaign_id, Asset.output.in_(wanted))
    if len(partner_ids) <= FEW_PARTNERS:  # a few newcomers: their rows, not the campaign's 10,000
        stmt = stmt.where(Asset.partner_id.in_(partner_ids))
    return {(partner_id, output): asset_id for partner_id, output, asset_id in db.session.execute(stmt)}


def cap_limits() -> tuple[int, int]:
    """How many tcma posts an account may publish a day and a week (the settings)."""
    settings = get_settings()
    return settings.social_posts_per_day, settings.social_posts_per_week


def counted_times(account_ids: Iterable[int], low: datetime, high: datetime, *,
                  exclude_post: int | None = None) -> dict[int, list[datetime]]:
    """When each account's posts that count against its caps go out (or went out), low..high.

    A post counts unless it is cancelled, expired or failed; a post awaiting approval with no time
    of its own (due on approval) counts once approved. A published post counts when it went out.
    """
    times: dict[int, list[datetime]] = {}
    ids = sorted(set(account_ids))
    for start in range(0, len(ids), BATCH):
        stmt = (select(ScheduledPost.social_account_id, ScheduledPost.scheduled_at,
                       ScheduledPost.published_at)
                .where(ScheduledPost.social_account_id.in_(ids[start:start + BATCH]),
                       ScheduledPost.status.not_in(UNCOUNTED),
                       ~((ScheduledPost.status == "awaiting_approval") & ScheduledPost.local_at.is_(None)),
                       or_(ScheduledPost.scheduled_at.between(low, high),
                           ScheduledPost.published_at.between(low, high))))
        if exclude_post is not None:
            stmt = stmt.where(ScheduledPost.id != exclude_post)
        for account_id, scheduled_at, published_at in db.session.execute(stmt):
            times.setdefault(account_id, []).append(published_at or scheduled_at)
    return times


def cap_reason(account_id: int, when: datetime, zone: str, *, exclude_post: int | None = None) -> str | None:
    """Which cap one more post of the account at `when` would break (in `zone`), or None."""
    per_day, per_week = cap_limits()
    times = counted_times([account_id], when - _MARGIN, when + _MARGIN, exclude_post=exclude_post)
    return caps_exceeded(times.get(account_id, []), when, zone, per_day=per_day, per_week=per_week)


class _Caps:
    """One fill's view of its accounts' caps: their posts that count, and the ones this fill adds."""

    def __init__(self, timing: Timing, now: datetime) -> None:
        self.timing, self.now = timing, now
        self.per_day, self.per_week = cap_limits()
        first = timing.local or timing.start_local
        last = timing.local or timing.end_local
        assert first is not None and last is not None
        self.low, self.high = first.replace(tzinfo=UTC) - _MARGIN, last.replace(tzinfo=UTC) + _MARGIN
        self.times: dict[int, list[datetime]] = {}
        self.considered: set[int] = set()
        self._days: dict[date, list[int]] | None = None

    def load(self, account_ids: Iterable[int]) -> None:
        self.times = counted_times(account_ids, self.low, self.high)

    def place(self, account_id: int, zone: str, due: datetime, slot: int) -> tuple[datetime | None, str]:
        """When the account's post goes out within its caps (`due`, or a window slot on another
        day), or None and the cap it would break."""
        self.considered.add(account_id)
        times = self.times.setdefault(account_id, [])
        reason = caps_exceeded(times, due, zone, per_day=self.per_day, per_week=self.per_week)
        if reason is not None and self.timing.kind == "window":
            for other in self._other_days(slot):
                moved = due_at(self.timing, zone, slot=other, slots=SLOTS)
                if moved is not None and moved >= self.now and caps_exceeded(
                        times, moved, zone, per_day=self.per_day, per_week=self.per_week) is None:
                    due, reason = moved, None
                    break
        if reason is not None:
            return None, reason
        times.append(due)
        return due, ""

    def _other_days(self, slot: int) -> list[int]:
        """A slot on each other wall-clock day of the window, in order (the same place in the day's
        share of slots as `slot`, so moved posts still spread)."""
        if self._days is None:
            self._days = {}
            for number in range(SLOTS):
                self._days.setdefault(_slot_wall(self.timing, number).date(), []).append(number)
        own = _slot_wall(self.timing, slot).date()
        return [slots[slot % len(slots)] for day, slots in self._days.items() if day != own]


def _slot_wall(timing: Timing, slot: int) -> datetime:
    """The wall-clock time of a window's slot (as `due_at` places it, before the zone applies)."""
    assert timing.start_local is not None and timing.end_local is not None
    span = timing.end_local - timing.start_local
    second = timedelta(seconds=1)
    return timing.start_local + span * (2 * slot + 1) / (2 * SLOTS) // second * second


def _record_skips(plan: PostPlan, considered: set[int], skipped: list[dict[str, Any]]) -> None:
    """The plan's skipped accounts: this fill's, and earlier ones this fill did not look at again."""
    kept = [entry for entry in plan.skipped or [] if entry["account_id"] not in considered]
    entries = sorted(kept + skipped, key=lambda entry: entry["account_id"])
    if entries != list(plan.skipped or []):
        plan.skipped = entries


def _local(timing: Timing, due: datetime | None, zone: str) -> str | None:
    """The wall-clock time the partner sees (in their zone), to the minute."""
    if due is None:
        return None
    return due.astimezone(ZoneInfo(zone)).replace(tzinfo=None).isoformat(timespec="minutes")


def fill_active_plans() -> int:
    """Posts for partners and accounts that arrived since their plans were made (scheduler pass)."""
    made = 0
    for plan in db.session.scalars(select(PostPlan).where(PostPlan.status == "active")):
        made += fill_plan(plan)
    return made


def cancel_plan(principal: Principal, plan_id: int) -> PostPlan:
    """Cancel the plan: its posts not yet sent are cancelled (published ones stay published)."""
    plan = get_plan(principal, plan_id)
    plan.status = "cancelled"
    db.session.execute(update(ScheduledPost).where(
        ScheduledPost.plan_id == plan.id,
        ScheduledPost.status.in_(("awaiting_approval", "scheduled", "approved", "held")),
    ).values(status="cancelled", error="the plan was cancelled", updated_at=utcnow()))
    commit()
    return plan


def get_plan(principal: Principal, plan_id: int) -> PostPlan:
    """One plan of a campaign the caller may see (vendor users only plan)."""
    plan = db.session.get(PostPlan, plan_id)
    if plan is None:
        raise NotFoundError(f"post plan {plan_id} not found")
    get_campaign(principal, plan.campaign_id)
    return plan


def list_plans(principal: Principal, campaign_id: int) -> list[PostPlan]:
    """The campaign's plans, oldest first."""
    campaign: Campaign = get_campaign(principal, campaign_id)
    return list(db.session.scalars(select(PostPlan).where(PostPlan.campaign_id == campaign.id)
                                   .order_by(PostPlan.id)))
