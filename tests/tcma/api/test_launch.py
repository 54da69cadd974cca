"""Campaign launch end to end: PostgreSQL, Redis + real rq workers, boto3 against S3 on loopback."""

from __future__ import annotations

import urllib.request

from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Asset, Render
from tcma.services.catalogue.templates import import_catalogue
from tcma.storage import get_storage
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.launch import OUTPUTS, launch, work


def stored_render_objects() -> int:
    storage = get_storage()
    return sum(storage.exists(r.storage_key) for r in db.session.scalars(select(Render)))


def test_launch_to_30_partners_each_downloads_only_its_own(rq_s3_app):
    client = rq_s3_app.test_client()
    taxonomy = make_taxonomy()
    partners = [make_partner(taxonomy, tier=i % 2, vertical=i % 2, region=(i // 2) % 2) for i in range(30)]
    import_catalogue()
    _, marketer = make_user("marketer")
    _, alice = make_user("partner", partners[0])
    campaign_id = launch(client, marketer)

    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert launched.status_code == 202
    assert launched.json["queued"] == 90 and launched.json["done"] == 0  # answered at once
    work()
    progress = client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=marketer).json
    assert progress == {"status": "completed", "total": 90, "queued": 0, "running": 0,
                        "done": 90, "failed": 0, "waiting": 0}
    assert stored_render_objects() == 90

    own = client.get("/api/v1/assets", headers=alice).json
    assert own["total"] == 3 and {a["partner_id"] for a in own["items"]} == {partners[0].id}
    pdf = next(a for a in own["items"] if a["output"] == "pdf")
    download = client.get(f"/api/v1/assets/{pdf['id']}/download", headers=alice)
    assert download.status_code == 302
    with urllib.request.urlopen(download.headers["Location"], timeout=10) as response:
        assert response.read().startswith(b"%PDF")
    other = db.session.scalar(select(Asset.id).where(Asset.partner_id == partners[1].id))
    assert client.get(f"/api/v1/assets/{other}", headers=alice).status_code == 404
    assert client.get(f"/api/v1/assets/{other}/download", headers=alice).status_code == 404


def test_a_relaunch_renders_nothing_new(rq_app):
    client = rq_app.test_client()
    taxonomy = make_taxonomy()
    for i in range(4):
        make_partner(taxonomy, tier=i % 2)
    import_catalogue()
    _, marketer = make_user("marketer")
    campaign_id = launch(client, marketer)
    client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    work()
    renders_before = db.session.scalar(select(func.count()).select_from(Render))
    assert renders_before == 12
    again = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer).json
    assert again["done"] == 12 and again["queued"] == 0
    work()
    assert db.session.scalar(select(func.count()).select_from(Render)) == renders_before
    assert db.session.scalar(select(func.max(Asset.attempts))) == 1


def test_a_segment_picks_partners_by_tier_vertical_region_and_by_name(app, client):
    taxonomy = make_taxonomy()
    gold_na = make_partner(taxonomy, tier=1, region=0)
    make_partner(taxonomy, tier=1, region=1)
    silver = make_partner(taxonomy, tier=0, region=1)
    import_catalogue()
    _, marketer = make_user("marketer")
    campaign_id = launch(client, marketer, {"tiers": ["gold"], "regions": ["na"], "partner_ids": [silver.id]})
    client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    partner_ids = set(db.session.scalars(select(Asset.partner_id)))
    assert partner_ids == {gold_na.id, silver.id}


def test_an_unknown_segment_value_is_refused_naming_it(client):
    make_taxonomy()
    import_catalogue()
    _, marketer = make_user("marketer")
    response = client.post("/api/v1/campaigns", headers=marketer, json={
        "name": "x", "outputs": OUTPUTS, "segment": {"tiers": ["diamond"]}})
    assert response.status_code == 422
    assert "segment.tiers" in response.json["errors"]
    bad_output = client.post("/api/v1/campaigns", headers=marketer, json={
        "name": "x", "outputs": [{"template": "newsletter", "output": "pdf"}]})
    assert bad_output.status_code == 422 and "outputs.0.output" in bad_output.json["errors"]


def test_an_unknown_template_in_a_campaign_is_named(client):
    _, headers = make_user("marketer")
    response = client.post("/api/v1/campaigns", headers=headers,
                           json={"name": "x", "outputs": [{"template": "nope", "output": "pdf"}]})
    assert response.status_code == 422 and "outputs.0.template" in response.json["errors"]


def test_every_download_is_an_engagement_event(app, client):
    from tcma.models import Event

    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy)
    import_catalogue()
    _, marketer = make_user("marketer")
    _, alice = make_user("partner", partner)
    campaign_id = launch(client, marketer)
    client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    asset = client.get("/api/v1/assets?output=pdf", headers=alice).json["items"][0]
    for _ in range(2):
        assert client.get(f"/api/v1/assets/{asset['id']}/download", headers=alice).status_code == 302
    events = db.session.scalars(select(Event).where(Event.kind == "download")).all()
    assert len(events) == 2
    assert {(e.partner_id, e.campaign_id, e.asset_id) for e in events} == {
        (partner.id, campaign_id, asset["id"])}


def test_a_launch_to_an_empty_segment_completes_at_once(app, client):
    make_taxonomy()
    import_catalogue()
    _, marketer = make_user("marketer")
    campaign_id = launch(client, marketer, {"tiers": ["gold"]})
    progress = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer).json
    assert progress == {"status": "completed", "total": 0, "queued": 0, "running": 0,
                        "done": 0, "failed": 0, "waiting": 0}
