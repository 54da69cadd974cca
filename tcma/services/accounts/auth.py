"""Who is calling: password sign-in, API tokens (stored hashed, shown once, revocable)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from tcma.errors import InvalidInput, NotFoundError, TooManyAttempts
from tcma.extensions import db
from tcma.models import ROLES, ApiToken, User
from tcma.models.base import utcnow
from tcma.services.accounts.users import password_matches
from tcma.services.transaction import commit
from tcma.state import app_state

TOKEN_PREFIX = "tcma_"
VENDOR_ROLES = ("admin", "marketer")
ANY_ROLE = ROLES  # every role a user may hold
# Writing last_used_at on every request would turn every API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class Principal:
    """The caller as services see it: never a request, never a session."""

    user_id: int | None  # None: the operator at the command line
    role: str
    partner_id: int | None = None

    @property
    def is_partner(self) -> bool:
        return self.role == "partner"

    @property
    def is_vendor(self) -> bool:
        return self.role in VENDOR_ROLES

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(user.id, user.role, user.partner_id)


# The operator at the command line (and the demo tooling): a vendor admin with no user row.
OPERATOR = Principal(user_id=None, role="admin")


def hash_token(raw: str) -> str:
    """The stored form of a token (tokens are random, so a fast hash is enough)."""
    return hashlib.sha256(raw.encode()).hexdigest()


SIGN_IN_ATTEMPTS = 10
SIGN_IN_WINDOW = 900  # seconds


def sign_in(email: str, password: str) -> User | None:
    """The active user with that email and password, or None.

    After SIGN_IN_ATTEMPTS failures for one email within SIGN_IN_WINDOW, every attempt is
    refused (429) until the window passes: password guessing stays slow.
    """
    email = email.strip().lower()
    failures = app_state().sign_in_failures
    if failures.count(email) >= SIGN_IN_ATTEMPTS:
        raise TooManyAttempts("too many failed sign-ins for this email; try again in 15 minutes")
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active or not password_matches(user.password_hash, password):
        failures.add(email)
        return None
    failures.clear(email)
    return user


def user_by_id(user_id: int) -> User | None:
    """The user with that id, or None."""
    return db.session.get(User, user_id)


def principal_for_user(user_id: int | None) -> Principal | None:
    """The principal of a signed-in session's user, or None if gone or deactivated."""
    user = user_by_id(user_id) if user_id else None
    return Principal.of(user) if user and user.is_active else None


def issue_token(user_id: int, name: str, valid_days: int | None = None) -> tuple[str, ApiToken]:
    """Create a token (valid for `valid_days`, or until revoked); the raw value is returned once."""
    expires_at = utcnow() + timedelta(days=valid_days) if valid_days else None
    if not name.strip():
        raise InvalidInput("a token needs a name", {"name": ["must not be empty"]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user_id, name=name.strip(), token_hash=hash_token(raw),
                     prefix=raw[: len(TOKEN_PREFIX) + 6], expires_at=expires_at)
    db.session.add(token)
    commit()
    return raw, token


def user_for_token(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None if unknown, revoked or expired."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    now = utcnow()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        commit()
    return token.user


def list_tokens(principal: Principal) -> list[ApiToken]:
    """The caller's own tokens, newest first."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == principal.user_id).order_by(ApiToken.id.desc())
    ))


def revoke_token(principal: Principal, token_id: int) -> ApiToken:
    """Revoke one of the caller's tokens (admins may revoke anyone's)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != principal.user_id and principal.role != "admin"):
        raise NotFoundError("no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        commit()
    return token
