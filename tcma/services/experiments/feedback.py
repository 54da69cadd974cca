"""Putting variants to work: a campaign's renders and unpublished posts switch to each partner's arm
when an experiment starts, and to the winner (or the control) when it is decided.

An asset whose variant changes is queued again and rendered anew (its tracked links carry the new
variant); a post not yet published follows its text render, so it goes out in the new variant, and a
post awaiting a partner's approval is switched too: the partner's users get one mail saying so. A
post whose text the partner edited keeps the partner's words (and its variant).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import escape
from sqlalchemy import select, update

from campaigns.vocabulary import NETWORK_LABELS
from tcma.config import get_settings
from tcma.extensions import db
from tcma.mail import OutgoingMail
from tcma.models import (
    Asset,
    Campaign,
    Experiment,
    ExperimentAssignment,
    Partner,
    ScheduledPost,
    SocialAccount,
    User,
)
from tcma.models.base import utcnow
from tcma.queue import JobCall
from tcma.services.experiments.assignment import arm_names, partner_variants
from tcma.services.launch.assets import RENDER_JOB
from tcma.services.sending.mail import composer, queue_mail
from tcma.services.transaction import enqueue_after_commit

UNPUBLISHED = ("awaiting_approval", "scheduled", "approved", "held", "held_for_winner")
SWITCH_MAIL = "experiment_switch"


@dataclass
class Switched:
    """What one switch changed."""

    assets: int = 0
    posts: int = 0
    awaiting_approval: int = 0
    partners_told: int = 0


def switch_campaign_variants(campaign: Campaign, chosen: Mapping[int, str] | str, tell_partners: bool,
                             tag: str) -> Switched:
    """Give the campaign's assets and unpublished posts `chosen` (per partner, or one variant for all).

    Part of the caller's unit of work; renders are enqueued after its commit under job ids with `tag`.
    """
    switched = Switched()
    per_partner = chosen if isinstance(chosen, Mapping) else None
    groups = _groups(campaign.id, chosen)
    requeue: list[int] = []
    for variant, partner_ids in groups.items():
        # A render under way keeps its variant for now (its job writes its result when it ends);
        # the next maintenance pass switches it (`reconcile_variants`).
        stmt = update(Asset).where(Asset.campaign_id == campaign.id, Asset.status != "running",
                                   Asset.variant.is_distinct_from(variant))
        if per_partner is not None:
            stmt = stmt.where(Asset.partner_id.in_(partner_ids))
        changed = list(db.session.scalars(stmt.values(variant=variant, status="queued", error=None,
                                                     updated_at=utcnow()).returning(Asset.id)))
        requeue += changed
        posts = update(ScheduledPost).where(ScheduledPost.campaign_id == campaign.id,
                                            ScheduledPost.status.in_(UNPUBLISHED), ScheduledPost.text == "",
                                            ScheduledPost.variant.is_distinct_from(variant))
        if per_partner is not None:
            posts = posts.where(ScheduledPost.partner_id.in_(partner_ids))
        rows = db.session.execute(posts.values(variant=variant, updated_at=utcnow())
                                  .returning(ScheduledPost.partner_id, ScheduledPost.status)).all()
        switched.posts += len(rows)
        waiting = {partner_id for partner_id, status in rows if status == "awaiting_approval"}
        switched.awaiting_approval += sum(status == "awaiting_approval" for _, status in rows)
        if tell_partners and waiting:
            switched.partners_told += _tell_partners(waiting)
    switched.assets = len(requeue)
    if requeue:
        if campaign.status == "completed":
            campaign.status = "running"
        if campaign.status == "running":
            _enqueue_renders(sorted(requeue), f"variant-{campaign.id}-{tag}")
    return switched


def reconcile_variants() -> int:
    """Switch what an earlier switch had to leave (renders then under way) to each live partner-level
    experiment's arms, or its winner; the caller commits. Answers how many assets were queued again."""
    queued = 0
    for experiment in db.session.scalars(select(Experiment).where(
            Experiment.status.in_(("running", "decided")), Experiment.unit == "partner")).all():
        campaign = db.session.get(Campaign, experiment.campaign_id)
        if experiment.status == "decided":
            chosen: Mapping[int, str] | str = experiment.winner or arm_names(experiment)[0]
        elif experiment.test_share is not None:  # partners held outside the share have the control
            chosen = partner_variants(experiment, db.session.scalars(
                select(Asset.partner_id).where(Asset.campaign_id == experiment.campaign_id).distinct()))
        else:
            arms = select(ExperimentAssignment.partner_id, ExperimentAssignment.variant).where(
                ExperimentAssignment.experiment_id == experiment.id)
            chosen = dict(db.session.execute(arms).all())
        queued += switch_campaign_variants(campaign, chosen, tell_partners=False,
                                           tag=f"exp{experiment.id}-reconcile-{int(utcnow().timestamp())}").assets
    return queued


