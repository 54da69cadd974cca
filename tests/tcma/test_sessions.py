"""Server-side portal sessions: idle and absolute timeouts, ending, purging."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from tcma.extensions import db
from tcma.models import WebSession
from tcma.models.base import utcnow
from tcma.services.accounts.sessions import (
    end_user_sessions,
    end_web_session,
    open_web_session,
    purge_sessions,
    save_web_session,
)
from tests.support.factories import make_user


def _age(**moved) -> None:
    db.session.execute(update(WebSession).values(**moved))
    db.session.commit()


def test_a_session_lives_until_idle_for_the_idle_timeout(app):
    user, _ = make_user("marketer")
    key = save_web_session(None, user.id, {"csrf_token": "t"}, rotate=False)
    found = open_web_session(key)
    assert (found.user_id, found.data) == (user.id, {"csrf_token": "t"})
    _age(last_seen_at=utcnow() - timedelta(minutes=119))
    assert open_web_session(key) is not None
    _age(last_seen_at=utcnow() - timedelta(minutes=121))  # TCMA_SESSION_IDLE_MINUTES: 120
    assert open_web_session(key) is None


def test_a_session_ends_at_its_absolute_limit_however_busy(app):
    user, _ = make_user("marketer")
    key = save_web_session(None, user.id, {}, rotate=False)
    row = db.session.scalar(select(WebSession))
    assert timedelta(hours=167, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=168)
    _age(expires_at=utcnow() - timedelta(seconds=1))
    assert open_web_session(key) is None


def test_rotation_ends_the_old_id_and_ending_a_user_ends_all_but_one(app):
    user, _ = make_user("marketer")
    first = save_web_session(None, user.id, {}, rotate=False)
    second = save_web_session(first, user.id, {}, rotate=True)
    assert second != first and open_web_session(first) is None and open_web_session(second) is not None
    third = save_web_session(None, user.id, {}, rotate=False)
    end_user_sessions([user.id], keep_key=third)
    db.session.commit()
    assert open_web_session(second) is None and open_web_session(third) is not None
    end_web_session(third)
    assert open_web_session(third) is None
    assert open_web_session("") is None and open_web_session("x" * 101) is None


def test_purging_removes_only_sessions_over_a_day_past_their_end(app):
    user, _ = make_user("marketer")
    old, recent, live = (save_web_session(None, user.id, {}, rotate=False) for _ in range(3))
    end_web_session(old)
    end_web_session(recent)
    db.session.execute(update(WebSession).where(WebSession.ended_at.is_not(None), WebSession.id == 1)
                       .values(ended_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    assert purge_sessions() == 1
    assert db.session.scalar(select(func.count()).select_from(WebSession)) == 2
    assert open_web_session(live) is not None
