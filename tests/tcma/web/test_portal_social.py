"""The social accounts page through the Flask test client, against the loopback fake networks:
connecting with pasted credentials, consent buttons, each account's controls, scoping, CSRF,
and the page in Chromium at phone and desktop widths."""

from __future__ import annotations

import os
import re
import socket
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from tcma.extensions import db
from tcma.models import SocialAccount
from tcma.models.base import utcnow
from tests.support.apps import app_on, base_config
from tests.support.factories import make_partner, make_user
from tests.support.fake_networks import FakeBluesky, FakeMastodon, FakeWebhookReceiver, serve
from tests.support.portal import PASSWORD, post_form, sign_in
from tests.tcma.web.test_portal_browser import FAILURES, chromium_page

PAGE = "/portal/social-accounts"
VERIFY = "/api/v1/accounts/verify_credentials"
WRONG = "wrong-token-123"
SECRETS = (FakeMastodon.TOKEN, FakeBluesky.APP_PASSWORD, FakeWebhookReceiver.SECRET, WRONG)
X_AUTH_URL = "https://x.example.test/i/oauth2/authorize"
SETTINGS = {"CONNECTORS_BACKEND": "live", "CONNECTORS_TIMEOUT": 2, "CONNECTORS_CONNECT_TIMEOUT": 2,
            "CONNECTORS_X_CLIENT_ID": "tcma-x-client", "CONNECTORS_X_CLIENT_SECRET": "tcma-x-secret",
            "CONNECTORS_X_AUTH_URL": X_AUTH_URL}


@pytest.fixture
def app(migrated_pg, tmp_path):
    """Live connectors (they reach only the loopback fakes here) and a configured X app; LinkedIn
    and Facebook stay unconfigured."""
    url, tables = migrated_pg
    yield from app_on(base_config(tmp_path, DATABASE_URL=url, **SETTINGS), tables)


@pytest.fixture
def mastodon_fake():
    with serve(FakeMastodon()) as fake:
        yield fake


@pytest.fixture
def bluesky_fake():
    with serve(FakeBluesky()) as fake:
        yield fake


def text_of(response) -> str:
    return response.get_data(as_text=True)


def no_secret(html: str) -> None:
    for secret in SECRETS:
        assert secret not in html


def error_beside(html: str, field_id: str) -> str:
    """The error message shown under the input `field_id`, which points at it."""
    assert f'id="{field_id}"' in html and f'aria-describedby="err-{field_id}"' in html
    match = re.search(rf'<p class="field-error" id="err-{re.escape(field_id)}">([^<]*)</p>', html)
    assert match, f"no error beside {field_id}"
    return match.group(1)


def card(html: str, account_id: int) -> str:
    """One account's card in the page."""
    match = re.search(rf'<article class="card social-account [a-z_]+" id="account-{account_id}">'
                      r".*?</article>", html, re.S)
    assert match, f"no card for account {account_id}"
    return match.group(0)


def stored() -> list[tuple[str, str, str]]:
    db.session.expire_all()
    return [(a.network, a.handle, a.state) for a in db.session.scalars(select(SocialAccount).order_by(
        SocialAccount.id))]


def connect_mastodon(client, fake, token=FakeMastodon.TOKEN, **extra):
    return post_form(client, PAGE, f"{PAGE}/connect/mastodon",
                     {"instance_url": fake.base_url, "access_token": token, **extra})


