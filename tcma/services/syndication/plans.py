"""Post plans: a marketer plans a campaign's post once; tcma makes one scheduled post per opted-in
partner account, due at the plan's local time in each partner's own zone.

The post's text is the partner's render of the campaign's `post:<network>` output (its tracked
links already point at the partner, the campaign and the network); the image, if any, is the
partner's render of the plan's image output. Posts are made in bulk at planning time; `fill_plan`
adds the ones for partners and accounts that arrived later (it runs on every scheduler pass),
never one whose time has passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from campaigns.timing import Timing, due_at, spread_slot
from campaigns.vocabulary import FILE_OUTPUTS, NETWORKS, post_output
from tcma.connectors import idempotency_key
from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Asset, Campaign, Partner, PostPlan, ScheduledPost, SocialAccount
from tcma.models.base import insert_for, utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.launch.launches import get_campaign
from tcma.services.transaction import commit

IMAGE_OUTPUTS = ("png", "jpg")
BATCH = 1000


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
                    created_by_id=principal.user_id)
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
    assets: dict[tuple[int, str], int] = {}
    wanted = [post_output(n) for n in plan.networks] + ([plan.image_output] if plan.image_output else [])
    found = db.session.execute(select(Asset.partner_id, Asset.output, Asset.id).where(
        Asset.campaign_id == plan.campaign_id, Asset.output.in_(wanted)))
    for partner_id, output, asset_id in found:
        assets[(partner_id, output)] = asset_id
    accounts = db.session.execute(
        select(SocialAccount.id, SocialAccount.partner_id, SocialAccount.network, SocialAccount.auto_publish,
               Partner.time_zone)
        .join(Partner, Partner.id == SocialAccount.partner_id)
        .where(SocialAccount.network.in_(plan.networks), SocialAccount.is_active.is_(True),
               SocialAccount.needs_reconnect_since.is_(None), Partner.status == "active")
        .where(~select(ScheduledPost.id).where(ScheduledPost.plan_id == plan.id,
                                               ScheduledPost.social_account_id == SocialAccount.id).exists())
        .order_by(SocialAccount.id)).all()
    rows = []
    stamp = utcnow()
    for account_id, partner_id, network, auto_publish, zone in accounts:
        text_asset = assets.get((partner_id, post_output(network)))
        if text_asset is None:  # the partner is not in the campaign's segment (or its tier lacks it)
            continue
        zone = zone or "UTC"
        slot = spread_slot(f"{plan.id}:{account_id}", 1000) if timing.kind == "window" else 0
        due = due_at(timing, zone, slot=slot, slots=1000 if timing.kind == "window" else 1)
        if due is not None and due < now and not plan.allow_late:
            continue
        approval = plan.requires_approval or not auto_publish
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
    return len(rows)


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
