"""The pre-launch review through the API: a launch names the contact sheet it looked at, or is
recorded as launched with the review skipped (so clients that never look keep working)."""

from __future__ import annotations

from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Asset
from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_partner, make_taxonomy, make_user

BRIEF = [{"template": "solution-brief", "output": "pdf"}]


def _setup(client, partners=1):
    taxonomy = make_taxonomy()
    import_catalogue()
    for _ in range(partners):
        make_partner(taxonomy, tier=1)
    user, marketer = make_user("marketer")
    created = client.post("/api/v1/campaigns", headers=marketer,
                          json={"name": "Spring", "segment": {}, "outputs": BRIEF})
    return created.json["id"], user, marketer, taxonomy


def _assets(campaign_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Asset).where(Asset.campaign_id == campaign_id))


def test_a_launch_without_a_review_is_recorded_as_skipped_by_the_caller(app, client):
    campaign_id, user, marketer, _ = _setup(client)
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer)
    assert launched.status_code == 202
    assert launched.json["total"] == 1 and "review" not in launched.json  # the answer as before
    review = client.get(f"/api/v1/campaigns/{campaign_id}", headers=marketer).json["review"]
    assert (review["decision"], review["via"], review["by"]) == ("skipped", "api", user.email)
    assert review["skipped_at"] and review["seen_at"] is None and review["launched_at"]


def test_a_campaign_never_launched_has_no_review(app, client):
    campaign_id, _, marketer, _ = _setup(client)
    assert client.get(f"/api/v1/campaigns/{campaign_id}", headers=marketer).json["review"] is None


def test_pages_of_the_sheet_count_towards_one_review_that_the_launch_names(app, client):
    campaign_id, user, marketer, _ = _setup(client, partners=3)
    first = client.get(f"/api/v1/campaigns/{campaign_id}/contact-sheet?per_page=2", headers=marketer)
    assert first.status_code == 200
    assert first.json["total_partners"] == 3 and len(first.json["items"]) == 2
    item = first.json["items"][0]
    assert item["output"] == "pdf" and item["template_name"] == "Zero-Trust Networking solution brief"
    review_id = first.json["review_id"]
    second = client.get(f"/api/v1/campaigns/{campaign_id}/contact-sheet?per_page=2&page=2"
                        f"&review_id={review_id}", headers=marketer)
    assert second.json["review_id"] == review_id and len(second.json["items"]) == 1
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer,
                           json={"review_id": review_id})
    assert launched.status_code == 202
    review = client.get(f"/api/v1/campaigns/{campaign_id}", headers=marketer).json["review"]
    assert (review["id"], review["decision"], review["by"]) == (review_id, "seen", user.email)
    assert review["pages_seen"] == [1, 2] and review["items_seen"] == 3 and review["seen_at"]


def test_a_warning_carries_its_kind_in_the_api(app, client):
    taxonomy = make_taxonomy()
    import_catalogue()
    make_partner(taxonomy, tier=1, with_logo=False)
    _, marketer = make_user("marketer")
    campaign_id = client.post("/api/v1/campaigns", headers=marketer, json={
        "name": "Logos", "segment": {}, "outputs": BRIEF}).json["id"]
    sheet = client.get(f"/api/v1/campaigns/{campaign_id}/contact-sheet", headers=marketer).json
    warnings = sheet["items"][0]["warnings"]
    assert sorted(w["message"] for w in warnings if w["kind"] == "logo-missing") == [
        "header-logo: partner has no logo; frame left empty",
        "partner-logo: partner has no logo; frame left empty"]
    assert sheet["counts"]["logo-missing"] == 1


def test_an_unknown_or_foreign_review_is_refused_and_nothing_is_launched(app, client):
    campaign_id, _, marketer, _ = _setup(client)
    other = client.post("/api/v1/campaigns", headers=marketer,
                        json={"name": "Other", "segment": {}, "outputs": BRIEF}).json["id"]
    foreign = client.get(f"/api/v1/campaigns/{other}/contact-sheet", headers=marketer).json["review_id"]
    for review_id in (foreign, 987654):
        refused = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer,
                              json={"review_id": review_id})
        assert refused.status_code == 422
        message = f"no contact-sheet review {review_id} for campaign {campaign_id}"
        assert refused.json["message"] == message
        assert refused.json["errors"] == {"review_id": [message]}
    assert _assets(campaign_id) == 0
    assert client.get(f"/api/v1/campaigns/{campaign_id}", headers=marketer).json["status"] == "draft"


def test_a_review_lets_one_launch_through(app, client):
    campaign_id, _, marketer, taxonomy = _setup(client)
    sheet = client.get(f"/api/v1/campaigns/{campaign_id}/contact-sheet", headers=marketer)
    review_id = sheet.json["review_id"]
    client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer, json={"review_id": review_id})
    make_partner(taxonomy, tier=1)
    again = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer,
                        json={"review_id": review_id})
    assert again.status_code == 409
    assert again.json["message"].startswith(
        f"contact-sheet review {review_id} already let a launch through at ")
    assert "open the contact sheet again" in again.json["message"]
    assert _assets(campaign_id) == 1  # the new partner got nothing from the refused relaunch


def test_a_review_id_must_be_a_positive_integer(app, client):
    campaign_id, _, marketer, _ = _setup(client)
    refused = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=marketer,
                          json={"review_id": "yesterday"})
    assert refused.status_code == 422 and "review_id" in refused.json["errors"]["json"]
    assert _assets(campaign_id) == 0


def test_partners_cannot_see_a_contact_sheet(app, client):
    campaign_id, _, _, taxonomy = _setup(client)
    partner = make_partner(taxonomy, tier=1)
    _, headers = make_user("partner", partner)
    assert client.get(f"/api/v1/campaigns/{campaign_id}/contact-sheet", headers=headers).status_code == 403
