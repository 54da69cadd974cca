"""Campaigns: create from templates and a segment, launch through the queue, pause, retry."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, func, literal, or_, select, update
from sqlalchemy.orm import selectinload

from campaigns.vocabulary import ASSET_STATUSES, channel_for, tier_allows
from tcma.config import get_settings
from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Asset, Campaign, CampaignOutput, Customization, Partner, TemplateVersion, Tier
from tcma.models.base import insert_for, utcnow
from tcma.queue import JobCall
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.templates import get_version, template_for_version
from tcma.services.experiments.assignment import assign_campaign_variants
from tcma.services.launch.assets import RENDER_JOB
from tcma.services.launch.review import claim_review
from tcma.services.partners.taxonomy import KINDS, partner_column, with_slugs
from tcma.services.scoping import get_scoped, require_vendor
from tcma.services.transaction import commit, enqueue_after_commit


def _slugify(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "campaign"
    return f"{base}-{secrets.token_hex(3)}"


def create_campaign(principal: Principal, name: str, outputs: list[dict[str, Any]],
                    segment: dict[str, Any]) -> Campaign:
    """A draft campaign rendering `outputs` (template slug + output) for a segment."""
    require_vendor(principal)
    if not outputs:
        raise InvalidInput("a campaign needs at least one output", {"outputs": ["must not be empty"]})
    campaign = Campaign(name=name, slug=_slugify(name), segment=segment, created_by_id=principal.user_id)
    for index, item in enumerate(outputs):
        try:
            version = get_version(item["template"], item.get("version"))
        except NotFoundError as exc:
            raise InvalidInput(exc.message, {f"outputs.{index}.template": [exc.message]}) from None
        if item["output"] not in version.outputs:
            raise InvalidInput(f"template {item['template']!r} has no output {item['output']!r}",
                              {f"outputs.{index}.output": [f"one of {', '.join(version.outputs)}"]})
        campaign.outputs.append(CampaignOutput(template_version_id=version.id, output=item["output"],
                                               channel=channel_for(item["output"])))
    _check_segment(segment)
    db.session.add(campaign)
    commit()
    return campaign


def _check_segment(segment: dict[str, Any]) -> None:
    for key, model in KINDS.items():
        slugs = set(segment.get(key) or [])
        known = set(db.session.scalars(select(model.slug).where(model.slug.in_(slugs))))
        if slugs - known:
            raise InvalidInput(f"unknown {key}: {', '.join(sorted(slugs - known))}",
                              {f"segment.{key}": [f"unknown: {', '.join(sorted(slugs - known))}"]})
    ids = set(segment.get("partner_ids") or [])
    found = set(db.session.scalars(select(Partner.id).where(Partner.id.in_(ids))))
    if ids - found:
        unknown = [f"unknown: {sorted(ids - found)}"]
        raise InvalidInput("unknown partners", {"segment.partner_ids": unknown})


def segment_partner_ids(segment: dict[str, Any]) -> list[int]:
    """Active partners matching every given dimension, plus the explicitly listed ones."""
    return list(db.session.scalars(_segment_select(segment).order_by(Partner.id)))


def segment_size(segment: dict[str, Any]) -> int:
    """How many active partners the segment has (one count)."""
    return db.session.scalar(select(func.count()).select_from(_segment_select(segment).subquery())) or 0


def segment_partner_page(segment: dict[str, Any], page: int, per_page: int) -> tuple[list[int], int]:
    """One page of the segment's partners by id, and how many it has (two queries, whatever its size)."""
    stmt = _segment_select(segment)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    ids = db.session.scalars(stmt.order_by(Partner.id).offset((page - 1) * per_page).limit(per_page))
    return list(ids), int(total)


def _segment_select(segment: dict[str, Any]) -> Select[tuple[int]]:
    stmt = select(Partner.id).where(Partner.status == "active")
    dimensions = [k for k in KINDS if segment.get(k)]
    for key in dimensions:
        stmt = stmt.where(with_slugs(KINDS[key], partner_column(key), segment[key]))
    explicit = segment.get("partner_ids") or []
    if explicit and not dimensions:
        stmt = stmt.where(Partner.id.in_(explicit))
    elif explicit:
        stmt = select(Partner.id).where(Partner.status == "active").where(
            or_(Partner.id.in_(stmt), Partner.id.in_(explicit)))
    return stmt


