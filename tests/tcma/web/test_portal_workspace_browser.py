"""The marketer's workspace in Chromium (Debian's package): the dashboard's charts and numbers against
the API's, a CSV download, the partner page, the partner home, and the campaign builder from an empty
form to a launched campaign whose progress bar reaches done while a real rq worker renders. axe-core
(installed from npm into .axe/ by `make axe`) checks every page for serious or critical violations.
Full-page screenshots at 1280 and 390 px go to $PORTAL_SCREENSHOTS when set, else the test's tmp dir."""

from __future__ import annotations

import csv
import os
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tcma.extensions import db
from tcma.services.catalogue.templates import import_catalogue
from tests.support import redis_db
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.launch import work
from tests.support.portal import browser_sign_in as sign_in
from tests.tcma.insights.test_dashboards import add
from tests.tcma.web.test_portal_browser import FAILURES, _free_port, chromium_page

AXE = Path(__file__).resolve().parents[3] / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands, one line each."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make axe` (npm install into .axe/)", pytrace=False)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # evaluated by the browser's debugger, so the page's CSP allows it
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)""")
    return found


def look(page, shots: Path, name: str) -> None:
    """At each width: no sideways scrolling, no serious axe finding, a full-page screenshot."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_load_state("load")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width} px"
        assert serious_violations(page) == [], f"{name} at {width} px"
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def served(make_app, migrated_pg):
    """Serve an app on loopback from a thread: call with extra settings, get its base URL."""
    servers = []

    def serve(**extra) -> str:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        served_app = make_app(DATABASE_URL=migrated_pg[0], PUBLIC_URL=base, **extra)
        server = make_server("127.0.0.1", port, served_app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return base

    yield serve
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


def busy_month(today: date) -> dict:
    """Three partners with a month of downloads, clicks (some by machines), opens and posts."""
    taxonomy = make_taxonomy()
    gold = make_partner(taxonomy, tier=1, region=1, name="Acme <Networks>", with_logo=False)
    silver = make_partner(taxonomy, tier=0, name="Bolt Inc", with_logo=False)
    quiet = make_partner(taxonomy, tier=0, name="Cobalt Ltd", with_logo=False)
    for back in range(20):
        day = today - timedelta(days=back)
        add(gold, "click", day, 10 + back % 7, bots=3, channel="linkedin")
        add(gold, "download", day, back % 3, channel="print")
        add(silver, "open", day, 5 + back % 4, bots=6, channel="email")
        add(silver, "click", day, back % 5, channel="email")
    add(silver, "post", today, 2, channel="mastodon")
    return {"gold": gold, "silver": silver, "quiet": quiet}


def test_dashboard_partner_page_csv_and_home_in_chromium(app, client, served, tmp_path):
    today = datetime.now(UTC).date()
    start = (today - timedelta(days=29)).isoformat()
    world = busy_month(today)
    marketer, headers = make_user("marketer")
    partner_user = make_user("partner", world["silver"])[0]
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    expected = client.get(f"/api/v1/insights/dashboard?start={start}&end={today}", headers=headers).get_json()
    score = client.get(f"/api/v1/insights/partners/{world['gold'].id}", headers=headers).get_json()["score"]
    base = served()
    with chromium_page(tmp_path / "profile") as page:
        try:
            sign_in(page, base, marketer.email, "/portal/dashboard")
            page.goto(f"{base}/portal/dashboard?start={start}&end={today}")
            for step in expected["funnel"]:
                shown = page.inner_text(f'[data-metric="{step["key"]}"] .tile-value').replace(",", "")
                assert int(shown) == step["people"], step["key"]
            assert expected["totals"]["clicked"] > 0 and expected["totals"]["machines"] > 0
            widths = page.eval_on_selector_all("svg.chart",
                                               "els => els.map(e => e.getBoundingClientRect().width)")
            assert len(widths) == 5 and all(w > 200 for w in widths)
            assert page.locator("svg.chart polyline").count() == 6
            look(page, shots, "dashboard")

            with page.expect_download() as download_info:
                page.locator("#table-by_tier").get_by_role("link", name="Download CSV").click()
            download = download_info.value
            assert download.suggested_filename == "tcma-programme-by_tier.csv"
            rows = list(csv.DictReader(Path(download.path()).read_text().splitlines()))
            api_tiers = {r["label"]: r["clicked"] for r in expected["by_tier"]}
            assert {r["tier"]: int(r["clicked"]) for r in rows} == api_tiers

            page.locator("#table-top_partners").get_by_role("link", name="Acme <Networks>").click()
            page.wait_for_url(f"{base}/portal/partners/{world['gold'].id}")
            assert float(page.inner_text("#score")) == score
            assert page.get_by_role("heading", name="What the score is made of").is_visible()
            look(page, shots, "partner")

            page.goto(f"{base}/portal/partners?flag=churning")
            assert "Cobalt Ltd" not in page.inner_text("main")  # joined today: not flagged yet
            page.goto(f"{base}/portal/partners")
            assert page.locator("tr[data-partner]").count() == 3
            look(page, shots, "partners")

            page.get_by_role("button", name="Sign out").click()
            sign_in(page, base, partner_user.email, "/portal/home")
            assert "Welcome, Bolt Inc" in page.inner_text("h1")
            opened = int(page.inner_text('[data-metric="opened"] .tile-value').replace(",", ""))
            mine = client.get(f"/api/v1/insights/dashboard?start={today.replace(day=1)}&end={today}",
                              headers=make_user("partner", world["silver"])[1]).get_json()
            assert opened == mine["totals"]["opened"] > 0
            look(page, shots, "home")
        except BaseException:
            FAILURES.mkdir(exist_ok=True)
            page.screenshot(path=str(FAILURES / "workspace-dashboard.png"), full_page=True)
            raise


def test_the_builder_from_an_empty_form_to_a_launched_campaign_done(rq_app, served, tmp_path):
    import_catalogue()
    taxonomy = make_taxonomy()
    for index in range(3):
        make_partner(taxonomy, tier=1, name=f"Gold partner {index}")
    make_partner(taxonomy, tier=0, name="Silver partner")
    marketer, headers = make_user("marketer")
    db.session.commit()
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    base = served(REDIS_URL=redis_db.redis_url())
    api = rq_app.test_client()
    with chromium_page(tmp_path / "profile") as page:
        try:
            sign_in(page, base, marketer.email, "/portal/dashboard")
            page.get_by_role("link", name="Campaigns", exact=True).click()
            page.get_by_role("link", name="New campaign").click()
            page.wait_for_url(f"{base}/portal/campaigns/new")
            page.get_by_label("Campaign name").fill("Autumn brief")
            page.locator('input[value="solution-brief|pdf"]').check()
            page.locator('input[value="event-flyer|pdf"]').check()
            expect(page.locator("#reach-assets")).to_have_text("7")
            assert page.inner_text("#reach-count") == "4"  # the flyer is for gold partners only
            skipped = "1 partner: Partner event flyer (PDF): the Silver tier may not use it"
            assert skipped in page.inner_text("#reach")
            assert "Partner event flyer (PDF) waits for each partner to fill in:" in page.inner_text("#reach")
            page.locator('input[value="event-flyer|pdf"]').uncheck()
            page.locator('input[value="social-card|png"]').check()
            page.get_by_label("Gold").check()
            expect(page.locator("#reach-count")).to_have_text("3")
            assert page.inner_text("#reach-assets") == "6"
            look(page, shots, "builder")

            page.get_by_role("button", name="Create the draft and review it").click()
            page.wait_for_url(f"{base}/portal/campaigns/*/review")
            campaign_id = int(page.url.split("/")[-2])
            link = page.get_by_role("link", name="Review the contact sheet and launch")
            assert link.get_attribute("href") == f"/portal/campaigns/{campaign_id}/contact-sheet"
            look(page, shots, "builder-review")

            launched = api.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=headers)
            assert launched.status_code == 202 and launched.json["queued"] == 6
            page.goto(f"{base}/portal/campaigns/{campaign_id}/progress")
            assert page.inner_text("#progress-status") == "running"
            assert "6 queued" in page.inner_text(".counts")
            work()  # a real rq worker renders while the page keeps asking
            expect(page.locator("#progress-status")).to_have_text("completed", timeout=60_000)
            assert "6 done" in page.inner_text(".counts") and "0 queued" in page.inner_text(".counts")
            assert page.inner_text("#progress-note") == "Done: every asset is made."
            look(page, shots, "builder-progress")
        except BaseException:
            FAILURES.mkdir(exist_ok=True)
            page.screenshot(path=str(FAILURES / "workspace-builder.png"), full_page=True)
            raise
