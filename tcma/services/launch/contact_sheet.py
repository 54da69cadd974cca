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
from tcma.services.launch.review import record_sheet_view
from tcma.services.transaction import commit
from tcma.state import app_state

SHEET_WIDTH = 200
PICTURED = ("pdf", "png", "jpg", "email")
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
    partner_ids = segment_partner_ids(campaign.segment)
    chosen = partner_ids[(page - 1) * per_page: page * per_page]
    partners = [db.session.get(Partner, pid) for pid in chosen]
    items = [_item(partner, out) for partner in partners for out in campaign.outputs
             if tier_allows(out.template_version.available_tiers, partner.tier.slug)]
    counts = {kind: sum(kind in item.kinds for item in items) for kind in WARNING_KINDS}
    review = record_sheet_view(principal, campaign, review_id, page, len(items),
                               sum(len(item.warnings) for item in items), via)
    commit()
    return ContactSheet(items, len(partner_ids), review.id,
                        {kind: n for kind, n in counts.items() if n})


def _item(partner: Partner, out) -> SheetItem:
    """Render one output for one partner: a thumbnail (pictured outputs) and the real warnings."""
    tpl = template_for_version(out.template_version)
    saved = db.session.scalar(select(Customization.fields).where(
        Customization.partner_id == partner.id,
        Customization.template_version_id == out.template_version_id)) or {}
    missing = sorted(tpl.missing_required(saved))
    fields = {**saved, **{k: v for k, v in tpl.stand_in_fields().items() if k in missing}}
    messages = [f"waits for the partner: {', '.join(missing)}"] if missing else []
    image = None
    try:
        request = campaigns.resolve_request(tpl, partner_profile(partner), out.output, None, fields)
        renderer = app_state().renderer
        messages += list(renderer.render(request.spec).warnings)
        if out.output in PICTURED:
            png = renderer.preview(request.spec, SHEET_WIDTH).data
            image = "data:image/png;base64," + base64.b64encode(png).decode()
    except (campaigns.RequestError, campaigns.FieldError, renderers.RenderError,
            renderers.LogoError) as exc:
        messages.append(f"does not render: {exc}")
    warnings = [SheetWarning(warning_kind(m), m) for m in messages]
    return SheetItem(partner.id, partner.name, out.output, tpl.name, image, warnings)