def get_campaign(principal: Principal, campaign_id: int) -> Campaign:
    """A campaign (vendor users only see campaigns as a whole)."""
    require_vendor(principal)
    return get_scoped(Campaign, campaign_id, principal, what="campaign")


def _create_assets(campaign: Campaign, partners: Select[tuple[int]] | list[int]) -> list[int]:
    """Insert the campaign's assets for these partners (ids, or a select of them); the ids of
    those this call created.

    An asset that exists already (a relaunch, a job run twice or rerun after a kill, two runs at
    once) is left alone by the unique (output, partner) constraint and not returned: each asset is
    created, and its render enqueued, by exactly one transaction. Outputs that need no field
    from the partner are one INSERT ... SELECT in the database (no row goes through Python);
    the others read each partner's saved fields.
    """
    needs = _partner_only_fields(campaign)
    plain = [out for out in campaign.outputs if out.template_version_id not in needs]
    created = _insert_selected(campaign, plain, partners) if plain else []
    own = [out for out in campaign.outputs if out.template_version_id in needs]
    if own:
        partner_ids = (partners if isinstance(partners, list)
                       else list(db.session.scalars(partners.order_by(Partner.id))))
        created += _insert_with_fields(campaign, own, needs, partner_ids)
    return sorted(created)


def _allowed_tiers(outputs: list[CampaignOutput]) -> dict[int, list[int]]:
    """Each output's tier ids its template allows (every tier when it names none)."""
    tiers = db.session.execute(select(Tier.id, Tier.slug)).all()
    return {out.id: [tid for tid, slug in tiers if tier_allows(out.template_version.available_tiers, slug)]
            for out in outputs}


def _insert_selected(campaign: Campaign, outputs: list[CampaignOutput],
                     partners: Select[tuple[int]] | list[int]) -> list[int]:
    allowed = _allowed_tiers(outputs)
    now = utcnow()
    chosen = (select(Partner.id.label("partner_id"), literal(campaign.id).label("campaign_id"),
                     CampaignOutput.id.label("campaign_output_id"), CampaignOutput.template_version_id,
                     CampaignOutput.output, literal({}, Asset.__table__.c.fields.type).label("fields"),
                     literal("queued").label("status"), literal(0).label("attempts"),
                     literal(now, Asset.__table__.c.created_at.type).label("created_at"),
                     literal(now, Asset.__table__.c.updated_at.type).label("updated_at"))
              .select_from(Partner).join(CampaignOutput, CampaignOutput.campaign_id == campaign.id)
              .where(Partner.id.in_(partners),
                     or_(*(and_(CampaignOutput.id == oid, Partner.tier_id.in_(tids))
                           for oid, tids in allowed.items())))
              .order_by(Partner.id, CampaignOutput.id))  # partner-major ids (see _insert_with_fields)
    columns = ["partner_id", "campaign_id", "campaign_output_id", "template_version_id", "output",
               "fields", "status", "attempts", "created_at", "updated_at"]
    insert = (insert_for(db.session.get_bind().dialect.name, Asset).from_select(columns, chosen)
              .on_conflict_do_nothing().returning(Asset.id))
    return list(db.session.scalars(insert))


def _insert_with_fields(campaign: Campaign, outputs: list[CampaignOutput], needs: dict[int, Any],
                        partner_ids: list[int]) -> list[int]:
    tiers = dict(db.session.execute(
        select(Partner.id, Tier.slug).join(Tier, Tier.id == Partner.tier_id)
        .where(Partner.id.in_(partner_ids))).all())
    # Partner-major order: a partner's outputs land in the same render chunk, so its logo is
    # fetched and decoded once per chunk.
    saved = _saved_fields(partner_ids, list(needs))
    now = utcnow()
    rows = [{"partner_id": pid, "campaign_id": campaign.id, "campaign_output_id": out.id,
             "template_version_id": out.template_version_id, "output": out.output,
             "fields": {}, "status": "queued", "error": None, "attempts": 0,
             "created_at": now, "updated_at": now,
             **_given_or_waiting(needs[out.template_version_id],
                                 saved.get((pid, out.template_version_id), {}))}
            for pid in partner_ids if pid in tiers for out in outputs
            if tier_allows(out.template_version.available_tiers, tiers[pid])]
    insert = (insert_for(db.session.get_bind().dialect.name, Asset).on_conflict_do_nothing()
              .returning(Asset.id))
    created: list[int] = []
    for start in range(0, len(rows), 1000):
        created += db.session.scalars(insert, rows[start:start + 1000]).all()
    return created


