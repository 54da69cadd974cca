"""The marketer's pre-launch contact sheet: a campaign's outputs drawn for every partner in its
segment, small, with every warning, so a problem is seen before any partner gets the asset."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from sqlalchemy import select

import campaigns
import renderers
from campaigns.vocabulary import tier_allows
from tcma.extensions import db
from tcma.models import Customization, Partner
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.templates import template_for_version
from tcma.services.launch.launches import get_campaign, segment_partner_ids
from tcma.services.launch.renders import partner_profile
from tcma.state import app_state

SHEET_WIDTH = 200
PICTURED = ("pdf", "png", "jpg", "email")


@dataclass(frozen=True)
class SheetItem:
    """One partner's one output as it would render now."""

    partner_id: int
    partner_name: str
    output: str
    template_name: str
    image: str | None  # a data: URI of the thumbnail
    warnings: list[str] = field(default_factory=list)


def contact_sheet(principal: Principal, campaign_id: int, page: int, per_page: int
                  ) -> tuple[list[SheetItem], int]:
    """Thumbnails and warnings of the campaign's outputs for one page of its segment's partners.

    Nothing is stored and no link is recorded (thumbnails encode the destinations). A partner who
    has not given a required field shows its example and a warning that the asset will wait.
    """
    campaign = get_campaign(principal, campaign_id)
    partner_ids = segment_partner_ids(campaign.segment)
    chosen = partner_ids[(page - 1) * per_page: page * per_page]
    partners = [db.session.get(Partner, pid) for pid in chosen]
    items = [_item(partner, out) for partner in partners for out in campaign.outputs
             if tier_allows(out.template_version.available_tiers, partner.tier.slug)]
    return items, len(partner_ids)


def _item(partner: Partner, out) -> SheetItem:
    """Render one output for one partner: a thumbnail (pictured outputs) and the real warnings."""
    tpl = template_for_version(out.template_version)
    saved = db.session.scalar(select(Customization.fields).where(
        Customization.partner_id == partner.id,
        Customization.template_version_id == out.template_version_id)) or {}
    missing = sorted(tpl.missing_required(saved))
    fields = {**saved, **{k: v for k, v in tpl.stand_in_fields().items() if k in missing}}
    warnings = [f"waits for the partner: {', '.join(missing)}"] if missing else []
    image = None
    try:
        request = campaigns.resolve_request(tpl, partner_profile(partner), out.output, None, fields)
        renderer = app_state().renderer
        warnings += list(renderer.render(request.spec).warnings)
        if out.output in PICTURED:
            png = renderer.preview(request.spec, SHEET_WIDTH).data
            image = "data:image/png;base64," + base64.b64encode(png).decode()
    except (campaigns.RequestError, campaigns.FieldError, renderers.RenderError,
            renderers.LogoError) as exc:
        warnings.append(f"does not render: {exc}")
    return SheetItem(partner.id, partner.name, out.output, tpl.name, image, warnings)
