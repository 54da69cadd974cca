"""Campaign commands: import the library, launch with a progress bar, recover."""

from __future__ import annotations

from sqlalchemy import select

from tcma.extensions import db
from tcma.models import Campaign
from tcma.services.accounts.auth import Principal
from tcma.services.launch import launches as campaigns
from tests.support.factories import make_partner, make_taxonomy


def test_import_then_launch_and_wait(runner):
    taxonomy = make_taxonomy()
    for i in range(3):
        make_partner(taxonomy, tier=i % 2)
    imported = runner.invoke(args=["templates", "import"])
    assert imported.exit_code == 0, imported.output
    assert "solution-brief" in imported.output and "published" in imported.output
    assert "unchanged" in runner.invoke(args=["templates", "import"]).output
    campaign = campaigns.create_campaign(Principal(None, "admin"), "CLI launch",
                                         [{"template": "square-post", "output": "jpg"}], {})
    result = runner.invoke(args=["campaign", "launch", str(campaign.id), "--wait"])
    assert result.exit_code == 0, result.output
    assert "completed: 3 done, 0 failed" in result.output
    assert "rendering" in result.output  # the progress bar
    progress = runner.invoke(args=["campaign", "progress", str(campaign.id)])
    assert "3 done" in progress.output


def test_launching_an_unknown_campaign_fails_clearly(runner):
    result = runner.invoke(args=["campaign", "launch", "4242"])
    assert result.exit_code != 0
    assert "campaign 4242 not found" in result.output
    assert db.session.scalar(select(Campaign)) is None
