"""Passwords: reset by mail (single use, expiring, silent about unknown addresses) and change.

A reset link is signed with the time it was made and a fingerprint of the password it
replaces: it expires after TCMA_PASSWORD_RESET_VALID_MINUTES, and once the password changed,
every earlier link stops working. A reset or a change ends the user's other sessions.
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from tcma.config import get_settings
from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.mail import OutgoingMail
from tcma.models import User
from tcma.services.accounts.auth import Principal, guarded
from tcma.services.accounts.sessions import end_user_sessions
from tcma.services.accounts.users import password_matches, set_password
from tcma.services.sending.mail import composer, queue_mail
from tcma.services.transaction import commit
from tcma.state import app_state

INVALID_LINK = "this password reset link is not valid: it was already used or replaced"


RESETS_PER_HOUR = 3  # reset mails one address receives at most, however often it is asked


def request_password_reset(email: str) -> None:
    """Mail a reset link to the active user with this email; says nothing either way."""
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        return
    resets = app_state().password_resets
    if guarded(resets.count, email) >= RESETS_PER_HOUR:
        return  # nobody can flood a mailbox with reset links
    guarded(resets.add, email)
    queue_mail("password_reset", user.id, user.email)
    commit()


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt="tcma-password-reset")


def reset_token(user: User) -> str:
    """The token in a reset link for the user's current password."""
    return _signer().dumps([user.id, _fingerprint(user)])


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link; ends every session of the user."""
    user = check_reset_token(token)
    set_password(user, password)
    end_user_sessions([user.id])
    commit()
    return user


def check_reset_token(token: str) -> User:
    """The user a reset link is for, without using it; InvalidInput says what is wrong with it."""
    max_age = get_settings().password_reset_valid_minutes * 60
    try:
        user_id, fingerprint = _signer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidInput("this password reset link has expired; ask for a new one",
                           {"token": ["expired"]}) from None
    except (BadSignature, ValueError, TypeError):
        raise InvalidInput(INVALID_LINK, {"token": ["not valid"]}) from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or fingerprint != _fingerprint(user):
        raise InvalidInput(INVALID_LINK, {"token": ["not valid"]})
    return user


def change_password(principal: Principal, current: str, new: str, session_key: str | None = None) -> None:
    """Change the caller's own password; their other sessions end (this one, if given, stays)."""
    user = db.session.get(User, principal.user_id)
    if user is None or not password_matches(user.password_hash, current):
        raise InvalidInput("the current password is wrong", {"current_password": ["wrong password"]})
    set_password(user, new, field="new_password")
    end_user_sessions([user.id], keep_key=session_key)
    commit()


@composer("password_reset")
def compose_reset(user_id: int, message_id: str) -> OutgoingMail | None:
    """The reset mail with a link for the user's current password (None if deactivated)."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    link = f"{get_settings().public_url}/password-reset/{reset_token(user)}"
    minutes = get_settings().password_reset_valid_minutes
    text = ("Hello,\n\nsomeone asked to reset the password of your tcma account.\n\n"
            f"Choose a new password here (the link works once, for {minutes} minutes):\n{link}\n\n"
            "If it was not you, ignore this message: your password stays as it is.\n")
    html = ("<p>Hello,</p><p>someone asked to reset the password of your tcma account.</p>"
            f"<p><a href=\"{link}\">Choose a new password</a> "
            f"(the link works once, for {minutes} minutes).</p>"
            "<p>If it was not you, ignore this message: your password stays as it is.</p>")
    return OutgoingMail(to=[user.email], subject="Reset your tcma password", text=text, html=html,
                        message_id=message_id)
