"""Driving the portal as a browser would: sign in, and post forms with their CSRF token."""

from __future__ import annotations

import re

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token in a rendered page."""
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def session_csrf(client) -> str:
    """The CSRF token kept in the client's session (empty before a page has issued one)."""
    with client.session_transaction() as session:
        return session.get("csrf_token", "")


def sign_in(client, user, password: str = PASSWORD):
    """Sign in through the login form, as a browser would."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})


def post_form(client, page_url: str, url: str, data: dict):
    """POST a form with the CSRF token taken from the page it lives on."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def browser_sign_in(page, base: str, email: str, lands: str | None = None) -> None:
    """Sign in through the login form in a Chromium page; wait until it lands on `lands` (a path),
    or, without one, anywhere but the login page."""
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if lands is None:
        page.wait_for_url(lambda url: "/login" not in url)
    else:
        page.wait_for_url(f"{base}{lands}")
