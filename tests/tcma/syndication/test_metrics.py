"""Published posts' numbers read back on a schedule (1 h, 6 h, 1 day, 3 days, 7 days, then never) from the
fake Mastodon, kept on the post and recorded as like / repost / reply events beside the clicks."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import Event, ScheduledPost, SocialAccount
from tcma.models.base import utcnow
from tcma.services.accounts.auth import OPERATOR
from tcma.services.syndication import scheduler
from tcma.services.syndication.metrics import due_posts, fetch_due_metrics
from tcma.services.syndication.plans import create_plan
from tcma.services.syndication.scheduler import run_pass
from tcma.services.tracking.stats import campaign_stats
from tests.support.apps import base_config
from tests.support.factories import make_partner, make_taxonomy
from tests.support.fake_networks import FakeMastodon

T0 = datetime(2027, 3, 9, 9, 0, tzinfo=UTC)  # when the posts went out (set on them after publishing)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def published(world):
    """The campaign's post published from both partners' accounts (New York, Berlin) at T0."""
    create_plan(OPERATOR, world["campaign"], name="Spring post", networks=["mastodon"], image_output="png",
                timing={"kind": "on_approval"})
    report = run_pass()  # auto-publishing accounts: both go out now
    assert (report.claimed, report.metrics) == (2, 0)
    ny_post, berlin_post = _posts()
    assert {ny_post.status, berlin_post.status} == {"published"}
    for post in (ny_post, berlin_post):
        post.published_at = T0
    db.session.commit()
    return {"campaign": world["campaign"], "ny": ny_post, "berlin": berlin_post}


def _posts() -> list[ScheduledPost]:
    return list(db.session.scalars(select(ScheduledPost).order_by(ScheduledPost.partner_id)))


def _engagement() -> list[tuple]:
    """The like / repost / reply events, as (uid, kind, partner, campaign, asset, channel, variant, data)."""
    rows = db.session.execute(select(Event.uid, Event.kind, Event.partner_id, Event.campaign_id,
                                     Event.asset_id, Event.channel, Event.variant, Event.data)
                              .where(Event.kind.in_(("like", "repost", "reply"))).order_by(Event.uid))
    return [tuple(row) for row in rows]


def _status_reads(fake: FakeMastodon, post: ScheduledPost) -> int:
    return fake.count(f"/api/v1/statuses/{post.external_id}")


def test_numbers_are_read_at_each_checkpoint_and_each_gain_becomes_one_event(published, fake):
    ny, berlin = published["ny"], published["berlin"]
    fake.set_metrics(berlin.external_id, likes=3, reposts=1, replies=2)

    assert fetch_due_metrics(now=T0 + 59 * timedelta(minutes=1)) == 0  # not an hour yet
    assert _status_reads(fake, berlin) == 0

    assert fetch_due_metrics(now=T0 + HOUR) == 2
    db.session.refresh(berlin)
    db.session.refresh(ny)
    assert (berlin.metrics, berlin.metrics_at) == ({"likes": 3, "reposts": 1, "replies": 2}, T0 + HOUR)
    assert (ny.metrics, ny.metrics_at) == ({"likes": 0, "reposts": 0, "replies": 0}, T0 + HOUR)
    b, campaign, asset = berlin.id, published["campaign"], berlin.asset_id
    partner, data = berlin.partner_id, {"post_id": berlin.id}
    first = [
        (f"post-{b}-like-1", "like", partner, campaign, asset, "mastodon", None, data),
        (f"post-{b}-like-2", "like", partner, campaign, asset, "mastodon", None, data),
        (f"post-{b}-like-3", "like", partner, campaign, asset, "mastodon", None, data),
        (f"post-{b}-reply-1", "reply", partner, campaign, asset, "mastodon", None, data),
        (f"post-{b}-reply-2", "reply", partner, campaign, asset, "mastodon", None, data),
        (f"post-{b}-repost-1", "repost", partner, campaign, asset, "mastodon", None, data),
    ]
    assert _engagement() == first

    # Read already: not due again before six hours.
    assert fetch_due_metrics(now=T0 + 5 * HOUR) == 0
    assert _status_reads(fake, berlin) == 1

    # Six hours: the same totals again record nothing new.
    assert fetch_due_metrics(now=T0 + 6 * HOUR) == 2
    assert _engagement() == first
    assert _status_reads(fake, berlin) == 2

    # A day: two more likes, one reply taken back (a decrease records nothing, its event stays).
    fake.set_metrics(berlin.external_id, likes=5, replies=1)
    assert fetch_due_metrics(now=T0 + DAY) == 2
    db.session.refresh(berlin)
    assert berlin.metrics == {"likes": 5, "reposts": 1, "replies": 1}
    assert _engagement() == sorted([
        *first,
        (f"post-{b}-like-4", "like", partner, campaign, asset, "mastodon", None, data),
        (f"post-{b}-like-5", "like", partner, campaign, asset, "mastodon", None, data),
    ])

    # The reply comes back: its rank was counted already, so nothing new.
    fake.set_metrics(berlin.external_id, replies=2)
    assert fetch_due_metrics(now=T0 + 3 * DAY) == 2
    assert fetch_due_metrics(now=T0 + 7 * DAY) == 2
    assert len(_engagement()) == 8
    assert _status_reads(fake, berlin) == 5

    # After seven days, never again.
    fake.set_metrics(berlin.external_id, likes=40)
    for later in (T0 + 7 * DAY + HOUR, T0 + 8 * DAY, T0 + 30 * DAY):
        assert fetch_due_metrics(now=later) == 0
    assert _status_reads(fake, berlin) == 5
    db.session.refresh(berlin)
    assert (berlin.metrics, berlin.metrics_at) == ({"likes": 5, "reposts": 1, "replies": 2}, T0 + 7 * DAY)

    # The campaign's stats show the likes by channel, beside the posts.
    stats = campaign_stats(OPERATOR, published["campaign"], group_by=("channel",))
    assert [(r["kind"], r["channel"], r["count"], r["bots"]) for r in stats.rows] == [
        ("like", "mastodon", 5, 0), ("post", "mastodon", 2, 0), ("reply", "mastodon", 2, 0),
        ("repost", "mastodon", 1, 0)]
    assert {kind: total["count"] for kind, total in stats.totals.items()} == {
        "like": 5, "post": 2, "reply": 2, "repost": 1}


def test_a_late_pass_reads_once_for_the_checkpoints_it_missed_and_a_missed_last_read_is_given_up(
        published, fake):
    ny, berlin = published["ny"], published["berlin"]
    ny.published_at = T0 - 2 * DAY  # its seven days end five days after T0, its grace a day later
    db.session.commit()

    assert due_posts(now=T0 + 4 * DAY) == [ny.id, berlin.id]
    assert fetch_due_metrics(now=T0 + 4 * DAY) == 2  # one read for 1 h, 6 h, 1 day and 3 days
    assert due_posts(now=T0 + 4 * DAY + HOUR) == []
    assert due_posts(now=T0 + 5 * DAY) == [ny.id]  # ny's seven days
    assert due_posts(now=T0 + 6 * DAY + timedelta(minutes=1)) == []  # ny missed it a day ago: given up
    assert due_posts(now=T0 + 7 * DAY) == [berlin.id]
    assert _status_reads(fake, ny) == 1 and _status_reads(fake, berlin) == 1


def test_a_deleted_post_keeps_its_numbers_says_why_and_is_not_read_again(published, fake):
    berlin = published["berlin"]
    fake.set_metrics(berlin.external_id, likes=2)
    assert fetch_due_metrics(now=T0 + HOUR) == 2
    fake.delete_post(berlin.external_id)

    assert fetch_due_metrics(now=T0 + 6 * HOUR) == 1  # New York's
    db.session.refresh(berlin)
    assert berlin.status == "published"
    assert berlin.error == (f"mastodon no longer gives this post's numbers: mastodon no longer has status "
                            f"{berlin.external_id} (answered 404: Record not found)")
    assert (berlin.metrics, berlin.metrics_at) == ({"likes": 2, "reposts": 0, "replies": 0}, T0 + 6 * HOUR)
    assert fetch_due_metrics(now=T0 + DAY) == 1
    assert _status_reads(fake, berlin) == 2
    assert [e[0] for e in _engagement()] == [f"post-{berlin.id}-like-1", f"post-{berlin.id}-like-2"]


def test_a_rate_limited_read_sends_nothing_more_and_is_made_on_a_later_pass(published, fake):
    ny, berlin = published["ny"], published["berlin"]
    ny.published_at = T0 - timedelta(minutes=1)  # read first
    db.session.commit()
    fake.set_metrics(berlin.external_id, likes=1)
    # Both partners' accounts are the same Mastodon account here: the limit holds them both.
    reset = utcnow().replace(microsecond=0) + timedelta(seconds=2)
    fake.fail_next(f"/api/v1/statuses/{ny.external_id}", 429, {"error": "Too many requests"},
                   {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000000Z")})

    assert fetch_due_metrics(now=T0 + HOUR) == 0
    assert (_status_reads(fake, ny), _status_reads(fake, berlin)) == (1, 0)  # berlin's read was held
    db.session.refresh(ny)
    db.session.refresh(berlin)
    assert (ny.metrics_at, berlin.metrics_at, ny.error, berlin.error) == (None, None, None, None)
    assert fetch_due_metrics(now=T0 + HOUR) == 0  # still held: nothing sent
    assert (_status_reads(fake, ny), _status_reads(fake, berlin)) == (1, 0)

    time.sleep(max(0.0, (reset - utcnow()).total_seconds()) + 0.2)
    assert fetch_due_metrics(now=T0 + HOUR) == 2
    assert (_status_reads(fake, ny), _status_reads(fake, berlin)) == (2, 1)
    assert [e[0] for e in _engagement()] == [f"post-{berlin.id}-like-1"]


def test_refused_credentials_ask_for_a_reconnect_and_such_accounts_are_skipped(published, fake):
    ny, berlin = published["ny"], published["berlin"]
    fake.fail_next(f"/api/v1/statuses/{berlin.external_id}", 401, {"error": "The access token was revoked"})

    assert fetch_due_metrics(now=T0 + HOUR) == 1  # New York's
    account = db.session.get(SocialAccount, berlin.social_account_id)
    assert account.state == "needs_reconnect"
    assert account.reconnect_reason == ("mastodon refused the credentials: mastodon answered 401: "
                                        "The access token was revoked")
    db.session.refresh(berlin)
    assert (berlin.metrics_at, berlin.error) == (None, None)

    assert due_posts(now=T0 + 6 * HOUR) == [ny.id]  # berlin's account needs reconnecting
    assert fetch_due_metrics(now=T0 + 6 * HOUR) == 1
    assert _status_reads(fake, berlin) == 1


def test_the_scheduler_pass_reads_due_numbers_last_and_a_failure_there_never_stops_claiming(
        published, fake, monkeypatch, caplog):
    fake.set_metrics(published["berlin"].external_id, likes=1)
    report = run_pass(now=T0 + HOUR)
    assert (report.claimed, report.metrics) == (0, 2)
    assert report.summary() == ("claimed 0 due posts, made 0 new posts, expired 0, released 0 lapsed claims, "
                                "reconciling 0, read the numbers of 2 published posts")

    def broken(now=None, limit=200):
        raise RuntimeError("the numbers are out of reach")

    monkeypatch.setattr(scheduler, "fetch_due_metrics", broken)
    create_plan(OPERATOR, published["campaign"], name="Second post", networks=["mastodon"],
                timing={"kind": "on_approval"})
    with caplog.at_level(logging.ERROR, logger="tcma.services.syndication.scheduler"):
        report = run_pass()
    assert (report.claimed, report.metrics) == (2, 0)
    assert caplog.messages == ["reading published posts' numbers failed; the next pass tries again"]
    assert len(fake.statuses) == 4


def test_due_numbers_are_found_on_sqlite_too(tmp_path):
    """The embedded setup (make demo): the schedule's date arithmetic in SQLite's terms, read through
    the dry-run connectors."""
    from tcma import create_app

    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/embedded.db"))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        partner = make_partner(make_taxonomy())
        account = SocialAccount(partner_id=partner.id, network="x", handle="@acme")
        db.session.add(account)
        db.session.flush()
        published = T0 + timedelta(microseconds=500_000)
        post = ScheduledPost(social_account_id=account.id, partner_id=partner.id, text="Spring offer",
                             scheduled_at=T0, status="published", idempotency_key="tcma-sqlite-1",
                             external_id="dryrun-0123456789abcdef0123", published_at=published)
        db.session.add(post)
        db.session.commit()

        assert due_posts(now=T0 + HOUR) == []  # half a second short
        assert due_posts(now=published + HOUR) == [post.id]
        assert fetch_due_metrics(now=published + HOUR) == 1
        db.session.refresh(post)
        assert (post.metrics, post.metrics_at) == ({"likes": 0, "reposts": 0, "replies": 0, "impressions": 0},
                                                  published + HOUR)
        assert due_posts(now=published + 6 * HOUR - timedelta(seconds=1)) == []
        assert due_posts(now=published + 6 * HOUR) == [post.id]
        assert due_posts(now=published + 8 * DAY + timedelta(seconds=1)) == []
        db.session.remove()
        db.engine.dispose()