def signed_in(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def oauth_account(partner_id: int, network: str = "linkedin", **values) -> int:
    """A consent-page account as the consent would have stored it (the callback is the API's)."""
    row = SocialAccount(partner_id=partner_id, network=network, handle=values.pop("handle", "acme-networks"),
                        external_id=values.pop("external_id", "urn:li:organization:4242"), **values)
    db.session.add(row)
    db.session.commit()
    return row.id


def test_a_partner_connects_mastodon_and_bluesky_and_sees_them(partner_client, mastodon_fake, bluesky_fake):
    empty = text_of(partner_client.get(PAGE))
    assert "Acme &lt;b&gt;Networks&lt;/b&gt;" in empty and "Acme <b>" not in empty
    assert "No account connected yet" in empty
    assert '<a href="/portal/social-accounts">Social accounts</a>' in empty  # in the navigation
    assert "Preferences › Development › New application" in empty
    assert "write:statuses, write:media and read:accounts" in empty
    assert "Settings › Privacy and security › App passwords" in empty

    mastodon = connect_mastodon(partner_client, mastodon_fake)
    assert mastodon.status_code == 302 and mastodon.location == "/portal/social-accounts#account-1"
    assert mastodon_fake.count(VERIFY) == 1
    bluesky = post_form(partner_client, PAGE, f"{PAGE}/connect/bluesky", {
        "handle": "@" + FakeBluesky.HANDLE, "app_password": FakeBluesky.APP_PASSWORD,
        "pds_url": bluesky_fake.base_url})
    assert bluesky.status_code == 302 and bluesky.location == "/portal/social-accounts#account-2"

    html = text_of(partner_client.get(PAGE))
    no_secret(html)
    assert "Connected Bluesky acme.bsky.social." in html
    assert "Connected <span class=\"muted\">(2)</span>" in html
    first, second = card(html, 1), card(html, 2)
    assert '<span class="network">Mastodon</span>' in first
    assert '<span class="name">@acme@127.0.0.1</span>' in first
    assert '<span class="badge active">Active</span>' in first
    assert f"Connected {utcnow().strftime('%-d %b %Y')}" in first and "Renews automatically" in first
    assert "Auto-publish off" in first and "Disconnect Mastodon @acme@127.0.0.1</button>" in first
    assert '<span class="network">Bluesky</span>' in second and "acme.bsky.social" in second
    assert stored() == [("mastodon", "@acme@127.0.0.1", "active"), ("bluesky", "acme.bsky.social", "active")]


def test_a_refused_token_is_shown_beside_its_field_and_nothing_is_stored(partner_client, mastodon_fake,
                                                                          bluesky_fake):
    refused = connect_mastodon(partner_client, mastodon_fake, token=WRONG)
    html = text_of(refused)
    assert refused.status_code == 422
    no_secret(html)
    assert error_beside(html, "f-paste-mastodon-new-access_token") == (
        "Mastodon answered 401: The access token is invalid")
    kept = f'name="instance_url" type="url" value="{mastodon_fake.base_url}"'
    assert 'id="f-paste-mastodon-new-instance_url" ' + kept in html  # the address stays, the token does not
    assert '<details class="more" open>' in html  # the pasted-token form is shown open

    password = post_form(partner_client, PAGE, f"{PAGE}/connect/bluesky", {
        "handle": FakeBluesky.HANDLE, "app_password": WRONG, "pds_url": bluesky_fake.base_url})
    html = text_of(password)
    assert password.status_code == 422
    no_secret(html)
    assert error_beside(html, "f-paste-bluesky-new-app_password") == (
        "Bluesky answered 401 AuthenticationRequired: Invalid identifier or password")
    assert 'name="handle" type="text" value="acme.bsky.social"' in html

    not_a_url = post_form(partner_client, PAGE, f"{PAGE}/consent/mastodon",
                          {"instance_url": "mastodon dot social"})
    assert not_a_url.status_code == 422
    assert error_beside(text_of(not_a_url), "f-consent-mastodon-new-instance_url") == "An http or https URL"
    missing = post_form(partner_client, PAGE, f"{PAGE}/connect/webhook", {"url": "https://crm.example/hook"})
    assert missing.status_code == 422
    assert error_beside(text_of(missing), "f-paste-webhook-new-secret") == "Missing data for required field."
    assert stored() == []


def test_another_partners_account_is_invisible_and_its_posts_answer_404(app, partner_client, taxonomy,
                                                                        mastodon_fake):
    assert connect_mastodon(partner_client, mastodon_fake).status_code == 302
    other = signed_in(app, make_user("partner_admin", make_partner(taxonomy, name="Globex"))[0])
    html = text_of(other.get(PAGE))
    assert "@acme@127.0.0.1" not in html and "No account connected yet" in html
    for action, data in [("pause", {}), ("resume", {}), ("auto-publish", {"auto_publish": "on"}),
                         ("test", {}), ("disconnect", {})]:
        response = post_form(other, PAGE, f"{PAGE}/1/{action}", data)
        assert response.status_code == 404, action
        assert "social account 1 not found" in text_of(response)
    assert mastodon_fake.count(VERIFY) == 1  # the other partner's test asked the network nothing
    assert stored() == [("mastodon", "@acme@127.0.0.1", "active")]


def test_a_marketer_sees_every_partners_accounts_by_partner_and_may_pause_or_disconnect(
        app, partner, partner_client, marketer_client, taxonomy, mastodon_fake):
    assert connect_mastodon(partner_client, mastodon_fake).status_code == 302
    globex = make_partner(taxonomy, name="Globex")
    oauth_account(globex.id, display_name="Globex Corp", reconnect_by=utcnow() + timedelta(days=5))

    html = text_of(marketer_client.get(PAGE))
    no_secret(html)
    acme_heading = f'<h2 id="partner-{partner.id}">Acme &lt;b&gt;Networks&lt;/b&gt; <span class="muted">(1)'
    assert acme_heading in html
    assert f'<h2 id="partner-{globex.id}">Globex <span class="muted">(1)</span>' in html
    assert html.index(f'id="partner-{partner.id}"') < html.index(f'id="partner-{globex.id}"')  # by name
    assert '<span class="name">Globex Corp</span>' in html
    assert '<span class="handle">acme-networks</span>' in html
    panel = html.split('id="expiring-title"')[1].split("</section>")[0]
    assert "Reconnect needed or expiring within 14 days" in html
    assert "LinkedIn acme-networks" in panel and "Globex" in panel
    assert f"Reconnect by {(utcnow() + timedelta(days=5)).strftime('%-d %b %Y')}" in panel
    assert "The partner must connect it again" in card(html, 2)
    # Read-only but for pause and disconnect: no connect forms, no auto-publish or test buttons.
    assert "/connect/" not in html and "/consent/" not in html and "Test connection" not in html
    assert "Turn auto-publish" not in html and ">Pause</button>" in html and "Disconnect LinkedIn" in html

    only_globex = text_of(marketer_client.get(f"{PAGE}?partner={globex.id}"))
    assert "Globex Corp" in only_globex and "@acme@127.0.0.1" not in only_globex
    assert f'<option value="{globex.id}" selected>Globex</option>' in only_globex

    paused = post_form(marketer_client, PAGE, f"{PAGE}/1/pause", {"partner": str(partner.id)})
    assert paused.status_code == 302
    assert paused.location == f"/portal/social-accounts?partner={partner.id}#account-1"
    turn_on = post_form(marketer_client, PAGE, f"{PAGE}/1/auto-publish", {"auto_publish": "on"})
    assert turn_on.status_code == 403
    assert post_form(marketer_client, PAGE, f"{PAGE}/1/test", {}).status_code == 403
    assert post_form(marketer_client, PAGE, f"{PAGE}/connect/mastodon", {
        "instance_url": mastodon_fake.base_url, "access_token": FakeMastodon.TOKEN}).status_code == 403
    gone = post_form(marketer_client, PAGE, f"{PAGE}/2/disconnect", {})
    assert gone.status_code == 302 and gone.location == "/portal/social-accounts"
    assert "Disconnected LinkedIn acme-networks" in text_of(marketer_client.get(PAGE))
    assert stored() == [("mastodon", "@acme@127.0.0.1", "paused")]


def test_pause_auto_publish_test_and_disconnect_redirect_with_a_message(partner_client, mastodon_fake):
    assert connect_mastodon(partner_client, mastodon_fake).status_code == 302
    steps = [("pause", {},
              "Mastodon @acme@127.0.0.1 is paused: nothing is published to it until it is resumed.",
              '<span class="badge paused">Paused</span>'),
             ("resume", {}, "Mastodon @acme@127.0.0.1 is active again.",
              '<span class="badge active">Active</span>'),
             ("auto-publish", {"auto_publish": "on"}, "Auto-publish is on for Mastodon @acme@127.0.0.1. "
              "Approved posts go out without a further step.", "Turn auto-publish off"),
             ("auto-publish", {"auto_publish": "off"}, "Auto-publish is off for Mastodon @acme@127.0.0.1.",
              "Turn auto-publish on"),
             ("test", {}, "Mastodon @acme@127.0.0.1 works: Mastodon accepted its credentials.", "Active")]
    for action, data, message, shown in steps:
        response = post_form(partner_client, PAGE, f"{PAGE}/1/{action}", data)
        assert response.status_code == 302, action
        assert response.location == "/portal/social-accounts#account-1", action
        html = text_of(partner_client.get(PAGE))
        assert f'<p class="flash" role="status">{message}</p>' in html, action
        assert shown in card(html, 1), action
    assert mastodon_fake.count(VERIFY) == 2  # connecting, then the test
    neither = post_form(partner_client, PAGE, f"{PAGE}/1/auto-publish", {"auto_publish": "yes"})
    assert neither.status_code == 400
    assert "Choose whether to turn auto-publishing on or off." in text_of(neither)

    gone = post_form(partner_client, PAGE, f"{PAGE}/1/disconnect", {})
    assert gone.status_code == 302 and gone.location == "/portal/social-accounts"
    html = text_of(partner_client.get(PAGE))
    assert "Disconnected Mastodon @acme@127.0.0.1: tcma no longer holds its credentials." in html
    assert stored() == []


def test_a_refused_test_turns_the_account_needs_reconnect_with_its_reason_and_reconnect_controls(
        partner_client, mastodon_fake):
    assert connect_mastodon(partner_client, mastodon_fake).status_code == 302
    mastodon_fake.fail_next(VERIFY, 401, {"error": "The access token was revoked"})
    tested = post_form(partner_client, PAGE, f"{PAGE}/1/test", {})
    assert tested.status_code == 302
    html = text_of(partner_client.get(PAGE))
    no_secret(html)
    assert "Mastodon @acme@127.0.0.1 needs connecting again: Mastodon refused the credentials" in html
    shown = card(html, 1)
    assert '<span class="badge needs_reconnect">Needs reconnect</span>' in shown
    assert "Needs reconnecting.</strong> Mastodon refused the credentials" in shown
    assert "The access token was revoked" in shown
    assert f"Sign in again on {mastodon_fake.base_url.split('://')[1]}</button>" in shown
    assert "Reconnect with this token</button>" in shown
    panel = html.split('id="expiring-title"')[1].split("</section>")[0]
    assert 'href="#account-1">Mastodon @acme@127.0.0.1</a>' in panel

    bad = post_form(partner_client, PAGE, f"{PAGE}/connect/mastodon", {
        "account": "1", "instance_url": mastodon_fake.base_url, "access_token": WRONG})
    assert bad.status_code == 422
    assert error_beside(text_of(bad), "f-paste-mastodon-1-access_token") == (
        "Mastodon answered 401: The access token is invalid")
    assert stored() == [("mastodon", "@acme@127.0.0.1", "needs_reconnect")]

    again = post_form(partner_client, PAGE, f"{PAGE}/connect/mastodon", {
        "account": "1", "instance_url": mastodon_fake.base_url, "access_token": FakeMastodon.TOKEN})
    assert again.status_code == 302 and again.location == "/portal/social-accounts#account-1"
    assert '<span class="badge active">Active</span>' in card(text_of(partner_client.get(PAGE)), 1)
    assert stored() == [("mastodon", "@acme@127.0.0.1", "active")]


def test_an_account_whose_consent_ends_soon_asks_for_a_reconnect(partner, partner_client):
    soon = utcnow() + timedelta(days=3)
    later = utcnow() + timedelta(days=60)
    due = oauth_account(partner.id, network="x", handle="@acme", external_id="1442",
                        token_expires_at=utcnow() + timedelta(hours=2), reconnect_by=soon)
    fine = oauth_account(partner.id, handle="Acme Networks", reconnect_by=later)
    html = text_of(partner_client.get(PAGE))
    shown = card(html, due)
    assert f"Connect it again by {soon.strftime('%-d %b %Y')}.</strong> X's consent ends then" in shown
    assert "Reconnect X</button>" in shown  # X's app is configured: the button is live
    assert f"Reconnect by {later.strftime('%-d %b %Y')}" in card(html, fine)
    linkedin = card(html, fine).split("<summary>Reconnect</summary>")[1]  # tucked away: not due yet
    assert '<button type="submit" disabled>Reconnect LinkedIn</button>' in linkedin
    assert "the vendor has not set up tcma's LinkedIn app" in linkedin


def test_consent_buttons_go_to_the_network_or_say_why_they_cannot(partner_client):
    html = text_of(partner_client.get(PAGE))
    assert '<button type="submit">Connect X</button>' in html
    for name in ("LinkedIn", "Facebook"):
        assert f'<button type="submit" disabled>Connect {name}</button>' in html
        assert f"Not available yet: the vendor has not set up tcma's {name} app." in html

    started = post_form(partner_client, PAGE, f"{PAGE}/consent/x", {})
    assert started.status_code == 302 and started.location.startswith(X_AUTH_URL + "?")

    refused = post_form(partner_client, PAGE, f"{PAGE}/consent/linkedin", {})  # a hand-made post
    assert refused.status_code == 422
    linkedin_card = text_of(refused).split("<h3>LinkedIn</h3>")[1].split("</li>")[0]
    assert ('<p class="error" role="alert">LinkedIn is not available yet: the vendor has not set up '
            "tcma&#39;s LinkedIn app.</p>") in linkedin_card
    assert "TCMA_CONNECTORS" not in text_of(refused)
    assert post_form(partner_client, PAGE, f"{PAGE}/consent/bluesky", {}).status_code == 404
    assert post_form(partner_client, PAGE, f"{PAGE}/connect/linkedin", {}).status_code == 404


def test_mastodon_sign_in_on_the_partners_server_comes_back_with_a_message(partner_client, mastodon_fake):
    started = post_form(partner_client, PAGE, f"{PAGE}/consent/mastodon",
                        {"instance_url": mastodon_fake.base_url})
    assert started.status_code == 302
    assert started.location.startswith(f"{mastodon_fake.base_url}/oauth/authorize?")
    assert mastodon_fake.count("/api/v1/apps") == 1  # tcma registered itself on the partner's server
    consent = httpx.get(started.location, follow_redirects=False)  # the partner agrees on their server
    callback = urlsplit(consent.headers["Location"])
    assert (callback.scheme, callback.netloc, callback.path) == (
        "http", "tcma.test", "/api/v1/social-accounts/callback/mastodon")
    back = partner_client.get(f"{callback.path}?{callback.query}")  # same browser, same session
    assert back.status_code == 303 and back.location.startswith("/portal/social-accounts")
    html = text_of(partner_client.get(back.location))
    no_secret(html)
    assert '<p class="flash" role="status">Connected Mastodon: Acme Outdoor.</p>' in html
    assert '<span class="name">Acme Outdoor</span><span class="handle">@acme@127.0.0.1</span>' in re.sub(
        r">\s+<", "><", card(html, 1))
    assert stored() == [("mastodon", "@acme@127.0.0.1", "active")]


def test_posts_without_the_forms_csrf_token_change_nothing(partner_client, mastodon_fake):
    assert connect_mastodon(partner_client, mastodon_fake).status_code == 302
    for action, data in [("1/pause", {}), ("1/auto-publish", {"auto_publish": "on"}), ("1/disconnect", {}),
                         ("connect/mastodon", {"instance_url": mastodon_fake.base_url,
                                               "access_token": FakeMastodon.TOKEN})]:
        for token in ({}, {"csrf_token": "forged"}):
            refused = partner_client.post(f"{PAGE}/{action}", data={**data, **token})
            assert refused.status_code == 400, action
            assert "This form has expired or did not come from this site" in text_of(refused)
    assert mastodon_fake.count(VERIFY) == 1
    assert stored() == [("mastodon", "@acme@127.0.0.1", "active")]
    assert db.session.scalars(select(SocialAccount.auto_publish)).one() is False


# --- In Chromium ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def social_server(app, make_app, migrated_pg):
    """The app with the same settings served over HTTP on loopback, on the test's database."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    served = make_app(DATABASE_URL=migrated_pg[0], PUBLIC_URL=base_url, **SETTINGS)
    server = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_page_fits_a_phone_and_a_desktop(social_server, partner, partner_user, mastodon_fake, tmp_path):
    """Full-page screenshots go to $PORTAL_SCREENSHOTS when set (to look at), else the test's tmp dir."""
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    oauth_account(partner.id, display_name="Acme Networks on LinkedIn", handle="acme-networks-worldwide",
                  reconnect_by=utcnow() + timedelta(days=4), auto_publish=True)
    refused = oauth_account(partner.id, network="facebook", handle="Acme Networks Page", external_id="9001",
                            is_active=False)
    db.session.execute(update(SocialAccount).where(SocialAccount.id == refused).values(
        needs_reconnect_since=utcnow(), reconnect_reason="facebook refused the credentials: Error validating "
        "access token: The session has been invalidated because the user changed their password."))
    db.session.commit()
    with chromium_page(tmp_path / "profile") as page:
        try:
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(f"{social_server}/portal")
            page.get_by_label("Email").fill(partner_user.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{social_server}/portal")
            page.get_by_role("link", name="Social accounts").click()
            page.wait_for_url(f"{social_server}{PAGE}")

            page.get_by_text("Or paste an access token").click()
            form = page.locator("form.paste", has=page.locator("#f-paste-mastodon-new-access_token"))
            form.get_by_label("Your server").fill(mastodon_fake.base_url)
            form.get_by_label("Access token").fill(FakeMastodon.TOKEN)
            form.get_by_role("button", name="Connect with this token").click()
            page.wait_for_url(f"{social_server}{PAGE}#account-3")
            assert page.get_by_role("status").inner_text() == "Connected Mastodon @acme@127.0.0.1."
            assert page.locator("#account-3 .badge").inner_text() == "Active"
            assert page.locator("#account-2 .badge").inner_text() == "Needs reconnect"
            page.locator("#account-3").get_by_text("Reconnect", exact=True).click()
            page.locator("#account-3").get_by_text("Disconnect…").click()
            for width in (390, 1280):
                page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / f"social-accounts-{width}.png"), full_page=True)
            card3 = page.locator("#account-3")
            confirm = card3.get_by_role("button", name="Disconnect Mastodon @acme@127.0.0.1")
            confirm.click()
            page.wait_for_url(f"{social_server}{PAGE}")
            assert "Disconnected Mastodon @acme@127.0.0.1" in page.get_by_role("status").inner_text()
            assert page.locator("#account-3").count() == 0
        except BaseException:
            FAILURES.mkdir(exist_ok=True)
            page.screenshot(path=str(FAILURES / "portal-social.png"), full_page=True)
            raise


