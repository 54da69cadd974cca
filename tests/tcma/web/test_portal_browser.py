"""The partner journey in a real Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.portal import PASSWORD

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FAILURES = Path(__file__).resolve().parents[2] / "_failures"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(app, make_app, migrated_pg):
    """The app served over HTTP on loopback from a thread, on the test's PostgreSQL database."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    served = make_app(DATABASE_URL=migrated_pg[0], PUBLIC_URL=base_url)
    server = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    server.server_close()
    thread.join(5)


@contextlib.contextmanager
def chromium_page(profile: Path) -> Iterator[Page]:
    """A page in a fresh headless Chromium profile; fails (never skips) without Chromium."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: the browser test needs Debian's package. "
                    "Run `make test` (it installs it) or: apt-get update && apt-get install -y chromium "
                    "chromium-driver", pytrace=False)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()


def test_partner_signs_in_customizes_renders_and_downloads_a_pdf(live_server, catalogue, tmp_path):
    partner = make_partner(make_taxonomy(), name="Acme Networks")
    user = make_user("partner", partner)[0]
    with chromium_page(tmp_path / "profile") as page:
        _partner_journey(page, live_server, user.email)


def _partner_journey(page: Page, live_server: str, email: str) -> None:
    """Sign in, open the library and a template, fill a field, render a PDF, download it."""
    try:
        page.goto(f"{live_server}/portal")
        assert page.url.startswith(f"{live_server}/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/portal")

        page.get_by_role("link", name="Zero-Trust Networking solution brief").click()
        page.wait_for_url(f"{live_server}/portal/templates/solution-brief")
        cta = page.locator("#f-contact_cta")
        assert cta.get_attribute("maxlength") == "60"
        cta.fill("Call Acme today")
        page.get_by_role("button", name="Save and render pdf").click()

        page.wait_for_url(f"{live_server}/portal/assets")
        row = page.locator(".asset-card").first
        assert row.locator(".status").inner_text() == "Ready"
        assert "Zero-Trust Networking solution brief" in row.inner_text() and "PDF" in row.inner_text()
        with page.expect_download() as download_info:
            row.get_by_role("link", name="Download PDF").click()
        download = download_info.value
        assert re.fullmatch(r"partner-\d+-solution-brief-\d+\.pdf", download.suggested_filename)
        assert Path(download.path()).read_bytes().startswith(b"%PDF")
    except BaseException:
        FAILURES.mkdir(exist_ok=True)
        page.screenshot(path=str(FAILURES / "portal-browser.png"), full_page=True)
        raise


def test_my_assets_show_thumbnails_names_and_fit_a_phone(live_server, catalogue, tmp_path):
    """My assets at 1280 and 390 px: thumbnails load, labels differ, nothing overflows sideways."""
    from tcma.services.accounts.auth import principal_for_user
    from tcma.services.catalogue.library import render_for_partner

    partner = make_partner(make_taxonomy(), name="Northwind Traders")
    user = make_user("partner", partner)[0]
    principal = principal_for_user(user.id)
    render_for_partner(principal, "solution-brief", "pdf", None, {})
    for headline in ("Zero trust in weeks", "Meet us at the summit", "New: policy close to users"):
        render_for_partner(principal, "square-post", "png", None, {"headline": headline})
    render_for_partner(principal, "newsletter", "email", None, {})
    with chromium_page(tmp_path / "profile") as page:
        try:
            page.goto(f"{live_server}/login")
            page.get_by_label("Email").fill(user.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{live_server}/portal/home")
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(f"{live_server}/portal/assets")
                page.wait_for_load_state("networkidle")
                cards = page.locator(".asset-card")
                assert cards.count() == 5
                labels = [cards.nth(i).locator("h2").inner_text() + " / "
                          + cards.nth(i).locator(".asset-label").inner_text() for i in range(5)]
                assert len(set(labels)) == 5, labels  # no five identical rows
                assert "Monthly partner newsletter" in cards.first.inner_text()  # newest first
                loaded = page.evaluate("[...document.images].filter(i => i.naturalWidth > 0).length")
                assert loaded == 5
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{overflow}px of horizontal overflow at {width}px"
                FAILURES.mkdir(exist_ok=True)
                page.screenshot(path=str(FAILURES / f"my-assets-{width}.png"), full_page=True)
            with page.expect_download() as download_info:
                cards.first.get_by_role("link", name="Download .eml").click()
            assert download_info.value.suggested_filename.endswith(".eml")
        except BaseException:
            FAILURES.mkdir(exist_ok=True)
            page.screenshot(path=str(FAILURES / "my-assets-failure.png"), full_page=True)
            raise


def test_the_customize_page_previews_the_fields_as_they_are_typed(live_server, catalogue, tmp_path):
    """The preview appears, follows typing (debounced), warns beside the field, fits 390 px."""
    partner = make_partner(make_taxonomy(), tier=1, name="Northwind Traders")
    user = make_user("partner", partner)[0]
    with chromium_page(tmp_path / "profile") as page:
        try:
            page.goto(f"{live_server}/login")
            page.get_by_label("Email").fill(user.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{live_server}/portal/home")
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 1000})
                page.goto(f"{live_server}/portal/templates/event-flyer")
                _wait_until(page, "document.getElementById('preview-image').naturalWidth > 0")
                assert page.locator("#warn-venue li").first.inner_text().startswith("required")
                first = page.locator("#preview-image").get_attribute("src")
                page.locator("#f-venue").fill("Harbour Centre\nDock Road 4, Hamburg")
                _wait_until(page, f"document.getElementById('preview-image').src !== {first!r}")
                _wait_until(page, "document.querySelectorAll('#warn-venue li').length === 0")
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{overflow}px of horizontal overflow at {width}px"
                FAILURES.mkdir(exist_ok=True)
                page.screenshot(path=str(FAILURES / f"customize-preview-{width}.png"), full_page=True)
        except BaseException:
            FAILURES.mkdir(exist_ok=True)
            page.screenshot(path=str(FAILURES / "customize-preview-failure.png"), full_page=True)
            raise


def _wait_until(page: Page, condition: str, seconds: float = 15) -> None:
    """Poll a JavaScript condition (the page's CSP forbids wait_for_function's eval)."""
    import time

    deadline = time.monotonic() + seconds
    while not page.evaluate(condition):
        assert time.monotonic() < deadline, f"still false after {seconds}s: {condition}"
        time.sleep(0.1)
