"""Who a campaign would reach before it exists: the partners its segment selects (the same rule
launch uses), and who or what is left out and why (a suspended partner, a template its tier may not
use, a post output for a network the partner has no account on).

- `segment_reach(principal, segment, outputs) -> dict`: counts, the first partners, the skipped.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import or_, select

from campaigns.vocabulary import NETWORK_LABELS, NETWORKS, POST_PREFIX, tier_allows
from tcma.errors import InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Partner, SocialAccount, Tier
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.templates import get_version, template_for_version
from tcma.services.launch.launches import segment_partner_ids
from tcma.services.partners.taxonomy import KINDS, partner_column, with_slugs
from tcma.services.scoping import require_vendor

SHOWN = 50  # partners listed by name; the counts cover all of them
OUTPUT_LABELS = {"pdf": "PDF", "png": "PNG image", "jpg": "JPEG image", "email": "Email", "html": "Web page"}


def output_label(output: str) -> str:
    """How an output reads to a marketer: "PDF", "LinkedIn post"."""
    if output.startswith(POST_PREFIX):
        network = output.removeprefix(POST_PREFIX)
        return f"{NETWORK_LABELS.get(network, network)} post"
    return OUTPUT_LABELS.get(output, output)


def _check_slugs(segment: dict[str, Any]) -> None:
    for key, model in KINDS.items():
        slugs = set(segment.get(key) or [])
        unknown = slugs - set(db.session.scalars(select(model.slug).where(model.slug.in_(slugs))))
        if unknown:
            message = f"unknown {key}: {', '.join(sorted(unknown))}"
            raise InvalidInput(message, {f"segment.{key}": [message]})


def _versions(outputs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Any]]:
    found = []
    for index, item in enumerate(outputs):
        try:
            version = get_version(item["template"], item.get("version"))
        except NotFoundError as exc:
            raise InvalidInput(exc.message, {f"outputs.{index}.template": [exc.message]}) from None
        if item["output"] not in version.outputs:
            message = f"template {item['template']!r} has no output {item['output']!r}"
            raise InvalidInput(message, {f"outputs.{index}.output": [message]})
        found.append((item, version))
    return found


def _waiting_for_partners(versions: list[tuple[dict[str, Any], Any]]) -> list[str]:
    """Outputs whose template needs fields only a partner can give: made once the partner fills them."""
    notes = []
    for item, version in versions:
        template = template_for_version(version)
        missing = template.missing_required({})
        if missing:
            labels = {f.name: f.label or f.name for f in template.fields}
            notes.append(f"{version.template.name} ({output_label(item['output'])}) waits for each partner "
                         f"to fill in: {', '.join(sorted(labels[n] for n in missing))}")
    return notes


def _selected_any_status(segment: dict[str, Any]) -> list[tuple[int, str, str]]:
    """Every partner the segment names, whatever its status: (id, name, status)."""
    dimensions = [k for k in KINDS if segment.get(k)]
    explicit = segment.get("partner_ids") or []
    if not dimensions and not explicit:
        stmt = select(Partner.id, Partner.name, Partner.status)
    else:
        matches = [with_slugs(KINDS[k], partner_column(k), segment[k]) for k in dimensions]
        by_dimension = select(Partner.id).where(*matches) if dimensions else None
        conditions = [Partner.id.in_(by_dimension)] if by_dimension is not None else []
        if explicit:
            conditions.append(Partner.id.in_(explicit))
        stmt = select(Partner.id, Partner.name, Partner.status).where(or_(*conditions))
    return list(db.session.execute(stmt.order_by(Partner.name, Partner.id)))


def _skips(partner: dict[str, Any], versions: list[tuple[dict[str, Any], Any]],
           networks: set[str]) -> list[str]:
    """Why some of the outputs will not be made for this partner."""
    reasons = []
    for item, version in versions:
        name = f"{version.template.name} ({output_label(item['output'])})"
        if not tier_allows(version.available_tiers, partner["tier_slug"]):
            reasons.append(f"{name}: the {partner['tier']} tier may not use it")
        elif item["output"].startswith(POST_PREFIX):
            network = item["output"].removeprefix(POST_PREFIX)
            if network in NETWORKS and network not in networks:
                reasons.append(f"{name}: no active {NETWORK_LABELS.get(network, network)} account to post to")
    return reasons


def segment_reach(principal: Principal, segment: dict[str, Any], outputs: list[dict[str, Any]]
                  ) -> dict[str, Any]:
    """How many partners and assets the campaign reaches, and who is skipped (and why)."""
    require_vendor(principal)
    _check_slugs(segment)
    versions = _versions(outputs)
    active = set(segment_partner_ids(segment))
    named = _selected_any_status(segment)
    inactive = [{"id": pid, "name": name, "reason": f"partner is {status}"}
                for pid, name, status in named if pid not in active]
    rows = db.session.execute(select(Partner.id, Partner.name, Tier.slug, Tier.name)
                              .join(Tier, Tier.id == Partner.tier_id).where(Partner.id.in_(active))
                              .order_by(Partner.name, Partner.id))
    accounts: dict[int, set[str]] = {}
    for pid, network in db.session.execute(select(SocialAccount.partner_id, SocialAccount.network).where(
            SocialAccount.partner_id.in_(active), SocialAccount.is_active.is_(True),
            SocialAccount.needs_reconnect_since.is_(None))):
        accounts.setdefault(pid, set()).add(network)
    partners, partial, assets, reasons = [], 0, 0, Counter()
    for pid, name, tier_slug, tier in rows:
        row = {"id": pid, "name": name, "tier": tier, "tier_slug": tier_slug}
        row["skipped"] = _skips(row, versions, accounts.get(pid, set()))
        partial += bool(row["skipped"])
        assets += sum(1 for item, version in versions if tier_allows(version.available_tiers, tier_slug))
        reasons.update(row["skipped"])
        partners.append(row)
    return {"reached": len(partners), "assets": assets, "outputs": len(versions),
            "partners": partners[:SHOWN], "partly_skipped": partial,
            "skip_reasons": reasons.most_common(), "waiting": _waiting_for_partners(versions),
            "inactive": inactive[:SHOWN],
            "inactive_total": len(inactive)}
