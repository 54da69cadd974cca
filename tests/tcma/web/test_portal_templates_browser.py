"""The template upload page in Chromium (Debian's package): a refused bundle named by file and field,
a good one previewed for a partner and published, at 1280 and 390 px with no serious axe finding.
Screenshots go to $PORTAL_SCREENSHOTS when set, else the test's tmp dir."""

from __future__ import annotations

import os
from pathlib import Path

from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.tcma.web.test_portal_browser import chromium_page
from tests.tcma.web.test_portal_templates import THREE_FILES, broken_in_three_files, with_subline
from tests.tcma.web.test_portal_workspace_browser import look, served, sign_in  # noqa: F401


def test_upload_preview_and_publish_a_template_version_in_chromium(app, served, tmp_path):  # noqa: F811
    import_catalogue()
    partner = make_partner(make_taxonomy(), name="Acme Networks")
    marketer = make_user("marketer")[0]
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    base = served()
    with chromium_page(tmp_path / "profile") as page:
        sign_in(page, base, marketer.email, "/portal/dashboard")
        page.get_by_role("link", name="Templates").click()
        page.get_by_role("link", name="Social card 1200x627").click()
        page.wait_for_url(f"{base}/portal/catalogue/social-card")
        look(page, shots, "template-upload")

        page.get_by_label("Template bundle (.zip)").set_input_files(
            {"name": "card.zip", "mimeType": "application/zip", "buffer": broken_in_three_files()})
        page.get_by_role("button", name="Check the bundle").click()
        alert = page.get_by_role("alert")
        assert "nothing was changed: fix the 4 problems below" in alert.inner_text()
        rows = alert.get_by_role("row")
        assert rows.first.inner_text().split("\t") == ["File", "Field", "Problem"]
        assert [tuple(rows.nth(i).inner_text().split("\t")) for i in range(1, 5)] == THREE_FILES
        look(page, shots, "template-upload-refused")

        page.get_by_label("Template bundle (.zip)").set_input_files(
            {"name": "card.zip", "mimeType": "application/zip", "buffer": with_subline()})
        page.get_by_role("button", name="Check the bundle").click()
        page.wait_for_url(f"{base}/portal/catalogue/social-card/drafts/*")
        assert "Fields added: subline" in page.locator(".changes").inner_text()
        page.get_by_label("Partner").select_option(label="Acme Networks")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(f"**partner_id={partner.id}**")
        image = page.locator("#draft-preview")
        image.wait_for()
        page.wait_for_function("document.querySelector('#draft-preview').complete")
        assert image.evaluate("img => img.naturalWidth") == 480
        look(page, shots, "template-draft")

        page.get_by_role("button", name="Publish as the next version").click()
        page.wait_for_url(f"{base}/portal/catalogue/social-card")
        assert "Version 2 is published" in page.get_by_role("status").first.inner_text()
        assert "Fields added: subline" in page.locator("#v2").inner_text()
        look(page, shots, "template-history")


def test_builder_review_schedule_and_variants_in_chromium(app, served, tmp_path):  # noqa: F811
    from datetime import UTC, datetime, timedelta

    import_catalogue()
    make_partner(make_taxonomy(), name="Acme Networks")
    marketer = make_user("marketer")[0]
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    base = served()
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
    with chromium_page(tmp_path / "profile") as page:
        sign_in(page, base, marketer.email, "/portal/dashboard")
        page.goto(f"{base}/portal/campaigns/new")
        page.get_by_label("Campaign name").fill("Spring cards")
        page.locator('input[value="social-card|png"]').check()
        page.get_by_role("button", name="Create the draft and review it").click()
        page.wait_for_url(f"{base}/portal/campaigns/*/review")
        page.get_by_label("Date and time").fill(when)
        page.get_by_label("Time zone").fill("Europe/Berlin")
        page.get_by_role("button", name="Schedule the launch").click()
        assert "Europe/Berlin" in page.locator("#scheduled-at").inner_text()
        page.get_by_label("a", exact=True).check()
        page.get_by_label("b", exact=True).check()
        page.get_by_role("button", name="Test these variants").click()
        assert page.get_by_role("link", name="Variants a vs b").is_visible()
        look(page, shots, "builder-schedule")
