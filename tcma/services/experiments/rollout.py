"""Test on a share, then send the winner to the rest (Mautic's send-winner, decided by statistics).

An experiment with a `test_share` gives arms to that share of its units only: recipients of the
campaign's email sends (unit recipient), or partners, whose posts it holds (unit partner). The other
units are held (`held_for_winner`): their messages and posts wait, and go out once, in the winning
variant, when the experiment is decided (by its rule, by a marketer, or at the latest at the plan's
deadline, when the rule decides and "no clear winner" sends the control). Stopping it releases them
in the control. Whether a unit is tested is a hash of the experiment's salt and the unit (like its arm,
but independent of it), so a retry or a late joiner lands on the same side.

Hooks, each called at one place: `hold_plan_posts` when a post plan makes posts, `plan_send_recipients`
when a send starts, `release_rest` when an experiment is decided or stopped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.models import (
    Asset,
    Campaign,
    EmailRecipient,
    EmailSend,
    Experiment,
    ExperimentAssignment,
    PostPlan,
    ScheduledPost,
    SendArmEmail,
    SocialAccount,
)
from tcma.models.base import utcnow
from tcma.services.experiments.assignment import arm_names, hashed_arm, in_test_share, live_experiment

HELD = "held_for_winner"
HOLDABLE_POSTS = ("scheduled", "awaiting_approval")  # not yet approved, not edited by the partner


# Setting up -------------------------------------------------------------------------------------


def check_rollout(campaign: Campaign, values: dict[str, Any]) -> tuple[float, int] | None:
    """The plan's (test share, hours to the deadline), checked against the campaign; None: no plan."""
    rollout = values.get("rollout")
    if rollout is None:
        return None
    share = rollout.get("test_share")
    if share is None or not 0 < share < 1:
        given = "given" if share is None else f"{share:g}"
        raise InvalidInput(f"the test share must be more than 0 and less than 1, not {given}",
                           {"rollout": {"test_share": ["a fraction of the units, e.g. 0.2 tests on 20%"]}})
    unit = values.get("unit", "partner")
    outputs = {output.output for output in campaign.outputs}
    if unit == "recipient" and "email" not in outputs:
        raise InvalidInput("a test share of recipients needs email sends, and the campaign has no email",
                           {"rollout": ["add the campaign's email output, or test on partners' posts"]})
    if unit == "partner" and not any(output.startswith("post:") for output in outputs):
        raise InvalidInput("a test share of partners holds their posts, and the campaign has no posts",
                           {"rollout": ["add a post output (post:linkedin, ...), or test on recipients"]})
    min_days, max_days = values.get("min_runtime_days", 7), values.get("max_runtime_days", 28)
    hours = rollout.get("deadline_hours") or max_days * 24
    if hours < min_days * 24:
        raise InvalidInput(f"the rest would go after {hours} hours, before the minimum runtime of {min_days} "
                           "days: no winner could be named by then",
                           {"rollout": {"deadline_hours": [f"at least {min_days * 24} (min_runtime_days)"]}})
    return share, hours


def start_rollout(experiment: Experiment, share: float, hours: int) -> None:
    """Give the experiment its plan; posts already waiting of partners outside the share are held."""
    experiment.test_share = share
    experiment.rest_deadline = experiment.started_at + timedelta(hours=hours)
    if experiment.unit == "partner":
        waiting = select(ScheduledPost.id).where(ScheduledPost.campaign_id == experiment.campaign_id)
        _hold_posts(experiment, waiting)


def _rollout_running(experiment: Experiment | None) -> bool:
    return (experiment is not None and experiment.status == "running" and experiment.test_share is not None
            and experiment.rest_released_at is None)


# Holding ----------------------------------------------------------------------------------------


def hold_plan_posts(plan_id: int, campaign_id: int) -> int:
    """Hold the plan's new posts of partners outside a running test share (called by post plans)."""
    experiment = live_experiment(campaign_id)
    if not _rollout_running(experiment) or experiment.unit != "partner":
        return 0
    return _hold_posts(experiment, select(ScheduledPost.id).where(ScheduledPost.plan_id == plan_id))


