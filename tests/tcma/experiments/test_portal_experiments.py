# ruff: noqa: F401, F811 (the browser fixture is imported, and the test takes it by name)
"""The marketer's experiment page: the sentence, the charts, the numbers, decide and stop; in Chromium too."""

from __future__ import annotations

import os

from tests.support.factories import make_user
from tests.support.portal import PASSWORD, browser_sign_in, post_form, sign_in
from tests.tcma.experiments.conftest import add_rollup, age, launched_card_world
from tests.tcma.web.test_portal_browser import chromium_page, live_server

SCREENSHOTS = os.environ.get("EXPERIMENT_SCREENSHOTS")  # a folder to keep the pictures in, when set


def seeded(client, partners: int = 30):
    """A campaign whose b arm gets about 2 more clicks per partner than a, over 10 days."""
    world, experiment, arms = launched_card_world(client, partners, min_sample=5)
    for day in range(10):
        for index, (partner_id, arm) in enumerate(sorted(arms.items())):
            clicks = (index + day) % 3 + (2 if arm == "b" else 0)
            add_rollup(world["campaign"], partner_id, arm, "click", clicks, bots=1 if day == 0 else 0,
                       days_ago=9 - day)
    age(experiment["id"], 10)
    return world, experiment, arms


def marketer_client(app, world):
    client = app.test_client()
    user, _ = make_user("marketer")
    sign_in(client, user)
    return client


def test_the_page_says_it_plainly_and_draws_both_charts(app, client):
    world, experiment, _ = seeded(client)
    browser = marketer_client(app, world)
    html = browser.get(f"/portal/experiments/{experiment['id']}").get_data(as_text=True)
    found = client.get(f"/api/v1/experiments/{experiment['id']}/results", headers=world["marketer"]).json
    effect = found["comparisons"][0]["effect"]
    assert f"b gets {effect:.1f} more clicks per 100 delivered items than a" in html
    assert "chance b is better; sample ratio as planned." in html
    assert html.count('<svg class="chart"') == 2
    assert "the cumulative effect (line) and its always-valid 95% interval (band)" in html
    assert "<polyline" in html and "<polygon" in html
    assert "Decision rule (sequential, always-valid α = 0.05)" in html
    listing = browser.get(f"/portal/campaigns/{world['campaign']}/experiments").get_data(as_text=True)
    assert "Headline test" in listing
    campaign_page = browser.get(f"/portal/campaigns/{world['campaign']}").get_data(as_text=True)
    assert f"/portal/campaigns/{world['campaign']}/experiments" in campaign_page


def test_a_marketer_decides_and_stops_from_the_page(app, client):
    world, experiment, _ = seeded(client, partners=10)
    browser = marketer_client(app, world)
    url = f"/portal/experiments/{experiment['id']}"
    decided = post_form(browser, url, f"{url}/decide", {"winner": "b", "note": "clear enough"})
    assert decided.status_code == 302
    page = browser.get(url).get_data(as_text=True)
    assert "Decided: b won; renders and unpublished posts switch to it." in page
    assert "winner: <strong>b</strong>" in page and "by a marketer (clear enough)" in page
    again = post_form(browser, url, f"{url}/stop", {})
    assert again.status_code == 409


def test_partner_users_do_not_see_experiment_pages(app, client):
    world, experiment, _ = seeded(client, partners=4)
    partner_browser = app.test_client()
    user, _ = make_user("partner", world["partners"][0])
    sign_in(partner_browser, user, PASSWORD)
    assert partner_browser.get(f"/portal/experiments/{experiment['id']}").status_code == 403
    assert partner_browser.get(f"/portal/campaigns/{world['campaign']}/experiments").status_code == 403


def test_the_page_fits_a_desktop_and_a_phone_in_chromium(app, client, live_server, tmp_path):
    world, experiment, _ = seeded(client)
    user, _ = make_user("marketer")
    base = live_server
    with chromium_page(tmp_path / "profile") as page:
        browser_sign_in(page, base, user.email)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/portal/experiments/{experiment['id']}")
            assert "chance b is better" in page.inner_text("#sentence")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the page scrolls sideways at {width} px"
            charts = page.eval_on_selector_all(
                "svg.chart", "els => els.map(e => e.getBoundingClientRect().width)")
            assert len(charts) == 2 and all(0 < w <= width for w in charts)
            if SCREENSHOTS:
                page.screenshot(path=f"{SCREENSHOTS}/experiment-{width}.png", full_page=True)


def test_charts_say_when_there_is_too_little_to_draw_and_escape_names():
    from datetime import date

    from tcma.web.experiment_chart import effect_chart, rates_chart

    assert "Not enough data yet to draw the effect over time." in effect_chart([], "b minus a")
    one_day = [{"day": date(2026, 11, 1), "effect": 1.0, "ci": [-1.0, 3.0]}]
    assert "drawn from the experiment's second day on" in effect_chart(one_day, "b minus a")
    drawn = rates_chart([{"name": "<b>", "rate": 1.0, "ci": [0.5, 1.5]}], "clicks & <more>")
    assert "&lt;b&gt;" in drawn and "<b>" not in drawn and "clicks &amp; &lt;more&gt;" in drawn
