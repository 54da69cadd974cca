# ruff: noqa: F401, F811 (the email fixtures are imported, and tests take them by name)
"""The experiment page shows the test-share plan: share, how many were tested and held, when the rest
goes, and what went; at desktop and phone widths in Chromium."""

from __future__ import annotations

import os

from tests.support.factories import make_user
from tests.support.portal import PASSWORD, browser_sign_in, post_form, sign_in
from tests.tcma.email.conftest import app, email_settings, new_send, send_now, shop, smtp_handler, smtp_port
from tests.tcma.experiments.test_experiments_rollout_email import CONTACTS, add_contacts, start_email_test
from tests.tcma.web.test_portal_browser import chromium_page, live_server

SCREENSHOTS = os.environ.get("EXPERIMENT_SCREENSHOTS")  # a folder to keep the pictures in, when set


def held_send(client, shop) -> tuple[dict, int]:
    add_contacts(shop, CONTACTS - 3)
    experiment = start_email_test(client, shop, rollout={"test_share": 0.5, "deadline_hours": 48})
    send = new_send(client, shop)
    return experiment, send_now(client, shop, send["id"])["numbers"]["held_for_winner"]


def test_the_page_shows_the_plan_then_what_went(app, client, shop):
    experiment, held = held_send(client, shop)
    browser = app.test_client()
    user, _ = make_user("marketer")
    sign_in(browser, user)
    url = f"/portal/experiments/{experiment['id']}"
    page = browser.get(url).get_data(as_text=True)
    assert "Test on 50% of recipients, then the winner to the rest" in page
    assert f"50% of recipients get an arm: {CONTACTS - held} so far" in page
    assert f"<dt>Held for the winner</dt><dd>{held} messages</dd>" in page
    assert "when the experiment is decided, at the latest " in page
    assert "(with no clear winner by then, the control)" in page

    decided = post_form(browser, url, f"{url}/decide", {"winner": "b"})
    assert decided.status_code == 302
    page = browser.get(url).get_data(as_text=True)
    assert "Decided: b won; renders and unpublished posts switch to it. The held rest goes now." in page
    assert "<dt>Held for the winner</dt><dd>0 messages (none left: they went)</dd>" in page
    assert (f"{held} messages of 1 sends in variant <strong>b</strong>: decided by a marketer: b"
            in page)


def test_the_plan_fits_a_desktop_and_a_phone_in_chromium(app, client, shop, live_server, tmp_path):
    experiment, held = held_send(client, shop)
    user, _ = make_user("marketer")
    base = live_server
    with chromium_page(tmp_path / "profile") as page:
        browser_sign_in(page, base, user.email)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/portal/experiments/{experiment['id']}")
            plan = page.inner_text("#rollout")
            assert "Held for the winner" in plan and f"{held} messages" in plan
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the page scrolls sideways at {width} px"
            if SCREENSHOTS:
                page.screenshot(path=f"{SCREENSHOTS}/experiment-rollout-{width}.png", full_page=True)
