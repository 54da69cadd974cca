"""Portal sign-in and sign-out, and the front door that sends each role to its pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, request, url_for

from tcma.services.accounts.auth import sign_in
from tcma.web.portal import (
    current_principal,
    home_for,
    page,
    portal_blueprint,
    sign_in_session,
    sign_out_session,
)

bp = portal_blueprint("portal_auth", __name__, static_folder="static", static_url_path="/portal/static")


def _safe_next(target: str | None) -> str | None:
    """A local path to go back to after sign-in; anything else (other hosts) is ignored."""
    if not target or any(ord(char) < 0x20 or char == "\\" for char in target):
        return None  # browsers drop tabs and newlines: "/\t/evil.example" would become "//evil..."
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return None


@bp.get("/")
def index():
    """Send the visitor to their home page, or to sign in."""
    return redirect(home_for(current_principal()))


@bp.get("/login")
def login():
    """The sign-in form."""
    if current_principal() is not None:
        return redirect(home_for(current_principal()))
    return page("portal/login.html", next=_safe_next(request.args.get("next")), email="")


@bp.post("/login")
def login_submit():
    """Sign in with email and password; a wrong pair shows the form again (401)."""
    email = request.form.get("email", "")
    user = sign_in(email, request.form.get("password", ""), request.remote_addr)
    next_url = _safe_next(request.form.get("next"))
    if user is None:
        return page("portal/login.html", 401, next=next_url, email=email,
                    error="That email and password do not match an active account.")
    sign_in_session(user.id)
    return redirect(next_url or home_for(current_principal()))


@bp.post("/logout")
def logout():
    """Sign out and go back to the sign-in form."""
    sign_out_session()
    return redirect(url_for("portal_auth.login"))
