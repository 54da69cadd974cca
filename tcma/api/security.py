"""Request authentication for the API: Bearer tokens, or the portal's session cookie."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import abort, request, session

from campaigns.vocabulary import PARTNER_ROLES
from tcma.services.accounts.auth import ANY_ROLE as EVERY_ROLE
from tcma.services.accounts.auth import SUSPENDED, VENDOR_ROLES, Principal, principal_for_user, user_for_token


def current_principal() -> Principal | None:
    """The caller of this request, or None when anonymous (cached on the request)."""
    if "tcma.principal" in request.environ:
        return request.environ["tcma.principal"]
    principal = None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_token(header[7:].strip())
        principal = Principal.of(user) if user else None
    elif _session_may_write():
        principal = principal_for_user(getattr(session, "user_id", None))
    request.environ["tcma.principal"] = principal
    return principal


CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SIGN_IN = "sign in or send an API token (Authorization: Bearer ...)"
CSRF_MISSING = (f"a signed-in browser session may write through the API only with its CSRF token "
                f"in the {CSRF_HEADER} header")


def _session_may_write() -> bool:
    """A portal session may change things through the API only with its CSRF token in a header.

    A cross-site form can send the session cookie but cannot set headers, so without this a
    signed-in marketer's browser could be made to launch a campaign.
    """
    if request.method in SAFE_METHODS:
        return True
    sent, expected = request.headers.get(CSRF_HEADER, ""), session.get("csrf_token", "")
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def _refuse_anonymous() -> None:
    """401, or 403 naming the header when a signed-in session only lacks its CSRF token."""
    bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
    if not bearer and getattr(session, "user_id", None) and not _session_may_write():
        abort(403, description=CSRF_MISSING)
    abort(401, description=SIGN_IN)


def auth_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Answer 401 to anonymous callers and 403 to roles not in `roles` (any role if none)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                _refuse_anonymous()
            if not principal.partner_active:
                abort(403, description=SUSPENDED)
            if roles and principal.role not in roles:
                abort(403, description=f"this needs one of the roles: {', '.join(roles)}")
            return view(principal, *args, **kwargs)

        return wrapped

    return decorate


VENDOR = VENDOR_ROLES
PARTNER = PARTNER_ROLES
ANY_ROLE = EVERY_ROLE

