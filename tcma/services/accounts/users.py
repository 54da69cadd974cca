"""Users and their passwords (argon2id)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from campaigns.vocabulary import PARTNER_ROLES, ROLES
from tcma.errors import ConflictError, InvalidInput
from tcma.extensions import db
from tcma.models import User
from tcma.models.base import utcnow
from tcma.services.transaction import commit

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
PARTNER_ID_RULE = "required for roles partner and partner_admin, forbidden otherwise"


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


_UNKNOWN_USER_HASH: list[str] = []


def unknown_user_hash() -> str:
    """A real hash to check a password against when the email is unknown (same cost, no answer)."""
    if not _UNKNOWN_USER_HASH:
        _UNKNOWN_USER_HASH.append(_hasher.hash(secrets.token_urlsafe(16)))
    return _UNKNOWN_USER_HASH[0]


def password_matches(password_hash: str, password: str) -> bool:
    """True when `password` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str, field: str = "password") -> None:
    """Refuse a password too short to resist guessing (the field named)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password too short", {field: [f"at least {MIN_PASSWORD_LENGTH} characters"]})


def set_password(user: User, password: str, field: str = "password") -> None:
    """Give a user a new password (part of the caller's unit of work)."""
    check_password(password, field)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def create_user(email: str, password: str, role: str, partner_id: int | None = None) -> User:
    """Create a user (one use case: checks, writes, commits)."""
    user = add_user(email, password, role, partner_id)
    commit()
    return user


def add_user(email: str, password: str, role: str, partner_id: int | None = None) -> User:
    """Add a user to the current unit of work; refuses an unknown role, a short password or a taken email."""
    email = email.strip().lower()
    if role not in ROLES:
        raise InvalidInput("unknown role", {"role": [f"must be one of {', '.join(ROLES)}"]})
    if (role in PARTNER_ROLES) != (partner_id is not None):
        raise InvalidInput("a partner's user needs a partner, and only a partner's user has one",
                           {"partner_id": [PARTNER_ID_RULE]})
    check_password(password)
    taken = db.session.scalar(select(func.count()).where(User.email == email))
    if taken:
        raise ConflictError("email already registered", {"email": ["already registered"]})
    user = User(email=email, password_hash=hash_password(password), role=role, partner_id=partner_id)
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # registered concurrently
        raise ConflictError("email already registered", {"email": ["already registered"]}) from None
    return user
