"""Portal sessions kept on the server: the browser holds an opaque random id, nothing else.

A session row ends on logout, password change or reset, deactivation and partner suspension;
it also ends by itself after TCMA_SESSION_IDLE_MINUTES without a request and
TCMA_SESSION_MAX_HOURS after it began. Only the id's hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from tcma.config import get_settings
from tcma.extensions import db
from tcma.models import User, WebSession
from tcma.models.base import utcnow
from tcma.services.transaction import commit

# Recording every request's time would turn every page view into a write.
TOUCH_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class OpenSession:
    """A live session as a request sees it."""

    user_id: int | None
    data: dict[str, Any]
    stale: bool  # its last-seen time should be written again


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _live(row: WebSession | None) -> bool:
    if row is None or row.ended_at is not None:
        return False
    now = utcnow()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    return row.expires_at > now and row.last_seen_at + idle > now


def open_web_session(key: str) -> OpenSession | None:
    """The live session behind a cookie's id, or None (unknown, ended, idle too long, too old)."""
    if not key or len(key) > 100:
        return None
    row = db.session.scalar(select(WebSession).where(WebSession.key_hash == _hash(key)))
    if not _live(row):
        return None
    return OpenSession(row.user_id, dict(row.data or {}), utcnow() - row.last_seen_at > TOUCH_RESOLUTION)


def save_web_session(key: str | None, user_id: int | None, data: dict[str, Any], rotate: bool) -> str:
    """Store a session's data; a new session (or a rotation at sign-in) gets a new id. Returns the id."""
    now = utcnow()
    row = None
    if key is not None:
        row = db.session.scalar(select(WebSession).where(WebSession.key_hash == _hash(key)))
        if row is not None and not rotate and not _live(row):
            # Ended while this request ran (logout elsewhere, reset, deactivation): whatever the
            # request stores now goes into a fresh anonymous session, never back to the user.
            user_id, row = None, None
        elif row is not None and rotate:
            row.ended_at = row.ended_at or now
            row = None
    if row is None:
        key = secrets.token_urlsafe(32)
        row = WebSession(key_hash=_hash(key), created_at=now,
                         expires_at=now + timedelta(hours=get_settings().session_max_hours))
        db.session.add(row)
    row.user_id, row.data, row.last_seen_at = user_id, data, now
    commit()
    return key


def end_web_session(key: str | None) -> None:
    """End the session behind this id (logout)."""
    if key:
        db.session.execute(update(WebSession).where(WebSession.key_hash == _hash(key),
                                                    WebSession.ended_at.is_(None)).values(ended_at=utcnow()))
        commit()


def end_user_sessions(user_ids: list[int], keep_key: str | None = None) -> None:
    """End every session of these users but one (part of the caller's unit of work)."""
    if not user_ids:
        return
    stmt = update(WebSession).where(WebSession.user_id.in_(user_ids), WebSession.ended_at.is_(None))
    if keep_key:
        stmt = stmt.where(WebSession.key_hash != _hash(keep_key))
    db.session.execute(stmt.values(ended_at=utcnow()))


def end_partner_sessions(partner_id: int) -> list[int]:
    """End the sessions of every user of a partner; returns those users' ids (caller commits)."""
    user_ids = list(db.session.scalars(select(User.id).where(User.partner_id == partner_id)))
    end_user_sessions(user_ids)
    return user_ids


def purge_sessions() -> int:
    """Delete sessions that ended or expired more than a day ago; returns how many."""
    cutoff = utcnow() - timedelta(days=1)
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    done = db.session.execute(delete(WebSession).where(or_(
        WebSession.ended_at < cutoff, WebSession.expires_at < cutoff,
        WebSession.last_seen_at < cutoff - idle)))
    commit()
    return done.rowcount