def _partner_only_fields(campaign: Campaign) -> dict[int, Any]:
    """The campaign's template versions that need fields only a partner can give, by version id."""
    templates = {out.template_version_id: template_for_version(out.template_version)
                 for out in campaign.outputs}
    return {vid: tpl for vid, tpl in templates.items() if tpl.missing_required({})}


def _saved_fields(partner_ids: list[int], version_ids: list[int]) -> dict[tuple[int, int], dict]:
    """The partners' saved field values for these template versions."""
    rows = db.session.execute(select(Customization.partner_id, Customization.template_version_id,
                                     Customization.fields)
                              .where(Customization.partner_id.in_(partner_ids),
                                     Customization.template_version_id.in_(version_ids)))
    return {(pid, vid): fields or {} for pid, vid, fields in rows}


def _given_or_waiting(template: Any, saved: dict[str, Any]) -> dict[str, Any]:
    """An asset's fields and status: the partner's saved values, or waiting for the missing ones.

    A placeholder ("Partner office / Main Street 1") is never rendered in their place.
    """
    if template is None:
        return {}
    missing = template.missing_required(saved)
    if not missing:
        return {"fields": dict(saved)}
    labels = {f.name: f.label or f.name for f in template.fields}
    return {"status": "waiting",
            "error": "waiting for the partner to fill in: " + ", ".join(sorted(labels[n] for n in missing))}


def release_waiting(partner_id: int, version_id: int, fields: dict[str, Any]) -> list[int]:
    """Queue the partner's waiting assets of this template version with the fields just saved."""
    ids = list(db.session.scalars(
        update(Asset).where(Asset.partner_id == partner_id, Asset.template_version_id == version_id,
                            Asset.status == "waiting")
        .values(status="queued", error=None, fields=fields, updated_at=utcnow())
        .returning(Asset.id)))
    if ids:
        _enqueue_chunks(sorted(ids), "released", "")  # an asset leaves "waiting" once
    return ids


LAUNCH_JOB = "tcma.jobs.launch.expand_launch"


def launch_campaign(principal: Principal, campaign_id: int, review_id: int | None = None,
                    via: str = "api") -> dict[str, Any]:
    """Create one asset per (partner, output) and enqueue their renders; answers at once.

    A segment of at most `launch_inline_partners` partners gets its assets in this request, as
    the answer shows. A larger one is recorded as launching ("preparing N partners" in its
    progress) and a job creates its assets in chunks, each chunk's renders enqueued with it.
    The launch records the contact-sheet review it went out under, or that the review was skipped.
    """
    campaign = get_campaign(principal, campaign_id)
    if campaign.status == "archived":
        raise ConflictError("an archived campaign cannot be launched")
    claim_review(principal, campaign, review_id, via)
    size = segment_size(campaign.segment)
    if campaign.status == "launching" or size > get_settings().launch_inline_partners:
        _launch_in_background(campaign)
    else:
        _launch_inline(campaign)
    commit()
    db.session.expire_all()
    return campaign_progress(principal, campaign.id)


def _launch_inline(campaign: Campaign) -> None:
    _create_assets(campaign, _segment_select(campaign.segment))
    assign_campaign_variants(campaign.id)  # an experiment's arm, or its winner, for new assets
    campaign.status = "running" if campaign.status != "paused" else "paused"
    campaign.launched_at = campaign.launched_at or utcnow()
    if campaign.status == "running":
        _enqueue_pending(campaign.id)
        _mark_completed([campaign.id])  # nothing to render (an empty segment, a relaunch)


def _launch_in_background(campaign: Campaign, suffix: str = "") -> None:
    """Record the launch as preparing and enqueue the job that creates its assets.

    A relaunch while it prepares enqueues the same job again (rq keeps one pending job per id,
    and two runs at once create nothing twice). A relaunch of a running campaign enqueues again
    its queued assets, as a small relaunch does; the job adds the partners that joined since.
    """
    if campaign.status == "running" and campaign.launched_at is not None:
        _enqueue_pending(campaign.id)
    if campaign.status != "paused":
        campaign.status = "launching"
    campaign.launched_at = campaign.launched_at or utcnow()
    campaign.updated_at = utcnow()  # the job's heartbeat starts now (see recover_stalled)
    enqueue_after_commit(JobCall(LAUNCH_JOB, (campaign.id,), job_id=f"launch-{campaign.id}{suffix}"))


