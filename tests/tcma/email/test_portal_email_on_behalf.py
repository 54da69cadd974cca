"""The portal's side of sends on partners' behalf: a partner allows and withdraws, the vendor sends
and reads numbers and reasons (never an address); both pages fit a desktop and a phone."""

from __future__ import annotations

import os
import threading

from werkzeug.serving import make_server

from tests.support.factories import make_user
from tests.support.portal import browser_sign_in, csrf_from, sign_in
from tests.tcma.web.test_portal_browser import _free_port, chromium_page

SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS")


def allow_on_portal(client, shop, number="2"):
    """Post the consent form as the signed-in partner user; the page shown next."""
    token = csrf_from(client.get("/portal/email").get_data(as_text=True))
    data = {"csrf_token": token, "list_ids": [str(shop["list_id"])], "max_sends_per_month": number}
    return client.post("/portal/email/consent", data=data, follow_redirects=True).get_data(as_text=True)


def test_a_partner_allows_the_vendor_sends_and_the_partner_withdraws(client, shop, smtp_handler):
    sign_in(client, shop["user"])
    refused = allow_on_portal(client, shop, number="0")
    assert "the number of sends in 30 days must be a whole number from 1 to 100" in refused
    assert "Not allowed." in refused
    allowed = allow_on_portal(client, shop)
    assert "The vendor may now send campaign emails in your name" in allowed
    assert "at most 2 send(s) in 30 days" in allowed
    client.post("/logout", data={"csrf_token": csrf_from(allowed)})

    marketer, _ = make_user("marketer")
    sign_in(client, marketer)
    listing = client.get("/portal/email").get_data(as_text=True)
    assert "Partners that allow it" in listing and "Acme IT GmbH" in listing
    created = client.post(
        "/portal/email/on-behalf",
        data={"csrf_token": csrf_from(listing), "campaign_id": str(shop["campaign_id"]), "local_at": ""},
    )
    assert created.status_code == 302
    detail = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "3 / 3" in detail and "Acme IT GmbH" in detail
    assert f"{shop['other'].name}</td><td>has not allowed sends on its behalf" in detail
    assert "@example.com" not in listing + detail
    assert len(smtp_handler.received) == 3
    client.post("/logout", data={"csrf_token": csrf_from(detail)})

    sign_in(client, shop["user"])
    page = client.get("/portal/email").get_data(as_text=True)
    assert "(on your behalf)" in page
    withdrawn = client.post(
        "/portal/email/consent/withdraw", data={"csrf_token": csrf_from(page)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Consent withdrawn. 0 send(s) on your behalf cancelled." in withdrawn
    assert "withdrawn</span> on" in withdrawn


def test_both_pages_fit_a_desktop_and_a_phone_in_chromium(app, client, shop, make_app, migrated_pg, tmp_path):
    sign_in(client, shop["user"])
    allow_on_portal(client, shop)
    marketer, headers = make_user("marketer")
    sent = client.post(
        "/api/v1/email-sends/on-behalf", headers=headers, json={"campaign_id": shop["campaign_id"]}
    ).json
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    served = make_app(DATABASE_URL=migrated_pg[0], PUBLIC_URL=base)
    server = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for user, url, name in (
            (shop["user"], f"{base}/portal/email#behalf", "partner"),
            (marketer, f"{base}/portal/email/on-behalf/{sent['id']}", "vendor"),
        ):
            with chromium_page(tmp_path / f"profile-{name}") as page:
                browser_sign_in(page, base, user.email)
                for width in (1280, 390):
                    page.set_viewport_size({"width": width, "height": 900})
                    page.goto(url)
                    text = page.inner_text("main") if page.query_selector("main") else page.inner_text("body")
                    assert ("Sending on your behalf" if name == "partner" else "Left out") in text
                    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                    assert overflow <= 0, f"the {name} page scrolls sideways at {width} px"
                    if SCREENSHOTS:
                        page.screenshot(path=f"{SCREENSHOTS}/email-behalf-{name}-{width}.png", full_page=True)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
