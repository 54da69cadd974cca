"""The people of a programme: who may see, deactivate and reactivate whom.

A vendor admin manages everyone; a marketer manages partners' users; a partner admin manages
the colleagues of their own partner (another partner's users answer 404); a partner user
manages nobody. Nobody deactivates themselves. A deactivated user's sessions end at once and
their tokens stop working.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from campaigns.vocabulary import PARTNER_ROLES
from tcma.errors import ConflictError, NotFoundError, PermissionDenied
from tcma.extensions import db
from tcma.models import Partner, User
from tcma.services.accounts.auth import Principal, revoke_user_tokens
from tcma.services.accounts.sessions import end_partner_sessions, end_user_sessions
from tcma.services.transaction import commit


def _visible(principal: Principal):
    if principal.role == "admin":
        return select(User)
    if principal.role == "marketer":
        return select(User).where(User.role.in_(PARTNER_ROLES))
    if principal.role == "partner_admin":
        return select(User).where(User.partner_id == principal.partner_id)
    raise PermissionDenied("your account cannot manage people")


def list_users(principal: Principal, page: int, per_page: int) -> tuple[list[User], int]:
    """The users the caller manages, by email."""
    stmt = _visible(principal)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(User.email).limit(per_page).offset((page - 1) * per_page)
                              .options(selectinload(User.partner)))  # one query, not one per user
    return list(rows), total


def partner_choices(principal: Principal, limit: int) -> list[tuple[int, str]]:
    """The invite form's partners for vendor staff: the first `limit` active ones by id, as (id,
    name) rows only (no partner objects, brand kits or count: 10,000 partners made this the page's
    slowest part)."""
    if principal.is_partner:
        return []
    return list(db.session.execute(select(Partner.id, Partner.name).where(Partner.status == "active")
                                   .order_by(Partner.id).limit(limit)))


def get_user(principal: Principal, user_id: int) -> User:
    """One user the caller manages (404 for anyone else)."""
    user = db.session.scalar(_visible(principal).where(User.id == user_id))
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    return user


def set_user_active(principal: Principal, user_id: int, active: bool) -> User:
    """Deactivate (sessions end, tokens stop working) or reactivate a user the caller manages."""
    user = get_user(principal, user_id)
    if user.id == principal.user_id:
        raise ConflictError("you cannot deactivate or reactivate yourself")
    user.is_active = active
    if not active:
        end_user_sessions([user.id])
    commit()
    return user


def suspend_partner_access(partner_id: int) -> None:
    """A partner left active use: end its users' sessions and revoke their tokens (caller commits)."""
    revoke_user_tokens(end_partner_sessions(partner_id))


def get_user_by_email(principal: Principal, email: str) -> User:
    """A user the caller manages, by email (404 for anyone else)."""
    user = db.session.scalar(_visible(principal).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"no user with email {email.strip().lower()!r}")
    return user
