"""Dashboards: the programme's, a campaign's and a partner's numbers, through the service, the API and
the portal pages (charts, tables, CSV), people and machines apart, partners kept to their own."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from tcma.extensions import db
from tcma.models import Campaign, EventRollup
from tcma.services.tracking.summaries import add_to_dashboard_summaries
from tests.support.factories import make_taxonomy, make_user
from tests.support.portal import sign_in
from tests.tcma.insights.history import asset, customization, partner, template

START, END = "2026-06-01", "2026-06-30"
PERIOD = f"start={START}&end={END}"


def add(who, kind: str, day: date, total: int, *, bots: int = 0, uniques: int | None = None,
        campaign: Campaign | None = None, channel: str = "", variant: str = "", asset_id: int = 0) -> None:
    """A rollup row, added to the programme's pre-summed tables as the event writer does."""
    row = {"partner_id": who.id, "kind": kind, "day": day, "total": total, "bots": bots,
           "uniques": total if uniques is None else uniques, "channel": channel, "variant": variant,
           "campaign_id": campaign.id if campaign else 0, "asset_id": asset_id}
    db.session.add(EventRollup(**row))
    add_to_dashboard_summaries(db.session.connection(), [row])
    db.session.commit()


@pytest.fixture
def world(app):
    """Two partners (Gold/EMEA and Silver/North America), one campaign, June 2026."""
    taxonomy = make_taxonomy()
    acme = partner(taxonomy, date(2026, 1, 10), "Acme AG", tier=1)
    acme.region = taxonomy["regions"][1]
    bolt = partner(taxonomy, date(2026, 1, 10), "Bolt <Inc>")
    db.session.commit()
    version = template("brochure")
    brochure = asset(acme, version, date(2026, 6, 2))
    brochure.updated_at = brochure.created_at
    db.session.commit()
    spring = db.session.get(Campaign, brochure.campaign_id)
    add(acme, "download", date(2026, 6, 3), 5, bots=2, campaign=spring, channel="print", asset_id=brochure.id)
    add(acme, "click", date(2026, 6, 4), 40, uniques=30, bots=9, campaign=spring, channel="linkedin",
        variant="b", asset_id=brochure.id)
    add(acme, "click", date(2026, 6, 4), 10, uniques=8, campaign=spring, channel="linkedin", variant="a",
        asset_id=brochure.id)
    add(bolt, "click", date(2026, 6, 10), 7, campaign=spring, channel="email")
    add(bolt, "open", date(2026, 6, 10), 12, bots=30, campaign=spring, channel="email")
    add(bolt, "post", date(2026, 6, 11), 2, channel="mastodon")
    add(bolt, "send", date(2026, 6, 11), 3, channel="email")
    add(bolt, "click", date(2026, 5, 31), 100)  # before the period: never counted
    customization(bolt, version, date(2026, 6, 12))
    asset(bolt, version, date(2026, 6, 13), self_served=True)
    return {"acme": acme, "bolt": bolt, "spring": spring, "brochure": brochure}


