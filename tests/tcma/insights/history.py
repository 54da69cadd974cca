"""Building a partner's history directly as the rows the insights read: rollups, customizations,
self-served assets, scheduled posts."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from tcma.extensions import db
from tcma.models import (
    Asset,
    Campaign,
    Customization,
    EventRollup,
    Partner,
    ScheduledPost,
    SocialAccount,
    Template,
    TemplateVersion,
)
from tcma.services.tracking.summaries import add_to_dashboard_summaries, note_published_posts
from tests.support.factories import make_partner, make_user

AS_OF = date(2026, 6, 30)
_n = itertools.count(1)


def at(day: date, hour: int = 12) -> datetime:
    """Noon UTC (or `hour`) on `day`."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def partner(taxonomy: dict, joined: date, name: str | None = None, tier: int = 0) -> Partner:
    """A partner created on `joined`."""
    made = make_partner(taxonomy, tier=tier, name=name, with_logo=False)
    made.created_at = at(joined, 9)
    db.session.commit()
    return made


def rollup(who: Partner, kind: str, day: date, total: int, uniques: int | None = None, bots: int = 0,
           asset: Asset | None = None) -> None:
    """One rollup row: `total` people's events, `bots` flagged ones; added to the pre-summed tables as
    the event writer does."""
    row = {"partner_id": who.id, "kind": kind, "day": day, "total": total,
           "uniques": total if uniques is None else uniques, "bots": bots,
           "asset_id": asset.id if asset else 0, "channel": "download", "variant": "", "campaign_id": 0}
    db.session.add(EventRollup(**row))
    add_to_dashboard_summaries(db.session.connection(), [row])
    db.session.commit()


def template(slug: str, tiers: list[str] | None = None) -> TemplateVersion:
    """A template with one version, usable by `tiers` (all when None)."""
    tpl = Template(slug=slug, name=slug.replace("-", " ").title())
    version = TemplateVersion(template=tpl, version=1, spec={}, outputs=["pdf"], available_tiers=tiers or [])
    db.session.add(version)
    db.session.commit()
    return version


def asset(who: Partner, version: TemplateVersion, created: date, self_served: bool = False) -> Asset:
    """A done asset of `version` for `who` (self-served: made in the portal, no campaign)."""
    campaign = None
    if not self_served:
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "spring"))
        if campaign is None:
            campaign = Campaign(name="Spring", slug="spring", status="running")
            db.session.add(campaign)
            db.session.flush()
    made = Asset(partner_id=who.id, template_version_id=version.id, output="pdf", status="done",
                 created_at=at(created), campaign_id=campaign.id if campaign else None)
    db.session.add(made)
    db.session.commit()
    return made


def customization(who: Partner, version: TemplateVersion, saved: date) -> None:
    """The partner saved its field values for `version` on `saved`."""
    db.session.add(Customization(partner_id=who.id, template_version_id=version.id, fields={"headline": "Hi"},
                                 created_at=at(saved), updated_at=at(saved)))
    db.session.commit()


def post(who: Partner, approved: date | None = None, published: date | None = None,
         of: Asset | None = None) -> ScheduledPost:
    """A scheduled post, approved by a partner user on `approved`, published on `published`."""
    account = db.session.scalar(select(SocialAccount).where(SocialAccount.partner_id == who.id))
    if account is None:
        account = SocialAccount(partner_id=who.id, network="mastodon", handle=f"@p{who.id}")
        db.session.add(account)
        db.session.flush()
    approver = make_user("partner", who)[0] if approved else None
    made = ScheduledPost(social_account_id=account.id, partner_id=who.id, text="Hello",
                         scheduled_at=at(published or approved or AS_OF), idempotency_key=f"k{next(_n)}",
                         status="published" if published else "approved",
                         approved_at=at(approved) if approved else None,
                         approved_by_id=approver.id if approver else None,
                         published_at=at(published) if published else None,
                         asset_id=of.id if of else None)
    db.session.add(made)
    db.session.flush()
    if published:  # as the scheduler notes what it publishes
        note_published_posts(db.session.connection(), [made.id])
    db.session.commit()
    return made
