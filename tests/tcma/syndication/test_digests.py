"""Partners' users get one digest mail of the posts awaiting their approval, not one per post."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import ScheduledPost
from tcma.models.base import utcnow
from tcma.services.accounts.auth import OPERATOR
from tcma.services.accounts.users import create_user
from tcma.services.syndication.digests import queue_approval_digests
from tcma.services.syndication.plans import create_plan


def _plan(world, name, local="2027-03-09T10:00"):
    return create_plan(OPERATOR, world["campaign"], name=name, networks=["mastodon"], image_output="png",
                       timing={"kind": "local_time", "local": local}, requires_approval=True)


def _posts():
    return list(db.session.scalars(select(ScheduledPost).order_by(ScheduledPost.partner_id)))


def _mails(tmp_path):
    return sorted((tmp_path / "outbox").glob("*.eml"))


@pytest.fixture
def berlin_user(world):
    return create_user("ada@berlin-partner.example", "correct horse battery", "partner",
                       partner_id=world["berlin"].id)


def test_one_digest_lists_every_post_waiting_and_comes_again_only_for_new_ones(world, berlin_user, tmp_path):
    _plan(world, "Spring post")
    _plan(world, "Webinar reminder", local="2027-03-10T16:30")
    now = utcnow()
    assert queue_approval_digests(now) == 1  # the Berlin user; the New York partner has no user
    [sent] = _mails(tmp_path)
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ada@berlin-partner.example"
    assert message["Subject"] == f"2 posts to approve for {world['berlin'].name}"
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Spring post\n  - Mastodon @acme@127.0.0.1: Tue 09 Mar 2027, 10:00 (Europe/Berlin)\n" in body
    assert "Webinar reminder\n  - Mastodon @acme@127.0.0.1: Wed 10 Mar 2027, 16:30 (Europe/Berlin)\n" in body
    assert "http://tcma.test/portal/posts" in body
    # Nothing new: no second digest, however often the pass runs.
    assert queue_approval_digests(now + timedelta(hours=5)) == 0
    # A new post waiting: a new digest, but not within four hours of the last one.
    _plan(world, "Case study")
    assert queue_approval_digests(now + timedelta(hours=1)) == 0
    assert queue_approval_digests(now + timedelta(hours=5)) == 1
    assert len(_mails(tmp_path)) == 2


def test_a_digest_with_nothing_left_to_approve_is_not_sent(world, berlin_user, tmp_path):
    _plan(world, "Spring post")
    for post in _posts():
        post.status = "approved"
    db.session.commit()
    assert queue_approval_digests() == 0
    assert _mails(tmp_path) == []
