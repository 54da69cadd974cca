"""The demo's syndicated post: every demo partner's dry-run Mastodon and LinkedIn accounts.

The embedded default's connectors are the dry-run ones (TCMA_CONNECTORS_BACKEND=dryrun): they
check each post as the network would and write what would have been sent (text, image, key) as
files under TCMA_CONNECTORS_DRYRUN_DIR, sending nothing. The demo plans the launch campaign's post
once ("as soon as approved"): partners whose accounts auto-publish get it out on the scheduler's
first pass; the others find it awaiting their approval in the portal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from tcma.connectors.oauth import Grant
from tcma.extensions import db
from tcma.models import Partner, ScheduledPost
from tcma.models.base import utcnow
from tcma.services.accounts.auth import OPERATOR
from tcma.services.syndication.accounts import connect_account
from tcma.services.syndication.oauth import store_grant
from tcma.services.syndication.plans import create_plan
from tcma.services.syndication.scheduler import run_pass
from tcma.services.transaction import commit
from tcma.state import app_state

DEMO_INSTANCE = "https://mastodon.demo.tcma.test"
DEMO_PLAN = "Zero-trust launch post (demo)"


@dataclass
class DemoPosts:
    """What the demo connected and posted, and where the dry run wrote it."""

    accounts: int
    states: Counter[str] = field(default_factory=Counter)
    folder: str = ""


def connect_and_post(campaign_id: int) -> DemoPosts:
    """Connect every demo partner's dry-run accounts, plan the campaign's post, run the scheduler once."""
    if app_state().connectors.backend != "dryrun":
        raise RuntimeError("the demo posts only through the dry-run connectors "
                           "(TCMA_CONNECTORS_BACKEND=dryrun)")
    partners = list(db.session.scalars(select(Partner).order_by(Partner.id)))
    for index, partner in enumerate(partners):
        # Two partners in three publish on their own; the others approve each post first.
        _connect(partner, auto_publish=index % 3 != 2)
    create_plan(OPERATOR, campaign_id, name=DEMO_PLAN, networks=["mastodon", "linkedin"],
                timing={"kind": "on_approval"}, image_output="png")
    run_pass()
    states = Counter(db.session.scalars(select(ScheduledPost.status)))
    return DemoPosts(accounts=len(partners) * 2, states=states, folder=str(app_state().connectors.dryrun_dir))


def _connect(partner: Partner, *, auto_publish: bool) -> None:
    """A pasted-token Mastodon account and a LinkedIn page (as the consent would store it)."""
    mastodon = connect_account(OPERATOR, partner.id, "mastodon",
                               {"instance_url": DEMO_INSTANCE, "access_token": f"demo-token-{partner.slug}"})
    mastodon.handle = f"@{partner.slug}@{DEMO_INSTANCE.removeprefix('https://')}"
    mastodon.display_name = partner.name
    grant = Grant(handle=partner.slug, external_id=f"urn:li:organization:{100000 + partner.id}",
                  display_name=partner.name, expires_at=utcnow() + timedelta(days=60),
                  credentials={"access_token": f"demo-token-{partner.slug}",
                               "author": f"urn:li:organization:{100000 + partner.id}"})
    linkedin = store_grant(partner.id, "linkedin", grant, None)
    mastodon.auto_publish = linkedin.auto_publish = auto_publish
    commit()
