"""The demo's social accounts: each demo partner connected to dry-run Mastodon and LinkedIn accounts.

The embedded default's connectors are the dry-run ones (TCMA_CONNECTORS_BACKEND=dryrun): they
check each post as the network would and write what would have been sent (text, image, key) as
files under TCMA_CONNECTORS_DRYRUN_DIR, sending nothing. The demo posts each partner's launch
announcement, with their co-branded social card when it has been rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from tcma.connectors.oauth import Grant
from tcma.extensions import db
from tcma.models import Asset, Partner, SocialAccount
from tcma.models.base import utcnow
from tcma.services.accounts.auth import OPERATOR
from tcma.services.syndication.accounts import connect_account
from tcma.services.syndication.oauth import store_grant
from tcma.services.syndication.publishing import Outgoing, publish_to_account
from tcma.services.transaction import commit
from tcma.state import app_state

DEMO_INSTANCE = "https://mastodon.demo.tcma.test"
ANNOUNCEMENT = ("Zero trust, deployed by people you know: {partner} brings the vendor's access platform "
                "to our customers. Book your architecture review: {url}")
LANDING = "https://vendor.example.com/zero-trust"


@dataclass
class DemoPosts:
    """What the demo connected and posted, and where the dry run wrote it."""

    accounts: int
    posts: int
    folder: str


def connect_and_post(campaign_id: int | None) -> DemoPosts:
    """Connect every demo partner's dry-run accounts and post their announcement once to each."""
    if app_state().connectors.backend != "dryrun":
        raise RuntimeError("the demo posts only through the dry-run connectors "
                           "(TCMA_CONNECTORS_BACKEND=dryrun)")
    partners = list(db.session.scalars(select(Partner).order_by(Partner.id)))
    for partner in partners:
        _connect(partner)
    posts = 0
    for row in db.session.scalars(select(SocialAccount).order_by(SocialAccount.id)):
        partner = row.partner
        image = _social_card(campaign_id, partner.id)
        website = partner.brand_kit.website if partner.brand_kit else None
        text = ANNOUNCEMENT.format(partner=partner.name, url=website or LANDING)
        publish_to_account(row, Outgoing(text=text, ref=f"demo-launch:{campaign_id}", image=image,
                                         image_type="image/png" if image else None,
                                         alt_text=f"{partner.name}: zero trust, deployed by people you know"))
        posts += 1
    return DemoPosts(accounts=len(partners) * 2, posts=posts, folder=str(app_state().connectors.dryrun_dir))


def _connect(partner: Partner) -> None:
    """A pasted-token Mastodon account and a LinkedIn page (as the consent would store it)."""
    mastodon = connect_account(OPERATOR, partner.id, "mastodon",
                               {"instance_url": DEMO_INSTANCE, "access_token": f"demo-token-{partner.slug}"})
    mastodon.handle = f"@{partner.slug}@{DEMO_INSTANCE.removeprefix('https://')}"
    mastodon.display_name = partner.name
    grant = Grant(handle=partner.slug, external_id=f"urn:li:organization:{100000 + partner.id}",
                  display_name=partner.name, expires_at=utcnow() + timedelta(days=60),
                  credentials={"access_token": f"demo-token-{partner.slug}",
                               "author": f"urn:li:organization:{100000 + partner.id}"})
    store_grant(partner.id, "linkedin", grant, None)
    commit()


def _social_card(campaign_id: int | None, partner_id: int) -> bytes | None:
    """The partner's rendered social card PNG from the demo campaign, when a worker has made it."""
    if campaign_id is None:
        return None
    asset = db.session.scalars(select(Asset).where(
        Asset.campaign_id == campaign_id, Asset.partner_id == partner_id, Asset.output == "png",
        Asset.status == "done")).first()
    if asset is None or asset.render is None:
        return None
    return app_state().storage.get(asset.render.storage_key)