def _groups(campaign_id: int, chosen: Mapping[int, str] | str) -> dict[str, list[int]]:
    if not isinstance(chosen, Mapping):
        return {chosen: []}
    groups: dict[str, list[int]] = {}
    for partner_id, variant in chosen.items():
        groups.setdefault(variant, []).append(partner_id)
    return groups


def _enqueue_renders(asset_ids: list[int], prefix: str) -> None:
    size = get_settings().render_chunk
    enqueue_after_commit(*(
        JobCall(RENDER_JOB, (chunk,), job_id=f"{prefix}-{chunk[0]}-{chunk[-1]}")
        for chunk in (asset_ids[i:i + size] for i in range(0, len(asset_ids), size))))


def _tell_partners(partner_ids: set[int]) -> int:
    users = db.session.execute(select(User.id, User.email).where(
        User.partner_id.in_(partner_ids), User.is_active.is_(True))).all()
    for user_id, email in users:
        queue_mail(SWITCH_MAIL, user_id, email)
    return len({pid for pid in partner_ids})


@composer(SWITCH_MAIL)
def compose_switch_notice(user_id: int, message_id: str) -> OutgoingMail | None:
    """Tell a partner's user which posts awaiting their approval now use a campaign test's winner."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.partner_id is None:
        return None
    partner = db.session.get(Partner, user.partner_id)
    decided = select(Experiment.campaign_id).where(Experiment.status == "decided")
    rows = db.session.execute(
        select(ScheduledPost, SocialAccount.network, SocialAccount.handle, Campaign.name)
        .join(SocialAccount, SocialAccount.id == ScheduledPost.social_account_id)
        .join(Campaign, Campaign.id == ScheduledPost.campaign_id)
        .where(ScheduledPost.partner_id == user.partner_id, ScheduledPost.status == "awaiting_approval",
               ScheduledPost.campaign_id.in_(decided))
        .order_by(ScheduledPost.scheduled_at, ScheduledPost.id).limit(20)).all()
    if not rows or partner is None:
        return None
    page = f"{get_settings().public_url}/portal/posts"
    lines = [f"{campaign}: {NETWORK_LABELS.get(network, network)} {handle}"
             for _, network, handle, campaign in rows]
    text = ("Hello,\n\nA test of which version of a campaign's post works best has ended, and posts "
            f"waiting for your approval at {partner.name} now use the winning version:\n\n"
            + "".join(f"  - {line}\n" for line in lines)
            + f"\nPlease look at them again before you approve:\n{page}\n")
    html = (f"<p>Hello,</p><p>A test of which version of a campaign's post works best has ended, and posts "
            f"waiting for your approval at <strong>{escape(partner.name)}</strong> now use the winning "
            "version:</p><ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"
            f'<p><a href="{page}">Look at them again</a> before you approve.</p>')
    return OutgoingMail(to=[user.email], subject=f"Posts waiting for your approval changed ({partner.name})",
                        text=text, html=html, message_id=message_id)