def expand_launch(campaign_id: int) -> dict[str, int]:
    """The launch job: create the campaign's assets for its segment, a chunk of partners at a time.

    Each chunk commits its assets with their render jobs (recorded in the job outbox in the same
    transaction), so a job killed mid-way loses nothing and a rerun, a retried job or a second
    job at once only creates the assets still missing. A paused campaign gets its assets and
    its renders wait for the resume. Ends with the campaign running (or completed, when there is
    nothing to render).
    """
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == "archived":
        return {"created": 0, "partners": 0}
    partner_ids = segment_partner_ids(campaign.segment)
    size = get_settings().launch_chunk_partners
    created = 0
    for start in range(0, len(partner_ids), size):
        created += _expand_chunk(campaign_id, partner_ids[start:start + size])
    db.session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "launching")
                       .values(status="running", updated_at=utcnow()))
    _mark_completed([campaign_id])
    commit()
    return {"created": created, "partners": len(partner_ids)}


def _expand_chunk(campaign_id: int, partner_ids: list[int]) -> int:
    # The campaign row is locked for the chunk: a pause or resume waits for it, so the chunk
    # enqueues its renders only if the campaign is not paused when it commits.
    campaign = db.session.scalars(select(Campaign).where(Campaign.id == campaign_id)
                                  .with_for_update()).one()
    ids = _create_assets(campaign, partner_ids)
    if ids:
        assign_campaign_variants(campaign_id)
        if campaign.status != "paused":
            _enqueue_chunks(ids, f"render-{campaign_id}", "")
    campaign.updated_at = utcnow()  # heartbeat: a launch job alive
    commit()
    db.session.expire_all()
    return len(ids)


def _enqueue_pending(campaign_id: int) -> int:
    """Render jobs, in chunks, for every queued asset of the campaign (enqueued after commit)."""
    db.session.flush()
    ids = list(db.session.scalars(select(Asset.id).where(
        Asset.campaign_id == campaign_id, Asset.status == "queued").order_by(Asset.id)))
    _enqueue_chunks(ids, f"render-{campaign_id}", "")
    return len(ids)


def _enqueue_chunks(ids: list[int], prefix: str, suffix: str) -> None:
    size = get_settings().render_chunk
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    enqueue_after_commit(*(
        JobCall(RENDER_JOB, (chunk,), job_id=f"{prefix}-{chunk[0]}-{chunk[-1]}{suffix}")
        for chunk in chunks
    ))


def campaign_progress(principal: Principal, campaign_id: int) -> dict[str, int]:
    """Queued, running, done and failed asset counts, and the campaign's status (a read only)."""
    campaign = get_campaign(principal, campaign_id)
    return campaigns_progress(principal, [campaign])[campaign.id]


def campaigns_progress(principal: Principal, campaigns: list[Campaign]) -> dict[int, dict[str, Any]]:
    """Progress of many campaigns in one grouped count.

    A campaign whose assets are still being created (launching) also says for how many partners
    they are prepared ("preparing"); that key is present only then.
    """
    require_vendor(principal)
    rows = db.session.execute(
        select(Asset.campaign_id, Asset.status, func.count())
        .where(Asset.campaign_id.in_([c.id for c in campaigns]))
        .group_by(Asset.campaign_id, Asset.status)
    ).all()
    result = {}
    for campaign in campaigns:
        counts = {status: count for cid, status, count in rows if cid == campaign.id}
        progress = {s: counts.get(s, 0) for s in ASSET_STATUSES}
        result[campaign.id] = {**progress, "total": sum(progress.values()), "status": campaign.status}
        if campaign.status == "launching":
            result[campaign.id]["preparing"] = segment_size(campaign.segment)
    return result


def campaigns_of(asset_ids: list[int]) -> list[int]:
    """The campaigns these assets belong to."""
    return list(db.session.scalars(select(Asset.campaign_id).where(Asset.id.in_(asset_ids)).distinct()))


def complete_if_done(campaign_ids: Iterable[int]) -> None:
    """Mark running campaigns with nothing left to render completed (render jobs, at their end)."""
    _mark_completed(campaign_ids)
    commit()


