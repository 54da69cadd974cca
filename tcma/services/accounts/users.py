"""Users and their passwords (argon2id)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tcma.errors import ConflictError, InvalidInput
from tcma.extensions import db
from tcma.models import ROLES, User
from tcma.services.transaction import commit

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """True when `password` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
    if (role == "partner") != (partner_id is not None):
        raise InvalidInput("a partner user needs a partner, and only a partner user has one",
                          {"partner_id": ["required for role partner, forbidden otherwise"]})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password too short",
                          {"password": [f"at least {MIN_PASSWORD_LENGTH} characters"]})
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