def api(client, headers, query: str) -> dict:
    answer = client.get(f"/api/v1/insights/dashboard?{query}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_the_programme_adds_people_up_and_keeps_machines_apart(client, world):
    _, headers = make_user("marketer")
    board = api(client, headers, PERIOD)
    assert {s["key"]: (s["people"], s["machines"]) for s in board["funnel"]} == {
        "delivered": (1, None), "downloaded": (5, 2), "customized": (2, None), "sent": (3, 0),
        "opened": (12, 30), "clicked": (57, 9), "posted": (2, 0)}
    assert board["totals"]["unique_clicks"] == 45 and board["totals"]["machines"] == 41
    assert len(board["over_time"]) == 30
    june_4 = next(r for r in board["over_time"] if r["key"] == "2026-06-04")
    assert (june_4["clicked"], june_4["unique_clicks"], june_4["machines"]) == (50, 38, 9)
    tiers = {r["label"]: r["clicked"] for r in board["by_tier"]}
    assert tiers == {"Gold": 50, "Silver": 7}
    assert {r["label"]: r["opened"] for r in board["by_region"]} == {"EMEA": 0, "North America": 12}
    assert [r["label"] for r in board["top_partners"]] == ["Acme AG", "Bolt <Inc>"]
    assert board["top_campaigns"][0]["label"] == "Spring" and board["top_campaigns"][0]["clicked"] == 57
    assert {r["label"]: r["clicked"] for r in board["by_channel"]} == {
        "email": 7, "linkedin": 50, "mastodon": 0, "print": 0}


def test_the_numbers_equal_the_stats_api(client, world):
    _, headers = make_user("marketer")
    board = api(client, headers, PERIOD)
    stats = client.get(f"/api/v1/stats?{PERIOD}", headers=headers).get_json()["totals"]
    for step, kind in (("downloaded", "download"), ("sent", "send"), ("opened", "open"),
                       ("clicked", "click"), ("posted", "post")):
        assert board["totals"][step] == stats[kind]["count"]
    campaign = api(client, headers, f"campaign_id={world['spring'].id}&{PERIOD}")
    per_campaign = client.get(f"/api/v1/stats/campaigns/{world['spring'].id}?{PERIOD}",
                              headers=headers).get_json()["totals"]
    assert campaign["totals"]["clicked"] == per_campaign["click"]["count"] == 57
    assert campaign["totals"]["posted"] == 0  # the post was not in the campaign


def test_a_campaign_has_its_variants_and_top_assets(client, world):
    _, headers = make_user("marketer")
    board = api(client, headers, f"campaign_id={world['spring'].id}&{PERIOD}")
    assert board["scope"] == {"kind": "campaign", "campaign_id": world["spring"].id,
                              "campaign_name": "Spring", "partner_id": None, "partner_name": None}
    assert {r["label"]: r["clicked"] for r in board["by_variant"]} == {"a": 10, "b": 40, "(no variant)": 7}
    assert board["top_assets"][0]["label"] == "Brochure (PDF) · Acme AG"
    assert board["top_campaigns"] == []


def test_a_partner_user_gets_only_its_own_numbers(client, world):
    _, headers = make_user("partner", world["bolt"])
    board = api(client, headers, PERIOD)
    assert board["scope"]["partner_name"] == "Bolt <Inc>"
    assert board["totals"]["clicked"] == 7 and board["totals"]["downloaded"] == 0
    other = client.get(f"/api/v1/insights/dashboard?partner_id={world['acme'].id}", headers=headers)
    assert other.status_code == 404 and other.get_json()["message"] == f"partner {world['acme'].id} not found"


def test_bad_periods_and_unknown_ids_are_refused_by_name(client, world):
    _, headers = make_user("marketer")
    late = client.get("/api/v1/insights/dashboard?start=2026-07-01&end=2026-06-01", headers=headers)
    assert late.status_code == 422
    assert late.get_json()["errors"]["query"]["start"] == ["must not be after end"]
    long = client.get("/api/v1/insights/dashboard?start=2020-01-01&end=2026-06-01", headers=headers)
    assert long.status_code == 422
    assert long.get_json()["message"] == "the period may be at most 732 days long"
    missing = client.get("/api/v1/insights/dashboard?campaign_id=999999", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["message"] == "campaign 999999 not found"


@pytest.fixture
def marketer_browser(app, world):
    browser = app.test_client()
    assert sign_in(browser, make_user("marketer")[0]).status_code == 302
    return browser


def tile(html: str, metric: str) -> int:
    found = re.search(rf'data-metric="{metric}">\s*<span class="tile-label">[^<]+</span>\s*'
                      r'<strong class="tile-value">([\d,]+)</strong>', html)
    assert found, f"no {metric} tile"
    return int(found.group(1).replace(",", ""))


def test_the_programme_page_draws_charts_with_the_apis_numbers(client, marketer_browser, world):
    _, headers = make_user("marketer")
    board = api(client, headers, PERIOD)
    html = marketer_browser.get(f"/portal/dashboard?{PERIOD}").get_data(as_text=True)
    for step in board["funnel"]:
        assert tile(html, step["key"]) == step["people"]
    assert html.count('<svg class="chart"') == 5
    assert html.count("<polyline") == 6  # downloaded, sent, opened, clicked, posted, machines
    assert "Bolt &lt;Inc&gt;" in html and "Bolt <Inc>" not in html
    assert f'href="/portal/partners/{world["acme"].id}"' in html
    assert f'href="/portal/dashboard/campaigns/{world["spring"].id}"' in html


def test_every_table_downloads_as_csv(marketer_browser, world):
    answer = marketer_browser.get(f"/portal/dashboard?{PERIOD}&export=by_tier")
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="tcma-programme-by_tier.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["tier"], r["clicked"], r["machines"]) for r in rows] == [
        ("Gold", "50", "11"), ("Silver", "7", "30")]
    funnel = marketer_browser.get(f"/portal/dashboard?{PERIOD}&export=funnel").get_data(as_text=True)
    assert funnel.splitlines()[:3] == ["step,people,machines", "delivered,1,", "downloaded,5,2"]
    top = marketer_browser.get(f"/portal/dashboard?{PERIOD}&export=top_partners").get_data(as_text=True)
    assert top.splitlines()[1].startswith(f"{world['acme'].id},Acme AG,5,0,0,50,0,0,38,11")
    page = marketer_browser.get(f"/portal/dashboard?{PERIOD}").get_data(as_text=True)
    for table in ("funnel", "top_partners", "top_campaigns", "by_channel", "by_tier", "by_region",
                  "over_time"):
        assert f"export={table}" in page
    wrong = marketer_browser.get(f"/portal/dashboard?{PERIOD}&export=everything")
    assert wrong.status_code == 422 and "no table &#39;everything&#39;" in wrong.get_data(as_text=True)


def test_the_campaign_page_shows_variants_and_the_partner_page_its_score(marketer_browser, world):
    url = f"/portal/dashboard/campaigns/{world['spring'].id}?{PERIOD}"
    html = marketer_browser.get(url).get_data(as_text=True)
    assert "Spring: engagement" in html and tile(html, "clicked") == 57
    assert 'id="table-by_variant"' in html and "Brochure (PDF) · Acme AG" in html
    page = marketer_browser.get(f"/portal/partners/{world['acme'].id}?{PERIOD}").get_data(as_text=True)
    assert "Engagement score" in page and 'id="score"' in page
    assert "Gold · Healthcare · EMEA" in page
    assert "Spring" in page and tile(page, "downloaded") == 5


def test_dates_that_are_not_dates_get_a_clear_page(marketer_browser, world):
    answer = marketer_browser.get("/portal/dashboard?start=yesterday")
    assert answer.status_code == 400
    assert "start must be a date like 2026-06-30, not &#39;yesterday&#39;." in answer.get_data(as_text=True)
    backwards = marketer_browser.get("/portal/dashboard?start=2026-07-01&end=2026-06-01")
    assert backwards.status_code == 422 and "start must not be after end" in backwards.get_data(as_text=True)


def test_the_partner_list_filters_orders_and_refuses_what_it_does_not_know(marketer_browser, world):
    listing = marketer_browser.get("/portal/partners?sort=name").get_data(as_text=True)
    assert listing.index("Acme AG") < listing.index("Bolt &lt;Inc&gt;")
    assert f'href="/portal/partners/{world["bolt"].id}"' in listing
    scores = marketer_browser.get("/portal/partners?format=csv")
    assert scores.mimetype == "text/csv" and "Bolt <Inc>" in scores.get_data(as_text=True)
    quiet = marketer_browser.get("/portal/partners?flag=inactive&as_of=2026-09-30").get_data(as_text=True)
    link = re.search(r'id="segment-flagged" href="/portal/campaigns/new\?partner_ids=(\d+),(\d+)"', quiet)
    assert link and {int(link.group(1)), int(link.group(2))} == {world["acme"].id, world["bolt"].id}
    ids = f"{link.group(1)},{link.group(2)}"
    builder = marketer_browser.get(f"/portal/campaigns/new?partner_ids={ids}").get_data(as_text=True)
    assert f'name="partner_ids" value="{ids}"' in builder
    flag = marketer_browser.get("/portal/partners?flag=asleep")
    assert flag.status_code == 400
    said = flag.get_data(as_text=True)
    assert "flag must be one of dropping, inactive, churning, not &#39;asleep&#39;." in said
    sort = marketer_browser.get("/portal/partners?sort=size")
    assert sort.status_code == 400
    said = sort.get_data(as_text=True)
    assert "sort must be score, -score, name or last_active, not &#39;size&#39;." in said


def test_partner_users_cannot_open_marketer_dashboards(app, world):
    browser = app.test_client()
    sign_in(browser, make_user("partner", world["bolt"])[0])
    for url in ("/portal/dashboard", f"/portal/dashboard/campaigns/{world['spring'].id}", "/portal/partners",
                f"/portal/partners/{world['bolt'].id}"):
        assert browser.get(url).status_code == 403, url


def test_a_partner_lands_on_a_home_that_shows_what_is_new(app, world):
    from datetime import UTC, datetime

    from tcma.models import ScheduledPost, SocialAccount

    today = datetime.now(UTC).date()
    bolt = world["bolt"]
    fresh = asset(bolt, template("datasheet"), today)
    fresh.updated_at = fresh.created_at
    waiting = asset(bolt, template("invite"), today)
    waiting.status = "waiting"
    account = SocialAccount(partner_id=bolt.id, network="mastodon", handle="@bolt")
    db.session.add(account)
    db.session.flush()
    db.session.add(ScheduledPost(social_account_id=account.id, partner_id=bolt.id, text="Our <new> webinar",
                                 scheduled_at=datetime.now(UTC), idempotency_key="home-1",
                                 status="awaiting_approval"))
    db.session.commit()
    add(bolt, "click", today, 4)
    add(bolt, "download", today, 2, bots=5)
    browser = app.test_client()
    signed_in = sign_in(browser, make_user("partner", bolt)[0])
    assert signed_in.location == "/portal/home"
    html = browser.get("/portal/home").get_data(as_text=True)
    assert "Welcome, Bolt &lt;Inc&gt;" in html
    assert "<strong>1</strong> post awaiting your approval" in html and "Our &lt;new&gt; webinar" in html
    assert "<strong>1</strong> asset waiting for your words" in html
    assert "<h3>Spring</h3>" in html and "1 asset ready" in html
    assert f'href="/portal/assets?campaign={fresh.campaign_id}"' in html
    assert tile(html, "clicked") == 4 and tile(html, "downloaded") == 2
    assert "Your engagement score" in html and "How to raise it" in html
    assert "Acme" not in html


def test_a_partner_with_nothing_new_is_pointed_at_the_library(app, taxonomy_only):
    quiet = partner(taxonomy_only, date(2026, 1, 10), "Quiet Co")
    browser = app.test_client()
    sign_in(browser, make_user("partner", quiet)[0])
    html = browser.get("/portal/home").get_data(as_text=True)
    assert "No new campaign assets in the last 30 days." in html
    assert "Waiting for you" not in html


@pytest.fixture
def taxonomy_only(app):
    return make_taxonomy()
