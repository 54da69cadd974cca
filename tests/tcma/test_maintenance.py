"""The maintenance pass: lost mail, stalled renders, old sessions, one pass per period, the command."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tcma.extensions import db
from tcma.models import Asset, JobOutbox, OutboundMail, WebSession
from tcma.models.base import utcnow
from tcma.queue import get_queue
from tcma.services.accounts.passwords import request_password_reset
from tcma.services.accounts.sessions import end_web_session, save_web_session
from tcma.services.catalogue.templates import get_version, import_catalogue
from tcma.services.maintenance import run_maintenance, run_maintenance_if_due
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.launch import work
from tests.support.redis_db import flush_claimed_db

REDIS_DOWN = "redis://127.0.0.1:1/0"


def test_mail_whose_job_redis_lost_is_enqueued_again_once(rq_app, redis_client):
    user, _ = make_user("marketer")
    request_password_reset(user.email)
    flush_claimed_db(redis_client)  # Redis lost its data (a restart without persistence)
    mail = db.session.scalars(select(OutboundMail)).one()
    db.session.execute(update(OutboundMail).values(created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()

    assert run_maintenance().mail == 1
    assert run_maintenance().mail == 0  # its job waits in rq now: not enqueued twice
    work()
    db.session.expire_all()
    assert db.session.get(OutboundMail, mail.id).status == "sent"


def test_fresh_mail_is_left_to_the_job_enqueued_with_it(rq_app):
    user, _ = make_user("marketer")
    request_password_reset(user.email)
    assert run_maintenance().mail == 0


def test_a_stalled_render_is_enqueued_again_once_and_renders(rq_app):
    partner = make_partner(make_taxonomy())
    import_catalogue()
    stale = Asset(partner_id=partner.id, template_version_id=get_version("social-card").id, output="png",
                  fields={}, status="running", updated_at=utcnow() - timedelta(hours=1))
    db.session.add(stale)
    db.session.commit()
    assert run_maintenance().assets == 1
    assert db.session.get(Asset, stale.id).status == "queued"  # back in line, with its job
    assert run_maintenance().assets == 0  # the next period does not pile up another job
    work()
    db.session.expire_all()
    assert db.session.get(Asset, stale.id).status == "done"


def test_the_pass_purges_sessions_over_a_day_past_their_end(rq_app):
    user, _ = make_user("marketer")
    old, live = (save_web_session(None, user.id, {}, rotate=False) for _ in range(2))
    end_web_session(old)
    db.session.execute(update(WebSession).where(WebSession.ended_at.is_not(None))
                       .values(ended_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    assert run_maintenance().sessions == 1
    assert len(db.session.scalars(select(WebSession)).all()) == 1


def test_one_pass_per_period_whatever_the_number_of_workers(rq_app):
    assert run_maintenance_if_due(60) is not None
    assert run_maintenance_if_due(60) is None  # another worker's thread, the same period
    assert get_queue().redis.pttl("tcma:maintenance:last-pass") > 55_000


def test_a_step_that_fails_does_not_stop_the_others(rq_app, make_app):
    user, _ = make_user("marketer")
    key = save_web_session(None, user.id, {}, rotate=False)
    end_web_session(key)
    request_password_reset(user.email)  # a mail to check on, and a job left in the outbox
    long_ago = utcnow() - timedelta(days=2)
    db.session.execute(update(WebSession).values(ended_at=long_ago))
    db.session.execute(update(OutboundMail).values(created_at=long_ago))
    db.session.execute(update(JobOutbox).values(created_at=long_ago, enqueued_at=None))
    db.session.commit()
    with make_app(DATABASE_URL=rq_app.config["DATABASE_URL"], REDIS_URL=REDIS_DOWN).app_context():
        report = run_maintenance()
    assert set(report.errors) == {"outbox", "mail"}  # both need Redis
    assert report.sessions == 1
    assert "outbox failed" in report.summary()


def test_the_maintenance_command_runs_one_pass(rq_app):
    result = rq_app.test_cli_runner().invoke(args=["maintenance", "--once"])
    assert result.exit_code == 0, result.output
    assert "recovered 0 assets" in result.output and "failed" not in result.output