def _hold_posts(experiment: Experiment, post_ids: Any) -> int:
    candidates = select(ScheduledPost.partner_id).where(
        ScheduledPost.id.in_(post_ids), ScheduledPost.status.in_(HOLDABLE_POSTS), ScheduledPost.text == "")
    held = [pid for pid in set(db.session.scalars(candidates)) if not in_test_share(experiment, str(pid))]
    count = 0
    for start in range(0, len(held), 1000):
        count += db.session.execute(update(ScheduledPost).where(
            ScheduledPost.id.in_(post_ids), ScheduledPost.partner_id.in_(held[start:start + 1000]),
            ScheduledPost.status.in_(HOLDABLE_POSTS), ScheduledPost.text == "")
            .values(status=HELD, updated_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    return count


def plan_send_recipients(send: EmailSend) -> None:
    """Give a starting send's messages their arms (a recipient-level experiment), holding those outside
    the test share; a decided experiment's winner for all. Renders each arm once (called at start)."""
    experiment = live_experiment(send.campaign_id)
    if experiment is None or experiment.unit != "recipient":
        return
    rows = db.session.execute(select(EmailRecipient.id, EmailRecipient.address_hash).where(
        EmailRecipient.send_id == send.id, EmailRecipient.status == "queued")).all()
    if experiment.status == "decided":
        arms = [experiment.winner or arm_names(experiment)[0]]
        changes = [{"id": row.id, "variant": arms[0]} for row in rows]
    else:
        arms = arm_names(experiment)  # every arm: a held part may get any of them later
        changes = [{"id": row.id, "variant": hashed_arm(experiment, row.address_hash)}
                   if in_test_share(experiment, row.address_hash) else {"id": row.id, "status": HELD}
                   for row in rows]
    _render_arms(send, set(arms))
    for start in range(0, len(changes), 1000):
        db.session.execute(update(EmailRecipient), changes[start:start + 1000])


def _render_arms(send: EmailSend, variants: set[str]) -> None:
    """The send's email in each arm it does not already have (its own variant needs none)."""
    from tcma.services.sending.delivery import render_email

    have = set(db.session.scalars(select(SendArmEmail.variant).where(SendArmEmail.send_id == send.id)))
    fields = db.session.scalar(select(Asset.fields).where(
        Asset.campaign_id == send.campaign_id, Asset.partner_id == send.partner_id, Asset.output == "email")
        .limit(1)) or {}
    for variant in sorted(variants - have - {send.variant}):
        prepared = render_email(send, fields, variant)
        db.session.add(SendArmEmail(send_id=send.id, variant=variant, subject=prepared.subject,
                                    preheader=prepared.preheader, html=prepared.html, text=prepared.text))
    db.session.flush()


def arm_emails(send_id: int) -> dict[str, SendArmEmail]:
    """A send's renders in its experiment's arms, by variant."""
    return {row.variant: row for row in db.session.scalars(
        select(SendArmEmail).where(SendArmEmail.send_id == send_id))}


# Releasing --------------------------------------------------------------------------------------


def release_rest(experiment: Experiment, variant: str, reason: str) -> dict[str, Any] | None:
    """Send the held units `variant`, once: messages are queued again in it, posts wait for their time
    (or go at once if it has passed). Part of the caller's unit of work; answers what went."""
    if experiment.test_share is None or experiment.rest_released_at is not None:
        return None
    now = utcnow()
    went: dict[str, Any] = {"variant": variant, "reason": reason, "at": now.isoformat()}
    if experiment.unit == "recipient":
        went.update(_release_recipients(experiment, variant))
    else:
        went["posts"] = _release_posts(experiment, variant, now)
    experiment.rest_released_at, experiment.rest_release = now, went
    return went


def _release_recipients(experiment: Experiment, variant: str) -> dict[str, int]:
    from tcma.services.sending.delivery import resume_send_jobs

    sends = select(EmailSend.id).where(EmailSend.campaign_id == experiment.campaign_id)
    released = db.session.execute(update(EmailRecipient).where(
        EmailRecipient.send_id.in_(sends), EmailRecipient.status == HELD)
        .values(status="queued", variant=variant).returning(EmailRecipient.send_id)).scalars().all()
    send_ids = sorted(set(released))
    for send in db.session.scalars(select(EmailSend).where(EmailSend.id.in_(send_ids))):
        _render_arms(send, {variant})
        if send.status == "sending":  # a cancelled send keeps its messages unsent
            resume_send_jobs(send.id, f"exp{experiment.id}-rest")
    return {"recipients": len(released), "sends": len(send_ids)}


def _release_posts(experiment: Experiment, variant: str, now: datetime) -> int:
    from tcma.services.syndication.plans import approval_needed

    rows = db.session.execute(
        select(ScheduledPost.id, ScheduledPost.scheduled_at, ScheduledPost.local_at, ScheduledPost.time_zone,
               PostPlan.requires_approval, SocialAccount.auto_publish)
        .join(SocialAccount, SocialAccount.id == ScheduledPost.social_account_id)
        .outerjoin(PostPlan, PostPlan.id == ScheduledPost.plan_id)
        .where(ScheduledPost.campaign_id == experiment.campaign_id, ScheduledPost.status == HELD)).all()
    changes = []
    for row in rows:
        approval = approval_needed(bool(row.requires_approval), row.auto_publish)
        change = {"id": row.id, "variant": variant, "updated_at": now,
                  "status": "awaiting_approval" if approval else "scheduled"}
        if row.scheduled_at < now:  # its time passed while it was held: it goes now
            change["scheduled_at"] = now
            if row.local_at is not None:
                zone = ZoneInfo(row.time_zone or "UTC")
                change["local_at"] = now.astimezone(zone).replace(tzinfo=None).isoformat(timespec="minutes")
        changes.append(change)
    for start in range(0, len(changes), 1000):
        db.session.execute(update(ScheduledPost), changes[start:start + 1000])
    return len(changes)


# Showing ----------------------------------------------------------------------------------------


def rollout_view(experiment: Experiment) -> dict[str, Any] | None:
    """The plan as a marketer reads it: share, tested and held units, when the rest goes, what went."""
    if experiment.test_share is None:
        return None
    if experiment.unit == "recipient":
        counts = dict(db.session.execute(
            select(EmailRecipient.status, func.count())
            .where(EmailRecipient.send_id.in_(select(EmailSend.id).where(
                EmailSend.campaign_id == experiment.campaign_id)),
                (EmailRecipient.status == HELD) | EmailRecipient.variant.is_not(None))
            .group_by(EmailRecipient.status)).all())
        held_units = held_items = counts.pop(HELD, 0)
        # Messages released to the rest carry the winner as their variant, but were not tested.
        tested = sum(counts.values()) - (experiment.rest_release or {}).get("recipients", 0)
        items = "messages"
    else:
        tested = db.session.scalar(select(func.count()).where(
            ExperimentAssignment.experiment_id == experiment.id)) or 0
        held_units, held_items = db.session.execute(
            select(func.count(func.distinct(ScheduledPost.partner_id)), func.count())
            .where(ScheduledPost.campaign_id == experiment.campaign_id, ScheduledPost.status == HELD)).one()
        items = "posts"
    released = experiment.rest_release
    if released is not None:
        goes = f"went {released['at'][:16].replace('T', ' ')} UTC in variant {released['variant']}"
    else:
        goes = ("when the experiment is decided, at the latest "
                f"{experiment.rest_deadline:%Y-%m-%d %H:%M} UTC (with no clear winner by then, the control)")
    return {"test_share": experiment.test_share, "unit": experiment.unit, "item_name": items,
            "deadline": experiment.rest_deadline, "tested_units": tested, "held_units": held_units,
            "held_items": held_items, "rest_goes": goes, "released_at": experiment.rest_released_at,
            "released": released}


def campaign_rollouts(campaign_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The plan of each campaign's live experiment that tests on a share (for send and plan views)."""
    out = {}
    for campaign_id in sorted(set(campaign_ids)):
        experiment = live_experiment(campaign_id)
        if experiment is not None and experiment.test_share is not None:
            out[campaign_id] = {"experiment_id": experiment.id, "status": experiment.status,
                                **(rollout_view(experiment) or {})}
    return out

