"""Who is calling: password sign-in, API tokens (stored hashed, shown once, expiring, revocable)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import select, update

from campaigns.vocabulary import PARTNER_ROLES, ROLES, VENDOR_ROLES
from tcma.config import get_settings
from tcma.errors import InvalidInput, NotFoundError, PermissionDenied, TooManyAttempts
from tcma.extensions import db
from tcma.models import ApiToken, User
from tcma.models.base import utcnow
from tcma.ratelimit import AttemptCounter
from tcma.services.accounts.users import password_matches, unknown_user_hash
from tcma.services.tracking.bots import truncate_ip
from tcma.services.transaction import commit
from tcma.state import app_state

log = logging.getLogger(__name__)
TOKEN_PREFIX = "tcma_"
ANY_ROLE = ROLES  # every role a user may hold
SUSPENDED = "your partner's access to tcma is suspended; ask your vendor contact"
# Writing last_used_at on every request would turn every API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class Principal:
    """The caller as services see it: never a request, never a session."""

    user_id: int | None  # None: the operator at the command line
    role: str
    partner_id: int | None = None
    partner_active: bool = True  # False: the user's partner is suspended or archived

    @property
    def is_partner(self) -> bool:
        """A partner's user (partner or partner_admin): sees only their own partner's rows."""
        return self.role in PARTNER_ROLES

    @property
    def is_vendor(self) -> bool:
        return self.role in VENDOR_ROLES

    @classmethod
    def of(cls, user: User) -> Principal:
        active = user.partner is None or user.partner.status == "active"
        return cls(user.id, user.role, user.partner_id, active)


# The operator at the command line (and the demo tooling): a vendor admin with no user row.
OPERATOR = Principal(user_id=None, role="admin")


def hash_token(raw: str) -> str:
    """The stored form of a token (tokens are random, so a fast hash is enough)."""
    return hashlib.sha256(raw.encode()).hexdigest()


SIGN_IN_ATTEMPTS = 10  # failures per email within the window
CLIENT_ATTEMPTS = 100  # failures per client network (/24, /48) within the window


def sign_in(email: str, password: str, client_ip: str | None = None) -> User | None:
    """The active user with that email and password, or None.

    After SIGN_IN_ATTEMPTS failures for one email, or CLIENT_ATTEMPTS from one client network,
    within 15 minutes, attempts are refused (429) until the window passes. An unknown email
    costs the same password check as a wrong password, so timing tells nothing. The counters
    live in Redis when configured; when Redis is unreachable they are skipped (logged), so
    sign-in never fails because Redis is down.
    """
    email = email.strip().lower()
    state = app_state()
    client = truncate_ip(client_ip)
    if _count(state.sign_in_failures, email) >= SIGN_IN_ATTEMPTS:
        raise TooManyAttempts("too many failed sign-ins for this email; try again in 15 minutes")
    if client and _count(state.sign_in_clients, client) >= CLIENT_ATTEMPTS:
        raise TooManyAttempts("too many failed sign-ins from your network; try again in 15 minutes")
    user = db.session.scalar(select(User).where(User.email == email))
    matches = password_matches(user.password_hash if user else unknown_user_hash(), password)
    if user is None or not user.is_active or not matches:
        _add(state.sign_in_failures, email)
        if client:
            _add(state.sign_in_clients, client)
        return None
    guarded(state.sign_in_failures.clear, email)
    return user


def guarded(action, key: str, default: int = 0) -> int:
    """Run a counter action; when Redis is unreachable, log it and go on as if nothing was counted."""
    try:
        return action(key) or default
    except (RedisError, OSError) as exc:
        log.warning("attempt limits skipped: Redis is unreachable (%s)", exc)
        return default


def _count(counter: AttemptCounter, key: str) -> int:
    return guarded(counter.count, key)


def _add(counter: AttemptCounter, key: str) -> None:
    guarded(counter.add, key)


def user_by_id(user_id: int) -> User | None:
    """The user with that id, or None."""
    return db.session.get(User, user_id)


def principal_for_user(user_id: int | None) -> Principal | None:
    """The principal of a signed-in session's user, or None if gone or deactivated."""
    user = user_by_id(user_id) if user_id else None
    return Principal.of(user) if user and user.is_active else None


def issue_token(user_id: int, name: str, valid_days: int | None = None) -> tuple[str, ApiToken]:
    """Create a token valid for `valid_days` (the default when None); the raw value is returned once."""
    settings = get_settings()
    days = settings.token_default_days if valid_days is None else valid_days
    if not 1 <= days <= settings.token_max_days:
        raise InvalidInput(f"a token is valid for 1 to {settings.token_max_days} days",
                           {"expires_in_days": [f"from 1 to {settings.token_max_days}"]})
    if not name.strip():
        raise InvalidInput("a token needs a name", {"name": ["must not be empty"]})
    user = db.session.get(User, user_id)
    if user is not None and not Principal.of(user).partner_active:
        raise PermissionDenied(SUSPENDED)
    expires_at = utcnow() + timedelta(days=days)
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


def revoke_user_tokens(user_ids: list[int]) -> None:
    """Revoke every live token of these users (part of the caller's unit of work)."""
    if user_ids:
        db.session.execute(update(ApiToken).where(ApiToken.user_id.in_(user_ids),
                                                  ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
