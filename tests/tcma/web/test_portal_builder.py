"""The campaign builder: outputs and segment with a live count of who it reaches and who is skipped
and why, the draft, its review pointing at the contact sheet, and the progress numbers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Campaign, SocialAccount
from tests.support.factories import make_partner, make_user
from tests.support.portal import csrf_from, sign_in

FLYER = "event-flyer|pdf"  # gold and platinum only
MASTODON = "launch-posts|post:mastodon"


@pytest.fixture
def cast(taxonomy, catalogue):
    """Ann (silver, no accounts), Ben (silver, suspended), Cleo (gold, on Mastodon)."""
    ann = make_partner(taxonomy, tier=0, name="Ann <Partners>", with_logo=False)
    ben = make_partner(taxonomy, tier=0, name="Ben Ltd", with_logo=False)
    ben.status = "suspended"
    cleo = make_partner(taxonomy, tier=1, region=1, name="Cleo SA", with_logo=False)
    db.session.add(SocialAccount(partner_id=cleo.id, network="mastodon", handle="@cleo"))
    db.session.commit()
    return {"ann": ann, "ben": ben, "cleo": cleo}


def reach(client, query: str) -> str:
    answer = client.get(f"/portal/campaigns/reach?{query}")
    return answer.get_data(as_text=True), answer.status_code


def test_the_count_says_who_is_reached_and_who_is_skipped_and_why(marketer_client, cast):
    html, status = reach(marketer_client, f"output={FLYER}&output={MASTODON}")
    assert status == 200
    assert 'id="reach-count">2</strong> partners' in html and 'id="reach-assets">3</strong> assets' in html
    assert "1 partner not active:" in html and "Ben Ltd (partner is suspended)" in html
    assert "1 partner: Partner event flyer (PDF): the Silver tier may not use it" in html
    assert "1 partner: Product launch posts (Mastodon post): no active Mastodon account to post to" in html
    assert "Ann &lt;Partners&gt;" in html and "Ann <Partners>" not in html


def test_the_segment_narrows_the_count(marketer_client, cast):
    html, _ = reach(marketer_client, f"output={FLYER}&tiers=gold")
    assert 'id="reach-count">1</strong> partner ' in html and 'id="reach-assets">1</strong> asset ' in html
    html, _ = reach(marketer_client, f"output={FLYER}&regions=emea&partner_ids={cast['ann'].id}")
    assert 'id="reach-count">2</strong> partners' in html and 'id="reach-assets">1</strong> asset ' in html


def test_a_bad_segment_or_output_is_named(marketer_client, cast):
    html, status = reach(marketer_client, "output=event-flyer|png")
    assert status == 422 and "template &#39;event-flyer&#39; has no output &#39;png&#39;" in html
    html, status = reach(marketer_client, "tiers=diamond")
    assert status == 422 and "segment.tiers: unknown tiers: diamond" in html
    html, status = reach(marketer_client, "partner_ids=12,abc")
    assert status == 422 and "partner ids are numbers separated by commas; &#39;abc&#39; is not one" in html
    html, status = reach(marketer_client, "output=nothing")
    assert status == 422
    assert "an output is a template and an output, like brochure|pdf; not &#39;nothing&#39;" in html


def create(client, data: dict):
    token = csrf_from(client.get("/portal/campaigns/new").get_data(as_text=True))
    return client.post("/portal/campaigns/new", data={**data, "csrf_token": token})


def test_the_draft_is_made_and_its_review_leads_to_the_contact_sheet(marketer_client, cast):
    made = create(marketer_client, {"name": "Autumn <event>", "output": [FLYER, MASTODON], "tiers": ["gold"]})
    assert made.status_code == 302
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == "Autumn <event>"))
    assert made.location == f"/portal/campaigns/{campaign.id}/review"
    assert (campaign.status, campaign.segment["tiers"]) == ("draft", ["gold"])
    assert sorted(o.output for o in campaign.outputs) == ["pdf", "post:mastodon"]
    html = marketer_client.get(made.location).get_data(as_text=True)
    assert "Review: Autumn &lt;event&gt;" in html and "Tiers: gold." in html
    assert 'id="reach-count">1</strong> partner ' in html
    assert f'id="to-contact-sheet" href="/portal/campaigns/{campaign.id}/contact-sheet"' in html
    assert f"/portal/campaigns/{campaign.id}/posts" in html  # plan the posts after launch


def test_a_draft_without_a_name_or_outputs_is_refused_and_nothing_is_made(marketer_client, cast):
    before = db.session.scalar(select(func.count()).select_from(Campaign))
    nameless = create(marketer_client, {"name": " ", "output": [FLYER]})
    assert nameless.status_code == 422
    assert "give the campaign a name of 1 to 200 characters" in nameless.get_data(as_text=True)
    empty = create(marketer_client, {"name": "Nothing"})
    assert empty.status_code == 422
    assert "pick at least one output of one template" in empty.get_data(as_text=True)
    kept = create(marketer_client, {"name": "Kept", "output": [FLYER], "tiers": ["diamond"]})
    page = kept.get_data(as_text=True)
    assert kept.status_code == 422 and "unknown tiers: diamond" in page
    assert 'value="Kept"' in page and f'value="{FLYER}" checked' in page  # what was typed stays
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == before


def test_the_progress_numbers_and_page(marketer_client, cast):
    made = create(marketer_client, {"name": "Brief", "output": ["solution-brief|pdf"]})
    campaign_id = int(made.location.split("/")[-2])
    numbers = marketer_client.get(f"/portal/campaigns/{campaign_id}/progress.json").get_json()
    assert numbers == {"status": "draft", "total": 0, "queued": 0, "running": 0, "done": 0, "failed": 0,
                       "waiting": 0}
    page = marketer_client.get(f"/portal/campaigns/{campaign_id}/progress").get_data(as_text=True)
    assert "Not launched yet" in page and f"/portal/campaigns/{campaign_id}/contact-sheet" in page


def test_partner_users_cannot_build_campaigns(app, cast):
    browser = app.test_client()
    sign_in(browser, make_user("partner", cast["ann"])[0])
    for url in ("/portal/campaigns/new", "/portal/campaigns/reach?output=event-flyer|pdf"):
        assert browser.get(url).status_code == 403, url