def test_the_vendor_view_fits_a_phone_and_a_desktop(social_server, partner, taxonomy, tmp_path):
    globex = make_partner(taxonomy, name="Globex Corporation International Holdings")
    oauth_account(partner.id, display_name="Acme Networks on LinkedIn",
                  reconnect_by=utcnow() + timedelta(days=9))
    paused = oauth_account(globex.id, network="x", handle="@globex_corporation_international",
                           external_id="77", is_active=False)
    marketer = make_user("marketer")[0]
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    with chromium_page(tmp_path / "profile") as page:
        try:
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(f"{social_server}/login")
            page.get_by_label("Email").fill(marketer.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{social_server}/portal/dashboard")
            page.get_by_role("link", name="Social accounts").click()
            page.wait_for_url(f"{social_server}{PAGE}")
            assert page.locator(".partner-group h2").all_inner_texts() == [
                "Acme <b>Networks</b> (1)", "Globex Corporation International Holdings (1)"]
            assert page.locator(f"#account-{paused} .badge").inner_text() == "Paused"
            for width in (390, 1280):
                page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / f"social-accounts-vendor-{width}.png"), full_page=True)
            page.get_by_label("Partner").select_option(label="Globex Corporation International Holdings")
            page.get_by_role("button", name="Show").click()
            page.wait_for_url(f"{social_server}{PAGE}?partner={globex.id}")
            page.locator(f"#account-{paused}").get_by_role("button", name="Resume").click()
            page.wait_for_url(f"{social_server}{PAGE}?partner={globex.id}#account-{paused}")
            assert page.get_by_role("status").inner_text() == (
                "X @globex_corporation_international is active again.")
            assert page.locator(".partner-group h2").all_inner_texts() == [
                "Globex Corporation International Holdings (1)"]
        except BaseException:
            FAILURES.mkdir(exist_ok=True)
            page.screenshot(path=str(FAILURES / "portal-social-vendor.png"), full_page=True)
            raise
