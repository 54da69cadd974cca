"""People pages: the team (users, invitations, invite form), accepting an invitation,
resetting a forgotten password and changing one's own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, request, session, url_for

from campaigns.vocabulary import PARTNER_ROLES
from tcma.config import get_settings
from tcma.errors import DomainError
from tcma.schemas.common import MAX_PAGE
from tcma.services.accounts import invitations, passwords, team
from tcma.services.accounts.auth import Principal, user_by_id
from tcma.services.accounts.invitations import (  # the service's own rule, not a copy
    roles_invitable_by,
)
from tcma.services.accounts.users import MIN_PASSWORD_LENGTH
from tcma.web.portal import (
    current_principal,
    home_for,
    page,
    page_count,
    page_required,
    portal_blueprint,
    sign_in_session,
)

bp = portal_blueprint("portal_people", __name__)
MANAGERS = ("admin", "marketer", "partner_admin")
PER_PAGE = 50
PARTNER_CHOICES = 500  # the picker lists this many active partners, by id
MISMATCH = "the two passwords differ; type the same one twice"


def _form_errors(exc: DomainError, fields: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """A refusal's messages: the ones about a form field by field name, and the others."""
    by_field = {key: "; ".join(messages) if isinstance(messages, list) else str(messages)
                for key, messages in exc.errors.items() if key in fields}
    return by_field, [] if by_field and len(by_field) == len(exc.errors) else [exc.message]


def _link_refused(exc: DomainError, kind: str):
    """The page for an invitation or reset link that cannot be used, and no form."""
    expired = exc.errors.get("token") == ["expired"]
    status = 410 if expired else 400 if exc.status == 422 else exc.status
    return page("portal/link_refused.html", status, kind=kind, message=exc.message, expired=expired)


def _typed_twice(name: str) -> str | None:
    """The password in field `name` and its repeat, or None when the two differ."""
    first = request.form.get(name, "")
    return first if first == request.form.get(f"{name}_repeat", "") else None


# --- Team -----------------------------------------------------------------------------

def _back(user_id: int) -> str:
    """Back to the page the button was on: the user's own page or the team list."""
    if request.form.get("back") == "user":
        return url_for("portal_people.user_page", user_id=user_id)
    return url_for("portal_people.team_page")


def _team_page(principal: Principal, status: int = 200, form: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, messages: list[str] | None = None):
    """The team page, with the invite form as submitted and its errors when it was refused."""
    page_number = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    users, total = team.list_users(principal, page_number, PER_PAGE)
    partners = team.partner_choices(principal, PARTNER_CHOICES)
    return page("portal/team.html", status, users=users, total=total, page_number=page_number,
                pages=page_count(total, PER_PAGE), pending=invitations.list_invitations(principal),
                roles=roles_invitable_by(principal), partners=partners, partner_roles=PARTNER_ROLES,
                form=form or {}, errors=errors or {}, messages=messages or [], now=datetime.now(UTC),
                me=user_by_id(principal.user_id), valid_hours=get_settings().invitation_valid_hours)


@bp.get("/portal/team")
@page_required(*MANAGERS)
def team_page(principal: Principal):
    """The users the caller manages, the pending invitations and the invite form."""
    return _team_page(principal)


@bp.get("/portal/team/users/<int:user_id>")
@page_required(*MANAGERS)
def user_page(principal: Principal, user_id: int):
    """One user the caller manages (404 for anyone else)."""
    return page("portal/team_user.html", user=team.get_user(principal, user_id))


@bp.post("/portal/team/invitations")
@page_required(*MANAGERS)
def invite(principal: Principal):
    """Invite someone by mail; refused values are shown beside their fields."""
    form = {name: request.form.get(name, "").strip() for name in ("email", "role", "partner_id")}
    partner_id = int(form["partner_id"]) if form["partner_id"].isdigit() else None
    if principal.is_partner or form["role"] not in PARTNER_ROLES:
        partner_id = None  # a partner admin invites into their own partner; vendor roles have none
    try:
        invitation = invitations.invite_user(principal, form["email"], form["role"], partner_id)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        errors, messages = _form_errors(exc, ("email", "role", "partner_id"))
        return _team_page(principal, 422, form, errors, messages)
    flash(f"Invitation sent to {invitation.email}.")
    return redirect(url_for("portal_people.team_page"))


@bp.post("/portal/team/invitations/<int:invitation_id>/withdraw")
@page_required(*MANAGERS)
def withdraw(principal: Principal, invitation_id: int):
    """Withdraw a pending invitation: its link stops working."""
    invitation = invitations.withdraw_invitation(principal, invitation_id)
    flash(f"The invitation to {invitation.email} was withdrawn; its link no longer works.")
    return redirect(url_for("portal_people.team_page"))