def _mark_completed(campaign_ids: Iterable[int]) -> None:
    """The check and the change are one statement, so two workers finishing together agree."""
    ids = [campaign_id for campaign_id in campaign_ids if campaign_id is not None]
    if not ids:
        return
    pending = select(Asset.id).where(Asset.campaign_id == Campaign.id,
                                     Asset.status.in_(["queued", "running"])).exists()
    db.session.execute(update(Campaign).where(Campaign.id.in_(ids), Campaign.status == "running",
                                              ~pending).values(status="completed", updated_at=utcnow()))


def set_paused(principal: Principal, campaign_id: int, paused: bool) -> Campaign:
    """Pause (queued renders wait) or resume (they are enqueued again) a launched campaign."""
    campaign = get_campaign(principal, campaign_id)
    if campaign.launched_at is None:
        raise ConflictError("the campaign has not been launched")
    if paused and campaign.status == "launching":
        raise ConflictError("the campaign is still preparing its assets; pause it once they exist "
                            "(its progress says when it is running)")
    if paused and campaign.status == "running":
        campaign.status = "paused"
    elif not paused and campaign.status == "paused":
        campaign.status = "running"
    if campaign.status == "running":
        _enqueue_pending(campaign.id)
        _mark_completed([campaign.id])
    commit()
    db.session.expire_all()
    return campaign


def retry_failed(principal: Principal, campaign_id: int, asset_ids: list[int] | None = None) -> int:
    """Queue failed assets again (all of the campaign's, or the ones named)."""
    campaign = get_campaign(principal, campaign_id)
    stmt = update(Asset).where(Asset.campaign_id == campaign.id, Asset.status == "failed")
    if asset_ids is not None:
        stmt = stmt.where(Asset.id.in_(asset_ids))
    count = db.session.execute(stmt.values(status="queued", error=None, updated_at=utcnow())).rowcount
    if count and campaign.status == "completed":
        campaign.status = "running"
    if count and campaign.status in {"running", "launching"}:
        _enqueue_pending(campaign.id)
    commit()
    return count


def recover_stalled(include_queued: bool = False) -> int:
    """Enqueue again the assets a dead worker held (running past their lease).

    They go back to "queued" as they are enqueued, so the next periodic pass does not enqueue
    them again while their recovery job waits behind a long launch. Queued assets still have
    their job in Redis (or in the job outbox); `include_queued` re-enqueues them too, for the
    day Redis itself lost its data.
    """
    # A dead worker's job still looks "started" to rq, so recovery jobs get ids of their own;
    # claim_assets keeps an asset from rendering twice if the original job runs after all.
    suffix = f"-recover-{secrets.token_hex(4)}"
    lease = timedelta(seconds=get_settings().render_lease_seconds)
    running = select(Campaign.id).where(Campaign.status == "running")
    live = or_(Asset.campaign_id.is_(None), Asset.campaign_id.in_(running))  # None: self-served
    stale = list(db.session.scalars(
        update(Asset).where(Asset.status == "running", Asset.updated_at < utcnow() - lease, live)
        .values(status="queued", updated_at=utcnow()).returning(Asset.id)))
    if include_queued:
        stale = list(db.session.scalars(select(Asset.id).where(Asset.status == "queued", live)))
    ids = sorted(stale)
    _enqueue_chunks(ids, "recover", suffix)
    _recover_launches(lease, suffix)
    commit()
    return len(ids)


def _recover_launches(lease: timedelta, suffix: str) -> None:
    """Enqueue again the launch jobs of campaigns preparing with no heartbeat for a lease (a dead
    worker's: rq still shows its job started, so a relaunch alone would not run it again)."""
    stalled = db.session.scalars(select(Campaign).where(Campaign.status == "launching",
                                                        Campaign.updated_at < utcnow() - lease))
    for campaign in stalled:
        _launch_in_background(campaign, suffix)


def list_campaigns(principal: Principal, status: str | None, page: int, per_page: int
                   ) -> tuple[list[Campaign], int]:
    """Campaigns, newest first, optionally by status."""
    require_vendor(principal)
    stmt = select(Campaign)
    if status:
        stmt = stmt.where(Campaign.status == status)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    outputs = selectinload(Campaign.outputs).selectinload(CampaignOutput.template_version)
    rows = db.session.scalars(stmt.order_by(Campaign.id.desc()).limit(per_page).offset((page - 1) * per_page)
                              .options(outputs.selectinload(TemplateVersion.template)))  # not one per row
    return list(rows), total
