"""Demo traffic: people and bots clicking existing tracked links through the real /l/ endpoint.

`simulate_demo_traffic(seed=7, people=40, campaign_id=None) -> DemoTraffic` sends, through the
app's test client: people clicking (some more than once), a crawler, HEAD requests, social link
previews and a mail scanner clicking every link of one message within a second; then it drains
the buffers and reads the stats. `format_stats(traffic.stats)` (tcma.services.tracking.stats) prints them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from tcma.config import get_settings
from tcma.extensions import db
from tcma.models import TrackedLink
from tcma.services.accounts.auth import OPERATOR
from tcma.services.tracking.ingest import flush_events, ship_spooled_events
from tcma.services.tracking.stats import StatsQuery, StatsResult, query_stats

BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
PREVIEWS = ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
SCANNER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"


@dataclass
class DemoTraffic:
    """What was sent, by whom, and the stats that came out."""

    sent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    stats: StatsResult | None = None


def simulate_demo_traffic(seed: int = 7, people: int = 40, campaign_id: int | None = None) -> DemoTraffic:
    """Click the existing tracked links as people and bots would, then return the resulting stats."""
    links = _links(campaign_id)
    report = DemoTraffic()
    if not links:
        return report
    rng, client = random.Random(seed), current_app.test_client()

    def hit(link: TrackedLink, agent: str, ip: str, who: str, method: str = "GET") -> None:
        client.open(f"/l/{link.code}", method=method, headers={"User-Agent": agent},
                    environ_base={"REMOTE_ADDR": ip})
        report.sent[who] += 1

    for person in range(people):
        agent, ip = rng.choice(BROWSERS), f"10.{rng.randrange(256)}.{person}.{rng.randrange(1, 255)}"
        for link in rng.sample(links, k=min(len(links), rng.randint(1, 2))):
            for _ in range(rng.choice((1, 1, 1, 2))):  # some people click twice
                hit(link, agent, ip, "people")
    for index, link in enumerate(rng.sample(links, k=min(len(links), 8))):
        hit(link, CRAWLER, "66.249.66.1", "crawler")
        hit(link, rng.choice(BROWSERS), "192.0.2.50", "HEAD request", method="HEAD")
        hit(link, PREVIEWS[index % len(PREVIEWS)], "31.13.64.1", "link preview")
    for link in _one_message(links):
        hit(link, SCANNER, "198.51.100.25", "mail scanner")
    report.stats = drain_and_read(campaign_id)
    return report


def drain_and_read(campaign_id: int | None = None) -> StatsResult:
    """Write every buffered event now, then read stats by kind and variant (vendor's view)."""
    ship_spooled_events()
    if get_settings().redis_url:
        flush_events(wait=10)
    vendor = OPERATOR
    return query_stats(vendor, StatsQuery(campaign_id=campaign_id, group_by=("kind", "variant")))


def _links(campaign_id: int | None) -> list[TrackedLink]:
    stmt = select(TrackedLink).order_by(TrackedLink.id).limit(500)
    if campaign_id is not None:
        stmt = stmt.where(TrackedLink.campaign_id == campaign_id)
    return list(db.session.scalars(stmt))


def _one_message(links: list[TrackedLink]) -> list[TrackedLink]:
    """The links of the message (partner, campaign, asset) with the most links."""
    messages: dict[tuple, list[TrackedLink]] = defaultdict(list)
    for link in links:
        messages[link.partner_id, link.campaign_id, link.asset_id].append(link)
    return max(messages.values(), key=len)
