"""Partner self-service: the templates a partner's tier may use, their edits, their renders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import campaigns
import renderers
from campaigns.vocabulary import tier_allows
from tcma.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from tcma.extensions import db
from tcma.models import Asset, Customization, Partner, TemplateVersion
from tcma.queue import JobCall
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.templates import get_version, list_templates, template_for_version
from tcma.services.launch.assets import RENDER_JOB, AssetView, get_asset
from tcma.services.launch.launches import release_waiting
from tcma.services.transaction import commit, enqueue_after_commit


def _partner(principal: Principal) -> Partner:
    if not principal.is_partner:
        raise PermissionDenied("the library is for partner users")
    return db.session.get(Partner, principal.partner_id)


def library_version(principal: Principal, slug: str) -> tuple[Partner, TemplateVersion]:
    """The caller's partner and the latest version of a template their tier may use, else 404."""
    return _usable_version(principal, slug)


def _usable_version(principal: Principal, slug: str) -> tuple[Partner, TemplateVersion]:
    partner = _partner(principal)
    version = get_version(slug)
    if not tier_allows(version.available_tiers, partner.tier.slug):
        raise NotFoundError(f"template {slug!r} not found")  # not in this partner's library
    return partner, version


def _validated(tpl: campaigns.Template, values: dict[str, str]) -> dict[str, str]:
    """The template's cleaned field values, or a 422 naming the field."""
    try:
        return tpl.validate_fields(values)
    except campaigns.FieldError as exc:
        raise InvalidInput(str(exc), {f"fields.{exc.field}": [str(exc)]}) from None


def partner_library(principal: Principal) -> list[tuple[Any, TemplateVersion]]:
    """Templates the caller's tier may use, each with its latest version."""
    return list_templates(tier=_partner(principal).tier.slug)


def get_customization(principal: Principal, slug: str) -> Customization:
    """The partner's field values for the latest version (empty if none saved yet)."""
    partner, version = _usable_version(principal, slug)
    custom = db.session.scalar(select(Customization).where(
        Customization.partner_id == partner.id, Customization.template_version_id == version.id))
    return custom or Customization(partner_id=partner.id, template_version_id=version.id,
                                   fields={}, dropped_fields=[])


def save_customization(principal: Principal, slug: str, values: dict[str, str]) -> Customization:
    """Validate and save the partner's field values for the latest version."""
    partner, version = _usable_version(principal, slug)
    cleaned = _validated(template_for_version(version), values)
    custom = get_customization(principal, slug)
    custom.fields, custom.dropped_fields = cleaned, []
    db.session.add(custom)
    release_waiting(partner.id, version.id, cleaned)  # campaign assets that waited for these
    try:
        commit()
    except IntegrityError:  # a concurrent first save of the same customization won
        db.session.rollback()
        raise ConflictError("these edits were saved meanwhile; reload and try again") from None
    return custom


def render_for_partner(principal: Principal, slug: str, output: str, variant: str | None,
                       fields: dict[str, str]) -> AssetView:
    """Create a self-served asset from the partner's saved edits (overridden by `fields`)."""
    partner, version = _usable_version(principal, slug)
    tpl = template_for_version(version)
    if output not in tpl.outputs:
        raise InvalidInput(f"no output {output!r}", {"output": [f"one of {', '.join(tpl.outputs)}"]})
    if variant is not None and variant not in tpl.variants:
        raise InvalidInput(f"no variant {variant!r}", {"variant": [f"one of {', '.join(tpl.variants)}"]})
    merged = {**get_customization(principal, slug).fields, **fields}
    cleaned = _validated(tpl, merged)
    same = _same_self_served(partner.id, version.id, output, variant, cleaned)
    if same is not None:  # same inputs, same asset: nothing is rendered twice
        return get_asset(principal, same.id)
    asset = Asset(partner_id=partner.id, template_version_id=version.id, output=output,
                  variant=variant, fields=cleaned, status="queued")
    db.session.add(asset)
    db.session.flush()
    enqueue_after_commit(JobCall(RENDER_JOB, ([asset.id],), job_id=f"self-serve-{asset.id}"))
    commit()
    db.session.expire_all()
    return get_asset(principal, asset.id)


def _same_self_served(partner_id: int, version_id: int, output: str, variant: str | None,
                      fields: dict[str, str]) -> Asset | None:
    """The partner's earlier self-served asset with exactly these inputs, unless it failed."""
    candidates = db.session.scalars(select(Asset).where(
        Asset.partner_id == partner_id, Asset.campaign_id.is_(None),
        Asset.template_version_id == version_id, Asset.output == output,
        Asset.variant.is_(None) if variant is None else Asset.variant == variant,
        Asset.status != "failed"))
    return next((asset for asset in candidates if asset.fields == fields), None)


PREVIEW_WIDTH = 480
PREVIEW_OUTPUTS = ("pdf", "png", "jpg", "email")


def preview_for_partner(principal: Principal, slug: str, output: str, variant: str | None,
                        fields: dict[str, str]) -> dict[str, Any]:
    """A small PNG of the template with these (unsaved) fields, and its warnings by field.

    Nothing is stored and no link is recorded: the preview shows the destination, not a tracked
    link. A required field left blank shows its example and a warning beside it.
    """
    from campaigns.preview import warnings_by_field
    from tcma.services.launch.renders import partner_profile
    from tcma.state import app_state

    partner, version = _usable_version(principal, slug)
    tpl = template_for_version(version)
    wanted = output if output in tpl.outputs and output in PREVIEW_OUTPUTS else next(
        (o for o in tpl.outputs if o in PREVIEW_OUTPUTS), None)
    if wanted is None:
        raise InvalidInput("this template has no output with a picture to preview",
                           {"output": ["posts are previewed as text on the Posts page"]})
    if variant is not None and variant not in tpl.variants:
        raise InvalidInput(f"no variant {variant!r}", {"variant": [f"one of {', '.join(tpl.variants)}"]})
    given = {name: value for name, value in fields.items() if str(value).strip()}
    missing = tpl.missing_required(given)
    stand_ins = {k: v for k, v in tpl.stand_in_fields().items() if k in missing}
    cleaned = _validated(tpl, {**given, **stand_ins})
    try:
        request = campaigns.resolve_request(tpl, partner_profile(partner), wanted, variant, cleaned)
        renderer = app_state().renderer
        picture = renderer.preview(request.spec, PREVIEW_WIDTH).data
        # The warnings of the real output (its sizes, QR modules, logo resolution), not the thumbnail's
        warnings = renderer.render(request.spec).warnings
    except (campaigns.RequestError, renderers.RenderError) as exc:
        raise InvalidInput(str(exc), {"output": [str(exc)]}) from None
    by_field, other = warnings_by_field(tpl, wanted, warnings)
    for name in missing:
        by_field.setdefault(name, []).insert(0, "required: the example is shown until you fill it in")
    return {"output": wanted, "png": picture, "warnings": by_field, "general": other}
