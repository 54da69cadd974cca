# ruff: noqa: F401, F811 (the browser fixtures are imported, and the test takes them by name)
"""The pre-launch contact sheet in a real Chromium: open it, filter by warning, launch."""

from __future__ import annotations

from tcma.extensions import db
from tcma.models import Campaign
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.portal import PASSWORD
from tests.tcma.web.test_portal_browser import FAILURES, chromium_page, live_server

WIDER_THAN_THE_WINDOW = ("[...document.querySelectorAll('*')]"
                         ".filter(e => e.getBoundingClientRect().right > window.innerWidth)"
                         ".map(e => e.tagName + '#' + e.id).join(' ')")


def _visible(page) -> list[str]:
    """The partner names of the sheet items a person can see."""
    items = page.locator(".sheet-item")
    return [items.nth(i).locator("strong").inner_text()
            for i in range(items.count()) if items.nth(i).is_visible()]


def test_a_marketer_opens_the_sheet_filters_its_warnings_and_launches(app, live_server, catalogue,
                                                                     tmp_path):
    taxonomy = make_taxonomy()
    make_partner(taxonomy, tier=1, name="Northwind Traders")
    make_partner(taxonomy, tier=1, name="Zeta \u0378 Systems", with_logo=False)
    make_partner(taxonomy, tier=0, name="Fabrikam Ltd")  # silver: no flyer
    user, marketer = make_user("marketer")
    created = app.test_client().post("/api/v1/campaigns", headers=marketer, json={
        "name": "Spring summit", "segment": {},
        "outputs": [{"template": "solution-brief", "output": "pdf"},
                    {"template": "event-flyer", "output": "pdf"}]})
    campaign_id = created.json["id"]
    with chromium_page(tmp_path / "profile") as page:
        try:
            page.goto(f"{live_server}/login")
            page.get_by_label("Email").fill(user.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{live_server}/portal/dashboard")  # a marketer lands on the dashboard
            for width in (390, 1280):
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(f"{live_server}/portal/campaigns/{campaign_id}")
                assert page.get_by_role("button", name="Skip review and launch").is_visible()
                assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
                FAILURES.mkdir(exist_ok=True)
                page.screenshot(path=str(FAILURES / f"campaign-draft-{width}.png"), full_page=True)
                page.get_by_role("link", name="Review the contact sheet and launch →").click()
                page.wait_for_load_state("networkidle")
                assert len(_visible(page)) == 5  # 2 outputs for each gold partner, the brief for silver
                loaded = page.evaluate("[...document.images].filter(i => i.naturalWidth > 0).length")
                assert loaded == 5
                page.get_by_text("Missing glyphs (2)").click()  # the brief and the flyer
                assert _visible(page) == ["Zeta \u0378 Systems", "Zeta \u0378 Systems"]
                page.get_by_text("Required field missing (2)").click()
                assert sorted(_visible(page)) == ["Northwind Traders", "Zeta \u0378 Systems"]
                assert page.locator(".sheet-item:visible .warning-kind",
                                    has_text="Required field missing").count() == 2
                page.get_by_text("No logo (2)").click()
                assert _visible(page) == ["Zeta \u0378 Systems", "Zeta \u0378 Systems"]
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                wide = page.evaluate(WIDER_THAN_THE_WINDOW)
                assert overflow <= 0, f"{overflow}px {wide} of horizontal overflow at {width}px"
                FAILURES.mkdir(exist_ok=True)
                page.screenshot(path=str(FAILURES / f"contact-sheet-{width}.png"), full_page=True)
                page.get_by_text("All (5)").click()
                assert len(_visible(page)) == 5
            page.get_by_role("button", name="Launch", exact=True).click()
            page.wait_for_url(f"{live_server}/portal/campaigns/{campaign_id}")
            said = page.locator(".launch-review").inner_text()
            assert f"after {user.email} looked at the contact sheet (1 page, 5 outputs" in said
            assert "Campaign launched after the contact-sheet review" in page.locator(".flash").inner_text()
            page.screenshot(path=str(FAILURES / "contact-sheet-launched-1280.png"), full_page=True)
        except BaseException:
            FAILURES.mkdir(exist_ok=True)
            page.screenshot(path=str(FAILURES / "contact-sheet-failure.png"), full_page=True)
            raise
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).launched_at is not None
