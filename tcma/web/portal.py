"""The portal's shared plumbing: session sign-in, page access checks, CSRF tokens, error pages."""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, abort, redirect, render_template, request, session, url_for

from campaigns.vocabulary import PARTNER_ROLES
from tcma.errors import DomainError
from tcma.services.accounts.auth import VENDOR_ROLES, Principal, principal_for_user
from tcma.services.transaction import rollback

CSRF_FIELD = "csrf_token"
PRINCIPAL_KEY = "tcma.portal_principal"  # cached per request, like the API's principal
VENDOR = VENDOR_ROLES
PARTNER = PARTNER_ROLES


def current_principal() -> Principal | None:
    """The signed-in user of this page request (session cookie only), or None."""
    if PRINCIPAL_KEY not in request.environ:
        request.environ[PRINCIPAL_KEY] = principal_for_user(getattr(session, "user_id", None))
    return request.environ[PRINCIPAL_KEY]


def sign_in_session(user_id: int) -> None:
    """Start a fresh session for the user: a new id (the old one ends) and a new CSRF token."""
    session.start(user_id)
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    request.environ.pop(PRINCIPAL_KEY, None)


def sign_out_session() -> None:
    """End the session on the server (a replayed cookie no longer signs anyone in)."""
    session.end()
    request.environ.pop(PRINCIPAL_KEY, None)


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def check_csrf() -> None:
    """Refuse a POST whose form token does not match the session's."""
    if request.method != "POST":
        return
    sent, expected = request.form.get(CSRF_FIELD, ""), session.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="This form has expired or did not come from this site. "
                               "Go back, reload the page and try again.")


def home_for(principal: Principal | None) -> str:
    """Where a user lands: their home page for partners, the programme dashboard for the vendor side."""
    if principal is None:
        return url_for("portal_auth.login")
    return url_for("portal_dashboards.home" if principal.is_partner else "portal_dashboards.programme")


def page(template_name: str, status_code: int = 200, /, **context: Any) -> tuple[str, int]:
    """Render a portal page with the signed-in user available to the layout."""
    return render_template(template_name, principal=current_principal(), **context), status_code


def page_count(total: int, per_page: int) -> int:
    """How many pages a list of `total` rows takes (at least one)."""
    return max((total + per_page - 1) // per_page, 1)


def error_page(status: int, message: str) -> tuple[str, int]:
    """The portal's HTML error page."""
    return page("portal/error.html", status, status=status, message=message)


def page_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Send anonymous visitors to /login and show 403 to roles not in `roles`."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                return redirect(url_for("portal_auth.login", next=request.full_path.rstrip("?")))
            if not principal.partner_active:
                return page("portal/suspended.html", 403)
            if roles and principal.role not in roles:
                return error_page(403, "Your account cannot open this page.")
            return view(principal, *args, **kwargs)

        return wrapped

    return decorate


def field_errors(exc: DomainError) -> tuple[dict[str, str], list[str]]:
    """Split a DomainError's messages into per-field ones (by field name) and the rest."""
    by_field: dict[str, str] = {}
    other: list[str] = []
    for key, messages in exc.errors.items():
        text = "; ".join(messages) if isinstance(messages, list) else str(messages)
        if key.startswith("fields."):
            by_field[key.removeprefix("fields.")] = text
        else:
            other.append(f"{key}: {text}")
    if not exc.errors:
        other.append(exc.message)
    return by_field, other


def _domain_error_page(exc: DomainError):
    rollback()
    return error_page(exc.status, exc.message)


def _http_error_page(exc: Any):
    return error_page(exc.code, exc.description or "")


def portal_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    """A portal blueprint: CSRF-checked POSTs and HTML error pages."""
    bp = Blueprint(name, import_name, template_folder="templates", **options)
    bp.before_request(check_csrf)
    bp.register_error_handler(DomainError, _domain_error_page)
    for code in (400, 403, 404, 405, 409):
        bp.register_error_handler(code, _http_error_page)
    return bp


def init_app(app: Flask) -> None:
    """Register the portal's blueprints and its template helpers."""
    from tcma.web import (
        portal_auth,
        portal_builder,
        portal_dashboards,
        portal_email,
        portal_evergreen,
        portal_experiments,
        portal_marketer,
        portal_partner,
        portal_people,
        portal_posts,
        portal_social,
        portal_templates,
    )

    app.add_template_global(csrf_token)
    app.register_blueprint(portal_auth.bp)
    app.register_blueprint(portal_partner.bp)
    app.register_blueprint(portal_marketer.bp)
    app.register_blueprint(portal_people.bp)
    app.register_blueprint(portal_social.bp)
    app.register_blueprint(portal_posts.bp)
    app.register_blueprint(portal_evergreen.bp)
    app.register_blueprint(portal_email.bp)
    app.register_blueprint(portal_experiments.bp)
    app.register_blueprint(portal_dashboards.bp)
    app.register_blueprint(portal_builder.bp)
    app.register_blueprint(portal_templates.bp)
