"""The marketer's pre-launch contact sheet: a campaign's outputs drawn for every partner in its
segment, small, with every warning, so a problem is seen before any partner gets the asset."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

import campaigns
import renderers
from campaigns.vocabulary import tier_allows
from tcma.cache import LruCache
from tcma.extensions import db
from tcma.models import CampaignOutput, Customization
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.templates import template_for_version
from tcma.services.launch.launches import get_campaign, segment_partner_page
from tcma.services.launch.renders import load_partner_rows, partner_inputs_of
from tcma.services.launch.review import record_sheet_view
from tcma.services.transaction import commit
from tcma.state import app_state

SHEET_WIDTH = 200
PICTURED = ("pdf", "png", "jpg", "email")
# Drawn items (the renderer's warnings and the thumbnail) by everything a render of the sheet
# reads: the template version (never changed once published), the output, the partner's columns
# and brand kit as `load_partner_rows` gives them (colours, contact details, locale, tier...; logo
# keys name their content), the fields and the renderer's version. A second view of a page draws
# nothing again; a changed brand kit or another template version is another key. Per process.
DRAWN = LruCache(640)
# What a marketer filters the sheet by, in the order the filter offers them.
WARNING_KINDS = {
    "required": "Required field missing",
    "glyphs": "Missing glyphs",
    "fit": "Text does not fit",
    "logo-resolution": "Low-resolution logo",
    "logo-contrast": "Low-contrast logo",
    "logo-missing": "No logo",
    "qr": "QR code hard to scan",
    "render": "Does not render",
    "other": "Other",
}
# The renderers report warnings as sentences; these phrases say which kind each one is.
_KIND_PHRASES = (
    ("required", ("waits for the partner",)),
    ("render", ("does not render",)),
    ("glyphs", ("no installed font can draw", "emoji are left out")),
    ("fit", ("does not fit its frame", "not even one line fits")),
    ("logo-resolution", ("dpi at its printed size", "it may look blurry")),
    ("logo-contrast", ("contrast against what is behind",)),
    ("logo-missing", ("partner has no logo",)),
    ("qr", ("QR code",)),
)


def warning_kind(message: str) -> str:
    """The filterable kind of one warning (one of WARNING_KINDS)."""
    return next((kind for kind, phrases in _KIND_PHRASES if any(p in message for p in phrases)),
                "other")


@dataclass(frozen=True)
class SheetWarning:
    """One warning with the kind the sheet filters it by."""

    kind: str
    message: str

    @property
    def label(self) -> str:
        return WARNING_KINDS[self.kind]


@dataclass(frozen=True)
class SheetItem:
    """One partner's one output as it would render now."""

    partner_id: int
    partner_name: str
    output: str
    template_name: str
    image: str | None  # a data: URI of the thumbnail
    warnings: list[SheetWarning] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        """The kinds of warning this item has, each once."""
        return list(dict.fromkeys(w.kind for w in self.warnings))


@dataclass(frozen=True)
class ContactSheet:
    """One page of the sheet, the review it counts towards, and the warnings by kind on it."""

    items: list[SheetItem]
    total_partners: int
    review_id: int
    counts: dict[str, int]  # items per warning kind on this page, only the kinds present


def contact_sheet(principal: Principal, campaign_id: int, page: int, per_page: int,
                  review_id: int | None = None, via: str = "portal") -> ContactSheet:
    """Thumbnails and warnings of the campaign's outputs for one page of its segment's partners.

    Showing a page is recorded as part of a review (the one given, while it is the caller's and
    unused, or a new one): a launch from the sheet names that review. No asset is stored and no
    link is recorded (thumbnails encode the destinations). A partner who has not given a required
    field shows its example and a warning that the asset will wait.
    """
    campaign = get_campaign(principal, campaign_id)
    chosen, total = segment_partner_page(campaign.segment, page, per_page)
    rows = load_partner_rows(chosen)
    outputs = _outputs(campaign.id)
    saved = _customizations(chosen, {out.template_version_id for out in outputs})
    items = [_item(rows[pid], out, saved.get((pid, out.template_version_id)) or {})
             for pid in chosen for out in outputs
             if tier_allows(out.template_version.available_tiers, rows[pid].tier)]
    counts = {kind: sum(kind in item.kinds for item in items) for kind in WARNING_KINDS}
    review = record_sheet_view(principal, campaign, review_id, page, len(items),
                               sum(len(item.warnings) for item in items), via)
    commit()
    return ContactSheet(items, total, review.id,
                        {kind: n for kind, n in counts.items() if n})


def _outputs(campaign_id: int) -> list[CampaignOutput]:
    """The campaign's outputs in their usual order, each with its template version (one query)."""
    return list(db.session.scalars(
        select(CampaignOutput).options(joinedload(CampaignOutput.template_version))
        .where(CampaignOutput.campaign_id == campaign_id).order_by(CampaignOutput.id)))


def _customizations(partner_ids: list[int], version_ids: set[int]) -> dict[tuple[int, int], dict]:
    """The page's partners' saved fields per (partner, template version), from one query."""
    if not partner_ids or not version_ids:
        return {}
    rows = db.session.execute(
        select(Customization.partner_id, Customization.template_version_id, Customization.fields)
        .where(Customization.partner_id.in_(partner_ids),
               Customization.template_version_id.in_(version_ids)))
    return {(pid, vid): fields for pid, vid, fields in rows}


def _item(partner: Any, out: CampaignOutput, saved: dict) -> SheetItem:
    """Render one output for one partner (a `load_partner_rows` row): a thumbnail (pictured
    outputs) and the real warnings."""
    tpl = template_for_version(out.template_version)
    missing = sorted(tpl.missing_required(saved))
    fields = {**saved, **{k: v for k, v in tpl.stand_in_fields().items() if k in missing}}
    messages = [f"waits for the partner: {', '.join(missing)}"] if missing else []
    key = (out.template_version_id, out.output, tuple(partner), json.dumps(fields, sort_keys=True,
                                                                          default=str),
           renderers.RENDERER_VERSION, SHEET_WIDTH)
    drawn, image = DRAWN.get_or_make(key, lambda: _draw(tpl, partner, out.output, fields))
    messages += drawn
    warnings = [SheetWarning(warning_kind(m), m) for m in messages]
    return SheetItem(partner.id, partner.name, out.output, tpl.name, image, warnings)


def _draw(tpl: campaigns.Template, partner: Any, output: str, fields: dict
          ) -> tuple[tuple[str, ...], str | None]:
    """The renderer's warnings for one output of one partner and, for a pictured output, its
    thumbnail as a data URI (one that does not render: the warnings so far and why)."""
    renderer = app_state().renderer
    messages: list[str] = []
    try:
        request = campaigns.resolve_request(tpl, partner_inputs_of(partner).profile, output, None, fields)
        messages += renderer.warnings(request.spec)
        if output in PICTURED:
            png = renderer.preview(request.spec, SHEET_WIDTH).data
            return tuple(messages), "data:image/png;base64," + base64.b64encode(png).decode()
    except (campaigns.RequestError, campaigns.FieldError, renderers.RenderError,
            renderers.LogoError) as exc:
        messages.append(f"does not render: {exc}")
    return tuple(messages), None