@bp.post("/portal/team/users/<int:user_id>/deactivate")
@page_required(*MANAGERS)
def deactivate(principal: Principal, user_id: int):
    """Deactivate a user: they are signed out everywhere and cannot sign in."""
    user = team.set_user_active(principal, user_id, False)
    flash(f"{user.email} is deactivated and was signed out everywhere.")
    return redirect(_back(user_id))


@bp.post("/portal/team/users/<int:user_id>/reactivate")
@page_required(*MANAGERS)
def reactivate(principal: Principal, user_id: int):
    """Let a deactivated user sign in again."""
    user = team.set_user_active(principal, user_id, True)
    flash(f"{user.email} can sign in again.")
    return redirect(_back(user_id))


# --- Accepting an invitation ---------------------------------------------------------------

def _invitation_page(token: str, status: int = 200, errors: dict[str, str] | None = None,
                     messages: list[str] | None = None):
    try:
        invitation = invitations.open_invitation(token)
    except DomainError as exc:
        return _link_refused(exc, "invitation")
    return page("portal/invitation.html", status, invitation=invitation, token=token,
                min_length=MIN_PASSWORD_LENGTH, errors=errors or {}, messages=messages or [])


@bp.get("/invitations/<token>")
def invitation(token: str):
    """Who is invited, in which role and partner, and the form to choose a password."""
    return _invitation_page(token)


@bp.post("/invitations/<token>")
def accept(token: str):
    """Create the account with the chosen password, sign it in and go to its home page."""
    password = _typed_twice("password")
    if password is None:
        return _invitation_page(token, 422, {"password_repeat": MISMATCH})
    try:
        user = invitations.accept_invitation(token, password)
    except DomainError as exc:
        if "password" not in exc.errors:
            return _link_refused(exc, "invitation")
        return _invitation_page(token, 422, *_form_errors(exc, ("password",)))
    sign_in_session(user.id)
    flash("Welcome to tcma: your account is ready.")
    return redirect(home_for(current_principal()))


# --- Password reset and change -------------------------------------------------------------

@bp.get("/password-reset")
def password_reset():
    """Ask for a password reset link by email."""
    return page("portal/password_reset.html", email="")


@bp.post("/password-reset")
def password_reset_submit():
    """Mail a reset link if the address has an account; the answer is the same either way."""
    passwords.request_password_reset(request.form.get("email", ""))
    return page("portal/password_reset_sent.html", minutes=get_settings().password_reset_valid_minutes)


def _new_password_page(token: str, status: int = 200, errors: dict[str, str] | None = None,
                       messages: list[str] | None = None):
    return page("portal/password_new.html", status, token=token, min_length=MIN_PASSWORD_LENGTH,
                errors=errors or {}, messages=messages or [])


@bp.get("/password-reset/<token>")
def new_password(token: str):
    """The form to choose a new password from a reset link (a used or expired link says so at once)."""
    try:
        passwords.check_reset_token(token)
    except DomainError as exc:
        return _link_refused(exc, "password reset")
    return _new_password_page(token)


@bp.post("/password-reset/<token>")
def new_password_submit(token: str):
    """Set the new password (every session of the account ends) and go to the sign-in form."""
    password = _typed_twice("password")
    if password is None:
        return _new_password_page(token, 422, {"password_repeat": MISMATCH})
    try:
        passwords.reset_password(token, password)
    except DomainError as exc:
        if "password" not in exc.errors:
            return _link_refused(exc, "password reset")
        return _new_password_page(token, 422, *_form_errors(exc, ("password",)))
    flash("Your password was changed; sign in with the new one.")
    return redirect(url_for("portal_auth.login"))


def _account_page(principal: Principal, status: int = 200, errors: dict[str, str] | None = None,
                  messages: list[str] | None = None):
    return page("portal/account.html", status, user=user_by_id(principal.user_id),
                min_length=MIN_PASSWORD_LENGTH, errors=errors or {}, messages=messages or [])


@bp.get("/portal/account")
@page_required()
def account(principal: Principal):
    """Who the caller is, and the form to change their password."""
    return _account_page(principal)


@bp.post("/portal/account/password")
@page_required()
def change_password(principal: Principal):
    """Change the caller's password; their other sessions end, this one stays."""
    new = _typed_twice("new_password")
    if new is None:
        return _account_page(principal, 422, {"new_password_repeat": MISMATCH})
    try:
        passwords.change_password(principal, request.form.get("current_password", ""), new,
                                  session_key=session.key)
    except DomainError as exc:
        return _account_page(principal, 422, *_form_errors(exc, ("current_password", "new_password")))
    flash("Your password was changed. Any other browser signed in to your account was signed out.")
    return redirect(url_for("portal_people.account"))
