"""Who gets which variant of a campaign: stored per partner, hashed per recipient, the winner once decided.

Launch and post plans call into here (`assign_campaign_variants`, `record_post_variants`); a send
asks `variant_for_partner` or `variant_for_recipient`. An experiment's arm for a partner is GrowthBook's
hash of the experiment's salt and the partner id, or, with strata (tier, region, vertical), the arm
furthest below its weight's share among the partners of the same stratum assigned before (ties go
to the hashed arm). Assignments are stored, so a relaunch or a late joiner never moves anyone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import and_, select, update

from campaigns.experiments import assign, bucket
from tcma.extensions import db
from tcma.models import Asset, Experiment, ExperimentAssignment, Partner, ScheduledPost
from tcma.models.base import insert_for, utcnow

STRATA = ("tier", "region", "vertical")


def live_experiment(campaign_id: int) -> Experiment | None:
    """The campaign's running experiment, else its latest decided one (its winner applies), else None."""
    return db.session.scalars(
        select(Experiment).where(Experiment.campaign_id == campaign_id,
                                 Experiment.status.in_(("running", "decided")))
        .order_by((Experiment.status == "running").desc(), Experiment.id.desc()).limit(1)).first()


def arm_names(experiment: Experiment) -> list[str]:
    """The arms in order (the first is the control)."""
    return [variant.name for variant in experiment.variants]


def hashed_arm(experiment: Experiment, unit_id: str) -> str:
    """The arm the unit's hash falls in, by the arms' weights."""
    names = arm_names(experiment)
    return names[assign(experiment.salt, unit_id, [v.weight for v in experiment.variants])]


def in_test_share(experiment: Experiment, unit_id: str) -> bool:
    """Whether the unit gets an arm now: always without a test share (or once its rest is released),
    else when the unit's share hash (independent of its arm's) falls below the share."""
    if experiment.test_share is None or experiment.rest_released_at is not None:
        return True
    return bucket(f"{experiment.salt}:share", unit_id) < experiment.test_share


def partner_variants(experiment: Experiment, partner_ids: Iterable[int]) -> dict[int, str]:
    """Each partner's variant under a running experiment: its arm, or the control while it is held
    outside the test share (its posts wait for the winner); the caller commits."""
    wanted = set(partner_ids)
    control = arm_names(experiment)[0]
    return {**dict.fromkeys(sorted(wanted), control), **assign_partners(experiment, wanted)}


def _stratum(experiment: Experiment, partner: Partner) -> str:
    return "|".join(f"{name}:{getattr(partner, f'{name}_id')}" for name in experiment.strata or [])


def assign_partners(experiment: Experiment, partner_ids: Iterable[int]) -> dict[int, str]:
    """Each partner's arm (stored ones kept, new ones assigned and stored; partners outside a test
    share get none); the caller commits."""
    wanted = sorted(pid for pid in set(partner_ids) if in_test_share(experiment, str(pid)))
    if not wanted:
        return {}
    stored = dict(db.session.execute(select(ExperimentAssignment.partner_id, ExperimentAssignment.variant)
                                     .where(ExperimentAssignment.experiment_id == experiment.id)).all())
    new = [pid for pid in wanted if pid not in stored]
    if new:
        _store(experiment, _assign_new(experiment, new))
        stored.update(dict(db.session.execute(
            select(ExperimentAssignment.partner_id, ExperimentAssignment.variant)
            .where(ExperimentAssignment.experiment_id == experiment.id,
                   ExperimentAssignment.partner_id.in_(new))).all()))
    return {pid: stored[pid] for pid in wanted if pid in stored}


def _assign_new(experiment: Experiment, partner_ids: list[int]) -> list[dict]:
    if not experiment.strata:
        return [{"partner_id": pid, "variant": hashed_arm(experiment, str(pid)), "stratum": ""}
                for pid in partner_ids]
    partners = db.session.scalars(select(Partner).where(Partner.id.in_(partner_ids)).order_by(Partner.id))
    counts: dict[str, Counter] = {}
    for stratum, variant in db.session.execute(
            select(ExperimentAssignment.stratum, ExperimentAssignment.variant)
            .where(ExperimentAssignment.experiment_id == experiment.id)):
        counts.setdefault(stratum, Counter())[variant] += 1
    rows = []
    for partner in partners:
        stratum = _stratum(experiment, partner)
        seen = counts.setdefault(stratum, Counter())
        variant = balanced_arm(experiment, seen, hashed_arm(experiment, str(partner.id)))
        seen[variant] += 1
        rows.append({"partner_id": partner.id, "variant": variant, "stratum": stratum})
    return rows


