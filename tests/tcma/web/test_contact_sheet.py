"""The marketer's contact sheet: every partner's outputs drawn before launch, warnings flagged by
kind and filterable, and the launch that records whether the sheet was seen or skipped."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from tcma.cache import LruCache
from tcma.extensions import db
from tcma.models import Asset, Campaign
from tcma.services.launch import contact_sheet as sheet_service
from tcma.state import app_state
from tests.support.factories import make_partner, make_user
from tests.support.portal import csrf_from, sign_in
from tests.support.statements import recorded_statements

ITEM = re.compile(r'<li class="sheet-item card([^"]*)">(.*?)</li>\s*\n', re.S)


def _campaign(app, outputs) -> int:
    _, marketer = make_user("marketer")
    created = app.test_client().post("/api/v1/campaigns", headers=marketer, json={
        "name": "Spring events", "segment": {}, "outputs": outputs})
    assert created.status_code == 201, created.json
    return created.json["id"]


def _marketer(app):
    user = make_user("marketer")[0]
    client = app.test_client()
    sign_in(client, user)
    return client, user


def test_the_contact_sheet_draws_each_partners_outputs_and_flags_what_waits(app, taxonomy, catalogue):
    gold = make_partner(taxonomy, tier=1, name="Gold Partner AG")
    silver = make_partner(taxonomy, tier=0, name="Silver Partner Ltd")
    campaign_id = _campaign(app, [{"template": "solution-brief", "output": "pdf"},
                                  {"template": "event-flyer", "output": "pdf"}])
    client, _ = _marketer(app)
    html = client.get(f"/portal/campaigns/{campaign_id}/contact-sheet").get_data(as_text=True)
    items = ITEM.findall(html)
    names = [re.search(r"<strong>(.*?)</strong>", body).group(1) for _, body in items]
    # The flyer is for gold and platinum only: the silver partner gets the brief alone.
    assert sorted(names) == sorted([gold.name, gold.name, silver.name])
    assert html.count('src="data:image/png;base64,') == 3
    classes, flyer = next((c, body) for c, body in items if "Partner event flyer" in body)
    # the factory's logos are small: the print PDF flags them as low-resolution too
    assert set(classes.split()) == {"warned", "w-required", "w-logo-resolution"}
    assert ('<span class="warning-kind">Required field missing</span> '
            'waits for the partner: event_date, venue') in flyer
    assert '<label for="only-warnings">With warnings (1)</label>' in html
    assert '<label for="filter-all">All (3)</label>' in html
    assert '<label for="filter-required" class="kind-required">Required field missing (1)</label>' in html
    assert 'id="filter-all" value="all" checked' in html  # nothing hidden until a filter is picked
    assert "filter-glyphs" not in html  # only the kinds on the page are offered


def _page_statements(client, path: str) -> tuple[str, int]:
    with recorded_statements() as seen:
        answer = client.get(path)
    assert answer.status_code == 200
    return answer.get_data(as_text=True), len(seen)


def test_a_page_of_the_sheet_reads_only_its_partners_in_the_same_statements_for_twelve_or_two(
        app, taxonomy, catalogue):
    partners = [make_partner(taxonomy, tier=1, name=f"Reseller {n:02d}") for n in range(14)]
    campaign_id = _campaign(app, [{"template": "solution-brief", "output": "pdf"},
                                  {"template": "event-flyer", "output": "pdf"}])
    client, _ = _marketer(app)
    client.get("/portal/campaigns")  # the session's first page notes when it was last used
    first, on_first = _page_statements(client, f"/portal/campaigns/{campaign_id}/contact-sheet")
    second, on_second = _page_statements(client, f"/portal/campaigns/{campaign_id}/contact-sheet?page=2")
    assert len(ITEM.findall(first)) == 24  # twelve partners, two outputs each
    names = sorted({re.search(r"<strong>(.*?)</strong>", body).group(1) for _, body in ITEM.findall(second)})
    assert names == ["Reseller 12", "Reseller 13"]
    assert partners[-1].name == "Reseller 13"
    assert on_first == on_second


def test_every_kind_of_warning_is_flagged_and_a_filter_link_opens_on_that_kind(app, taxonomy, catalogue):
    make_partner(taxonomy, tier=1, name="Clean Partner AG")
    odd = make_partner(taxonomy, tier=1, name="Zeta \u0378 Systems", with_logo=False)
    campaign_id = _campaign(app, [{"template": "solution-brief", "output": "pdf"}])
    client, _ = _marketer(app)
    html = client.get(f"/portal/campaigns/{campaign_id}/contact-sheet?warning=glyphs").get_data(as_text=True)
    items = {re.search(r"<strong>(.*?)</strong>", body).group(1): (c.split(), body)
             for c, body in ITEM.findall(html)}
    classes, body = items[odd.name]
    assert set(classes) == {"warned", "w-glyphs", "w-logo-missing"}
    assert "<span class=\"warning-kind\">Missing glyphs</span>" in body
    assert "characters no installed font can draw: &#39;\\u0378&#39;" in body  # repr: unassigned
    assert "<span class=\"warning-kind\">No logo</span>" in body
    assert "w-glyphs" not in items["Clean Partner AG"][0]
    assert 'id="filter-glyphs" value="glyphs" checked' in html
    assert '<label for="filter-logo-missing" class="kind-logo-missing">No logo (1)</label>' in html
    unknown = client.get(f"/portal/campaigns/{campaign_id}/contact-sheet?warning=nonsense")
    assert 'id="filter-all" value="all" checked' in unknown.get_data(as_text=True)


def test_launching_from_the_sheet_records_who_looked_and_when(app, taxonomy, catalogue):
    make_partner(taxonomy, tier=1)
    campaign_id = _campaign(app, [{"template": "solution-brief", "output": "pdf"}])
    client, user = _marketer(app)
    sheet = client.get(f"/portal/campaigns/{campaign_id}/contact-sheet").get_data(as_text=True)
    review_id = re.search(r'name="review_id" value="(\d+)"', sheet).group(1)
    assert "<button type=\"submit\">Launch</button>" in sheet
    launched = client.post(f"/portal/campaigns/{campaign_id}/launch",
                           data={"csrf_token": csrf_from(sheet), "review_id": review_id})
    assert launched.status_code == 302
    page = client.get(launched.headers["Location"]).get_data(as_text=True)
    assert "Campaign launched after the contact-sheet review: 1 asset(s), 0 waiting" in page
    assert re.search(rf"Launched \d{{4}}-\d\d-\d\d \d\d:\d\d UTC after {re.escape(user.email)} looked at "
                     r"the contact sheet \(1 page, 1 output, 0 warnings\) at \d\d:\d\d UTC\.", page)
    assert "Skip review and launch" not in page  # launched: no second launch button here
    assert db.session.get(Campaign, campaign_id).launched_at is not None


def test_skipping_the_review_is_one_click_on_the_campaign_page_and_is_recorded(app, taxonomy, catalogue):
    make_partner(taxonomy, tier=1)
    campaign_id = _campaign(app, [{"template": "solution-brief", "output": "pdf"}])
    client, user = _marketer(app)
    page = client.get(f"/portal/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Review the contact sheet and launch →" in page
    skipped = client.post(f"/portal/campaigns/{campaign_id}/launch", data={"csrf_token": csrf_from(page)})
    page = client.get(skipped.headers["Location"]).get_data(as_text=True)
    assert "Campaign launched without a contact-sheet review: 1 asset(s), 0 waiting" in page
    assert re.search(rf"UTC: contact-sheet review skipped by {re.escape(user.email)} \(via portal\)\.", page)


def test_a_review_that_already_let_a_launch_through_is_refused_and_nothing_changes(app, taxonomy, catalogue):
    make_partner(taxonomy, tier=1)
    campaign_id = _campaign(app, [{"template": "solution-brief", "output": "pdf"}])
    client, _ = _marketer(app)
    sheet = client.get(f"/portal/campaigns/{campaign_id}/contact-sheet").get_data(as_text=True)
    data = {"csrf_token": csrf_from(sheet),
            "review_id": re.search(r'name="review_id" value="(\d+)"', sheet).group(1)}
    client.post(f"/portal/campaigns/{campaign_id}/launch", data=data)
    make_partner(taxonomy, tier=1)  # joins the segment after the look
    again = client.post(f"/portal/campaigns/{campaign_id}/launch", data=data)
    assert again.headers["Location"].endswith(f"/portal/campaigns/{campaign_id}/contact-sheet")
    page = client.get(f"/portal/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Not launched: contact-sheet review" in page and "already let a launch through" in page
    count = db.session.scalar(select(func.count()).select_from(Asset).where(Asset.campaign_id == campaign_id))
    assert count == 1


def test_another_roles_and_unknown_campaigns_are_refused(app, taxonomy, catalogue, partner_client):
    campaign_id = _campaign(app, [{"template": "solution-brief", "output": "pdf"}])
    assert partner_client.get(f"/portal/campaigns/{campaign_id}/contact-sheet").status_code == 403
    token = csrf_from(partner_client.get("/portal").get_data(as_text=True))
    refused = partner_client.post(f"/portal/campaigns/{campaign_id}/launch", data={"csrf_token": token})
    assert refused.status_code == 403
    assert db.session.get(Campaign, campaign_id).status == "draft"
    client, _ = _marketer(app)
    assert client.get("/portal/campaigns/999999/contact-sheet").status_code == 404


def _drawn_items(client, path: str) -> list[tuple[str, str]]:
    answer = client.get(path)
    assert answer.status_code == 200
    return ITEM.findall(answer.get_data(as_text=True))


def test_a_second_view_draws_nothing_again_and_a_new_brand_kit_or_template_version_is_drawn_anew(
        app, taxonomy, catalogue, monkeypatch):
    monkeypatch.setattr(sheet_service, "DRAWN", LruCache(64))
    renderer, drawn = app_state().renderer, []
    real_preview = renderer.preview
    monkeypatch.setattr(renderer, "preview", lambda spec, width=360, page=0: (
        drawn.append(width), real_preview(spec, width, page))[1])
    partner = make_partner(taxonomy, tier=1, name="Cached Partner AG")
    campaign_id = _campaign(app, [{"template": "solution-brief", "output": "pdf"}])
    client, _ = _marketer(app)
    sheet = f"/portal/campaigns/{campaign_id}/contact-sheet"
    first = _drawn_items(client, sheet)
    assert len(first) == 1 and 'src="data:image/png;base64,' in first[0][1]
    assert _drawn_items(client, sheet) == first and drawn == [200]  # the same page, not drawn again

    _, marketer = make_user("marketer")
    recoloured = app.test_client().patch(f"/api/v1/partners/{partner.id}/brand-kit", headers=marketer,
                                         json={"primary_color": "#7A1F1F"})
    assert recoloured.status_code == 200, recoloured.json
    after_kit = _drawn_items(client, sheet)
    assert len(drawn) == 2 and after_kit != first  # the new colour, drawn once more

    api = app.test_client()
    v1 = api.get("/api/v1/templates/solution-brief/versions/1", headers=marketer).json["spec"]
    published = api.post("/api/v1/templates/solution-brief/versions", headers=marketer,
                         json={"spec": json.loads(json.dumps(v1).replace("#ffffff", "#f2e6d9", 1))})
    assert published.status_code == 201 and published.json["version"] == 2
    on_v2 = _campaign(app, [{"template": "solution-brief", "output": "pdf"}])
    newer = _drawn_items(client, f"/portal/campaigns/{on_v2}/contact-sheet")
    assert len(drawn) == 3 and newer != after_kit  # the new version's page colour

    monkeypatch.setattr(sheet_service, "DRAWN", LruCache(64))  # nothing kept: drawn afresh, the same
    assert _drawn_items(client, sheet) == after_kit and len(drawn) == 4
