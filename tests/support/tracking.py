"""Tracking test data: partners, a campaign, registered destinations and their tracked links."""

from __future__ import annotations

from tcma.extensions import db
from tcma.models import Campaign
from tcma.services.tracking import links as tracking
from tests.support.factories import make_partner, make_taxonomy


def build_world() -> dict:
    """Two partners, one campaign, two destinations and their links, in the current app."""
    taxonomy = make_taxonomy()
    acme, globex = make_partner(taxonomy), make_partner(taxonomy)
    campaign = Campaign(name="Spring launch", slug="spring-launch")
    db.session.add(campaign)
    db.session.commit()
    landing = tracking.register_destination("landing", "https://vendor.example/p?ref=doc&utm_source=own#top")
    other = tracking.register_destination("pricing", "https://vendor.example/pricing")
    links = {}
    for partner in (acme, globex):
        for variant in ("a", "b"):
            links[partner.slug, variant] = tracking.tracked_url(
                partner.id, campaign.id, None, "email", variant, landing.id)
        links[partner.slug, "pricing"] = tracking.tracked_url(
            partner.id, campaign.id, None, "email", "a", other.id)
    db.session.commit()
    return {"acme": acme, "globex": globex, "campaign": campaign, "links": links}


def path_of(url: str) -> str:
    """The path part of a public tracked URL."""
    return url.split("http://tcma.test", 1)[1]
