"""Syndicated posts end to end in one process: plan -> posts in each partner's zone -> scheduler pass
-> publish jobs (in-process) -> the fake Mastodon; each failure class, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import PostAttempt, ScheduledPost, SocialAccount
from tcma.models.base import utcnow
from tcma.services.accounts.auth import OPERATOR
from tcma.services.syndication.accounts import connect_account
from tcma.services.syndication.plans import cancel_plan, create_plan
from tcma.services.syndication.scheduler import run_pass
from tests.support.fake_networks import FakeMastodon


def _plan(world, **extra):
    values = {"name": "Spring post", "networks": ["mastodon"], "image_output": "png",
              "timing": {"kind": "local_time", "local": "2027-03-09T10:00"}}
    values.update(extra)
    return create_plan(OPERATOR, world["campaign"], **values)


def _posts():
    return list(db.session.scalars(select(ScheduledPost).order_by(ScheduledPost.partner_id)))


def test_a_plan_makes_one_post_per_account_due_at_ten_in_each_partners_zone(world):
    plan = _plan(world)
    ny, berlin = _posts()
    assert (ny.local_at, ny.time_zone, ny.scheduled_at) == (
        "2027-03-09T10:00", "America/New_York", datetime(2027, 3, 9, 15, 0, tzinfo=UTC))
    assert (berlin.local_at, berlin.scheduled_at) == (
        "2027-03-09T10:00", datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    assert {p.status for p in (ny, berlin)} == {"scheduled"}
    assert ny.plan_id == plan.id and ny.image_asset_id is not None
    # Planning again (a partner joined) adds nothing twice.
    from tcma.services.syndication.plans import fill_plan

    assert fill_plan(plan) == 0


def test_due_posts_are_published_once_with_their_image_and_tracked_link(world, fake):
    _plan(world)
    early = run_pass(now=datetime(2027, 3, 9, 8, 59, tzinfo=UTC))
    assert early.claimed == 0 and fake.statuses == []
    report = run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))  # 10:00 in Berlin, 04:00 in New York
    assert report.claimed == 1
    assert len(fake.statuses) == 1 and fake.statuses[0]["media_attachments"]
    berlin = _posts()[1]
    assert berlin.status == "published" and berlin.external_id == fake.statuses[0]["id"]
    assert "/l/" in berlin.text or "http" in berlin.text  # the partner's tracked link is in the text
    run_pass(now=datetime(2027, 3, 9, 15, 0, tzinfo=UTC))
    run_pass(now=datetime(2027, 3, 9, 16, 0, tzinfo=UTC))
    assert len(fake.statuses) == 2
    assert {p.status for p in _posts()} == {"published"}
    attempts = db.session.scalar(select(func.count()).select_from(PostAttempt))
    assert attempts == 2


def test_content_the_network_rejects_fails_at_once_with_its_reason(world, fake):
    _plan(world)
    fake.fail_next("/api/v1/statuses", 422, {"error": "Validation failed: Text character limit exceeded"})
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    berlin = _posts()[1]
    assert berlin.status == "failed"
    assert berlin.error.startswith("mastodon refused the post: ")
    assert "character limit" in berlin.error


def test_a_rate_limited_post_waits_for_the_reset_without_asking_again(world, fake):
    _plan(world)
    reset = datetime(2027, 3, 9, 9, 30, tzinfo=UTC)
    fake.fail_next("/api/v1/statuses", 429, {"error": "Too many requests"},
                   headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    berlin = _posts()[1]
    assert berlin.status == "scheduled" and berlin.next_attempt_at == reset
    calls = len(fake.calls)
    run_pass(now=datetime(2027, 3, 9, 9, 29, tzinfo=UTC))
    assert len(fake.calls) == calls  # nothing sent before the reset
    outcomes = list(db.session.scalars(select(PostAttempt.outcome)))
    assert outcomes == ["rate_limited"]


def test_a_temporary_failure_backs_off_then_publishes(world, fake):
    _plan(world)
    fake.fail_next("/api/v1/statuses", 503, {"error": "Service Unavailable"})
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    berlin = _posts()[1]
    assert berlin.status == "scheduled" and berlin.attempts == 1
    # Backed off about 30 s (+-25 % jitter) from the job's own clock.
    wait = berlin.next_attempt_at - utcnow()
    assert timedelta(seconds=15) < wait <= timedelta(seconds=38)
    assert berlin.error == "mastodon answered 503: Service Unavailable"
    run_pass(now=datetime(2027, 3, 9, 9, 1, tzinfo=UTC))
    db.session.refresh(berlin)
    assert berlin.status == "published" and len(fake.statuses) == 1


def test_revoked_credentials_hold_the_accounts_posts_and_ask_for_a_reconnect(world, fake):
    _plan(world)
    fake.fail_next("/api/v1/statuses", 401, {"error": "The access token was revoked"}, times=5)
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    berlin = _posts()[1]
    account = db.session.get(SocialAccount, berlin.social_account_id)
    assert berlin.status == "held" and account.state == "needs_reconnect"
    assert berlin.error.startswith("the account needs connecting again: ")


def test_no_answer_after_sending_is_reconciled_without_a_duplicate(world, fake):
    _plan(world)
    fake.slow_next("/api/v1/statuses", 1.0)  # the fake publishes, then answers past the timeout
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    berlin = _posts()[1]
    assert len(fake.statuses) == 1
    # Mastodon drops a resend of the same Idempotency-Key: the retry gets the same status back.
    run_pass(now=datetime(2027, 3, 9, 9, 1, tzinfo=UTC))
    db.session.refresh(berlin)
    assert berlin.status == "published" and len(fake.statuses) == 1
    outcomes = list(db.session.scalars(select(PostAttempt.outcome).order_by(PostAttempt.id)))
    assert outcomes[0] == "unknown_outcome" and outcomes[-1] in ("published", "reconciled")


def test_a_worker_lost_mid_publish_is_reconciled_not_sent_again(world, fake):
    _plan(world)
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    berlin = _posts()[1]
    assert len(fake.statuses) == 1
    # As if the worker died after the network accepted it, before recording it.
    berlin.status, berlin.external_id = "publishing", None
    berlin.claimed_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    run_pass(now=utcnow())
    db.session.refresh(berlin)
    assert berlin.status == "published" and len(fake.statuses) == 1
    assert list(db.session.scalars(select(PostAttempt.outcome).order_by(PostAttempt.id)))[-1] == "reconciled"


def test_posts_awaiting_approval_expire_at_their_time_and_a_cancelled_plan_sends_nothing(world, fake):
    plan = _plan(world, requires_approval=True)
    assert {p.status for p in _posts()} == {"awaiting_approval"}
    run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    assert [p.status for p in _posts()] == ["awaiting_approval", "expired"]
    cancel_plan(OPERATOR, plan.id)
    assert [p.status for p in _posts()] == ["cancelled", "expired"]
    run_pass(now=datetime(2027, 3, 9, 16, 0, tzinfo=UTC))
    assert fake.statuses == []


def test_a_partner_who_connects_later_gets_the_posts_still_to_come(world, fake):
    plan = _plan(world)
    db.session.delete(world["accounts"][0])
    db.session.commit()
    assert len(_posts()) == 1
    connect_account(OPERATOR, world["ny"].id, "mastodon",
                    {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN})
    report = run_pass(now=datetime(2027, 3, 9, 9, 0, tzinfo=UTC))
    assert report.filled == 1 and len(_posts()) == 2
    assert plan.id == _posts()[0].plan_id


def _newcomer_in_new_york(world, fake):
    db.session.delete(world["accounts"][0])
    db.session.commit()
    connect_account(OPERATOR, world["ny"].id, "mastodon",
                    {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN})


def test_a_partner_who_connects_after_berlins_time_but_before_new_yorks_still_gets_the_post(world, fake):
    plan = _plan(world)
    _newcomer_in_new_york(world, fake)
    from tcma.services.syndication.plans import fill_plan

    # 10:00 in Berlin has passed, 10:00 in New York (15:00 UTC) has not.
    assert fill_plan(plan, now=datetime(2027, 3, 9, 14, 59, tzinfo=UTC)) == 1
    assert [p.scheduled_at for p in _posts()][0] == datetime(2027, 3, 9, 15, 0, tzinfo=UTC)


def test_a_plan_whose_time_has_passed_in_every_zone_is_not_read_again_by_the_scheduler(world, fake):
    from sqlalchemy import event

    from tcma.services.syndication.plans import fill_plan

    plan = _plan(world)
    _newcomer_in_new_york(world, fake)
    db.session.refresh(plan)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        # 10:00 on 9 March is over everywhere (the last zone, UTC-12, reaches it at 22:00 UTC).
        made = fill_plan(plan, now=datetime(2027, 3, 10, 12, 0, tzinfo=UTC))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert made == 0 and statements == []
    assert len(_posts()) == 1


def test_tcma_scheduler_once_runs_one_pass_from_the_command_line(app, world, fake):
    _plan(world, timing={"kind": "on_approval"})
    posts = _posts()
    assert {p.status for p in posts} == {"scheduled"}  # auto-publish accounts: due at once
    result = app.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("claimed 2 due posts, made 0 new posts, expired 0")
    assert len(fake.statuses) == 2


def test_a_reconnect_releases_posts_held_for_the_account_but_not_those_held_for_a_person(world, fake):
    _plan(world)
    ny, berlin = _posts()
    berlin.status, berlin.approved_at = "held", utcnow()
    berlin.error = "mastodon may or may not have published it, and cannot tell (timeout): check the account"
    db.session.commit()
    fake.fail_next("/api/v1/accounts/verify_credentials", 401, {"error": "The access token was revoked"})
    from tcma.services.syndication.accounts import check_connection, update_account

    check_connection(OPERATOR, ny.social_account_id)
    db.session.refresh(ny)
    assert ny.status == "held" and ny.error.startswith("held until the account is connected again: ")
    connect_account(OPERATOR, world["ny"].id, "mastodon",
                    {"instance_url": fake.base_url, "access_token": FakeMastodon.TOKEN})
    db.session.refresh(ny)
    db.session.refresh(berlin)
    assert (ny.status, ny.error) == ("scheduled", None)
    assert berlin.status == "held"  # only a person may decide whether it went out
    # A paused account's held posts go back when it resumes, an approved one to approved.
    berlin.status, berlin.error = "held", "the account is paused"
    db.session.commit()
    update_account(OPERATOR, berlin.social_account_id, paused=True)
    update_account(OPERATOR, berlin.social_account_id, paused=False)
    db.session.refresh(berlin)
    assert berlin.status == "approved"


def test_a_chunk_sends_nothing_after_half_its_lease_and_puts_the_rest_back(app, world, fake, monkeypatch):
    """A slow chunk must not send a post whose lease a pass may find lapsed (and reconcile) meanwhile."""
    import dataclasses

    from tcma.connectors.limits import LimitedConnector
    from tcma.services.syndication import scheduler

    _plan(world, timing={"kind": "on_approval"})
    ids = [p.id for p in _posts()]
    for post in _posts():
        post.status = "claimed"
    db.session.commit()
    settings = app.extensions["tcma.settings"]
    app.extensions["tcma.settings"] = dataclasses.replace(settings, social_lease_seconds=60)
    clock = {"now": utcnow()}
    monkeypatch.setattr(scheduler, "utcnow", lambda: clock["now"])
    publish = LimitedConnector.publish

    def slow_publish(self, account, post):  # the network answers 31 s later (the test's clock)
        try:
            return publish(self, account, post)
        finally:
            clock["now"] += timedelta(seconds=31)

    monkeypatch.setattr(LimitedConnector, "publish", slow_publish)
    outcomes = scheduler.publish_posts(ids)  # the first send ends past half the lease (30 s)
    assert outcomes == {"published": 1, "deferred": 1}
    assert len(fake.statuses) == 1
    first, second = sorted(_posts(), key=lambda p: p.id)
    assert (first.status, second.status) == ("published", "scheduled")
    assert (second.attempts, second.claimed_until) == (0, None)  # put back untouched, nothing sent


def test_a_worker_keeps_its_connection_and_instance_facts_from_chunk_to_chunk(app, world, fake):
    """`tcma worker` keeps one publishing connector per network: the second chunk neither reads the
    instance again nor opens a new connection, and the kept connector stays open after the job."""
    from tcma.services.syndication import scheduler
    from tcma.state import app_state

    _plan(world, timing={"kind": "on_approval"})
    first, second = (p.id for p in _posts())
    for post in _posts():
        post.status = "claimed"
    db.session.commit()

    app_state().keep_connectors()
    kept, close = app_state().publisher("mastodon")
    assert close is False and app_state().publisher("mastodon")[0] is kept
    assert scheduler.publish_posts([first]) == {"published": 1}
    assert scheduler.publish_posts([second]) == {"published": 1}

    assert fake.count("/api/v2/instance") == 1  # read once, for both chunks
    assert fake.count("/api/v1/statuses") == 2
    assert app_state().publisher("mastodon")[0] is kept and not kept.connector.client.is_closed
    kept.close()


def test_without_a_kept_connector_each_chunk_closes_its_own(app, world, fake):
    from tcma.services.syndication import scheduler
    from tcma.state import app_state

    connector, close = app_state().publisher("mastodon")
    assert close is True and app_state().publisher("mastodon")[0] is not connector
    connector.close()
    _plan(world, timing={"kind": "on_approval"})
    ids = [p.id for p in _posts()]
    for post in _posts():
        post.status = "claimed"
    db.session.commit()
    assert scheduler.publish_posts(ids[:1]) == {"published": 1}
    assert scheduler.publish_posts(ids[1:]) == {"published": 1}
    assert fake.count("/api/v2/instance") == 2  # a new connector per chunk reads the instance again


def test_a_plans_posts_are_counted_by_network_and_state_in_one_answer(world):
    from tcma.services.syndication.posts import counts_by_network

    plan = _plan(world)
    ny, _ = _posts()
    ny.status = "failed"
    db.session.commit()
    assert counts_by_network(OPERATOR, plan.id) == {("mastodon", "scheduled"): 1, ("mastodon", "failed"): 1}


def test_a_chunks_rate_limits_are_read_a_slice_at_a_time(app, world, fake, monkeypatch):
    """A chunk takes longer than a read of the limits answers for (about a second): each slice of
    posts reads its accounts' limits in one round trip just before it is sent."""
    from tcma.connectors.limits import LimitedConnector
    from tcma.services.syndication import scheduler

    _plan(world, timing={"kind": "on_approval"})
    ids = [p.id for p in _posts()]
    for post in _posts():
        post.status = "claimed"
    db.session.commit()
    reads, prepare = [], LimitedConnector.prepare

    def counted(self, accounts):
        accounts = list(accounts)
        reads.append(sorted(a.handle for a in accounts))
        return prepare(self, accounts)

    monkeypatch.setattr(LimitedConnector, "prepare", counted)
    monkeypatch.setattr(scheduler, "PREFETCH_SLICE", 1)
    assert scheduler.publish_posts(ids) == {"published": 2}
    handles = sorted(a.handle for a in world["accounts"])
    assert sorted(reads) == [[handles[0]], [handles[1]]]


def test_a_chunk_of_publications_is_recorded_without_waiting_for_the_disk_and_a_failure_is_not(
        app, world, fake):
    """Losing the record of publications in a crash is repaired (the posts stay `publishing` and
    are found on the account); a failure's record is not repaired that way, so it waits for the disk."""
    from tcma.services.syndication import scheduler
    from tests.support.statements import recorded_statements

    _plan(world, timing={"kind": "on_approval"})
    first, second = sorted(p.id for p in _posts())
    for post in _posts():
        post.status = "claimed"
    db.session.commit()
    relaxed = "SET LOCAL synchronous_commit TO OFF"
    with recorded_statements() as seen:
        assert scheduler.publish_posts([first]) == {"published": 1}
    assert seen.count(relaxed) == 1
    fake.fail_next("/api/v1/statuses", 422, {"error": "Validation failed: Text is too long"})
    with recorded_statements() as seen:
        assert scheduler.publish_posts([second]) == {"failed": 1}
    assert relaxed not in seen