def balanced_arm(experiment: Experiment, seen: Counter, hashed: str) -> str:
    """The arm furthest below its weight's share of the stratum after one more unit (ties: `hashed`)."""
    total_weight = sum(v.weight for v in experiment.variants)
    units = sum(seen.values()) + 1
    deficits = {v.name: v.weight / total_weight * units - seen[v.name] for v in experiment.variants}
    best = max(deficits.values())
    return hashed if deficits[hashed] >= best - 1e-9 else max(deficits, key=deficits.__getitem__)


def _store(experiment: Experiment, rows: list[dict]) -> None:
    stamp = utcnow()
    insert = insert_for(db.session.get_bind().dialect.name, ExperimentAssignment).on_conflict_do_nothing()
    values = [{**row, "experiment_id": experiment.id, "assigned_at": stamp} for row in rows]
    for start in range(0, len(values), 1000):
        db.session.execute(insert, values[start:start + 1000])


def assign_campaign_variants(campaign_id: int) -> int:
    """Give the campaign's assets without a variant their partner's arm (or the decided winner).

    Called by the launch after it inserts assets and before it enqueues their renders; the caller
    commits. Answers how many assets got a variant.
    """
    experiment = live_experiment(campaign_id)
    if experiment is None or experiment.unit != "partner":
        return 0
    unassigned = list(db.session.scalars(select(Asset.partner_id).where(
        Asset.campaign_id == campaign_id, Asset.variant.is_(None)).distinct()))
    if not unassigned:
        return 0
    if experiment.status == "decided":
        chosen = {pid: experiment.winner or arm_names(experiment)[0] for pid in unassigned}
    else:
        chosen = partner_variants(experiment, unassigned)
    changed = 0
    for variant in set(chosen.values()):
        ids = [pid for pid, arm in chosen.items() if arm == variant]
        for start in range(0, len(ids), 1000):
            changed += db.session.execute(update(Asset).where(
                Asset.campaign_id == campaign_id, Asset.variant.is_(None),
                Asset.partner_id.in_(ids[start:start + 1000])).values(variant=variant)).rowcount
    return changed


def record_post_variants(plan_id: int) -> int:
    """Stamp the plan's new posts with the variant of the render they post (called by post plans)."""
    variant = select(Asset.variant).where(Asset.id == ScheduledPost.asset_id).scalar_subquery()
    return db.session.execute(update(ScheduledPost).where(
        and_(ScheduledPost.plan_id == plan_id, ScheduledPost.variant.is_(None)))
        .values(variant=variant).execution_options(synchronize_session=False)).rowcount


def variant_for_partner(campaign_id: int, partner_id: int) -> str | None:
    """The variant a partner's renders, posts and sends of the campaign use (None: no experiment).

    A running experiment's stored arm (assigned now, and stored by the caller's commit, if the
    partner is new); a decided one's winner; the control when it kept none.
    """
    experiment = live_experiment(campaign_id)
    if experiment is None:
        return None
    if experiment.status == "decided":
        return experiment.winner or arm_names(experiment)[0]
    if experiment.unit == "recipient":
        return None
    return partner_variants(experiment, [partner_id]).get(partner_id)


def variant_for_recipient(campaign_id: int, partner_id: int, recipient_key: str) -> str | None:
    """The variant one email recipient gets: hashed per recipient (its address hash, as sends hash it)
    when the experiment's unit is the recipient, None while held outside a test share; else the
    partner's."""
    from tcma.services.sending.suppressions import address_hash

    experiment = live_experiment(campaign_id)
    if experiment is not None and experiment.status == "running" and experiment.unit == "recipient":
        hashed = address_hash(recipient_key)
        return hashed_arm(experiment, hashed) if in_test_share(experiment, hashed) else None
    return variant_for_partner(campaign_id, partner_id)
